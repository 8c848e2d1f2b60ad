// intake.mirror: production forwards every accepted alert to a staging intake in the background.
// Whatever staging does (hangs, answers 500, is down) production answers as it does without a
// mirror, the queue stays bounded (dropping its oldest, counted), and a working staging intake
// receives the very bodies production archived.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import path from 'node:path';
import getPort from 'get-port';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalArchive } from '../../activities/archive/local';
import { createMirror } from '../../intake/mirror';
import { createLogger } from '../../lib/logger';
import { registry } from '../../lib/metrics';
import { close, listen } from '../helpers/loopback';
import { eventually, startTestVigil, type TestVigil } from '../helpers/vigil';

const stagingToken = 'staging-token-0123456789abcdef';
const alert = (id: string) => ({ id, title: `mirrored ${id}`, severity: 'medium' });

interface StagingStub {
  url: string;
  received: { url: string; headers: IncomingHttpHeaders; body: string }[];
  /** Answers the requests held so far, and every later one at once. */
  release(): void;
  stop(): Promise<void>;
}

/** A staging intake that misbehaves: holds every request (`hang`) or answers each with 500. */
async function stagingStub(mode: 'hang' | '500'): Promise<StagingStub> {
  const received: StagingStub['received'] = [];
  const held: ServerResponse[] = [];
  let holding = mode === 'hang';
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (holding) held.push(response);
      else response.writeHead(mode === '500' ? 500 : 202).end('{}');
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    release() {
      holding = false;
      for (const response of held.splice(0)) response.writeHead(202).end('{}');
    },
    stop: () => close(server),
  };
}

const mirrorTo = (url: string, settings: Record<string, unknown> = {}) => ({ mirror: { url, token: stagingToken, ...settings } });

/** Production's answers to alerts 1..n, each as it answers without a mirror: 202, dispatched. */
async function postAll(production: TestVigil, count: number, prefix: string) {
  const answers = [];
  for (let i = 1; i <= count; i += 1) answers.push(await production.post('generic', alert(`${prefix}-${i}`), { 'x-sender-id': `sender-${i}` }));
  for (const answer of answers) expect(answer).toMatchObject({ status: 202, body: { alerts: [{ dispatched: true }] } });
  return answers;
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe('intake mirroring', () => {
  it('forwards each accepted alert to a real staging intake, which archives the same bodies', async () => {
    const staging = await startTestVigil();
    stops.push(() => staging.stop());
    const production = await startTestVigil({ intake: mirrorTo(staging.url, { token: staging.token }) });
    stops.push(() => production.stop());

    const answers = await postAll(production, 3, 'real');

    const productionArchive = createLocalArchive(path.join(production.config.dataDir, 'archive'));
    const stagingArchive = createLocalArchive(path.join(staging.config.dataDir, 'archive'));
    const today = { since: new Date(Date.now() - 86_400_000), until: new Date(Date.now() + 60_000) };
    const listed = async (archive: typeof stagingArchive) => {
      const metas = [];
      for await (const meta of archive.list(today)) metas.push(meta);
      return metas;
    };
    const stagingRecords = await eventually(async () => {
      const metas = await listed(stagingArchive);
      return metas.length === 3 ? metas : undefined;
    });
    const productionRecords = await listed(productionArchive);
    expect(stagingRecords.map((meta) => meta.sha256).sort()).toEqual(productionRecords.map((meta) => meta.sha256).sort());
    for (const meta of stagingRecords) {
      const original = productionRecords.find((record) => record.sha256 === meta.sha256)!;
      expect(meta.source).toBe('generic');
      // The sender's headers travel with it, and where it came from; the credentials do not.
      expect(meta.headers).toMatchObject({ 'x-sender-id': original.headers['x-sender-id'], 'x-vigil-mirrored-from': original.id, 'content-type': 'application/json' });
      expect(JSON.stringify(meta.headers)).not.toContain(production.token);
    }
    expect(answers.map((answer) => answer.body.archiveId).sort()).toEqual(productionRecords.map((meta) => meta.id).sort());
    // Staging investigates them in its own namespace.
    await eventually(async () => ((await staging.tracker.listIssues()).length === 3 ? true : undefined));
  });

  it('keeps answering while staging hangs: the queue stays bounded and drops its oldest', async () => {
    const staging = await stagingStub('hang');
    stops.push(() => staging.stop());
    const production = await startTestVigil({ intake: mirrorTo(staging.url, { queueSize: 3, concurrency: 1, timeoutMs: 300_000 }) });
    stops.push(() => production.stop());

    await postAll(production, 8, 'hang');
    // One forward in flight, held; three queued; the four between them dropped.
    await eventually(async () => (staging.received.length === 1 ? true : undefined));
    staging.release();
    await eventually(async () => (staging.received.length === 4 ? true : undefined));
    expect(staging.received.map(({ body }) => JSON.parse(body).id)).toEqual(['hang-1', 'hang-6', 'hang-7', 'hang-8']);
    expect(staging.received[0]).toMatchObject({ url: '/v1/alerts/generic', headers: { authorization: `Bearer ${stagingToken}`, 'x-sender-id': 'sender-1' } });
  });

  it('keeps answering while staging answers 500, or is down', async () => {
    const failing = await stagingStub('500');
    stops.push(() => failing.stop());
    const production = await startTestVigil({ intake: mirrorTo(failing.url) });
    stops.push(() => production.stop());
    await postAll(production, 3, 'failing');
    await eventually(async () => (failing.received.length === 3 ? true : undefined));

    const down = await startTestVigil({ intake: mirrorTo(`http://127.0.0.1:${await getPort()}`) });
    stops.push(() => down.stop());
    await postAll(down, 3, 'down');
  });
});

/** The vigil_mirror_* values now: the intakes of this file run in this process, on its registry. */
async function mirrorMetrics(): Promise<Record<string, number>> {
  const names = ['vigil_mirror_forwarded_total', 'vigil_mirror_failed_total', 'vigil_mirror_dropped_total', 'vigil_mirror_queued'];
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, (await registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0])));
}

