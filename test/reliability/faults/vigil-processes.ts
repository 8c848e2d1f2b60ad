// Vigil as production runs it, one role per process (`vigil worker`, `vigil browser-worker`,
// `vigil intake`), from a configuration file this helper writes: so that a test can SIGKILL a role
// and start it again on the same configuration. Every process started here is stopped by
// `stopRoles()` (the tests' afterAll), by its own pid.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { stringify } from 'yaml';
import { configSchema, type Config } from '../../../lib/config';
import { browserTaskQueue } from '../../../lib/task-queues';
import { descendants, isAlive, runVigil, survivors, type RunningCommand } from '../../helpers/processes';
import { loopbackOnlyProbes } from '../../helpers/vigil';

const { TaskQueueType } = proto.temporal.api.enums.v1;

export const INTAKE_TOKEN = 'reliability-token-0123456789abcdef';

type Settings = Record<string, unknown>;

export interface VigilSetup {
  /** The test's folder: the configuration file, the data folder, whatever else the test keeps. */
  dir: string;
  configFile: string;
  /** The configuration as every role reads it (parsed, defaults filled in). */
  config: Config;
  /** The environment every role is started with (the configuration file, secrets by variable). */
  env: NodeJS.ProcessEnv;
  /** Removes the folder (after the roles are stopped). */
  remove(): Promise<void>;
}

/** Environment variables that override configuration keys (an empty one overrides nothing). */
const blankOverrides = { VIGIL_DATA_DIR: '', VIGIL_HOST: '', VIGIL_PORT: '', VIGIL_INTAKE_TOKEN: '', TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '' };

const isRecord = (value: unknown): value is Settings => typeof value === 'object' && value !== null && !Array.isArray(value);

function merge(base: Settings, extra: Settings): Settings {
  const out: Settings = { ...base };
  for (const [key, value] of Object.entries(extra)) out[key] = isRecord(value) && isRecord(out[key]) ? merge(out[key] as Settings, value) : value;
  return out;
}

/**
 * A configuration for one test: its own data folder, namespace and task queue, nothing downloaded
 * (no feed refresh, no re-scan schedules), and probes fenced to loopback whatever `settings` say.
 */
