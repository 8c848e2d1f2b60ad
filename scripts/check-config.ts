// The whole configuration check, for `vigil config check` and `vigil doctor`: the schema, then what
// only the registries know (source names and built-in rule ids, the Sigma rule paths, intel feed and
// provider names, each inventory provider's own settings), so that a mistake there fails before
// anything starts.
import { configuredInventory } from '../activities/context';
import { intelSettingsProblems } from '../activities/intel/activities';
import { loadSigmaRules } from '../intake/sigma';
import { createSourceAdapters } from '../intake/sources';
import { ConfigError, loadConfig, type Config } from '../lib/config';

/** The configuration, checked through; a `ConfigError` names every key at fault. */
export function checkConfig(file?: string): Config {
  const config = loadConfig({ file });
  createSourceAdapters(config.intake.sources);
  try {
    // Skipped rules are not a configuration error (a SigmaHQ checkout holds rules for other logs):
    // `vigil rules check` lists them. A path that cannot be read is.
    loadSigmaRules(config.detections.sigma);
  } catch (err) {
    throw new ConfigError('detections', [`detections.sigma: ${(err as Error).message}`]);
  }
  const problems = intelSettingsProblems(config);
  if (problems.length > 0) throw new ConfigError('intel', problems);
  configuredInventory(config.inventory);
  return config;
}
