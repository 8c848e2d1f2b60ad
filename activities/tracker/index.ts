// The registry of trackers: the one place a new tracker kind is added.
import path from 'node:path';
import type { Config } from '../../lib/config';
import { countingCalls, trackerCalls, trackerErrors } from '../../lib/metrics';
import { createArtifactStore } from '../archive';
import { createLocalTracker } from './local';
import type { Tracker } from './types';

// Each kind's modules are loaded only where it is the configured tracker: Octokit and its plugins
// would otherwise sit in every worker's memory, the default local tracker's too.
const trackerFactories: Record<Config['tracker']['kind'], (config: Config) => Promise<Tracker>> = {
  local: async (config) => createLocalTracker({ root: localTrackerRoot(config) }),
  github: async (config) => {
    const { createGitHubTracker } = await import('./github');
    // The configuration schema requires tracker.github when the kind is github.
    return createGitHubTracker(config.tracker.github!, config.tracker.labels, { artifacts: createArtifactStore(config) });
  },
};

export function localTrackerRoot(config: Config): string {
  return path.join(config.dataDir, 'tracker');
}

/** The configured tracker, each call and failure counted by operation. */
export async function createTracker(config: Config): Promise<Tracker> {
  const tracker = config.tracker.kind;
  return countingCalls(await trackerFactories[tracker](config), {
    onCall: (operation) => trackerCalls.inc({ tracker, operation }),
    onError: (operation) => trackerErrors.inc({ tracker, operation }),
  });
}
