// Run by a Temporal Schedule (and once at worker start): refresh the local copies of the blocklist
// feeds. A feed that cannot be read keeps its last good copy; its result says so.
import { proxyActivities } from '@temporalio/workflow';
import type { IntelActivities } from '../activities/intel/activities';

const { refreshFeeds: refresh } = proxyActivities<IntelActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '30 seconds', maximumInterval: '5 minutes', maximumAttempts: 3 },
});

export async function refreshFeeds(): Promise<Awaited<ReturnType<typeof refresh>>> {
  return refresh();
}
