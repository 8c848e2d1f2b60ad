// The discovery's activities, for every inventory provider that can discover what it covers (AWS
// Organizations, the GCP hierarchy): run the discovery (discoverCoverage), keep the coverage-gap
// issues in line with the gaps found (reportCoverageGaps), and bring the re-scan schedules in line
// with the scopes found (followRescanScopes).
//
// The issues are reconciled against one paginated listing of the open coverage-gap issues per run
// (a handful of requests on GitHub), not a lookup per place: a gap already open costs nothing unless
// its reason changed, and only new or returning gaps are looked up one by one, at most
// MAX_OPENED_PER_RUN of them per run (the rest the next run: a first run over an organisation whose
// service control policies deny regions must stay within GitHub's limits on creating content).
//
// What a run cannot know is left alone: the issues and re-scans of a provider whose discovery failed,
// of an account read with a failure that is no refusal, the regions of an account that cannot be
// read at all, and any place missing from an incomplete listing.
import { heartbeat } from '@temporalio/activity';
import type { LabelNames } from '../../lib/config';
import { mapConcurrent } from '../../lib/concurrency';
import type { CoverageGap, CoverageReport, InventoryProvider } from '../context/types';
import type { ListedIssue, Tracker } from '../tracker/types';
import { gapChangedComment, gapGoneComment, gapHealedComment, gapIssues, gapReturnedComment, placeOf, type GapIssue } from './issue';

export interface ProviderCoverage extends CoverageReport {
  provider: string;
}

/** A provider whose discovery failed (after the SDK's retries): nothing of it is changed this run. */
export interface ProviderFailure {
  provider: string;
  failed: string;
}

export type ProviderDiscovery = ProviderCoverage | ProviderFailure;

export const isFailure = (discovery: ProviderDiscovery): discovery is ProviderFailure => 'failed' in discovery;

export interface GapIssues {
  /** Gaps with an issue opened by this run. */
  opened: number;
  /** Gaps whose closed issue came back. */
  reopened: number;
  /** Gaps still open from before. */
  open: number;
  /** Gaps still open whose reason changed (the body rewritten, a comment said so). */
  changed: number;
  /** Healed gaps whose issue this run closed. */
  closed: number;
  /** Issues of places no longer covered, closed by this run. */
  gone: number;
  /** New or returning gaps left for the next run, past this run's limit on opening issues. */
  deferred: number;
}

export interface FollowedScopes {
  created: string[];
  deleted: string[];
}

/** The re-scan schedules of the discovering providers, which are Temporal's (workers/schedules.ts). */
export interface RescanFollower {
  /**
   * Brings one provider's re-scan schedules in line with its scopes: creates the missing, deletes
   * those of scopes gone only when `prune` (the provider listed everything it covers).
   */
  follow(provider: string, scopes: readonly string[], options: { prune: boolean }): Promise<FollowedScopes>;
  /** The scopes whose re-scans exist: what earlier discoveries found, whatever this process remembers. */
  known(provider: string): Promise<string[]>;
}

export interface CoverageDeps {
  inventory: readonly InventoryProvider[];
  tracker: Tracker;
  labels: LabelNames;
  rescans: RescanFollower;
}

// Tracker writes at once (the GitHub tracker also spaces its writes itself).
const TRACKER_CONCURRENCY = 4;
/** New and returning gap issues one run opens; the rest wait for the next run, which the summary says. */
export const MAX_OPENED_PER_RUN = 20;
const HEARTBEAT_MS = 10_000;

/** Runs `work` heartbeating on a timer: a call that waits on a rate limit still shows the activity alive. */
async function beating<T>(work: () => Promise<T>, details?: () => unknown): Promise<T> {
  const beat = setInterval(() => heartbeat(details?.()), HEARTBEAT_MS);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}

/** Whether this run knows the place of an open issue no gap of it names: then it is healed or gone, and closed. */
function settled(issue: ListedIssue, reports: ReadonlyMap<string, ProviderDiscovery>): { closeAs: 'closed' | 'gone' } | undefined {
  const place = placeOf(issue.fingerprint);
  if (!place) return undefined;
  const report = reports.get(place.provider);
  // A provider no longer configured covers nothing; one whose discovery failed, who knows.
  if (!report) return { closeAs: 'gone' };
  if (isFailure(report)) return undefined;
  if (report.unsettled?.includes(place.account)) return undefined;
  // The regions of an account that cannot be read at all are not known.
  if (place.regions && report.gaps.some((gap) => gap.account === place.account && !gap.region)) return undefined;
  if (report.accounts.some((account) => account.id === place.account)) return { closeAs: 'closed' };
  // Missing from an incomplete listing: it may still be there.
  return report.incomplete ? undefined : { closeAs: 'gone' };
}

