// Tells an investigation that a person acted on its issue (closed, reopened, silenced, unsilenced).
// A person's action must reach the investigation or be refused where the person sees it: this says
// which, within a bound, and the routes act on the tracker only once it did.
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { INVESTIGATE_ALERT, issueChanged, type CarriedInvestigation, type IssueChange } from '../lib/investigation';
import { resumes } from '../lib/investigation-state';
import { investigationStaticDetails, investigationSummary } from '../lib/investigation-details';
import { alertSearchAttributes, vigilSearchAttributeKeys } from '../lib/search-attributes';

/** Vigil's own attributes only: the server's (a patch's change versions) are not the start's to set. */
const vigilNames = new Set(vigilSearchAttributeKeys.map(({ name }) => name));

/** `resumed`: the investigation had ended, and starts again where it stopped to look again. */
export type SignalIssueChange = (workflowId: string, change: IssueChange) => Promise<'signalled' | 'resumed' | 'not running'>;

export interface IssueSignallerOptions {
  taskQueue: string;
  /** Bounded, so that a person is told at once when Temporal cannot be reached. */
  timeoutMs: number;
}

export function createIssueSignaller(client: Client, { taskQueue, timeoutMs }: IssueSignallerOptions): SignalIssueChange {
  return (workflowId, change) =>
    client.withDeadline(Date.now() + timeoutMs, async () => {
      const handle = client.workflow.getHandle(workflowId);
      try {
        await handle.signal(issueChanged, change);
        return 'signalled';
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      // It has ended. Closing or silencing asks nothing of it; reopening or lifting the silence asks
      // it to look again, from the state its last run returned. One that failed or was terminated
      // returned nothing to go on: the issue's state is what counts, and a new alert starts afresh.
      if (change.state === 'closed' || change.suppressed) return 'not running';
      let carried: CarriedInvestigation | undefined;
      try {
        carried = await handle.result();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || err instanceof WorkflowFailedError) return 'not running';
        throw err;
      }
      if (!carried?.alert || !carried.progress || !resumes(carried.progress, change)) return 'not running';
      // What the last run carried (its issue, its state, what the inventory resolved it to, its
      // title): correlation and routing find it by these, as they found the run before.
      const last = await handle.describe();
      const carriedOver = last.typedSearchAttributes.getAll().filter(({ key }) => vigilNames.has(key.name));
      const kept = new Set(carriedOver.map(({ key }) => key.name));
      await client.workflow.signalWithStart(INVESTIGATE_ALERT, {
        workflowId,
        taskQueue,
        args: [carried],
        signal: issueChanged,
        signalArgs: [change],
        typedSearchAttributes: [...alertSearchAttributes(carried.alert).filter(({ key }) => !kept.has(key.name)), ...carriedOver],
        staticSummary: investigationSummary(carried.alert),
        staticDetails: investigationStaticDetails(carried.alert),
        ...(last.memo ? { memo: last.memo } : {}),
      });
      return 'resumed';
    });
}
