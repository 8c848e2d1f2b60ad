// The registry of alert sources: the one place a new source is added. Order matters for `auto`:
// the first adapter whose detect() accepts a payload parses it, so the generic schema comes last.
import { ConfigError, type SourceSettings } from '../../lib/config';
import type { SigmaRule } from '../sigma';
import { createCloudTrailSource } from './cloudtrail';
import { createGcpAuditSource } from './gcp-audit';
import { genericSource } from './generic';
import { guardDutySource } from './guardduty';
import { prowlerSource } from './prowler';
import { sccSource } from './scc';
import { securityHubSource } from './securityhub';
import type { SourceAdapter } from './types';
import { rescanSource } from './vigil-rescan';

interface SourceEntry {
  name: string;
  /** `sigma`: the configured Sigma rules, for the sources that judge events by rules. */
  create(settings: SourceSettings, sigma: readonly SigmaRule[]): SourceAdapter;
  /** Larger bodies than intake's default are normal for this source. */
  defaultMaxBodyBytes?: number;
  /** Whether it has a rule set that `disabledRules` can trim. */
  hasRules?: boolean;
}

const MiB = 1024 * 1024;

const registry: SourceEntry[] = [
  { name: 'guardduty', create: () => guardDutySource },
  { name: 'securityhub', create: () => securityHubSource },
  {
    name: 'cloudtrail',
    create: ({ disabledRules }, sigma) => createCloudTrailSource({ disabledRules, sigma }),
    // Whole log files as S3 keeps them.
    defaultMaxBodyBytes: 50 * MiB,
    hasRules: true,
  },
  { name: 'scc', create: () => sccSource },
  { name: 'gcp-audit', create: ({ disabledRules }, sigma) => createGcpAuditSource({ disabledRules, sigma }), hasRules: true },
  // A full-account scan report is large.
  { name: 'prowler', create: () => prowlerSource, defaultMaxBodyBytes: 50 * MiB },
  // Vigil's own re-scan findings, archived before they are dispatched.
  { name: 'vigil-rescan', create: () => rescanSource },
  { name: 'generic', create: () => genericSource },
];

/** The pseudo-source that picks an adapter from the payload's shape. */
export const AUTO_SOURCE = 'auto';

export const sourceNames = registry.map((entry) => entry.name);

export function knownSourceNames(): string[] {
  return [...sourceNames, AUTO_SOURCE];
}

export function defaultMaxBodyBytes(name: string): number | undefined {
  return registry.find((entry) => entry.name === name)?.defaultMaxBodyBytes;
}

/** Every adapter, configured, with the Sigma rules loaded from `detections.sigma`; errors in the per-source settings name the key. */
export function createSourceAdapters(settings: Record<string, SourceSettings> = {}, sigma: readonly SigmaRule[] = []): SourceAdapter[] {
  const problems = Object.keys(settings)
    .filter((name) => !knownSourceNames().includes(name))
    .map((name) => `intake.sources.${name}: unknown source (known: ${knownSourceNames().join(', ')})`);
  if (problems.length > 0) throw new ConfigError('intake.sources', problems);
  return registry.map((entry) => {
    if (settings[entry.name]?.disabledRules && !entry.hasRules) {
      throw new ConfigError('intake.sources', [`intake.sources.${entry.name}.disabledRules: ${entry.name} has no rule set`]);
    }
    try {
      return entry.create(settings[entry.name] ?? {}, sigma);
    } catch (err) {
      throw new ConfigError('intake.sources', [`intake.sources.${entry.name}: ${(err as Error).message}`]);
    }
  });
}
