// `vigil bench`: measures what DESIGN.md aims at, each against a baseline taken in the same run,
// on a throwaway stack (own dev server, free ports, temporary data folder), touching nothing
// beyond 127.0.0.0/8. Its parts, in the order they run:
//   - TCP sweep of 1,000 loopback endpoints, a quarter never answering (aim ≤ 2.5 s): bench-tcp.ts
//   - rule evaluation over 10,000 rules / 5,000 instances (aim ≤ 5 s): bench-evaluation.ts
//   - 100 Sigma rules over 10,000 CloudTrail records (aim ≤ 1 s): bench-sigma.ts
//   - intake throughput ÷ a bare signalWithStart loop on the same server (aim ≥ 0.9), and ÷ a bare intake: bench-intake.ts
//   - alert → first comment in the local tracker, one at a time, p50 (aim ≤ 1 s): below
//   - a burst of 1,000 alerts at 50 in flight → first comments, p95 (aim ≤ 5 s), over the bare SDK's floor: bench-burst.ts
//   - screenshots through the browser queue ÷ bare Playwright (aim ≥ 0.9, ≤ 1.5 GiB, 0 leftovers): bench-screenshots.ts
//   - idle worker memory (aim ≤ 200 MiB): bench-memory.ts
//   - Temporal actions, history size and CPU per investigation: bench-actions.ts
// A part is one entry of `parts`: a name (`--only` takes it), what it says it does, and its figures.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import getPort from 'get-port';
import { localTrackerRoot } from '../activities/tracker';
import { createLocalTracker, type LocalTracker } from '../activities/tracker/local';
import { configSchema, type Config } from '../lib/config';
import { createLogger } from '../lib/logger';
import { benchActionsConfig, benchTemporalActions } from './bench-actions';
import { benchBareBurst, benchBurst } from './bench-burst';
import { percentile, postAlert, processWith, sleep } from './bench-common';
import { benchEvaluation } from './bench-evaluation';
import { benchArchiveRecord, benchIntake } from './bench-intake';
import { benchIdleWorker } from './bench-memory';
import { benchScreenshots } from './bench-screenshots';
import { benchSigma } from './bench-sigma';
import { benchTcpSweep } from './bench-tcp';
import { progress } from './progress';
import { startStack, type Stack } from './stack';

export interface BenchOptions {
  deliveries: number;
  concurrency: number;
  latencySamples: number;
  burstAlerts: number;
  burstConcurrency: number;
  /** Only these parts (their names in `parts`); every part when unset. */
  only?: string[];
}

type Figures = Record<string, number | string>;

/** The throwaway stack the parts after the first three share, and what they need to use it. */
export interface BenchStack {
  stack: Stack;
  config: Config;
  /** The configuration as written for the processes the bench starts (`configFile`). */
  rawConfig: Record<string, unknown>;
  configFile: string;
  dataDir: string;
  tracker: LocalTracker;
  /** POSTs a generic alert to intake; throws unless it answered 202. */
  post(body: object): Promise<void>;
  /** The Temporal dev server's process, when it could be found. */
  serverPid?: number;
}

interface Part {
  name: string;
  /** What the bench says on a terminal when the part starts. */
  says: (options: BenchOptions) => string;
  run: (options: BenchOptions, stack: () => Promise<BenchStack>) => Promise<Figures> | Figures;
}

/**
 * The SDK core logs to stdout unless its logs are forwarded: forwarded, at WARN, to stderr, so that
 * stdout carries the figures alone. Installed before the stack, which then keeps it.
 */
function installQuietRuntime(): void {
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger('WARN', ({ level, message }) => process.stderr.write(`${level} ${message}\n`)),
    telemetryOptions: { logging: { forward: {} } },
  });
}

