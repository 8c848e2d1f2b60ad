// Hands a normalized alert to Temporal: one workflow per alert identity, repeats as signals.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { RESCAN_SOURCE, type NormalizedAlert } from '../lib/alert';
import type { Dispatch } from '../lib/delivery';
import { alertReceived, INVESTIGATE_ALERT, recheckNow } from '../lib/investigation';
import { investigationSummary, issueTitle } from '../lib/render/alert-summary';
import { listExecutions } from '../lib/visibility';
import { alertSearchAttributes, relatedQuery, resourceKeywords, TITLE_MEMO, VigilIssueState, VigilKind } from '../lib/search-attributes';

export interface DispatcherOptions {
  taskQueue: string;
  /** Bounded, so that intake answers (202, undispatched) while Temporal is away. */
  timeoutMs: number;
}

/** Open investigations a routing lookup reads, at most: the oldest of them takes the alert. */
const ROUTING_CANDIDATES = 20;

/**
 * The running investigation of an exposure about one of the alert's resources whose issue is open,
 * other than the alert's own: the oldest, so every alert about the resource goes to the same one.
 * Only exposures: two alerts about what an actor did (two GuardDuty findings about one instance)
 * are two things that happened, each its own issue, linked by correlation instead.
 */
async function openExposureOf(client: Client, alert: NormalizedAlert, workflowId: string): Promise<string | undefined> {
  if (alert.kind !== 'exposure') return undefined;
  const about = relatedQuery({ resources: resourceKeywords(alert.resources), actors: [] });
  if (!about) return undefined;
  const query = `${about} AND ${VigilKind.name} = 'exposure' AND ${VigilIssueState.name} = 'open' AND ExecutionStatus = 'Running'`;
  const candidates = (await listExecutions(client, query, ROUTING_CANDIDATES)).filter((execution) => execution.workflowId !== workflowId);
  return candidates.sort((a, b) => a.startTime.getTime() - b.startTime.getTime())[0]?.workflowId;
}

/**
 * Starts the alert's investigation, or signals the one running. A re-scan finding that is already
 * under investigation asks for a re-check instead: found again, it is news only if the exposure
 * changed. A resolution from the source (a Prowler PASS, an inactive SCC finding) goes only to a
 * running investigation: a scan's thousands of passes must not open issues. An exposure whose own
 * investigation is not running, about a resource that already has an open investigation of an
 * exposure, joins that one (merged, and re-checked there) instead of opening another issue.
 * Decided here, so intake, the re-scan, the sweeper and replay agree.
 */
export function createDispatcher(client: Client, { taskQueue, timeoutMs }: DispatcherOptions): Dispatch {
  return (alert, workflowId) =>
    client.withDeadline(Date.now() + timeoutMs, async () => {
      if (alert.resolution) {
        try {
          await client.workflow.getHandle(workflowId).signal(alertReceived, alert);
          return 'signalled';
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          return 'unwatched';
        }
      }
      const routable = alert.kind === 'exposure' && alert.resources.length > 0;
      if (alert.source === RESCAN_SOURCE || routable) {
        try {
          // Its own investigation first: a repeat stays where it began.
          const own = client.workflow.getHandle(workflowId);
          if (alert.source === RESCAN_SOURCE) {
            await own.signal(recheckNow);
            return 'rechecked';
          }
          await own.signal(alertReceived, alert);
          return 'signalled';
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }
      const open = routable ? await openExposureOf(client, alert, workflowId) : undefined;
      if (open) {
        try {
          // A redelivery is recognised there by its occurrence, like any repeat.
          await client.workflow.getHandle(open).signal(alertReceived, alert);
          return { mergedInto: open };
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err; // Ended meanwhile: the alert gets its own.
        }
      }
      await client.workflow.signalWithStart(INVESTIGATE_ALERT, {
        workflowId,
        taskQueue,
        signal: alertReceived,
        signalArgs: [alert],
        typedSearchAttributes: alertSearchAttributes(alert),
        staticSummary: investigationSummary(alert),
        memo: { [TITLE_MEMO]: issueTitle(alert) },
      });
      return 'signalled';
    });
}
