// How long each kind of the investigation's activities may take, and how each is retried.
import { proxyActivities, proxyLocalActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ResponseActivities } from '../activities/response/types';
import type { ScreenshotActivities } from '../activities/screenshot';
import { browserTaskQueue } from '../lib/task-queues';

/** Issue comments and labels: quick calls to the tracker, retried until the tracker answers. */
const trackerOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};
export const tracker = proxyActivities<Activities>(trackerOptions);

/**
 * Cloud APIs across accounts and regions (retried by the SDK first), and intel providers that
 * answer over the internet within their rate limits. A step that still fails is said on the issue.
 */
const lookupOptions: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
};
export const lookups = proxyActivities<Activities>(lookupOptions);

const proposals = proxyActivities<ResponseActivities>(lookupOptions);
const audit = proxyActivities<ResponseActivities>(trackerOptions);
/**
 * Changes to the cloud: the executors are idempotent (a retry after a lost answer finds the change
 * made), so transient errors are retried with backoff; a refusal (`RemediationRefused`: permission
 * denied, the resource gone) is not, and the plan fails with its reason.
 */
const changes = proxyActivities<ResponseActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: ['RemediationRefused'] },
});

/** The response: proposals read the cloud like lookups, changes as above, the audit and the issue like the tracker. */
export const response: ResponseActivities = {
  proposeRemediations: proposals.proposeRemediations,
  executeRemediation: changes.executeRemediation,
  undoRemediation: changes.undoRemediation,
  reportResponse: audit.reportResponse,
  acceptRisk: audit.acceptRisk,
  endAcceptedRisk: audit.endAcceptedRisk,
};

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
