// The discovery's activities, for every inventory provider that can discover what it covers (AWS
// Organizations, the GCP hierarchy): run the discovery (discoverCoverage), keep one issue per coverage
// gap (reportCoverageGaps), and bring the re-scan schedules in line with the scopes found
// (followRescanScopes).
//
// A healed gap is closed although nothing remembers it: for every account the discovery covered (and
// each region of it it re-scans), the tracker is asked for the gap's issue by fingerprint. That is a
// file read on the local tracker and one request on GitHub, so about 900 lookups for 50 accounts of
// 17 regions: cheap enough for an hourly run, and it needs no list of open issues that could drift.
import { heartbeat } from '@temporalio/activity';
import type { LabelNames } from '../../lib/config';
import { mapConcurrent } from '../../lib/concurrency';
import type { CoverageGap, CoverageReport, InventoryProvider } from '../context/types';
import type { Tracker } from '../tracker/types';
import { gapBody, gapFingerprint, gapHealedComment, gapReturnedComment, gapTitle } from './issue';

export interface ProviderCoverage extends CoverageReport {
  provider: string;
}

export interface GapIssues {
  /** Gaps with an issue opened by this run. */
  opened: number;
  /** Gaps whose closed issue came back. */
  reopened: number;
  /** Gaps still open from before. */
  open: number;
  /** Healed gaps whose issue this run closed. */
  closed: number;
}

export interface FollowedScopes {
  created: string[];
  deleted: string[];
}

export interface CoverageDeps {
  inventory: readonly InventoryProvider[];
  tracker: Tracker;
  labels: LabelNames;
  /**
   * Brings one provider's re-scan schedules in line with its scopes: creates the missing, deletes those
   * of scopes gone. The worker gives it (workers/schedules.ts), since schedules are Temporal's.
   */
  followScopes(provider: string, scopes: readonly string[]): Promise<FollowedScopes>;
}

// Tracker calls at once: the GitHub tracker paces itself within its rate limits.
const TRACKER_CONCURRENCY = 8;
const HEARTBEAT_MS = 10_000;

/**
 * Every place a discovery read whole: each account, each `<account>/<region>` scope (unless the
 * account itself could not be read), and the provider's hierarchy (unless it could not be listed).
 */
function readPlaces({ provider, accounts, scopes, gaps }: ProviderCoverage): string[] {
  const unreadable = new Set(gaps.filter((gap) => !gap.region).map((gap) => gap.account));
  const ids = new Set(accounts.map((account) => account.id));
  const regions = scopes.flatMap((scope) => {
    const slash = scope.indexOf('/');
    const account = scope.slice(0, slash);
    return slash > 0 && ids.has(account) && !unreadable.has(account) ? [gapFingerprint({ provider, account, region: scope.slice(slash + 1) })] : [];
  });
  const open = new Set(gaps.map(gapFingerprint));
  const places = [gapFingerprint({ provider, account: 'organization' }), ...accounts.map((account) => gapFingerprint({ provider, account: account.id })), ...regions];
  return places.filter((place) => !open.has(place));
}

export function createCoverageActivities({ inventory, tracker, labels, followScopes }: CoverageDeps) {
  const gapLabels = [labels.base, `${labels.kindPrefix}coverage-gap`];

  /** The gap's issue, opened or reopened (unless a person silenced it). */
  async function keepOpen(gap: CoverageGap, workflowId: string, at: string): Promise<keyof GapIssues> {
    const fingerprint = gapFingerprint(gap);
    const { issue, created, state } = await tracker.findOrCreateIssue({ fingerprint, workflowId, title: gapTitle(gap), body: gapBody(gap, workflowId), labels: gapLabels });
    if (created) return 'opened';
    if (state === 'open') return 'open';
    const { labels: current } = await tracker.getIssue(issue.number);
    if (current.includes(labels.suppress)) return 'open';
    await tracker.upsertComment(issue.number, `${workflowId}#${fingerprint}/returned`, gapReturnedComment(gap, at));
    await tracker.reopenIssue(issue.number);
    return 'reopened';
  }

  /** Closes the place's gap issue when one is open: the discovery read it. */
  async function closeHealed(fingerprint: string, workflowId: string, at: string): Promise<boolean> {
    const issue = await tracker.findIssue(fingerprint);
    if (issue?.state !== 'open') return false;
    await tracker.upsertComment(issue.number, `${workflowId}#${fingerprint}/healed`, gapHealedComment(at));
    await tracker.closeIssue(issue.number);
    return true;
  }

  return {
    /** Every provider that can discover, discovered now; afterwards each one's lookups follow what it found. */
    async discoverCoverage(): Promise<ProviderCoverage[]> {
      const beat = setInterval(() => heartbeat(), HEARTBEAT_MS);
      try {
        const discovering = inventory.filter((provider) => provider.discover);
        return await Promise.all(discovering.map(async (provider) => ({ provider: provider.name, ...(await provider.discover!()) })));
      } finally {
        clearInterval(beat);
      }
    },

    /** One issue per gap, opened or reopened; the issue of every place read whole, closed. Idempotent per run. */
    async reportCoverageGaps({ coverage, workflowId, discoveredAt }: { coverage: ProviderCoverage[]; workflowId: string; discoveredAt: string }): Promise<GapIssues> {
      const counts: GapIssues = { opened: 0, reopened: 0, open: 0, closed: 0 };
      const gaps = coverage.flatMap((report) => report.gaps);
      await mapConcurrent(gaps, TRACKER_CONCURRENCY, async (gap) => {
        counts[await keepOpen(gap, workflowId, discoveredAt)] += 1;
        heartbeat(counts);
      });
      const healed = [...new Set(coverage.flatMap(readPlaces))];
      await mapConcurrent(healed, TRACKER_CONCURRENCY, async (fingerprint) => {
        if (await closeHealed(fingerprint, workflowId, discoveredAt)) counts.closed += 1;
        heartbeat(counts);
      });
      return counts;
    },

    /** Each provider's re-scan schedules, in line with the scopes it found. */
    async followRescanScopes({ coverage }: { coverage: ProviderCoverage[] }): Promise<FollowedScopes> {
      const followed: FollowedScopes = { created: [], deleted: [] };
      for (const { provider, scopes } of coverage) {
        const { created, deleted } = await followScopes(provider, scopes);
        followed.created.push(...created);
        followed.deleted.push(...deleted);
      }
      return followed;
    },
  };
}

export type CoverageActivities = ReturnType<typeof createCoverageActivities>;
