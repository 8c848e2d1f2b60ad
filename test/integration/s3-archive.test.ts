// The S3 archive against moto's S3, through the real AWS SDK over HTTP.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { createS3Archive } from '../../activities/archive/s3';
import type { Archive } from '../../activities/archive/types';
import { startMoto, type Moto } from '../helpers/moto';

let moto: Moto;
let archive: Archive;

beforeAll(async () => {
  moto = await startMoto();
  const client = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: moto.credentials });
  await client.send(new CreateBucketCommand({ Bucket: 'vigil-archive' }));
  archive = createS3Archive({ bucket: 'vigil-archive', prefix: 'prod/', region: 'us-east-1', forcePathStyle: true }, client);
});
afterAll(() => moto.stop());

const input = (source: string, text: string) => ({
  source,
  body: Buffer.from(text),
  contentType: 'application/json',
  headers: { 'user-agent': 'test' },
});

describe('S3 archive', () => {
  it('keeps the exact bytes, by date and source, and a resent body is the same record', async () => {
    const ref = await archive.put(input('generic', '{"title":"a","severity":"low"}'));
    expect(ref.id).toMatch(/^\d{4}\/\d{2}\/\d{2}\/generic\/[0-9a-f]{64}$/);
    expect(await archive.put(input('generic', '{"title":"a","severity":"low"}'))).toEqual(ref);
    const { body, meta } = await archive.read(ref.id);
    expect(body.toString()).toBe('{"title":"a","severity":"low"}');
    expect(meta).toMatchObject({ source: 'generic', headers: { 'user-agent': 'test' }, dispatchedTo: [] });
    expect(archive.location).toBe('s3://vigil-archive/prod/');
  });

  it('lists a time range, by source, and records dispatch and rejection', async () => {
    const a = await archive.put(input('cloudtrail', '{"Records":[]}'));
    const b = await archive.put(input('scc', 'not json'));
    await archive.markDispatched(a.id, ['alert/cloudtrail/x']);
    await archive.markRejected(b.id, 'malformed JSON');
    const today = { since: new Date(Date.now() - 3600_000), until: new Date() };
    const all = [];
    for await (const meta of archive.list(today)) all.push(meta);
    expect(all.map((meta) => meta.source).sort()).toEqual(['cloudtrail', 'generic', 'scc']);
    const only = [];
    for await (const meta of archive.list({ ...today, source: 'cloudtrail' })) only.push(meta);
    expect(only).toMatchObject([{ id: a.id, dispatchedTo: ['alert/cloudtrail/x'], dispatchedAt: expect.any(String) }]);
    expect((await archive.read(b.id)).meta.rejected).toBe('malformed JSON');
    const tomorrow = { since: new Date(Date.now() + 86400_000), until: new Date(Date.now() + 2 * 86400_000) };
    for await (const meta of archive.list(tomorrow)) throw new Error(`listed ${meta.id} outside the range`);
  });

  it('fails a put, rather than waiting forever, when S3 accepts the connection and never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket)).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      // Vigil's own client, as configured in production, with credentials from the environment; one
      // attempt instead of the SDK's three, since each waits out the whole socket timeout.
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_MAX_ATTEMPTS: '1' });
      const hung = createS3Archive({ bucket: 'vigil-archive', prefix: 'prod/', region: 'us-east-1', endpoint, forcePathStyle: true });
      await expect(hung.put(input('generic', '{"title":"a","severity":"low"}'))).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(sockets.size).toBeGreaterThan(0);
    } finally {
      delete process.env.AWS_MAX_ATTEMPTS;
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 120_000);
});
