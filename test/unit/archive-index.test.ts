// The archive's index of records not yet dispatched (activities/archive/records.ts), on the local
// archive and on an S3 archive (moto): the sweeper reads what is pending and nothing else, a record
// leaves the index once dispatched or rejected, a crash at any step leaves nothing unswept, and the
// records archived before the index existed are found by one full pass. Also the records that refer
// to an S3 object instead of keeping a copy of it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localBlobStore } from '../../activities/archive/local';
import { createObjectStore } from '../../activities/archive/objects';
import { createRecordArchive, type RecordStore } from '../../activities/archive/records';
import { s3BlobStore } from '../../activities/archive/s3';
import { createSweepActivities } from '../../activities/archive/sweep';
import type { Archive, ArchiveRecordMeta, ObjectReference } from '../../activities/archive/types';
import { createDecoder } from '../../intake/decoder';
import { createDelivery } from '../../intake/deliver';
import type { NormalizedAlert } from '../../lib/alert';
import { createLogger } from '../../lib/logger';
import { startMoto, type Moto } from '../helpers/moto';

let moto: Moto;
let s3: S3Client;
let localRoot: string;
beforeAll(async () => {
  [moto, localRoot] = await Promise.all([startMoto(), mkdtemp(path.join(os.tmpdir(), 'vigil-archive-index-'))]);
  s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: moto.credentials });
  await s3.send(new CreateBucketCommand({ Bucket: 'vigil-archive' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'trail' }));
  // The object store takes its credentials from the SDK's default chain, as in production.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey });
});
afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
  await rm(localRoot, { recursive: true, force: true });
});

/** A store that counts the blobs read from it. */
function counting(store: RecordStore) {
  const reads: string[] = [];
  return { reads, store: { ...store, get: (key: string) => (reads.push(key), store.get(key)) } satisfies RecordStore };
}

let fresh = 0;
const backends: [string, () => RecordStore][] = [
  ['local', () => localBlobStore(path.join(localRoot, `archive-${(fresh += 1)}`))],
  ['S3', () => s3BlobStore({ bucket: 'vigil-archive', prefix: `archive-${(fresh += 1)}/`, region: 'us-east-1', forcePathStyle: true }, s3)],
];

const alertBody = (n: number) => Buffer.from(JSON.stringify({ id: `index-${n}`, title: `alert ${n}`, severity: 'low' }));
const put = (archive: Archive, n: number) => archive.put({ source: 'generic', body: alertBody(n), contentType: 'application/json', headers: {} });

const sweepRange = () => ({ since: new Date(Date.now() - 3 * 86_400_000), until: new Date() });
async function pending(archive: Archive, range = sweepRange()): Promise<string[]> {
  const ids = [];
  for await (const meta of archive.listUndispatched(range)) ids.push(meta.id);
  return ids.sort();
}

/** As intake-durability does: a record received a minute ago, past the sweeper's settle time. */
async function age(store: RecordStore, archive: Archive, id: string) {
  const meta = (await archive.findMeta(id))!;
  await store.put(`${id}.meta.json`, JSON.stringify({ ...meta, receivedAt: new Date(Date.now() - 60_000).toISOString() }), 'application/json');
}

