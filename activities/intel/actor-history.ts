// Vigil's own memory of an actor: the earlier investigations that named the same address or
// principal, found through Temporal's visibility by the `VigilActors` search attribute every
// investigation carries, with their outcome and issue as their search attributes say. An
// investigation started before `VigilIssue` existed is asked itself (the progress query while it
// runs, its result once it ended).
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { mapConcurrent } from '../../lib/concurrency';
import type { CarriedInvestigation } from '../../lib/investigation';
import { INVESTIGATE_ALERT, progressQuery } from '../../lib/investigation';
import type { PastInvestigation } from '../../lib/intel';
import { VigilExposure, VigilIssue, VigilIssueState, VigilKind, VigilSource, VigilVerdict } from '../../lib/search-attributes';
import { listExecutions } from '../../lib/visibility';

/** Earlier investigations shown per actor: the first that visibility lists (running ones, then the latest ended). */
export const HISTORY_PER_ACTOR = 5;
/** Visibility queries in flight at once: one per actor. */
const QUERIES_AT_ONCE = 4;
/** Older investigations asked for their issue at once, each a call to Temporal. */
const ASKED_AT_ONCE = 4;
/** A progress query waits on the investigation's worker: bounded, and the issue left out when slow. */
const QUERY_DEADLINE_MS = 2000;

/**
 * Keywords a visibility query can take whatever the store behind it: the SQLite store matches keyword
 * lists through a full-text query that a double quote or a backslash breaks (the whole query then
 * fails). Addresses, ARNs and e-mails never hold them; a crafted name that does is not looked up.
 */
export const isSearchable = (keyword: string) => !/["\\\p{Cc}]/u.test(keyword);

export interface ActorHistory {
  /**
   * Per keyword (`ip:…`, `principal:…`), its earlier investigations as visibility lists them (running
   * ones first, then the most recently ended), and whether there are more. Keywords that are not `isSearchable` are left out of the answer.
   */
  earlier(keywords: readonly string[], exclude?: string): Promise<Map<string, { investigations: PastInvestigation[]; more: boolean }>>;
}

/** A string in a visibility query: double-quoted, with quotes and backslashes escaped. */
export const quoted = (value: string) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

export function createActorHistory(client: Client): ActorHistory {
  /** The issue as the search attributes carry it; undefined for an investigation started before they did. */
  function issueCarried(execution: WorkflowExecutionInfo): PastInvestigation['issue'] {
    const number = Number(execution.typedSearchAttributes.get(VigilIssue));
    if (!Number.isSafeInteger(number) || number <= 0) return undefined;
    const state = execution.typedSearchAttributes.get(VigilIssueState);
    return { number, ...(state ? { state } : {}) };
  }

  /** The issue the investigation reports on, from itself; undefined when it cannot say in time. */
  async function issueAsked({ workflowId, runId, status }: WorkflowExecutionInfo): Promise<PastInvestigation['issue']> {
    const handle = client.workflow.getHandle(workflowId, runId, { followRuns: false });
    try {
      if (status.name === 'RUNNING') {
        const progress = await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(progressQuery));
        return progress.issue ? { number: progress.issue.number, ...(progress.issueState ? { state: progress.issueState } : {}) } : undefined;
      }
      if (status.name === 'COMPLETED') {
        const { progress } = (await handle.result()) as CarriedInvestigation;
        return progress.issue ? { number: progress.issue.number, ...(progress.issueState ? { state: progress.issueState } : {}) } : undefined;
      }
    } catch {
      // Slow, or ended otherwise: the line goes without its issue number.
    }
    return undefined;
  }

  function outcomeOf(execution: WorkflowExecutionInfo): Omit<PastInvestigation, 'issue'> {
    const attributes = execution.typedSearchAttributes;
    const source = attributes.get(VigilSource);
    const alertKind = attributes.get(VigilKind);
    const verdict = attributes.get(VigilVerdict);
    const exposure = attributes.get(VigilExposure);
    return {
      workflowId: execution.workflowId,
      ...(source ? { source } : {}),
      ...(alertKind ? { alertKind } : {}),
      ...(verdict ? { verdict } : {}),
      ...(exposure ? { exposure } : {}),
      status: execution.status.name.toLowerCase().replaceAll('_', ' '),
      startedAt: execution.startTime.toISOString(),
    };
  }

  return {
    async earlier(keywords, exclude) {
      const searchable = keywords.filter(isSearchable);
      // One small query per actor, so that a busy actor does not crowd out the others: one more
      // than is shown says whether there are more. Runs that continued as new are left out: the
      // latest run of each investigation speaks for it.
      const listed = await mapConcurrent(searchable, QUERIES_AT_ONCE, (keyword) => {
        const query = [
          `WorkflowType = ${quoted(INVESTIGATE_ALERT)}`,
          `VigilActors IN (${quoted(keyword)})`,
          `ExecutionStatus != "ContinuedAsNew"`,
          ...(exclude ? [`WorkflowId != ${quoted(exclude)}`] : []),
        ].join(' AND ');
        return listExecutions(client, query, HISTORY_PER_ACTOR + 1);
      });
      // Older investigations do not carry their issue: each asked once, however many actors it named.
      const shown = listed.flatMap((executions) => executions.slice(0, HISTORY_PER_ACTOR));
      const uncarried = [...new Map(shown.filter((execution) => !issueCarried(execution)).map((execution) => [execution.runId, execution])).values()];
      const asked = await mapConcurrent(uncarried, ASKED_AT_ONCE, async (execution) => [execution.runId, await issueAsked(execution)] as const);
      const issues = new Map(asked);
      return new Map(
        searchable.map((keyword, index) => {
          const executions = listed[index]!;
          const investigations = executions.slice(0, HISTORY_PER_ACTOR).map((execution) => {
            const issue = issueCarried(execution) ?? issues.get(execution.runId);
            return { ...outcomeOf(execution), ...(issue ? { issue } : {}) };
          });
          return [keyword, { investigations, more: executions.length > HISTORY_PER_ACTOR }];
        }),
      );
    },
  };
}