export async function startBenchStack(): Promise<BenchStack & { stop(): Promise<void> }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bench-'));
  const rawConfig = {
    dataDir,
    temporal: { address: `127.0.0.1:${await getPort()}`, uiPort: await getPort() },
    intake: { port: 0 },
    // Nothing downloaded: the bench measures Vigil, not the blocklists' servers.
    intel: { feedRefresh: { enabled: false } },
    // Probes and the browser reach loopback only.
    probe: { allowRanges: ['127.0.0.0/8'], onlyRanges: ['127.0.0.0/8'] },
    // The machines the actions part's exposure alerts are about.
    ...benchActionsConfig(dataDir),
  };
  const config = configSchema.parse(rawConfig);
  // What the worker processes the bench starts read: the same stack.
  const configFile = path.join(dataDir, 'bench-config.json');
  await writeFile(configFile, JSON.stringify(rawConfig));
  installQuietRuntime();
  const stack = await startStack({ config, reuseTemporal: false, logger: createLogger('vigil-bench', 'warn') });
  const tracker = createLocalTracker({ root: localTrackerRoot(config) });
  const serverPid = processWith(['--db-filename', path.join(dataDir, 'temporal.db')]);
  return {
    stack,
    config,
    rawConfig,
    configFile,
    dataDir,
    tracker,
    serverPid,
    post: (body) => postAlert(stack.intakeUrl, stack.token, body),
    async stop() {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const bare = (n: number, run: string) => ({ id: `bench/${run}/${n}`, title: `bench ${run} ${n}`, severity: 'low' });

/** One alert at a time on a settled system: until its summary comment is on its issue. */
async function benchFirstComment({ latencySamples }: BenchOptions, { tracker, post }: BenchStack): Promise<Figures> {
  const latencies: number[] = [];
  for (let n = 0; n < latencySamples; n += 1) {
    const started = performance.now();
    await post(bare(n, 'latency'));
    while (((await tracker.findIssue(`bench/latency/${n}`))?.comments.length ?? 0) === 0) await sleep(10);
    latencies.push(performance.now() - started);
  }
  return { firstCommentP50Ms: Math.round(percentile(latencies, 0.5)), firstCommentP95Ms: Math.round(percentile(latencies, 0.95)) };
}

const parts: Part[] = [
  // These three need no Temporal: measured first, on a quiet machine.
  { name: 'tcp', says: () => 'TCP sweep of 1,000 loopback endpoints', run: () => benchTcpSweep() },
  { name: 'evaluation', says: () => 'Rule evaluation over 10,000 rules and 5,000 instances', run: () => benchEvaluation() },
  { name: 'sigma', says: () => '100 Sigma rules over 10,000 CloudTrail records', run: () => benchSigma() },
  {
    name: 'intake',
    says: ({ deliveries }) => `Intake throughput: ${deliveries} deliveries a side against a bare signalWithStart loop and a bare intake; the archive's record against one file`,
    run: async (options, stack) => {
      const running = await stack();
      return { ...(await benchIntake(options, running)), ...(await benchArchiveRecord(options, running.dataDir)) };
    },
  },
  {
    name: 'latency',
    says: ({ latencySamples }) => `Alert → first comment latency, ${latencySamples} alerts one at a time`,
    run: async (options, stack) => benchFirstComment(options, await stack()),
  },
  {
    name: 'burst',
    says: ({ burstAlerts, burstConcurrency }) => `A burst of ${burstAlerts} alerts, ${burstConcurrency} in flight → first comments (the bare SDK's, then Vigil's)`,
    run: async ({ burstAlerts, burstConcurrency }, stack) => {
      const { post, tracker, config, dataDir, serverPid } = await stack();
      const { address, namespace, taskQueue } = config.temporal;
      const shape = { alerts: burstAlerts, concurrency: burstConcurrency, serverPid };
      // The floor first, while Vigil's worker is idle: the server as Vigil's burst finds it.
      const floor = await benchBareBurst({ address, namespace, taskQueue: `${taskQueue}-bench-bare-burst`, dir: path.join(dataDir, 'bare-burst'), ...shape });
      const vigil = await benchBurst({ post, tracker, trackerRoot: localTrackerRoot(config), ...shape });
      return { ...vigil, ...floor, burstP95OverBaseline: Number((vigil.burstFirstCommentP95Ms / floor.burstBaselineFirstCommentP95Ms).toFixed(2)) };
    },
  },
  {
    name: 'screenshots',
    says: () => 'Screenshots through the browser queue',
    run: async (_options, stack) => {
      const { stack: running, config, rawConfig, dataDir } = await stack();
      return benchScreenshots({ client: running.client, config, rawConfig, dataDir });
    },
  },
  {
    name: 'memory',
    says: () => 'Idle worker memory',
    run: async (_options, stack) => {
      const { stack: running, config, configFile } = await stack();
      return benchIdleWorker(running.client, config, configFile);
    },
  },
  {
    // Last: its batch of investigations would weigh on the timed parts.
    name: 'actions',
    says: () => 'Temporal actions, history and CPU per investigation (an actor alert, an exposure alert, a day of watching)',
    run: async (_options, stack) => {
      const { stack: running, config } = await stack();
      return benchTemporalActions(running, config);
    },
  },
];

export const benchParts = parts.map((part) => part.name);

/** The parts that failed, from the figures `runBench` gave. */
export const failedParts = (figures: Figures) => Object.keys(figures).filter((name) => name.endsWith('Failed'));

export async function runBench(options: BenchOptions): Promise<Figures> {
  const unknown = (options.only ?? []).filter((name) => !benchParts.includes(name));
  if (unknown.length > 0) throw new Error(`no bench part ${unknown.join(', ')}; the parts are ${benchParts.join(', ')}`);
  const chosen = parts.filter((part) => !options.only || options.only.includes(part.name));
  // On a terminal, each part says when it starts (stderr: stdout carries the figures).
  const shown = progress(chosen.length + 1); // and one step for starting the stack
  let started: Promise<BenchStack & { stop(): Promise<void> }> | undefined;
  const stack = () => {
    if (!started) {
      shown.step('Starting a throwaway stack (Temporal dev server, worker, intake)');
      started = startBenchStack();
    }
    return started;
  };
  const figures: Figures = {};
  try {
    for (const part of chosen) {
      shown.step(part.says(options));
      // A part that fails is said among the figures (`<part>Failed`), and the others still run.
      try {
        Object.assign(figures, await part.run(options, stack));
      } catch (err) {
        figures[`${part.name}Failed`] = (err as Error).message;
      }
    }
    return figures;
  } finally {
    if (started) await (await started).stop();
  }
}
