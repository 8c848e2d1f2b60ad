// Idle worker memory: a main worker process (`vigil worker`, joining the bench's stack) some seconds
// after it starts polling, against a bare Node process that imports nothing, idle as long. The
// workflow bundle is made first as `vigil setup` makes it, so the worker loads it as production does.
import { spawn } from 'node:child_process';
import type { Client } from '@temporalio/client';
import type { Config } from '../lib/config';
import { buildWorkflowBundle, checkWorkflowBundle } from '../workers/workflow-bundle';
import { MiB, round, rssBytes, sleep, spawnVigil, waitForPoller } from './bench-common';

const IDLE_MS = 5000;

export async function benchIdleWorker(client: Client, config: Config, configFile: string): Promise<Record<string, number | string>> {
  await buildWorkflowBundle();
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
  let bareRss: number;
  try {
    await sleep(IDLE_MS);
    bareRss = rssBytes(bare.pid!);
  } finally {
    bare.kill();
  }

  // What the worker finds at its start, moments later: the bundle, unless a workflow source changed meanwhile.
  const { fresh } = await checkWorkflowBundle();
  const worker = spawnVigil(['worker'], configFile);
  try {
    await waitForPoller(client, config.temporal.taskQueue, 'workflow', worker);
    await sleep(IDLE_MS);
    const workerRss = rssBytes(worker.child.pid!);
    if (workerRss === 0 || bareRss === 0) throw new Error(`a process ended before its memory was read:\n${worker.output()}`);
    return {
      idleWorkerRssMiB: Math.round(workerRss / MiB),
      bareNodeRssMiB: Math.round(bareRss / MiB),
      idleWorkerOverBareNode: round(workerRss / bareRss),
      idleWorkerWorkflowCode: fresh ? 'prebuilt bundle' : 'bundled at start',
    };
  } finally {
    await worker.stop();
  }
}
