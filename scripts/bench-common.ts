// What the bench's parts share: timing work at a fixed concurrency, medians, memory read from
// /proc, and Vigil commands run as processes of their own on the bench's configuration.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { NormalizedAlert } from '../lib/alert';
import { mapConcurrent } from '../lib/concurrency';
import { projectRoot } from './prerequisites';

export const MiB = 1024 * 1024;

/** Runs `task` for 0..count-1, `concurrency` at a time; gives the seconds it took. */
export async function inParallel(count: number, concurrency: number, task: (n: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  await mapConcurrent(Array.from({ length: count }, (_, n) => n), concurrency, task);
  return (performance.now() - started) / 1000;
}

export const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))]!;

export const median = (values: number[]) => percentile(values, 0.5);

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long synchronous work takes, in seconds. */
export function seconds(work: () => unknown): number {
  const started = performance.now();
  work();
  return (performance.now() - started) / 1000;
}

/** Resident memory of one process (VmRSS), 0 once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const kilobytes = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kilobytes ? Number(kilobytes) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU time one process has used, in ms, user and system apart; 0 once it is gone. Linux counts it in 1/100 s. */
export function cpuTimes(pid: number): { userMs: number; systemMs: number } {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { userMs: Number(fields[11]) * 10, systemMs: Number(fields[12]) * 10 };
  } catch {
    return { userMs: 0, systemMs: 0 };
  }
}

/** CPU time (user and system) one process has used, in ms; 0 once it is gone. */
export function cpuMs(pid: number): number {
  const { userMs, systemMs } = cpuTimes(pid);
  return userMs + systemMs;
}

/** The process whose command line has all of these words (a server the bench started through a helper), or undefined. */
export function processWith(words: string[]): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (words.every((word) => args.includes(word))) return Number(name);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

/** Proportional memory of one process (Pss: each shared page split between its sharers), 0 once it is gone. */
export function pssBytes(pid: number): number {
  try {
    const kilobytes = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
    return kilobytes ? Number(kilobytes) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * `pid` and every process below it, read from /proc/<pid>/task/<tid>/children: cheap enough to
 * sample often while the processes measured compete for the same cores (`ps` is not).
 */
export function processTree(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const children = tasks.flatMap((task) => {
    try {
      return readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
  return [pid, ...children.flatMap(processTree)];
}

export interface VigilProcess {
  child: ChildProcess;
  output(): string;
  /** Sends SIGTERM (the commands stop cleanly on it), SIGKILL after `graceMs`; true if it ended on SIGTERM. */
  stop(graceMs?: number): Promise<boolean>;
}

// Overrides that would point a child somewhere other than the bench's own stack.
const redirecting = ['VIGIL_CONFIG', 'VIGIL_DATA_DIR', 'VIGIL_HOST', 'VIGIL_PORT', 'VIGIL_INTAKE_TOKEN', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE'];

/** `vigil <args> --config <configFile>` as a child process, as production runs each role. */
export function spawnVigil(args: string[], configFile: string): VigilProcess {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !redirecting.includes(name)));
  return spawnNode([path.join(projectRoot, 'bin', 'vigil.js'), '--config', configFile, ...args], { ...env, VIGIL_LOG_LEVEL: 'warn' });
}

/** A Node script as a child process of this one's Node, its output kept for when it fails. */
export function spawnNode(args: string[], env: NodeJS.ProcessEnv = process.env): VigilProcess {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      return child.signalCode !== 'SIGKILL';
    },
  };
}

/** Waits until the process `pid` polls `taskQueue` (the SDK's default identity is `<pid>@<host>`). */
export async function waitForPoller(
  client: Client,
  taskQueue: string,
  kind: 'workflow' | 'activity',
  worker: VigilProcess,
  timeoutMs = 120_000,
): Promise<void> {
  const identity = `${worker.child.pid}@${os.hostname()}`;
  const { TaskQueueType } = proto.temporal.api.enums.v1;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: kind === 'workflow' ? TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW : TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    if (pollers.some((poller) => poller.identity === identity)) return;
    if (worker.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the worker never polled ${taskQueue}; its output:\n${worker.output()}`);
    }
    await sleep(250);
  }
}

// The sender's connections, kept open as a webhook sender keeps them. Node's http client rather than
// fetch: the sender shares the machine with intake, and fetch costs it about twice the CPU per request.
const sender = new http.Agent({ keepAlive: true });

/** POSTs a generic alert to the intake at `intakeUrl`; throws unless it answered 202. */
export async function postAlert(intakeUrl: string, token: string, body: object): Promise<void> {
  const payload = JSON.stringify(body);
  const status = await new Promise<number | undefined>((resolve, reject) => {
    const request = http.request(`${intakeUrl}/v1/alerts/generic`, {
      method: 'POST',
      agent: sender,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    });
    request.on('error', reject).on('response', (response) => response.resume().on('end', () => resolve(response.statusCode)).on('error', reject));
    request.end(payload);
  });
  if (status !== 202) throw new Error(`intake answered ${status}`);
}

/** Waits until `child` answers at `url` (any status), for at most `timeoutMs`. */
export async function answering(child: VigilProcess, url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fetch(url).catch(() => undefined))) {
    if (child.child.exitCode !== null || Date.now() > deadline) throw new Error(`nothing answered at ${url}; its output:\n${child.output()}`);
    await sleep(250);
  }
}

/** A generic alert as intake would hand it to dispatch: what the bare loop and the bare intake dispatch. */
export const benchAlert = (fingerprint: string): NormalizedAlert => ({
  source: 'generic',
  kind: 'resource',
  fingerprint,
  title: fingerprint,
  severity: 'low',
  resources: [],
  network: { ips: [], cidrs: [], ports: [] },
  actors: { ips: [], domains: [], principals: [], userAgents: [] },
  archive: { id: fingerprint, sha256: '0'.repeat(64), receivedAt: new Date().toISOString() },
});