describe.each(backends)('the index of undispatched records (%s archive)', (_name, makeStore) => {
  it('lists only the pending records, reading their metadata and nothing else', async () => {
    const { reads, store } = counting(makeStore());
    const archive = createRecordArchive(store);
    const refs = [];
    for (let n = 0; n < 20; n += 1) refs.push(await put(archive, n));
    for (const ref of refs.slice(2)) await archive.markDispatched(ref.id, [`alert/generic/${ref.id}`]);
    await pending(archive); // the first listing makes the index's one full pass

    reads.length = 0;
    expect(await pending(archive)).toEqual(refs.slice(0, 2).map((ref) => ref.id).sort());
    // Whether the index is built, then the two pending records' metadata: not the 18 dispatched ones.
    expect(reads.filter((key) => key.endsWith('.meta.json')).sort()).toEqual(refs.slice(0, 2).map((ref) => `${ref.id}.meta.json`).sort());
    expect(reads).toHaveLength(3);
  });

  it('takes a record out once dispatched or rejected', async () => {
    const store = makeStore();
    const archive = createRecordArchive(store);
    const [a, b, c] = [await put(archive, 1), await put(archive, 2), await put(archive, 3)];
    expect(await store.get(`undispatched/${a.id}`)).toBeDefined();
    await archive.markDispatched(a.id, ['alert/generic/index-1']);
    await archive.markRejected(b.id, 'malformed JSON');
    expect(await store.get(`undispatched/${a.id}`)).toBeUndefined();
    expect(await store.get(`undispatched/${b.id}`)).toBeUndefined();
    expect(await pending(archive)).toEqual([c.id]);
  });

  it('settles a record it put itself without reading its meta back, and one another process put from the store', async () => {
    const { reads, store } = counting(makeStore());
    const archive = createRecordArchive(store);
    const own = await put(archive, 5);
    const other = await put(createRecordArchive(store), 6);
    reads.length = 0;
    await archive.markDispatched(own.id, ['alert/generic/index-5']);
    expect(reads).toEqual([]);
    await archive.markDispatched(other.id, ['alert/generic/index-6']);
    expect(reads).toEqual([`${other.id}.meta.json`]);
    for (const { id } of [own, other]) {
      expect((await archive.findMeta(id))?.dispatchedTo).toEqual([`alert/generic/index-${id === own.id ? 5 : 6}`]);
      expect(await store.get(`undispatched/${id}`)).toBeUndefined();
    }
  });

  it('no longer calls a record rejected once it is dispatched (rejected for a bound, delivered once the bound was raised)', async () => {
    const archive = createRecordArchive(makeStore());
    const { id } = await put(archive, 4);
    await archive.markRejected(id, 'gzip body could not be inflated within 1024 bytes: Cannot create a Buffer larger than 1024 bytes');
    await archive.markDispatched(id, ['alert/generic/index-4']);
    const meta = await archive.findMeta(id);
    expect(meta?.dispatchedAt).toBeDefined();
    expect(meta?.rejected).toBeUndefined();
  });

  it('makes a rejected record sent again pending until its delivery settles it', async () => {
    const archive = createRecordArchive(makeStore());
    const ref = await put(archive, 11);
    await archive.markRejected(ref.id, 'gzip body could not be inflated within 1024 bytes: Cannot create a Buffer larger than 1024 bytes');
    expect(await pending(archive)).toEqual([]);
    // Sent again once the bound was raised: the same record, delivered again, and swept if its dispatch fails.
    expect(await put(archive, 11)).toEqual(ref);
    expect((await archive.findMeta(ref.id))!.rejected).toBeUndefined();
    expect(await pending(archive)).toEqual([ref.id]);
    // Rejected again (the body can never be read): settled, out of the sweeper's way.
    await archive.markRejected(ref.id, 'malformed JSON');
    expect(await pending(archive)).toEqual([]);
    expect((await archive.findMeta(ref.id))!.rejected).toBe('malformed JSON');
  });

  it('sweeps a record whose process died between archiving and dispatching, once', async () => {
    const store = makeStore();
    const archive = createRecordArchive(store);
    await pending(archive); // the index is built: only a marker finds the record now
    const ref = await put(archive, 7);
    await age(store, archive, ref.id);
    const dispatched: string[] = [];
    const delivery = createDelivery({
      archive,
      decoder: createDecoder({ sources: {}, maxInflatedBytes: 1 << 20, threads: 1, maxDecodingBytes: 1 << 24 }),
      dispatch: async (alert: NormalizedAlert, workflowId: string) => (dispatched.push(workflowId), 'signalled' as const),
      logger: createLogger('test', 'silent'),
    });
    const { sweepArchive } = createSweepActivities({ archive, delivery });
    const sweep = () => new MockActivityEnvironment().run(sweepArchive, { lookbackDays: 3 });

    expect(await sweep()).toEqual({ examined: 1, dispatched: 1, stillUndispatched: 0, rejected: 0 });
    expect(dispatched).toEqual(['alert/generic/index-7']);
    expect((await archive.findMeta(ref.id))!.dispatchedAt).toBeDefined();
    expect(await sweep()).toEqual({ examined: 0, dispatched: 0, stillUndispatched: 0, rejected: 0 });
    expect(dispatched).toHaveLength(1);
  });

  it('clears the marker of a record marked dispatched by a process that died before removing it', async () => {
    const store = makeStore();
    const archive = createRecordArchive(store);
    const ref = await put(archive, 1);
    await archive.markDispatched(ref.id, ['alert/generic/index-1']);
    await store.put(`undispatched/${ref.id}`, Buffer.alloc(0), 'text/plain');
    expect(await pending(archive)).toEqual([]);
    expect(await store.get(`undispatched/${ref.id}`)).toBeUndefined();
  });

  it('keeps the marker of a put still under way today, and clears one of a put that died on an earlier day', async () => {
    const store = makeStore();
    const archive = createRecordArchive(store);
    await pending(archive);
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10).replaceAll('-', '/');
    const under = `${today}/generic/${'a'.repeat(64)}`;
    const died = `${yesterday}/generic/${'b'.repeat(64)}`;
    for (const id of [under, died]) await store.put(`undispatched/${id}`, Buffer.alloc(0), 'text/plain');
    expect(await pending(archive)).toEqual([]);
    expect(await store.get(`undispatched/${under}`)).toBeDefined();
    expect(await store.get(`undispatched/${died}`)).toBeUndefined();
  });

  it('finds the records archived before the index with one full pass, then reads the index alone', async () => {
    const store = makeStore();
    const archive = createRecordArchive(store);
    const [old, done] = [await put(archive, 1), await put(archive, 2)];
    await archive.markDispatched(done.id, ['alert/generic/index-2']);
    // As an archive written before the index: no marker, no record of the index.
    await store.delete(`undispatched/${old.id}`);
    expect(await store.get('undispatched.json')).toBeUndefined();

    let walked = 0;
    const range = sweepRange();
    const found = [];
    for await (const meta of archive.listUndispatched(range, () => (walked += 1))) found.push(meta.id);
    expect(found).toEqual([old.id]);
    expect(walked).toBe(2);
    expect(await store.get(`undispatched/${old.id}`)).toBeDefined();
    const days = [0, 1, 2, 3].map((n) => new Date(range.until.getTime() - n * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '/')).reverse();
    expect(JSON.parse((await store.get('undispatched.json'))!.toString())).toEqual({ startedAt: expect.any(String), backfilled: days });
    // No day is walked again: a record without a marker now is one no listing looks for.
    const { reads, store: counted } = counting(store);
    await store.delete(`undispatched/${old.id}`);
    expect(await pending(createRecordArchive(counted))).toEqual([]);
    expect(reads).toEqual(['undispatched.json']);
  });
});