/** What changed since `before`. */
async function mirrorMetricsSince(before: Record<string, number>): Promise<Record<string, number>> {
  const now = await mirrorMetrics();
  return Object.fromEntries(Object.entries(now).map(([name, value]) => [name, value - (before[name] ?? 0)]));
}

describe('the mirror queue', () => {
  const logger = createLogger('test-mirror', 'silent');

  it('counts what it drops, what fails and what it forwards', async () => {
    const hanging = await stagingStub('hang');
    stops.push(() => hanging.stop());
    const mirror = createMirror({ url: hanging.url, token: stagingToken, queueSize: 2, maxQueueBytes: 1024 * 1024, concurrency: 1, timeoutMs: 300_000 }, logger);
    stops.push(async () => mirror.close());
    const forward = (id: string) => mirror.forward({ source: 'generic', body: Buffer.from(JSON.stringify(alert(id))), headers: { 'content-type': 'application/json' }, archiveId: id });

    const before = await mirrorMetrics();
    for (const id of ['a', 'b', 'c', 'd', 'e']) forward(id);
    expect(mirror.stats()).toEqual({ queued: 2, inFlight: 1, forwarded: 0, failed: 0, dropped: 2 });
    // Exported too, for an alert on a mirror that fails or drops.
    expect(await mirrorMetricsSince(before)).toEqual({ vigil_mirror_forwarded_total: 0, vigil_mirror_failed_total: 0, vigil_mirror_dropped_total: 2, vigil_mirror_queued: 2 });
    hanging.release();
    await eventually(async () => (mirror.stats().forwarded === 3 ? true : undefined));
    expect(mirror.stats()).toEqual({ queued: 0, inFlight: 0, forwarded: 3, failed: 0, dropped: 2 });
    expect(await mirrorMetricsSince(before)).toEqual({ vigil_mirror_forwarded_total: 3, vigil_mirror_failed_total: 0, vigil_mirror_dropped_total: 2, vigil_mirror_queued: 0 });

    const failing = await stagingStub('500');
    stops.push(() => failing.stop());
    const toFailing = createMirror({ url: failing.url, token: stagingToken, queueSize: 10, maxQueueBytes: 1024 * 1024, concurrency: 2, timeoutMs: 300_000 }, logger);
    const toNowhere = createMirror({ url: `http://127.0.0.1:${await getPort()}`, token: stagingToken, queueSize: 10, maxQueueBytes: 1024 * 1024, concurrency: 2, timeoutMs: 300_000 }, logger);
    for (const target of [toFailing, toNowhere]) {
      for (const id of ['x', 'y', 'z']) target.forward({ source: 'generic', body: Buffer.from(id), headers: {}, archiveId: id });
      await eventually(async () => (target.stats().failed === 3 ? true : undefined));
      expect(target.stats()).toEqual({ queued: 0, inFlight: 0, forwarded: 0, failed: 3, dropped: 0 });
    }
    expect(await mirrorMetricsSince(before)).toMatchObject({ vigil_mirror_forwarded_total: 3, vigil_mirror_failed_total: 6, vigil_mirror_queued: 0 });
  });

  it('does not mirror an alert that was mirrored to it (an intake mirroring to itself would loop)', async () => {
    const hanging = await stagingStub('hang');
    stops.push(() => hanging.stop());
    const mirror = createMirror({ url: hanging.url, token: stagingToken, queueSize: 10, maxQueueBytes: 1024 * 1024, concurrency: 1, timeoutMs: 300_000 }, logger);
    stops.push(async () => mirror.close());
    mirror.forward({ source: 'generic', body: Buffer.from('{}'), headers: { 'x-vigil-mirrored-from': '2026/12/01/generic/' + 'a'.repeat(64) }, archiveId: 'b' });
    expect(mirror.stats()).toEqual({ queued: 0, inFlight: 0, forwarded: 0, failed: 0, dropped: 0 });
  });

  it('bounds the queued bytes too', async () => {
    const hanging = await stagingStub('hang');
    stops.push(() => hanging.stop());
    const mirror = createMirror({ url: hanging.url, token: stagingToken, queueSize: 100, maxQueueBytes: 2048, concurrency: 1, timeoutMs: 300_000 }, logger);
    stops.push(async () => mirror.close());
    for (const id of ['1', '2', '3', '4']) mirror.forward({ source: 'generic', body: Buffer.alloc(1000, id), headers: {}, archiveId: id });
    // The first in flight; of the three after it, two fit in 2048 bytes.
    expect(mirror.stats()).toMatchObject({ queued: 2, inFlight: 1, dropped: 1 });
    // Closed, its queue leaves the gauge.
    const queued = (await mirrorMetrics()).vigil_mirror_queued!;
    mirror.close();
    expect((await mirrorMetrics()).vigil_mirror_queued).toBe(queued - 2);
  });
});
