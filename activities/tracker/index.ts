// The registry of trackers: the one place a new tracker kind is added.
import path from 'node:path';
import type { Config } from '../../lib/config';
import { countingCalls, trackerCalls, trackerErrors } from '../../lib/metrics';
import { createArtifactStore } from '../archive';
import { createGitHubTracker } from './github';
import { createLocalTracker } from './local';
import type { Tracker } from './types';

const trackerFactories: Record<Config['tracker']['kind'], (config: Config) => Tracker> = {
  local: (config) => createLocalTracker({ root: localTrackerRoot(config) }),
  // The configuration schema requires tracker.github when the kind is github.
  github: (config) => createGitHubTracker(config.tracker.github!, config.tracker.labels, { artifacts: createArtifactStore(config) }),
};

export function localTrackerRoot(config: Config): string {
  return path.join(config.dataDir, 'tracker');
}

/** The configured tracker, each call and failure counted by operation. */
export function createTracker(config: Config): Tracker {
  const tracker = config.tracker.kind;
  return countingCalls(trackerFactories[tracker](config), {
    onCall: (operation) => trackerCalls.inc({ tracker, operation }),
    onError: (operation) => trackerErrors.inc({ tracker, operation }),
  });
}
