// The bench's only workflow: one screenshot through the browser task queue, scheduled the way the
// investigation schedules it, so the bench times the queue and the browser worker, not a runbook.
import { proxyActivities } from '@temporalio/workflow';
import type { ScreenshotActivities } from '../activities/screenshot';

export async function benchScreenshot(url: string, browserQueue: string): Promise<string> {
  const { takeScreenshot } = proxyActivities<ScreenshotActivities>({
    taskQueue: browserQueue,
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '5 seconds', maximumAttempts: 3 },
  });
  const { finding } = await takeScreenshot({ url });
  return finding.status;
}
