// Hands a normalized alert to Temporal: one workflow per alert identity, repeats as signals.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Dispatch } from '../lib/delivery';
import { alertReceived, INVESTIGATE_ALERT, recheckNow } from '../lib/investigation';
import { investigationSummary } from '../lib/render/alert-summary';
import { alertSearchAttributes } from '../lib/search-attributes';

export interface DispatcherOptions {
  taskQueue: string;
  /** Bounded, so that intake answers (202, undispatched) while Temporal is away. */
  timeoutMs: number;
  /**
   * Ask an investigation that is already running to re-check now instead of counting a repeat
   * (the re-scan: a violation it finds again is news only if the exposure changed).
   */
  recheckRunning?: boolean;
}

/** Starts the alert's investigation, or signals the one running. */
export function createDispatcher(client: Client, { taskQueue, timeoutMs, recheckRunning = false }: DispatcherOptions): Dispatch {
  return (alert, workflowId) =>
    client.withDeadline(Date.now() + timeoutMs, async () => {
      if (recheckRunning) {
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
