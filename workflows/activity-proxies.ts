// How long each kind of the investigation's activities may take, and how each is retried.
import { proxyActivities, proxyLocalActivities, type ActivityInterfaceFor, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ResponseActivities } from '../activities/response/types';
import type { ScreenshotActivities } from '../activities/screenshot';
import { activitySummary } from '../lib/investigation-details';
import { browserTaskQueue } from '../lib/task-queues';

/**
 * Each activity called with a one-line summary of what it does, for the Temporal UI's history
 * (read from its input: every activity takes one object). A summary is metadata on the command,
 * which replay does not compare: histories recorded without summaries replay all the same.
 */
function summarised<A extends object>(activities: ActivityInterfaceFor<A>): A {
  return new Proxy(activities, {
    get(target, name: string) {
      const activity = Reflect.get(target, name) as { executeWithOptions(options: ActivityOptions, args: unknown[]): Promise<unknown> };
      return (...args: unknown[]) => activity.executeWithOptions({ summary: activitySummary(name, args[0]) }, args);
    },
  }) as unknown as A;
}

/** Issue comments and labels: quick calls to the tracker, retried until the tracker answers. */
const trackerOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};
export const tracker = summarised(proxyActivities<Activities>(trackerOptions));

/**
 * Cloud APIs across accounts and regions (retried by the SDK first), and intel providers that
 * answer over the internet within their rate limits. A step that still fails is said on the issue.
 */
const lookupOptions: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
};
export const lookups = summarised(proxyActivities<Activities>(lookupOptions));

const proposals = summarised(proxyActivities<ResponseActivities>(lookupOptions));
const audit = summarised(proxyActivities<ResponseActivities>(trackerOptions));
/**
 * Changes to the cloud: the executors are idempotent (a retry after a lost answer finds the change
 * made), so transient errors are retried with backoff; a refusal (`RemediationRefused`: permission
 * denied, the resource gone) is not, and the plan fails with its reason.
 */
const changes = summarised(
  proxyActivities<ResponseActivities>({
    startToCloseTimeout: '5 minutes',
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: ['RemediationRefused'] },
  }),
);

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
export const probes = summarised(
  proxyActivities<Activities>({
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
  }),
);

/** The watch settings are configuration, which workflow code cannot read. */
export const settings = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds' });

/** Screenshots run on the browser worker's queue; one that no worker takes is given up in time. */
export const browser = (taskQueue: string) =>
  summarised(
    proxyActivities<ScreenshotActivities>({
      taskQueue: browserTaskQueue(taskQueue),
      scheduleToCloseTimeout: '10 minutes',
      startToCloseTimeout: '2 minutes',
      heartbeatTimeout: '30 seconds',
      retry: { initialInterval: '5 seconds', maximumAttempts: 3 },
    }),
  );
