// The whole configuration check, for `vigil config check` and `vigil doctor`: the schema, then what
// only the registries know (source names and CloudTrail rule ids, intel feed and provider names, each
// inventory provider's own settings), so that a mistake there fails before anything starts.
import { configuredInventory } from '../activities/context';
import { intelSettingsProblems } from '../activities/intel/activities';
import { createSourceAdapters } from '../intake/sources';
import { ConfigError, loadConfig, type Config } from '../lib/config';

/** The configuration, checked through; a `ConfigError` names every key at fault. */
export function checkConfig(file?: string): Config {
  const config = loadConfig({ file });
  createSourceAdapters(config.intake.sources);
  const problems = intelSettingsProblems(config);
  if (problems.length > 0) throw new ConfigError('intel', problems);
  configuredInventory(config.inventory);
  return config;
}
