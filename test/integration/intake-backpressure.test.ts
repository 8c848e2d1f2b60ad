// Backpressure (issue 13): bodies decode on a few threads, off the event loop, within a bound on the
// bytes in flight. Past it intake answers 503 with Retry-After before archiving anything, so the
// sender keeps the body and retries; the sweeper's and replay's deliveries wait their turn instead.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalArchive } from '../../activities/archive/local';
import type { Archive, ArchiveRecordMeta } from '../../activities/archive/types';
import { createDecoder } from '../../intake/decoder';
import { createDelivery } from '../../intake/deliver';
import { buildIntakeServer } from '../../intake/server';
import type { Delivery, Dispatch } from '../../lib/delivery';
import { createLogger } from '../../lib/logger';
import { heldDecodeTask, holdDecodes, type HeldDecodes } from '../helpers/held-decodes';
import { eventually, startTestVigil, type TestVigil } from '../helpers/vigil';

const MiB = 1024 * 1024;
const fixtures = path.resolve(import.meta.dirname, '../fixtures/cloudtrail');
const token = 'backpressure-token-0123456789';

const groupId = (n: number) => `sg-${String(n).padStart(17, '0')}`;
const fingerprint = (n: number) => `aws:111122223333:eu-west-1:${groupId(n)}`;
const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/**
 * CloudTrail log files as S3 keeps them, gzipped: in each, one security group opened to the internet
 * (group n for the n-th file) among `paddingBytes` of routine calls. All inflate to the same size.
 */
async function cloudTrailLogs(count: number, paddingBytes: number): Promise<{ bodies: Buffer[]; inflated: number }> {
  const opening = JSON.parse(await readFile(path.join(fixtures, 'vigil-sg-ingress-flat.json'), 'utf8'));
  const [routine] = JSON.parse(await readFile(path.join(fixtures, '1205Z_lKy08gyrqqRJyzsn.json'), 'utf8')).Records;
  const routineJson = JSON.stringify(routine);
  const padding = Array.from({ length: Math.ceil(paddingBytes / routineJson.length) }, () => routineJson).join(',');
  const texts = Array.from({ length: count }, (_, n) => {
    const record = { ...opening, requestParameters: { ...opening.requestParameters, groupId: groupId(n) } };
    return `{"Records":[${JSON.stringify(record)},${padding}]}`;
  });
  return { bodies: texts.map((text) => gzipSync(text)), inflated: Buffer.byteLength(texts[0]!) };
}

