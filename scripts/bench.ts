// `vigil bench`: measures what DESIGN.md aims at, each against a baseline taken in the same run,
// on a throwaway stack (own dev server, free ports, temporary data folder).
//   - intake throughput ÷ a bare signalWithStart loop on the same server (aim ≥ 0.8)
//   - alert → first comment in the local tracker, p50 (aim ≤ 1 s)
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import getPort from 'get-port';
import { localTrackerRoot } from '../activities/tracker';
import { createLocalTracker } from '../activities/tracker/local';
import { createDispatcher } from '../intake/dispatch';
import type { NormalizedAlert } from '../lib/alert';
import { configSchema } from '../lib/config';
import { createLogger } from '../lib/logger';
import { startStack } from './stack';

export interface BenchOptions {
  deliveries: number;
  concurrency: number;
  latencySamples: number;
}

async function inParallel(count: number, concurrency: number, task: (n: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return (performance.now() - started) / 1000;
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))]!;

export async function runBench({ deliveries, concurrency, latencySamples }: BenchOptions): Promise<Record<string, number>> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bench-'));
  const config = configSchema.parse({
    dataDir,
    temporal: { address: `127.0.0.1:${await getPort()}`, uiPort: await getPort() },
    intake: { port: 0 },
    // Nothing downloaded: the bench measures Vigil, not the blocklists' servers.
    intel: { feedRefresh: { enabled: false } },
  });
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

    // Warm both paths (connections, JIT) before timing them.
    await inParallel(50, concurrency, (n) => post(alert('warm', n)));

    // Baseline: the same alerts, dispatched straight to Temporal as intake would after parsing.
    const dispatch = createDispatcher(stack.client, config.temporal.taskQueue, 10_000);
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
      baselineSeconds += await inParallel(perRound, concurrency, async (n) => void (await dispatch(normalized(offset + n))));
      intakeSeconds += await inParallel(perRound, concurrency, (n) => post(alert('intake', offset + n)));
    }

    // Latency, one alert at a time on a settled system (every alert above reported): until its
    // summary comment is on its issue.
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
    return {
      baselineSignalWithStartPerSecond: Math.round(baselinePerSecond),
      intakeDeliveriesPerSecond: Math.round(intakePerSecond),
      intakeOverBaseline: Number((intakePerSecond / baselinePerSecond).toFixed(2)),
      firstCommentP50Ms: Math.round(percentile(latencies, 0.5)),
      firstCommentP95Ms: Math.round(percentile(latencies, 0.95)),
    };
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
