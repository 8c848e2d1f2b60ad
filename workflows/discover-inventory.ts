// Run by a Temporal Schedule (`vigil-inventory-discovery`, and once at worker start): find every
// account and project the inventories cover, keep one issue per place Vigil cannot read (closed by
// itself once it can), and bring the re-scan schedules in line with what was found. The run's result
// is its summary in the Temporal UI.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { CoverageActivities, FollowedScopes, GapIssues } from '../activities/coverage';
import type { CoverageGap } from '../activities/context/types';

// Whole organisations, every account and region read once, through cloud APIs the SDKs already retry.
const { discoverCoverage } = proxyActivities<CoverageActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

// The tracker, a few calls per gap and one lookup per place read: heartbeats as it goes.
const { reportCoverageGaps } = proxyActivities<CoverageActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

// Temporal's own schedules: one call per scope, idempotent.
const { followRescanScopes } = proxyActivities<CoverageActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

export interface DiscoverySummary {
  /** Per provider: accounts or projects covered, how many read whole, the re-scan scopes. */
  providers: { provider: string; accounts: number; ok: number; scopes: number }[];
  gaps: CoverageGap[];
  issues: GapIssues;
  schedules: FollowedScopes;
}

export async function discoverInventory(): Promise<DiscoverySummary> {
  const { workflowId, startTime } = workflowInfo();
  // 1. Every provider that can discover does so; each worker's lookups follow what its own found.
  const coverage = await discoverCoverage();
  // 2. One issue per gap; the issue of a gap that healed is closed.
  const issues = await reportCoverageGaps({ coverage, workflowId, discoveredAt: startTime.toISOString() });
  // 3. A re-scan schedule per scope found, none for a scope gone.
  const schedules = await followRescanScopes({ coverage });
  return {
    providers: coverage.map(({ provider, accounts, scopes }) => ({
      provider,
      accounts: accounts.length,
      ok: accounts.filter((account) => account.state === 'ok').length,
      scopes: scopes.length,
    })),
    gaps: coverage.flatMap((report) => report.gaps),
    issues,
    schedules,
  };
}