export async function prepareVigil({
  temporalAddress,
  namespace,
  settings = {},
  env = {},
}: {
  temporalAddress: string;
  namespace: string;
  /** Settings over the defaults; a function is given the test's folder (for files it names). */
  settings?: Settings | ((dir: string) => Settings | Promise<Settings>);
  env?: NodeJS.ProcessEnv;
}): Promise<VigilSetup> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-reliability-'));
  const extra = typeof settings === 'function' ? await settings(dir) : settings;
  const raw = merge(
    {
      dataDir: path.join(dir, 'data'),
      temporal: { address: temporalAddress, namespace, taskQueue: `reliability-${randomUUID()}` },
      intake: { host: '127.0.0.1', port: 0, token: INTAKE_TOKEN },
      intel: { feedRefresh: { enabled: false } },
      rescan: { enabled: false },
      screenshots: { enabled: false },
      // Free ports: roles of two tests (or a developer's `vigil dev`) may run side by side.
      metrics: { ports: { intake: 0, worker: 0, browserWorker: 0 } },
    },
    extra,
  );
  raw.probe = { ...(isRecord(raw.probe) ? raw.probe : {}), ...loopbackOnlyProbes };
  const config = configSchema.parse(raw);
  const configFile = path.join(dir, 'vigil.yaml');
  await writeFile(configFile, `# Written by a reliability test.\n${stringify(raw)}`);
  return {
    dir,
    configFile,
    config,
    // The file alone decides: overrides that may be set in the shell running the tests are blanked.
    env: { ...blankOverrides, VIGIL_CONFIG: configFile, ...env },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export type RoleName = 'worker' | 'browser-worker' | 'intake';

export interface RoleProcess {
  role: RoleName;
  pid: number;
  command: RunningCommand;
  /** Whether it has exited (killed, stopped or crashed). */
  exited(): boolean;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace; waits for the exit. */
  stop(): Promise<void>;
}

const running = new Set<RoleProcess>();
/** Every role started in this test file, stopped or not: their output is checked for fence refusals. */
const everyRole: RoleProcess[] = [];

/** What the loopback fence refused in any role this file started (it must be nothing). */
export const allFenceRefusals = () => everyRole.flatMap((role) => fenceRefusals(role).map((line) => `${role.role} ${role.pid}: ${line}`));

/** Preloaded into every role: no connection or lookup beyond loopback (see loopback-fence.mjs). */
const fence = path.join(import.meta.dirname, 'loopback-fence.mjs');
/** Preloaded on request: memory use after a collection, on SIGWINCH (see memory-probe.mjs). */
export const memoryProbe = path.join(import.meta.dirname, 'memory-probe.mjs');

/** What the fence refused in a role's output (it must be nothing). */
export const fenceRefusals = (role: RoleProcess) => role.command.output().split('\n').filter((line) => line.startsWith('vigil-fence: '));

export function startRole(setup: VigilSetup, role: RoleName, env: NodeJS.ProcessEnv = {}, preload: string[] = []): RoleProcess {
  const imports = [fence, ...preload].map((file) => `--import=${file}`).join(' ');
  const command = runVigil([role], { ...setup.env, ...env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${imports}`.trim() });
  const pid = command.child.pid!;
  let done = false;
  let ended = false;
  void command.exited.then((code) => {
    done = true;
    // Died on its own: say so at once, with what it printed, whatever the test then reports.
    if (!ended) process.stderr.write(`\nvigil ${role} (pid ${pid}) exited by itself (code ${code}):\n${command.output().slice(-4000)}\n`);
  });
  const waitExit = async () => {
    if (!done) await command.exited;
  };
  const processRole: RoleProcess = {
    role,
    pid,
    command,
    exited: () => done,
    async kill() {
      ended = true;
      if (!done) command.child.kill('SIGKILL');
      await waitExit();
      running.delete(processRole);
    },
    async stop() {
      ended = true;
      if (!done) command.child.kill('SIGTERM');
      const timer = setTimeout(() => !done && command.child.kill('SIGKILL'), 20_000);
      await waitExit();
      clearTimeout(timer);
      running.delete(processRole);
    },
  };
  running.add(processRole);
  everyRole.push(processRole);
  return processRole;
}

/** Stops every role still running (SIGTERM, then SIGKILL), and says which left processes behind. */
export async function stopRoles(): Promise<string[]> {
  const roles = [...running];
  const below = roles.flatMap((role) => (role.exited() ? [] : descendants(role.pid)));
  await Promise.all(roles.map((role) => role.stop()));
  return survivors(below, 10_000);
}

/**
 * Resolves once the process `pid` polls `taskQueue` (its worker's identity is `<pid>@<host>`): a
 * restarted worker is told from the killed one, whose poller the server still lists for a while.
 */
export async function pollingBy(client: Client, taskQueue: string, kind: 'workflow' | 'activity', role: RoleProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const taskQueueType = kind === 'workflow' ? TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW : TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;
  for (;;) {
    if (role.exited()) throw new Error(`${role.role} (pid ${role.pid}) exited before polling ${taskQueue}:\n${role.command.output().slice(-4000)}`);
    const { pollers } = await client.workflowService
      .describeTaskQueue({ namespace: client.options.namespace, taskQueue: { name: taskQueue }, taskQueueType })
      .catch(() => ({ pollers: [] as { identity?: string | null }[] }));
    if (pollers.some((poller) => poller.identity?.startsWith(`${role.pid}@`))) return;
    if (Date.now() > deadline) throw new Error(`${role.role} (pid ${role.pid}) did not poll ${taskQueue} within ${timeoutMs} ms:\n${role.command.output().slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `vigil worker`, once it polls for workflow tasks. */
export async function startWorker(setup: VigilSetup, client: Client, { env = {}, preload = [] }: { env?: NodeJS.ProcessEnv; preload?: string[] } = {}): Promise<RoleProcess> {
  const worker = startRole(setup, 'worker', env, preload);
  await pollingBy(client, setup.config.temporal.taskQueue, 'workflow', worker);
  return worker;
}

/** `vigil browser-worker`, once it polls the browser queue. */
export async function startBrowserWorker(setup: VigilSetup, client: Client): Promise<RoleProcess> {
  const worker = startRole(setup, 'browser-worker');
  await pollingBy(client, browserTaskQueue(setup.config.temporal.taskQueue), 'activity', worker);
  return worker;
}

/** `vigil intake` on the configured port, once it answers `/healthz`. */
export async function startIntakeProcess(
  setup: VigilSetup,
  { env = {}, preload = [] }: { env?: NodeJS.ProcessEnv; preload?: string[] } = {},
): Promise<RoleProcess & { url: string }> {
  const { host, port } = setup.config.intake;
  if (port === 0) throw new Error('an intake process needs a fixed intake.port, to be found again after a restart');
  const intake = startRole(setup, 'intake', env, preload);
  const url = `http://${host}:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (intake.exited()) throw new Error(`intake exited before answering:\n${intake.command.output().slice(-4000)}`);
    const answered = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) }).then((response) => response.ok, () => false);
    if (answered) return Object.assign(intake, { url });
    if (Date.now() > deadline) throw new Error(`intake did not answer /healthz within 60 s:\n${intake.command.output().slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The Chromium processes below a process (the browser worker's), main process first. */
export function chromiumBelow(pid: number): number[] {
  return descendants(pid).filter((child) => isAlive(child) && commandOf(child).includes('chrom'));
}

function commandOf(pid: number): string {
  try {
    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
  } catch {
    return ''; // Gone meanwhile.
  }
}
