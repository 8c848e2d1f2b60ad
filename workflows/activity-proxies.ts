// How long each kind of the investigation's activities may take, and how each is retried.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ScreenshotActivities } from '../activities/screenshot';
import { browserTaskQueue } from '../lib/task-queues';

/** Issue comments and labels: quick calls to the tracker, retried until the tracker answers. */
export const tracker = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Cloud APIs across accounts and regions (retried by the SDK first), and intel providers that
 * answer over the internet within their rate limits. A step that still fails is said on the issue.
 */
export const lookups = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** A sweep of every exposed port: long, so it heartbeats, and a retry starts it over. */
export const probes = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

/** The watch settings are configuration, which workflow code cannot read. */
export const settings = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds' });

/** Screenshots run on the browser worker's queue; one that no worker takes is given up in time. */
export const browser = (taskQueue: string) =>
  proxyActivities<ScreenshotActivities>({
    taskQueue: browserTaskQueue(taskQueue),
    scheduleToCloseTimeout: '10 minutes',
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '5 seconds', maximumAttempts: 3 },
  });
