// Hands a normalized alert to Temporal: one workflow per alert identity, repeats as signals.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { RESCAN_SOURCE } from '../lib/alert';
import type { Dispatch } from '../lib/delivery';
import { alertReceived, INVESTIGATE_ALERT, recheckNow } from '../lib/investigation';
import { investigationSummary } from '../lib/render/alert-summary';
import { alertSearchAttributes } from '../lib/search-attributes';

export interface DispatcherOptions {
  taskQueue: string;
  /** Bounded, so that intake answers (202, undispatched) while Temporal is away. */
  timeoutMs: number;
}

/**
 * Starts the alert's investigation, or signals the one running. A re-scan finding that is already
 * under investigation asks for a re-check instead: found again, it is news only if the exposure
 * changed. A resolution from the source (a Prowler PASS, an inactive SCC finding) goes only to a
 * running investigation: a scan's thousands of passes must not open issues. Decided here, so the
 * re-scan, the sweeper and replay agree.
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
      if (alert.source === RESCAN_SOURCE) {
        try {
          await client.workflow.getHandle(workflowId).signal(recheckNow);
          return 'rechecked';
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }
      await client.workflow.signalWithStart(INVESTIGATE_ALERT, {
        workflowId,
        taskQueue,
        signal: alertReceived,
        signalArgs: [alert],
        typedSearchAttributes: alertSearchAttributes(alert),
        staticSummary: investigationSummary(alert),
      });
      return 'signalled';
    });
}
