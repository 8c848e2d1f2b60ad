// Vigil's own memory of an actor: the earlier investigations that named the same address or
// principal, found through Temporal's visibility by the `VigilActors` search attribute every
// investigation carries, with their outcome as their search attributes say and their issue as
// the investigation itself says (the progress query while it runs, its result once it ended).
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { CarriedInvestigation } from '../../lib/investigation';
import { INVESTIGATE_ALERT, progressQuery } from '../../lib/investigation';
import type { PastInvestigation } from '../../lib/intel';
import { VigilActors, VigilExposure, VigilKind, VigilSource, VigilVerdict } from '../../lib/search-attributes';

/** Earlier investigations shown per actor: the most recent. */
export const HISTORY_PER_ACTOR = 5;
/** Executions read in one lookup, whatever the number of actors: the visibility query stays one page. */
const READ_AT_MOST = 100;
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
   * Per keyword (`ip:…`, `principal:…`), its earlier investigations, most recent first, and whether
   * there are more. Keywords that are not `isSearchable` are left out of the answer.
   */
  earlier(keywords: readonly string[], exclude?: string): Promise<Map<string, { investigations: PastInvestigation[]; more: boolean }>>;
}

/** A string in a visibility query: double-quoted, with quotes and backslashes escaped. */
export const quoted = (value: string) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

export function createActorHistory(client: Client): ActorHistory {
  /** The issue the investigation reports on, from itself; undefined when it cannot say in time. */
  async function issueOf({ workflowId, runId, status }: WorkflowExecutionInfo): Promise<PastInvestigation['issue']> {
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
      if (searchable.length === 0) return new Map();
      const found = new Map(searchable.map((keyword) => [keyword, { investigations: [] as WorkflowExecutionInfo[], more: false }]));
      const query = [
        `WorkflowType = ${quoted(INVESTIGATE_ALERT)}`,
        `VigilActors IN (${searchable.map(quoted).join(', ')})`,
        ...(exclude ? [`WorkflowId != ${quoted(exclude)}`] : []),
      ].join(' AND ');
      // Visibility lists running executions first, then the most recently closed.
      const seen = new Set<string>();
      let read = 0;
      for await (const execution of client.workflow.list({ query, pageSize: READ_AT_MOST })) {
        if (++read > READ_AT_MOST) break;
        // A workflow continued as new is listed once per run: its latest run speaks for it.
        if (seen.has(execution.workflowId)) continue;
        seen.add(execution.workflowId);
        for (const keyword of execution.typedSearchAttributes.get(VigilActors) ?? []) {
          const entry = found.get(keyword);
          if (!entry) continue;
          if (entry.investigations.length < HISTORY_PER_ACTOR) entry.investigations.push(execution);
          else entry.more = true;
        }
      }
      // One lookup per investigation shown, however many of the actors it named.
      const shown = [...new Map([...found.values()].flatMap(({ investigations }) => investigations.map((execution) => [execution.runId, execution]))).values()];
      const issues = new Map(await Promise.all(shown.map(async (execution) => [execution.runId, await issueOf(execution)] as const)));
      return new Map(
        [...found].map(([keyword, { investigations, more }]) => {
          const past = investigations.map((execution) => {
            const issue = issues.get(execution.runId);
            return { ...outcomeOf(execution), ...(issue ? { issue } : {}) };
          });
          return [keyword, { investigations: past, more }];
        }),
      );
    },
  };
}
