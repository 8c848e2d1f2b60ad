// Tells an investigation that a person acted on its issue (closed, reopened, suppressed).
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { issueChanged, type IssueChange } from '../lib/investigation';

export type SignalIssueChange = (workflowId: string, change: IssueChange) => Promise<'signalled' | 'not running'>;

export function createIssueSignaller(client: Client): SignalIssueChange {
  return async (workflowId, change) => {
    try {
      await client.workflow.getHandle(workflowId).signal(issueChanged, change);
      return 'signalled';
    } catch (err) {
      // An investigation that has ended has nothing to stop; the issue's state is what counts.
      if (err instanceof WorkflowNotFoundError) return 'not running';
      throw err;
    }
  };
}
