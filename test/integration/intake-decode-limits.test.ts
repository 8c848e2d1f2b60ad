// Bodies whose decoding would take what no alert needs (issue 13, review): a 257 KB gzip inflating to
// 255 MiB of nested JSON once ran for more than 200 s and took 5.7 GB on a decoding thread. Such a
// body is rejected with the limit it crossed, marked so in the archive (so the sweeper leaves it),
// and the next body decodes as usual. Nothing here depends on how long anything takes: the hostile
// bodies are refused by their shape before they are parsed, and the runaway decodes never end by
// themselves.
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gzipSync, createGzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLocalArchive } from '../../activities/archive/local';
import type { Archive } from '../../activities/archive/types';
import { createDecoder } from '../../intake/decoder';
import { createDelivery } from '../../intake/deliver';
import { buildIntakeServer } from '../../intake/server';
import type { Dispatch } from '../../lib/delivery';
import { createLogger } from '../../lib/logger';
import { startTestVigil, type TestVigil } from '../helpers/vigil';

const MiB = 1024 * 1024;

/** The gzip of `count` copies of `unit` between `head` and `tail`, made without holding the text. */
function gzipOfRepeats(head: string, unit: string, count: number, tail: string): Promise<Buffer> {
  const chunk = Buffer.from(unit.repeat(Math.ceil(MiB / unit.length)));
  const perChunk = chunk.length / unit.length;
  function* text() {
    yield Buffer.from(head);
    for (let left = count; left > 0; left -= perChunk) yield left >= perChunk ? chunk : chunk.subarray(0, left * unit.length);
    yield Buffer.from(tail);
  }
  return buffer(Readable.from(text()).pipe(createGzip()));
}

const normalAlert = (id: string) => ({ id, title: `decode limits ${id}`, severity: 'low' });

describe('a real Vigil fed bodies whose decoding has no bound', () => {
  let vigil: TestVigil;
  beforeAll(async () => {
    vigil = await startTestVigil();
  });
  afterAll(() => vigil?.stop());

  const rejectedInArchive = async (archiveId: string) =>
    (await createLocalArchive(path.join(vigil.config.dataDir, 'archive')).read(archiveId)).meta.rejected;

  it('rejects 255 MiB of nesting from a 250 KB gzip, and of tiny objects, then takes the next alert', async () => {
    const half = (255 * MiB) / 2;
    const nested = await gzipOfRepeats('', '[', half, ']'.repeat(half));
    expect(nested.length).toBeLessThan(600 * 1024);
    const deep = await vigil.post('cloudtrail', nested, { 'content-type': 'application/gzip' });
    expect(deep.status).toBe(400);
    expect(deep.body.error).toBe('refused before parsing: JSON nested deeper than 10000 levels');
    expect(await rejectedInArchive(deep.body.archiveId)).toBe(deep.body.error);

    // 30 MiB of `{},`: ten million objects, more than the default heap's quarter holds.
    const wide = await vigil.post('cloudtrail', await gzipOfRepeats('{"Records":[', '{},', 10_000_000, '{}]}'), { 'content-type': 'application/gzip' });
    expect(wide.status).toBe(400);
    expect(wide.body.error).toBe(
      "refused before parsing: JSON holding more than 8388608 objects and arrays, more than a decoding thread's heap holds (intake.decodeHeapMb)",
    );
    expect(await rejectedInArchive(wide.body.archiveId)).toBe(wide.body.error);

    // Gzipped, so that it decodes on a thread too.
    const next = await vigil.post('generic', gzipSync(JSON.stringify(normalAlert('after-the-hostile-ones'))), { 'content-type': 'application/gzip' });
    expect(next.status).toBe(202);
    expect(next.body.alerts).toEqual([expect.objectContaining({ fingerprint: 'after-the-hostile-ones', dispatched: true })]);
  });
});

describe('decodes that run away on their thread', () => {
  let dir: string;
  let archive: Archive;
  let app: FastifyInstance;
  let url: string;
  const token = 'decode-limits-token-0123456789';

  // The real intake server, delivery, archive and decoding threads, whose task runs away when a body
  // asks it to (test/helpers/runaway-decode-task.ts); dispatch only says it was done.
  afterEach(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function startIntake(limits: { heapMb?: number; timeoutMs?: number }) {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-decode-limits-'));
    archive = createLocalArchive(dir);
    const logger = createLogger('decode-limits-test', 'silent');
    const dispatch: Dispatch = async () => 'signalled';
    const decoder = createDecoder({
      sources: {},
      maxInflatedBytes: 64 * MiB,
      threads: 1,
      maxDecodingBytes: 64 * MiB,
      taskModule: new URL('../helpers/runaway-decode-task.ts', import.meta.url),
      inlineBytes: 0,
      ...limits,
    });
    const delivery = createDelivery({ archive, decoder, dispatch, logger });
    app = buildIntakeServer({ token, logger, archive, delivery, sources: [{ name: 'generic', settings: {}, maxBodyBytes: MiB }] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }

  const post = async (body: unknown) => {
    const response = await fetch(`${url}/v1/alerts/generic`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('rejects a decode that fills its thread’s heap, and decodes the next body on a new thread', async () => {
    await startIntake({ heapMb: 64 });
    const answer = await post({ runaway: 'memory' });
    expect(answer).toEqual({
      status: 400,
      body: { error: 'decoding the body needs more than the 64 MiB of memory a decoding thread has (intake.decodeHeapMb)', archiveId: expect.any(String) },
    });
    expect((await archive.read(answer.body.archiveId)).meta.rejected).toBe(answer.body.error);
    expect(await post(normalAlert('after-memory'))).toMatchObject({ status: 202, body: { alerts: [{ fingerprint: 'after-memory', dispatched: true }] } });
  });

  it('rejects a decode that never ends once past its deadline, and decodes the next body on a new thread', async () => {
    await startIntake({ timeoutMs: 2000 });
    const answer = await post({ runaway: 'time' });
    expect(answer).toEqual({
      status: 400,
      body: { error: 'decoding the body took longer than 2000 ms (intake.decodeTimeoutMs)', archiveId: expect.any(String) },
    });
    expect((await archive.read(answer.body.archiveId)).meta.rejected).toBe(answer.body.error);
    expect(await post(normalAlert('after-time'))).toMatchObject({ status: 202, body: { alerts: [{ fingerprint: 'after-time', dispatched: true }] } });
  });
});
