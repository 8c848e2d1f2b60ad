// Run by a Temporal Schedule (`vigil-inventory-discovery`, and once at worker start): find every
// account and project the inventories cover, keep one issue per place Vigil cannot read (closed by
// itself once it can), and bring the re-scan schedules in line with what was found. The run's result
// is its summary in the Temporal UI.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { CoverageActivities, FollowedScopes, GapIssues, ProviderDiscovery } from '../activities/coverage';
import type { CoverageGap } from '../activities/context/types';

// Whole organisations, every account and region read once, through cloud APIs the SDKs already retry.
const { discoverCoverage } = proxyActivities<CoverageActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

// The tracker: one listing of the open gap issues, then a few calls per gap that changed; heartbeats on a timer.
const { reportCoverageGaps } = proxyActivities<CoverageActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

// Temporal's own schedules: one listing, then a call per schedule missing or changed, idempotent; heartbeats on a timer.
const { followRescanScopes } = proxyActivities<CoverageActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

export interface DiscoverySummary {
  /**
   * Per provider: accounts or projects covered, how many read whole, the re-scan scopes, and whether
   * its listing was incomplete (its re-scans then only added to); or why its discovery failed.
   */
  providers: ({ provider: string; accounts: number; ok: number; scopes: number; incomplete?: true } | { provider: string; failed: string })[];
  gaps: CoverageGap[];
  issues: GapIssues;
  schedules: FollowedScopes;
}

export async function discoverInventory(): Promise<DiscoverySummary> {
  const { workflowId, startTime } = workflowInfo();
  // 1. Every provider that can discover does so; each worker's lookups follow what its own found.
  const coverage: ProviderDiscovery[] = await discoverCoverage();
  // 2. An issue per gap (new ones up to a limit per run: `issues.deferred` says how many wait); the issue of a gap that healed or left coverage, closed.
  const issues = await reportCoverageGaps({ coverage, workflowId, discoveredAt: startTime.toISOString() });
  // 3. A re-scan schedule per scope found, none for a scope gone.
  const schedules = await followRescanScopes({ coverage });
  return {
    providers: coverage.map((report) =>
      'failed' in report
        ? report
        : {
            provider: report.provider,
            accounts: report.accounts.length,
            ok: report.accounts.filter((account) => account.state === 'ok').length,
            scopes: report.scopes.length,
            ...(report.incomplete ? { incomplete: true as const } : {}),
          },
    ),
    gaps: coverage.flatMap((report) => ('failed' in report ? [] : report.gaps)),
    issues,
    schedules,
  };
}