describe('a record that refers to an S3 object', () => {
  const logFile = Buffer.from('{"Records":[]}');
  let reference: ObjectReference;
  beforeAll(async () => {
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'trail', Key: 'AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/01/a.json.gz', Body: logFile }));
    reference = { bucket: 'trail', key: 'AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/01/a.json.gz', etag: ETag!.replaceAll('"', ''), region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true };
  });

  it.each(backends)('keeps no copy in the %s archive, and reads the object back from S3', async (_name, makeStore) => {
    const store = makeStore();
    const archive = createRecordArchive(store, { readObject: createObjectStore().read });
    const ref = await archive.put({ source: 'cloudtrail', body: logFile, contentType: 'application/json', headers: {}, object: reference });
    expect(await store.get(`${ref.id}.raw`)).toBeUndefined();
    const { body, meta } = await archive.read(ref.id);
    expect(body).toEqual(logFile);
    expect(meta).toMatchObject<Partial<ArchiveRecordMeta>>({ source: 'cloudtrail', sha256: ref.sha256, object: reference });
  });

  it('is swept like any other: read back from S3, judged and dispatched', async () => {
    const [stop] = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../fixtures/cloudtrail/aws.defense-evasion.cloudtrail-stop.json'), 'utf8'));
    const gzipped = gzipSync(JSON.stringify({ Records: [stop] }));
    const key = 'AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/01/swept.json.gz';
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'trail', Key: key, Body: gzipped }));
    const store = localBlobStore(path.join(localRoot, 'swept'));
    const archive = createRecordArchive(store, { readObject: createObjectStore().read });
    await pending(archive);
    const ref = await archive.put({ source: 'cloudtrail', body: gzipped, contentType: 'application/json', headers: {}, object: { ...reference, key, etag: ETag!.replaceAll('"', '') } });
    await age(store, archive, ref.id);
    const dispatched: string[] = [];
    const decoder = createDecoder({ sources: {}, maxInflatedBytes: 1 << 20, threads: 1, maxDecodingBytes: 1 << 24 });
    const delivery = createDelivery({ archive, decoder, dispatch: async (_alert, workflowId) => (dispatched.push(workflowId), 'signalled' as const), logger: createLogger('test', 'silent') });
    const { sweepArchive } = createSweepActivities({ archive, delivery });

    expect(await new MockActivityEnvironment().run(sweepArchive, { lookbackDays: 1 })).toEqual({ examined: 1, dispatched: 1, stillUndispatched: 0, rejected: 0 });
    expect(dispatched).toEqual([expect.stringMatching(/^alert\/cloudtrail\/.*trail\//)]);
    expect(await pending(archive)).toEqual([]);
  });

  it('is rejected by the sweeper, once, when its object is gone for good; never for a failure a later pass outlives', async () => {
    const store = localBlobStore(path.join(localRoot, 'gone'));
    const archive = createRecordArchive(store, { readObject: createObjectStore().read });
    await pending(archive);
    const archived = async (name: string, storageClass?: 'GLACIER') => {
      const key = `AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/01/${name}.json.gz`;
      const body = Buffer.from(`{"Records":[],"name":"${name}"}`);
      const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'trail', Key: key, Body: body, StorageClass: storageClass }));
      const ref = await archive.put({ source: 'cloudtrail', body, contentType: 'application/json', headers: {}, object: { ...reference, key, etag: ETag!.replaceAll('"', '') } });
      await age(store, archive, ref.id);
      return { key, id: ref.id };
    };
    // Deleted (a lifecycle rule) after it was archived, before it was dispatched.
    const deleted = await archived('deleted');
    await s3.send(new DeleteObjectCommand({ Bucket: 'trail', Key: deleted.key }));
    // Another object took its key.
    const replaced = await archived('replaced');
    await s3.send(new PutObjectCommand({ Bucket: 'trail', Key: replaced.key, Body: '{"Records":[{}]}' }));
    // Moved to Glacier: it must be restored before anyone reads it.
    const frozen = await archived('frozen', 'GLACIER');
    // An S3 that does not answer: a later pass may read it.
    const unanswered = await archived('unanswered');
    const closedPort = `http://127.0.0.1:${await getPort()}`;
    const unansweredMeta = (await archive.findMeta(unanswered.id))!;
    await store.put(`${unanswered.id}.meta.json`, JSON.stringify({ ...unansweredMeta, object: { ...unansweredMeta.object, endpoint: closedPort } }), 'application/json');

    const decoder = createDecoder({ sources: {}, maxInflatedBytes: 1 << 20, threads: 1, maxDecodingBytes: 1 << 24 });
    const dispatched: string[] = [];
    const delivery = createDelivery({ archive, decoder, dispatch: async (_alert, workflowId) => (dispatched.push(workflowId), 'signalled' as const), logger: createLogger('test', 'silent') });
    const { sweepArchive } = createSweepActivities({ archive, delivery });

    expect(await new MockActivityEnvironment().run(sweepArchive, { lookbackDays: 1 })).toEqual({ examined: 4, dispatched: 0, stillUndispatched: 1, rejected: 3 });
    expect((await archive.findMeta(deleted.id))?.rejected).toMatch(/^the archived object s3:\/\/trail\/.*deleted\.json\.gz .* can no longer be read: NoSuchKey/);
    expect((await archive.findMeta(replaced.id))?.rejected).toMatch(/can no longer be read: PreconditionFailed/);
    expect((await archive.findMeta(frozen.id))?.rejected).toMatch(/can no longer be read: InvalidObjectState: in a storage class that must be restored/);
    expect((await archive.findMeta(unanswered.id))?.rejected).toBeUndefined();
    expect(dispatched).toEqual([]);
    // The next pass tries only what a retry may still read.
    expect(await pending(archive)).toEqual([unanswered.id]);
    expect(await new MockActivityEnvironment().run(sweepArchive, { lookbackDays: 1 })).toEqual({ examined: 1, dispatched: 0, stillUndispatched: 1, rejected: 0 });
  });

  it('refuses to read another object that took its key', async () => {
    const archive = createRecordArchive(localBlobStore(path.join(localRoot, 'replaced')), { readObject: createObjectStore().read });
    const key = 'AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/01/b.json.gz';
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'trail', Key: key, Body: logFile }));
    const ref = await archive.put({ source: 'cloudtrail', body: logFile, contentType: 'application/json', headers: {}, object: { ...reference, key, etag: ETag!.replaceAll('"', '') } });
    await s3.send(new PutObjectCommand({ Bucket: 'trail', Key: key, Body: '{"Records":[{}]}' }));
    await expect(archive.read(ref.id)).rejects.toThrow(/can no longer be read: PreconditionFailed/);
    const { Contents } = await s3.send(new ListObjectsV2Command({ Bucket: 'trail' }));
    expect(Contents?.map((object) => object.Key)).toContain(key);
  });
});
