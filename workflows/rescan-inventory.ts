// Run by one Temporal Schedule per inventory scope (`vigil-rescan/<provider>/<scope>`): read the
// whole scope, find what exposes sensitive ports to the internet without an allowance, and hand
// each such machine to its investigation. The run's result is its summary in the Temporal UI.
import { proxyActivities } from '@temporalio/workflow';
import type { AllowedInstance } from '../activities/rescan/evaluate';
import type { RescanActivities, ScopeRef } from '../activities/rescan';
import type { ContextProblem } from '../lib/context';

// Whole accounts and organisations, paged through cloud APIs that the SDKs already retry.
const { scanScope } = proxyActivities<RescanActivities>({
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

const { dispatchViolations } = proxyActivities<RescanActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

export interface RescanSummary extends ScopeRef {
  instances: number;
  violations: number;
  allowed: AllowedInstance[];
  started: number;
  rechecked: number;
  undispatched: number;
  problems: ContextProblem[];
}

export async function rescanInventory({ provider, scope }: ScopeRef): Promise<RescanSummary> {
  // 1. Everything in the scope, judged: violations, and what an allowance lets stay public.
  const scan = await scanScope({ provider, scope });
  // 2. Each violation to its investigation: a new one opens an issue, a known one is re-checked.
  const counts = await dispatchViolations({ provider, scope, violations: scan.violations, scannedAt: scan.scannedAt });
  return { provider, scope, instances: scan.instances, violations: scan.violations.length, allowed: scan.allowed, ...counts, problems: scan.problems };
}
