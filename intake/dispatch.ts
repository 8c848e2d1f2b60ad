// Hands a normalized alert to Temporal: one workflow per alert identity, repeats as signals.
import { status as grpcStatus } from '@grpc/grpc-js';
import { isGrpcServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { RESCAN_SOURCE, type NormalizedAlert } from '../lib/alert';
import type { Dispatch } from '../lib/delivery';
import type { Logger } from '../lib/logger';
import { alertReceived, INVESTIGATE_ALERT, recheckNow } from '../lib/investigation';
import { investigationStaticDetails, investigationSummary } from '../lib/investigation-details';
import { issueTitle } from '../lib/render/alert-summary';
import { listExecutions } from '../lib/visibility';
import { alertSearchAttributes, literal, mergedKeyword, relatedQuery, resourceKeywords, TITLE_MEMO, VigilIssueState, VigilKind, VigilMerged } from '../lib/search-attributes';

export interface DispatcherOptions {
  taskQueue: string;
  /** Bounded, so that intake answers (202, undispatched) while Temporal is away. */
  timeoutMs: number;
  /** Where a failed routing lookup is said (the alert is dispatched all the same). */
  logger?: Pick<Logger, 'warn'>;
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
  const about = relatedQuery({ resources: resourceKeywords(alert), actors: [] });
  if (!about) return undefined;
  const query = `${about} AND ${VigilKind.name} = 'exposure' AND ${VigilIssueState.name} = 'open' AND ExecutionStatus = 'Running'`;
  const candidates = (await listExecutions(client, query, ROUTING_CANDIDATES)).filter((execution) => execution.workflowId !== workflowId);
  return candidates.sort((a, b) => a.startTime.getTime() - b.startTime.getTime())[0]?.workflowId;
}

/**
 * The running investigation this alert was merged into (its `VigilMerged`), for a resolution. Only
 * exposures merge. A lookup that fails leaves the resolution unwatched, as it was before merging.
 */
async function mergedInto(client: Client, alert: NormalizedAlert, logger?: Pick<Logger, 'warn'>): Promise<string | undefined> {
  const merged = literal(mergedKeyword(alert));
  if (alert.kind !== 'exposure' || !merged) return undefined;
  try {
    const [into] = await listExecutions(client, `${VigilMerged.name} = ${merged} AND ExecutionStatus = 'Running'`, 1);
    return into?.workflowId;
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === grpcStatus.DEADLINE_EXCEEDED) throw err;
    logger?.warn({ err: (err as Error).message, fingerprint: alert.fingerprint }, 'the lookup of where a resolution was merged failed: it is not told');
    return undefined;
  }
}

/**
 * Where an exposure whose own investigation is not running goes: another investigation's id, or
 * undefined for its own. Its own when it has one that ended (a redelivery by the sweeper, or the
 * same finding again later): it is that investigation's, which knows whether it reported it. The
 * lookup is only an optimisation of where the alert lands: when visibility refuses or fails (it is
 * rate-limited apart from everything else), the alert opens its own investigation, and correlation
 * links the two issues instead.
 */
async function routeOf(client: Client, alert: NormalizedAlert, workflowId: string, logger?: Pick<Logger, 'warn'>): Promise<string | undefined> {
  let open: string | undefined;
  try {
    open = await openExposureOf(client, alert, workflowId);
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === grpcStatus.DEADLINE_EXCEEDED) throw err; // Out of time: nothing more would work.
    logger?.warn({ err: (err as Error).message, workflowId }, 'the routing lookup failed: the exposure gets its own investigation');
    return undefined;
  }
  if (!open) return undefined;
  try {
    await client.workflow.getHandle(workflowId).describe();
    return undefined; // Its own investigation has ended: the alert goes to it.
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return open;
    throw err;
  }
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
export function createDispatcher(client: Client, { taskQueue, timeoutMs, logger }: DispatcherOptions): Dispatch {
  return (alert, workflowId) =>
    client.withDeadline(Date.now() + timeoutMs, async () => {
      if (alert.resolution) {
        try {
          await client.workflow.getHandle(workflowId).signal(alertReceived, alert);
          return 'signalled';
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
        // Merged into another investigation earlier: the resolution goes where the alert went.
        const into = await mergedInto(client, alert, logger);
        if (!into) return 'unwatched';
        try {
          await client.workflow.getHandle(into).signal(alertReceived, alert);
          return { mergedInto: into };
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
      const open = routable ? await routeOf(client, alert, workflowId, logger) : undefined;
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
        staticDetails: investigationStaticDetails(alert),
        memo: { [TITLE_MEMO]: issueTitle(alert) },
      });
      return 'signalled';
    });
}
