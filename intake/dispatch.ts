// Hands a normalized alert to Temporal: one workflow per alert identity, repeats as signals.
import type { Client } from '@temporalio/client';
import type { NormalizedAlert } from '../lib/alert';
import { investigationSummary } from '../lib/render/alert-summary';
import { alertSearchAttributes } from '../lib/search-attributes';
import { alertReceived, INVESTIGATE_ALERT } from '../workflows/definitions';
import { investigationWorkflowId } from './workflow-id';

export type Dispatch = (alert: NormalizedAlert) => Promise<string>;

export function createDispatcher(client: Client, taskQueue: string): Dispatch {
  return async (alert) => {
    const workflowId = investigationWorkflowId(alert.source, alert.fingerprint);
    await client.workflow.signalWithStart(INVESTIGATE_ALERT, {
      workflowId,
      taskQueue,
      signal: alertReceived,
      signalArgs: [alert],
      typedSearchAttributes: alertSearchAttributes(alert),
      staticSummary: investigationSummary(alert),
    });
    return workflowId;
  };
}