async function post(url: string, body: Buffer, bearer = token) {
  const response = await fetch(`${url}/v1/alerts/cloudtrail`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/gzip' },
    body,
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
}

/** The indexes of the first `count` promises to settle, in the order they did. */
function firstSettled(promises: Promise<unknown>[], count: number): Promise<number[]> {
  const settled: number[] = [];
  return new Promise((resolve) => {
    promises.forEach((promise, n) => {
      const done = () => {
        settled.push(n);
        if (settled.length === count) resolve([...settled]);
      };
      promise.then(done, done);
    });
  });
}

async function listRecords(archive: Archive): Promise<ArchiveRecordMeta[]> {
  const records: ArchiveRecordMeta[] = [];
  const day = 24 * 3600 * 1000;
  for await (const meta of archive.list({ since: new Date(Date.now() - day), until: new Date(Date.now() + day) })) records.push(meta);
  return records;
}

describe('intake under load, its decodes held on their threads', () => {
  let dir: string;
  let archive: Archive;
  let held: HeldDecodes;
  let app: FastifyInstance;
  let url: string;
  let dispatched: string[];

  /** The real intake server, delivery, archive and decoding threads; dispatch records what it is handed. */
  async function startIntake(maxDecodingBytes: number): Promise<Delivery> {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-backpressure-'));
    archive = createLocalArchive(dir);
    held = holdDecodes();
    dispatched = [];
    const dispatch: Dispatch = async (alert) => {
      dispatched.push(alert.fingerprint);
      return 'signalled';
    };
    const logger = createLogger('backpressure-test', 'silent');
    const decoder = createDecoder({ sources: {}, maxInflatedBytes: 64 * MiB, threads: 2, maxDecodingBytes, taskModule: heldDecodeTask, inlineBytes: 0 });
    const delivery = createDelivery({ archive, decoder, dispatch, logger });
    app = buildIntakeServer({ token, logger, archive, delivery, sources: [{ name: 'cloudtrail', settings: {}, maxBodyBytes: 8 * MiB }] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    return delivery;
  }

  afterEach(async () => {
    held.releaseAll();
    held.close();
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses past the bound before archiving, answers /healthz while decodes run, and loses nothing', async () => {
    const { bodies, inflated } = await cloudTrailLogs(8, 2 * MiB);
    // Room for three bodies: two decoding (one per thread), one waiting for a thread.
    const delivery = await startIntake(3 * inflated);

    const answers = bodies.slice(0, 6).map((body) => post(url, body));
    const settled: number[] = [];
    answers.forEach((answer, n) => answer.then(() => settled.push(n), () => settled.push(n)));
    // Nothing admitted can finish while its decode is held: the first three answers are the refusals.
    const refused = await firstSettled(answers, 3);
    await held.started(2);

    const health = await fetch(`${url}/healthz`);
    expect({ status: health.status, body: await health.json() }).toEqual({ status: 200, body: { status: 'ok' } });
    // Answered while both threads hold a decode and a third body waits for one.
    expect(settled).toEqual(refused);
    for (const n of refused) {
      expect(await answers[n]).toEqual({ status: 503, retryAfter: '5', body: { error: 'intake is busy decoding other deliveries; retry later' } });
    }
    const admitted = [0, 1, 2, 3, 4, 5].filter((n) => !refused.includes(n));
    // Archived before decoding; the refused bodies never were.
    expect((await listRecords(archive)).map((meta) => meta.sha256).sort()).toEqual(admitted.map((n) => sha256(bodies[n]!)).sort());
    expect(dispatched).toEqual([]);

    // A delivery that can wait (the sweeper's, a re-scan's, replay's) queues for room rather than
    // failing, and intake does not jump the queue.
    const record = { ...(await archive.put({ source: 'cloudtrail', body: bodies[6]!, contentType: 'application/gzip', headers: {} })), source: 'cloudtrail' };
    const waiting = delivery.deliver(record, bodies[6]!);
    expect(await post(url, bodies[7]!)).toMatchObject({ status: 503, retryAfter: '5' });
    refused.push(7);

    held.releaseAll();
    for (const n of admitted) {
      const answer = await answers[n]!;
      expect(answer.status).toBe(202);
      expect(answer.body.alerts).toEqual([expect.objectContaining({ fingerprint: fingerprint(n), dispatched: true })]);
    }
    expect(await waiting).toEqual({ alerts: [expect.objectContaining({ fingerprint: fingerprint(6), dispatched: true })], unmatched: expect.any(Number) });

    // The sender retries what was refused, one after another as room frees: everything gets in.
    for (const n of refused) {
      expect(await post(url, bodies[n]!)).toMatchObject({ status: 202, body: { alerts: [{ fingerprint: fingerprint(n), dispatched: true }] } });
    }
    // Marked dispatched just after the answer.
    const records = await eventually(async () => {
      const listed = await listRecords(archive);
      return listed.every((meta) => meta.dispatchedAt !== undefined) ? listed : undefined;
    });
    expect(records.map((meta) => meta.sha256).sort()).toEqual(bodies.map(sha256).sort());
    expect(dispatched.sort()).toEqual(bodies.map((_, n) => fingerprint(n)).sort());
  });

  it('admits a body larger than the whole bound when nothing else is in flight', async () => {
    const { bodies, inflated } = await cloudTrailLogs(1, 256 * 1024);
    await startIntake(inflated / 2);
    held.releaseAll();
    expect(await post(url, bodies[0]!)).toMatchObject({ status: 202, body: { alerts: [{ fingerprint: fingerprint(0), dispatched: true }] } });
  });
});

describe('a real Vigil under load', () => {
  let vigil: TestVigil | undefined;
  afterEach(async () => {
    await vigil?.stop();
    vigil = undefined;
  });

  it('investigates every body of a sender that retries on 503, once each', async () => {
    const { bodies, inflated } = await cloudTrailLogs(4, 8 * MiB);
    // One thread, room for one body: whichever bodies arrive while another decodes are refused.
    vigil = await startTestVigil({ intake: { decodeThreads: 1, maxDecodingBytes: inflated } });
    const sendUntilAccepted = async (body: Buffer) => {
      for (;;) {
        const answer = await post(vigil!.url, body, vigil!.token);
        if (answer.status !== 503) return answer;
        expect(answer.retryAfter).toBe('5');
        // A pause between attempts, as a sender takes; nothing here depends on its length.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    const answers = await Promise.all(bodies.map(sendUntilAccepted));
    answers.forEach((answer, n) => {
      expect(answer).toMatchObject({ status: 202, body: { alerts: [{ fingerprint: fingerprint(n), dispatched: true }] } });
    });
    for (const answer of answers) {
      await expect(vigil.client.workflow.getHandle(answer.body.alerts[0].workflowId).describe()).resolves.toBeDefined();
    }
    // Marked dispatched just after the answer.
    const records = await eventually(async () => {
      const listed = await listRecords(createLocalArchive(path.join(vigil!.config.dataDir, 'archive')));
      return listed.every((meta) => meta.dispatchedAt !== undefined) ? listed : undefined;
    });
    expect(records.map((meta) => meta.sha256).sort()).toEqual(bodies.map(sha256).sort());
  });
});
