// Run by a Temporal Schedule (and once at worker start): dispatch what was archived (by intake or a
// re-scan) but never handed to Temporal. Its result is the run's summary in the Temporal UI.
import { proxyActivities } from '@temporalio/workflow';
import type { SweepActivities, SweepSummary } from '../activities/archive/sweep';

const { sweepArchive: sweep } = proxyActivities<SweepActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes', maximumAttempts: 5 },
});

export async function sweepArchive({ lookbackDays }: { lookbackDays: number }): Promise<SweepSummary> {
  return sweep({ lookbackDays });
}
