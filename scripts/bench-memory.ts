// Idle worker memory: a main worker process (`vigil worker`, joining the bench's stack) some seconds
// after it starts polling, against two baselines idle as long: a bare Node process that imports
// nothing, and a bare Temporal SDK worker (scripts/bare-sdk-worker.mjs: plain Node, the same workflow
// bundle, no activities), the floor no Vigil change can go under. The workflow bundle and the
// compiled CLI are made first as `vigil setup` makes them, so both workers load what production does.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Config } from '../lib/config';
import { checkCompiledCli } from '../bin/compiled-cli.js';
import { buildWorkflowBundle, checkWorkflowBundle } from '../workers/workflow-bundle';
import { buildCompiledCli } from './build-cli';
import { MiB, round, rssBytes, sleep, spawnNode, spawnVigil, waitForPoller, type VigilProcess } from './bench-common';

const IDLE_MS = 5000;

/** The bare SDK worker as a process of its own, on the stack's server and a task queue of its own. */
const spawnBareSdkWorker = (config: Config, taskQueue: string, codePath: string): VigilProcess =>
  spawnNode([path.join(import.meta.dirname, 'bare-sdk-worker.mjs'), config.temporal.address, config.temporal.namespace, taskQueue, codePath]);

/** VmRSS of a worker process IDLE_MS after it starts polling its task queue for workflow tasks. */
async function idleRss(client: Client, taskQueue: string, worker: VigilProcess): Promise<number> {
  try {
    await waitForPoller(client, taskQueue, 'workflow', worker);
    await sleep(IDLE_MS);
    const rss = rssBytes(worker.child.pid!);
    if (rss === 0) throw new Error(`a worker ended before its memory was read:\n${worker.output()}`);
    return rss;
  } finally {
    await worker.stop();
  }
}

export async function benchIdleWorker(client: Client, config: Config, configFile: string): Promise<Record<string, number | string>> {
  const { codePath } = await buildWorkflowBundle();
  await buildCompiledCli();
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
  let bareRss: number;
  try {
    await sleep(IDLE_MS);
    bareRss = rssBytes(bare.pid!);
  } finally {
    bare.kill();
  }
  if (bareRss === 0) throw new Error('the bare node process ended before its memory was read');

  const bareSdkQueue = `${config.temporal.taskQueue}-bench-bare-sdk`;
  const bareSdkRss = await idleRss(client, bareSdkQueue, spawnBareSdkWorker(config, bareSdkQueue, codePath));

  // What the worker finds at its start, moments later: the bundle, unless a workflow source changed meanwhile.
  const { fresh } = await checkWorkflowBundle();
  const compiled = checkCompiledCli().fresh;
  const workerRss = await idleRss(client, config.temporal.taskQueue, spawnVigil(['worker'], configFile));
  return {
    idleWorkerRssMiB: Math.round(workerRss / MiB),
    bareNodeRssMiB: Math.round(bareRss / MiB),
    idleWorkerOverBareNode: round(workerRss / bareRss),
    bareSdkWorkerRssMiB: Math.round(bareSdkRss / MiB),
    idleWorkerOverBareSdkWorker: round(workerRss / bareSdkRss),
    idleWorkerWorkflowCode: fresh ? 'prebuilt bundle' : 'bundled at start',
    idleWorkerCode: compiled ? 'compiled JavaScript' : 'TypeScript through tsx',
  };
}
