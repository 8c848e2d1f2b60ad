// Ending a test's investigation on the shared time-skipping test server without stopping its clock
// for the tests after it.
import type { WorkflowHandle } from '@temporalio/client';

/**
 * Terminates a run once it has no activity in flight. The test server takes a time-skipping lock for
 * each activity and does not give it back when the run ends with the activity outstanding
 * (temporalio/sdk-java#1138): every later timer on the server would then wait in real time. A run
 * with nothing in flight schedules nothing new until a timer fires, and timers wait while no test
 * awaits a result.
 */
export async function terminateWhenIdle(handle: WorkflowHandle, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const description = await handle.describe().catch(() => undefined);
    if (!description || description.status.name !== 'RUNNING') return;
    const busy = (description.raw.pendingActivities ?? []).length > 0 || description.raw.pendingWorkflowTask;
    if (!busy || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await handle.terminate('test over').catch(() => undefined);
}
