// Correlation: an investigation finds the others about the same resources or actors through
// Temporal's visibility (their search attributes), and tells each one about itself, so that both
// issues link to each other. A running investigation is signalled and updates its own issue; an
// ended one cannot, so its issue gets a keyed comment (the same comment however often it is told).
import { heartbeat, log, sleep } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { relatedFound, type IssueRef, type RelatedInvestigation } from '../../lib/investigation';
import { relatedComment } from '../../lib/render/related';
import { literal, relatedQuery, TITLE_MEMO, VigilActors, VigilIssue, VigilKind, VigilResources, VigilSource } from '../../lib/search-attributes';
import { listExecutions } from '../../lib/visibility';
import type { Tracker } from '../tracker/types';

export interface CorrelationDeps {
  client: Client;
  tracker: Tracker;
  /** The suppress label: a silenced issue is not told. */
  suppressLabel?: string;
  /**
   * How long after the first look to look again. Visibility is eventually consistent: two
   * investigations that start together may each miss the other once, but not both twice when this
   * exceeds twice the visibility lag (each side's second look sees the other's attributes, or the
   * other's first look saw its own). Seconds on a local server, Elasticsearch's refresh on others.
   */
  settleMs?: number;
}

export interface CorrelateInput {
  /** This investigation, as the others will list it. */
  self: Omit<RelatedInvestigation, 'shared'>;
  resources: string[];
  actors: string[];
  /** Investigations already linked: neither looked at again nor told again. */
  known: string[];
}

/**
 * Executions read in one look (the first ones visibility lists; several runs of one count apart). A
 * look that lists this many is about something too common to tell the others of.
 */
const MAX_RELATED = 20;

interface Seen extends RelatedInvestigation {
  running: boolean;
}

export function createCorrelationActivities({ client, tracker, suppressLabel = 'vigil:suppress', settleMs = 3000 }: CorrelationDeps) {
  /** One look: the investigations with an issue that carry any of the keywords, newest run of each. */
  async function look(query: string, input: CorrelateInput): Promise<{ found: Map<string, Seen>; crowded: boolean }> {
    const mine = new Set([...input.resources, ...input.actors]);
    const found = new Map<string, Seen & { started: number }>();
    // Not itself, nor the runs that continued as new (their newest run is listed apart).
    const self = literal(input.self.workflowId);
    const others = `${self ? ` AND WorkflowId != ${self}` : ''} AND ExecutionStatus != 'ContinuedAsNew'`;
    const listed = await listExecutions(client, `${query} AND ${VigilIssue.name} IS NOT NULL${others}`, MAX_RELATED);
    for (const execution of listed) {
      const attributes = execution.typedSearchAttributes;
      const number = Number(attributes.get(VigilIssue));
      if (execution.workflowId === input.self.workflowId || input.known.includes(execution.workflowId) || !Number.isSafeInteger(number)) continue;
      const started = execution.startTime.getTime();
      const earlier = found.get(execution.workflowId);
      if (earlier && earlier.started > started) continue; // An older run (continued as new, or ended before).
      const shared = [...(attributes.get(VigilResources) ?? []), ...(attributes.get(VigilActors) ?? [])].filter((keyword) => mine.has(keyword));
      const source = attributes.get(VigilSource) ?? 'unknown';
      const kind = attributes.get(VigilKind) ?? 'unknown';
      const title = typeof execution.memo?.[TITLE_MEMO] === 'string' ? (execution.memo[TITLE_MEMO] as string) : `${source} ${kind} alert`;
      found.set(execution.workflowId, {
        workflowId: execution.workflowId,
        issue: { number, url: '' },
        title,
        source,
        kind,
        shared,
        running: execution.status.name === 'RUNNING',
        started,
      });
    }
    return { found, crowded: listed.length >= MAX_RELATED };
  }

  /**
   * The related issue's address. Visibility keeps only its number; both trackers' addresses end
   * with it (`…/issues/5`, `/issues#issue-5`), so this issue's address with the number swapped.
   */
  const refOf = (number: number, url: string): IssueRef => ({ number, url: url.replace(/\d+$/, String(number)) });

  /** Tells one related investigation about this one: a signal, or a comment on an ended one's open issue. */
  async function tell(related: Seen, input: CorrelateInput): Promise<void> {
    const self: RelatedInvestigation = { ...input.self, shared: related.shared };
    if (related.running) {
      try {
        await client.workflow.getHandle(related.workflowId).signal(relatedFound, self);
        return;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err; // It ended meanwhile: its issue is told instead.
      }
    }
    const { state, labels } = await tracker.getIssue(related.issue.number);
    if (state === 'open' && !labels.includes(suppressLabel)) await tracker.upsertComment(related.issue.number, `related/${input.self.workflowId}`, relatedComment(self));
  }

  return {
    /**
     * The investigations that share a resource or an actor with this one, looked up twice (see
     * `settleMs`), each told about this one. Returns them for this investigation's own issue.
     */
    async correlate(input: CorrelateInput): Promise<RelatedInvestigation[]> {
      const query = relatedQuery(input);
      if (!query) return [];
      const first = await look(query, input);
      heartbeat();
      await sleep(settleMs);
      const second = await look(query, input);
      const found = new Map([...first.found, ...second.found]);
      // A keyword so common that a look fills up (a deploy role, a shared NAT address) would have
      // every new investigation signal dozens of others, each rewriting its issue: linked here only.
      const tellThem = !first.crowded && !second.crowded;
      for (const related of found.values()) {
        related.issue = refOf(related.issue.number, input.self.issue.url);
        if (!tellThem) continue;
        // One that cannot be told (its issue deleted, a refused signal) is still linked here, and
        // the others are still told: telling is best effort, each on its own.
        await tell(related, input).catch((err: unknown) => log.warn('a related investigation could not be told', { workflowId: related.workflowId, err: (err as Error).message }));
        heartbeat();
      }
      return [...found.values()].map(({ running: _running, ...related }) => related);
    },
  };
}

export type CorrelationActivities = ReturnType<typeof createCorrelationActivities>;
