// `vigil bench`: measures what DESIGN.md aims at, each against a baseline taken in the same run,
// on a throwaway stack (own dev server, free ports, temporary data folder), touching nothing
// beyond 127.0.0.0/8.
//   - intake throughput ÷ a bare signalWithStart loop on the same server (aim ≥ 0.8)
//   - alert → first comment in the local tracker, p50 (aim ≤ 1 s)
//   - TCP sweep of 1,000 loopback endpoints, a quarter never answering (aim ≤ 2.5 s): bench-tcp.ts
//   - screenshots through the browser queue (aim ≥ 3 pages/s, ≤ 1.5 GiB, 0 leftovers): bench-screenshots.ts
//   - rule evaluation over 10,000 rules / 5,000 instances (aim ≤ 5 s): bench-evaluation.ts
//   - 100 Sigma rules over 10,000 CloudTrail records (aim ≤ 1 s): bench-sigma.ts
//   - idle worker memory (aim ≤ 250 MB): bench-memory.ts
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import getPort from 'get-port';
import { localTrackerRoot } from '../activities/tracker';
import { createLocalTracker } from '../activities/tracker/local';
import { createDispatcher } from '../intake/dispatch';
import type { NormalizedAlert } from '../lib/alert';
import { configSchema } from '../lib/config';
import { createLogger } from '../lib/logger';
import { inParallel, percentile } from './bench-common';
import { benchEvaluation } from './bench-evaluation';
import { benchIdleWorker } from './bench-memory';
import { benchScreenshots } from './bench-screenshots';
import { benchSigma } from './bench-sigma';
import { benchTcpSweep } from './bench-tcp';
import { progress } from './progress';
import { startStack } from './stack';

export interface BenchOptions {
  deliveries: number;
  concurrency: number;
  latencySamples: number;
}

export async function runBench({ deliveries, concurrency, latencySamples }: BenchOptions): Promise<Record<string, number | string>> {
  // On a terminal, each part says when it starts (stderr: stdout carries the figures).
  const shown = progress(8); // one step for each part below
  // Neither needs Temporal: measured first, on a quiet machine.
  shown.step('TCP sweep of 1,000 loopback endpoints');
  const tcp = await benchTcpSweep();
  shown.step('Rule evaluation over 10,000 rules and 5,000 instances');
  const evaluation = benchEvaluation();
  shown.step('100 Sigma rules over 10,000 CloudTrail records');
  const sigma = benchSigma();

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bench-'));
  const rawConfig = {
    dataDir,
    temporal: { address: `127.0.0.1:${await getPort()}`, uiPort: await getPort() },
    intake: { port: 0 },
    // Nothing downloaded: the bench measures Vigil, not the blocklists' servers.
    intel: { feedRefresh: { enabled: false } },
    // Probes and the browser reach loopback only.
    probe: { allowRanges: ['127.0.0.0/8'], onlyRanges: ['127.0.0.0/8'] },
  };
  const config = configSchema.parse(rawConfig);
  // What the worker processes the bench starts read: the same stack.
  const configFile = path.join(dataDir, 'bench-config.json');
  await writeFile(configFile, JSON.stringify(rawConfig));
  shown.step('Starting a throwaway stack (Temporal dev server, worker, intake)');
  const stack = await startStack({ config, reuseTemporal: false, logger: createLogger('vigil-bench', 'warn') });
  try {
    const alert = (run: string, n: number) => ({ id: `bench/${run}/${n}`, title: `bench ${run} ${n}`, severity: 'low' });
    const post = async (body: object) => {
      const response = await fetch(`${stack.intakeUrl}/v1/alerts/generic`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status !== 202) throw new Error(`intake answered ${response.status}`);
    };

    shown.step(`Intake throughput: ${deliveries} deliveries against a bare signalWithStart loop`);
    // Warm both paths (connections, JIT) before timing them.
    await inParallel(50, concurrency, (n) => post(alert('warm', n)));

    // Baseline: the same alerts, dispatched straight to Temporal as intake would after parsing.
    const dispatch = createDispatcher(stack.client, { taskQueue: config.temporal.taskQueue, timeoutMs: 10_000 });
    const normalized = (n: number): NormalizedAlert => ({
      source: 'generic',
      kind: 'resource',
      fingerprint: `bench/base/${n}`,
      title: `bench base ${n}`,
      severity: 'low',
      resources: [],
      network: { ips: [], cidrs: [], ports: [] },
      actors: { ips: [], domains: [], principals: [], userAgents: [] },
      archive: { id: `bench/${n}`, sha256: `${n}`.padStart(64, '0'), receivedAt: new Date().toISOString() },
    });
    // Alternating rounds, so neither side always runs while the worker is busy with the other's.
    const rounds = 4;
    const perRound = Math.ceil(deliveries / rounds);
    let baselineSeconds = 0;
    let intakeSeconds = 0;
    for (let round = 0; round < rounds; round += 1) {
      const offset = round * perRound;
      baselineSeconds += await inParallel(perRound, concurrency, async (n) => void (await dispatch(normalized(offset + n), `alert/generic/bench/base/${offset + n}`)));
      intakeSeconds += await inParallel(perRound, concurrency, (n) => post(alert('intake', offset + n)));
    }

    // Latency, one alert at a time on a settled system (every alert above reported): until its
    // summary comment is on its issue.
    shown.step(`Alert → first comment latency, ${latencySamples} alerts one at a time`);
    const tracker = createLocalTracker({ root: localTrackerRoot(config) });
    const reported = async (fingerprint: string) => ((await tracker.findIssue(fingerprint))?.comments.length ?? 0) > 0;
    for (let n = 0; n < rounds * perRound; n += 1) {
      while (!(await reported(`bench/base/${n}`)) || !(await reported(`bench/intake/${n}`))) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const latencies: number[] = [];
    for (let n = 0; n < latencySamples; n += 1) {
      const started = performance.now();
      await post(alert('latency', n));
      while (!(await reported(`bench/latency/${n}`))) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      latencies.push(performance.now() - started);
    }

    const baselinePerSecond = (rounds * perRound) / baselineSeconds;
    const intakePerSecond = (rounds * perRound) / intakeSeconds;
    shown.step('Screenshots through the browser queue');
    const screenshots = await benchScreenshots({ client: stack.client, config, rawConfig, dataDir });
    shown.step('Idle worker memory');
    const memory = await benchIdleWorker(stack.client, config, configFile);
    return {
      baselineSignalWithStartPerSecond: Math.round(baselinePerSecond),
      intakeDeliveriesPerSecond: Math.round(intakePerSecond),
      intakeOverBaseline: Number((intakePerSecond / baselinePerSecond).toFixed(2)),
      firstCommentP50Ms: Math.round(percentile(latencies, 0.5)),
      firstCommentP95Ms: Math.round(percentile(latencies, 0.95)),
      ...tcp,
      ...screenshots,
      ...evaluation,
      ...sigma,
      ...memory,
    };
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