export function createCoverageActivities({ inventory, tracker, labels, rescans }: CoverageDeps) {
  const gapLabel = `${labels.kindPrefix}coverage-gap`;
  const gapLabels = [labels.base, gapLabel];

  /** An open gap issue brought up to date: its body rewritten and a comment when the reason changed. */
  async function keepCurrent(wanted: GapIssue, listed: ListedIssue, workflowId: string, at: string): Promise<'open' | 'changed'> {
    if (listed.body === wanted.body) return 'open';
    await tracker.upsertComment(listed.number, `${workflowId}#${wanted.fingerprint}/changed`, gapChangedComment(wanted.reason, at));
    await tracker.replaceIssueBody(listed.number, wanted.body);
    return 'changed';
  }

  /** A gap with no open issue: its issue opened, or reopened (unless a person silenced it). */
  async function open(wanted: GapIssue, workflowId: string, at: string): Promise<'opened' | 'reopened' | 'open'> {
    const { issue, created, state } = await tracker.findOrCreateIssue({ fingerprint: wanted.fingerprint, workflowId, title: wanted.title, body: wanted.body, labels: gapLabels });
    if (created) return 'opened';
    // Open but missing from the listing: the listing lags a just-made change.
    if (state === 'open') return 'open';
    const { labels: current } = await tracker.getIssue(issue.number);
    if (current.includes(labels.suppress)) return 'open';
    await tracker.upsertComment(issue.number, `${workflowId}#${wanted.fingerprint}/returned`, gapReturnedComment(wanted.reason, at));
    await tracker.replaceIssueBody(issue.number, wanted.body);
    await tracker.reopenIssue(issue.number);
    return 'reopened';
  }

  async function close(listed: ListedIssue, as: 'closed' | 'gone', workflowId: string, at: string): Promise<void> {
    await tracker.upsertComment(listed.number, `${workflowId}#${listed.fingerprint}/${as}`, as === 'closed' ? gapHealedComment(at) : gapGoneComment(at));
    await tracker.closeIssue(listed.number);
  }

  return {
    /**
     * Every provider that can discover, discovered now, each on its own: one that fails (after its
     * SDK's retries) is said as failed and the others go on. Fails only when every one failed, for
     * Temporal to retry. Afterwards each one's lookups follow what it found.
     */
    async discoverCoverage(): Promise<ProviderDiscovery[]> {
      return beating(async () => {
        const discovering = inventory.filter((provider) => provider.discover);
        const settledAll = await Promise.allSettled(
          discovering.map(async (provider) => ({ provider: provider.name, ...(await provider.discover!({ scopes: await rescans.known(provider.name) })) })),
        );
        const results = settledAll.map((result, i): ProviderDiscovery =>
          result.status === 'fulfilled' ? result.value : { provider: discovering[i]!.name, failed: result.reason instanceof Error ? `${result.reason.name}: ${result.reason.message}` : String(result.reason) },
        );
        const failures = results.filter(isFailure);
        if (failures.length > 0 && failures.length === results.length) {
          throw new Error(`every discovery failed: ${failures.map(({ provider, failed }) => `${provider}: ${failed}`).join('; ')}`);
        }
        return results;
      });
    },

    /**
     * The coverage-gap issues in line with the gaps found: each gap's issue open and current, the
     * issue of a place read whole or no longer covered closed. Idempotent per run.
     */
    async reportCoverageGaps({ coverage, workflowId, discoveredAt }: { coverage: ProviderDiscovery[]; workflowId: string; discoveredAt: string }): Promise<GapIssues> {
      const counts: GapIssues = { opened: 0, reopened: 0, open: 0, changed: 0, closed: 0, gone: 0, deferred: 0 };
      return beating(
        async () => {
          const listed = new Map((await tracker.listOpenIssues(gapLabel)).map((issue) => [issue.fingerprint, issue]));
          const reports = new Map(coverage.map((report) => [report.provider, report]));
          const gaps: CoverageGap[] = coverage.flatMap((report) => (isFailure(report) ? [] : report.gaps));
          const wanted = gapIssues(gaps);
          const wantedPrints = new Set(wanted.map((issue) => issue.fingerprint));

          const current = wanted.filter((issue) => listed.has(issue.fingerprint));
          await mapConcurrent(current, TRACKER_CONCURRENCY, async (issue) => {
            counts[await keepCurrent(issue, listed.get(issue.fingerprint)!, workflowId, discoveredAt)] += 1;
          });
          const missing = wanted.filter((issue) => !listed.has(issue.fingerprint));
          counts.deferred = Math.max(0, missing.length - MAX_OPENED_PER_RUN);
          await mapConcurrent(missing.slice(0, MAX_OPENED_PER_RUN), TRACKER_CONCURRENCY, async (issue) => {
            counts[await open(issue, workflowId, discoveredAt)] += 1;
          });

          const closing = [...listed.values()].flatMap((issue) => {
            const known = wantedPrints.has(issue.fingerprint) ? undefined : settled(issue, reports);
            return known ? [{ issue, as: known.closeAs }] : [];
          });
          await mapConcurrent(closing, TRACKER_CONCURRENCY, async ({ issue, as }) => {
            await close(issue, as, workflowId, discoveredAt);
            counts[as] += 1;
          });
          return counts;
        },
        () => counts,
      );
    },

    /**
     * Each provider's re-scan schedules in line with the scopes it found, each on its own; none of a
     * provider whose discovery failed, and none deleted for one whose listing was incomplete.
     */
    async followRescanScopes({ coverage }: { coverage: ProviderDiscovery[] }): Promise<FollowedScopes> {
      return beating(async () => {
        const reports = coverage.filter((report): report is ProviderCoverage => !isFailure(report));
        const results = await Promise.allSettled(reports.map(({ provider, scopes, incomplete }) => rescans.follow(provider, scopes, { prune: !incomplete })));
        const failed = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
        // Following is idempotent: Temporal retries the whole, the providers done already change nothing.
        if (failed.length > 0) throw failed[0];
        const followed = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
        return { created: followed.flatMap((one) => one.created), deleted: followed.flatMap((one) => one.deleted) };
      });
    },
  };
}

export type CoverageActivities = ReturnType<typeof createCoverageActivities>;
