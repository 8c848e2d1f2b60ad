// Hands a normalized alert to Temporal: one workflow per alert identity, repeats as signals.
import type { Client } from '@temporalio/client';
import type { NormalizedAlert } from '../lib/alert';
import { investigationSummary } from '../lib/render/alert-summary';
import { alertSearchAttributes } from '../lib/search-attributes';
import { alertReceived, INVESTIGATE_ALERT } from '../workflows/definitions';
import { investigationWorkflowId } from '../lib/workflow-id';

/** Starts or signals the alert's investigation; returns its workflow id. */
export type Dispatch = (alert: NormalizedAlert) => Promise<string>;

export function createDispatcher(client: Client, taskQueue: string, timeoutMs: number): Dispatch {
  return async (alert) => {
    const workflowId = investigationWorkflowId(alert.source, alert.fingerprint);
    // Bounded, so that intake answers (202, undispatched) while Temporal is away.
    await client.withDeadline(Date.now() + timeoutMs, () =>
      client.workflow.signalWithStart(INVESTIGATE_ALERT, {
        workflowId,
        taskQueue,
        signal: alertReceived,
        signalArgs: [alert],
        typedSearchAttributes: alertSearchAttributes(alert),
        staticSummary: investigationSummary(alert),
      }),
    );
    return workflowId;
  };
}
