// Idle worker memory: a main worker process (`vigil worker`, joining the bench's stack) once it has
// been idle a while, and just after it started, against two baselines read the same way: a bare
// Node process that imports nothing, and a bare Temporal SDK worker (scripts/bare-sdk-worker.mjs:
// plain Node, the same workflow bundle, no activities), the floor no Vigil change can go under. The
// workflow bundle and the compiled CLI are made first as `vigil setup` makes them, so both workers
// load what production does.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Config } from '../lib/config';
import { checkCompiledCli } from '../bin/compiled-cli.js';
import { buildWorkflowBundle, checkWorkflowBundle } from '../workers/workflow-bundle';
import { buildCompiledCli } from './build-cli';
import { MiB, round, rssBytes, sleep, spawnNode, spawnVigil, waitForPoller, type VigilProcess } from './bench-common';

/** When the start-up reading is taken, after the worker starts polling. */
const STARTED_MS = 5000;
/**
 * Idle is what a worker is for most of its life: once V8's memory reducer has given back the heap
 * that starting took, RSS stays flat. The reducer runs some seconds after a process goes quiet, and
 * again later (on the 2-core bench machine at about 9 and 17 s after polling began, taking 30 to 50
 * MiB off a worker in all): read well after both.
 */
const IDLE_MS = 30_000;

interface IdleReading {
  /** STARTED_MS after polling began. */
  startedRss: number;
  /** IDLE_MS after polling began. */
  idleRss: number;
}

/** A process's RSS STARTED_MS and IDLE_MS from now. */
async function idleRss(pid: number, describe: () => string): Promise<IdleReading> {
  const read = () => {
    const rss = rssBytes(pid);
    if (rss === 0) throw new Error(`a process ended before its memory was read:\n${describe()}`);
    return rss;
  };
  await sleep(STARTED_MS);
  const startedRss = read();
  await sleep(IDLE_MS - STARTED_MS);
  return { startedRss, idleRss: read() };
}

/** The bare SDK worker as a process of its own, on the stack's server and a task queue of its own. */
const spawnBareSdkWorker = (config: Config, taskQueue: string, codePath: string): VigilProcess =>
  spawnNode([path.join(import.meta.dirname, 'bare-sdk-worker.mjs'), config.temporal.address, config.temporal.namespace, taskQueue, codePath]);

/** A worker process's memory once it polls its task queue for workflow tasks: just started, and idle. */
async function workerRss(client: Client, taskQueue: string, worker: VigilProcess): Promise<IdleReading> {
  try {
    await waitForPoller(client, taskQueue, 'workflow', worker);
    return await idleRss(worker.child.pid!, () => worker.output());
  } finally {
    await worker.stop();
  }
}

export async function benchIdleWorker(client: Client, config: Config, configFile: string): Promise<Record<string, number | string>> {
  const { codePath } = await buildWorkflowBundle();
  await buildCompiledCli();
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
  let bareNode: IdleReading;
  try {
    bareNode = await idleRss(bare.pid!, () => 'the bare node process');
  } finally {
    bare.kill();
  }

  const bareSdkQueue = `${config.temporal.taskQueue}-bench-bare-sdk`;
  const bareSdk = await workerRss(client, bareSdkQueue, spawnBareSdkWorker(config, bareSdkQueue, codePath));

  // What the worker finds at its start, moments later: the bundle, unless a workflow source changed meanwhile.
  const { fresh } = await checkWorkflowBundle();
  const compiled = checkCompiledCli().fresh;
  const worker = await workerRss(client, config.temporal.taskQueue, spawnVigil(['worker'], configFile));
  const mib = (bytes: number) => Math.round(bytes / MiB);
  return {
    idleWorkerRssMiB: mib(worker.idleRss),
    bareNodeRssMiB: mib(bareNode.idleRss),
    idleWorkerOverBareNode: round(worker.idleRss / bareNode.idleRss),
    bareSdkWorkerRssMiB: mib(bareSdk.idleRss),
    idleWorkerOverBareSdkWorker: round(worker.idleRss / bareSdk.idleRss),
    startedWorkerRssMiB: mib(worker.startedRss),
    startedBareSdkWorkerRssMiB: mib(bareSdk.startedRss),
    idleWorkerWorkflowCode: fresh ? 'prebuilt bundle' : 'bundled at start',
    idleWorkerCode: compiled ? 'compiled JavaScript' : 'TypeScript through tsx',
  };
}
