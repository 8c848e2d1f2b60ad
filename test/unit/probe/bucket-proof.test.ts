// The anonymous bucket proof against loopback servers answering as Cloud Storage's JSON API and S3
// do: exactly which requests an outsider's proof makes (a list of one object, then that object's
// metadata, never its content, never a credential), how untrusted object names are kept, and that an
// endpoint outside the probe scope is never contacted.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketProof } from '../../../activities/probe/proofs/bucket';
import type { PublicResource, ResourceProof } from '../../../lib/context';
import { checkContext, close, closedPort, countingListener, listen } from '../../helpers/loopback';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let handler: Handler;
const seen: { method: string; url: string; credentials: boolean }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push({ method: request.method!, url: request.url!, credentials: Boolean(request.headers.authorization || request.headers.cookie || request.headers['x-goog-api-key']) });
    handler(request, response);
  });
  baseUrl = `http://127.0.0.1:${await listen(server)}`;
});
afterAll(() => close(server));

const json = (response: ServerResponse, status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
/** Answers by path (the query included); anything else is a 404. */
const answering = (routes: Record<string, (response: ServerResponse) => void>): Handler => (request, response) => (routes[request.url!] ?? ((r) => json(r, 404, {})))(response);

async function prove(provider: 'aws' | 'gcp', bucket: string, base = baseUrl, context = checkContext()) {
  seen.length = 0;
  const proof: Extract<ResourceProof, { kind: 'bucket' }> = { kind: 'bucket', provider, bucket, baseUrl: base };
  return (await bucketProof.run(proof, {} as PublicResource, context))[0]!;
}

describe('the bucket proof on Cloud Storage', () => {
  it('lists one object, then reads its metadata, never its content and without credentials', async () => {
    handler = answering({
      '/storage/v1/b/open-data/o?maxResults=1': (r) => json(r, 200, { kind: 'storage#objects', items: [{ name: 'exports/2026 a&b.json', size: '12' }] }),
      '/storage/v1/b/open-data/o/exports%2F2026%20a%26b.json': (r) => json(r, 200, { name: 'exports/2026 a&b.json', size: '12', contentType: 'application/json' }),
    });
    expect(await prove('gcp', 'open-data')).toEqual({
      key: 'bucket/gcp/open-data',
      check: 'bucket',
      target: `${baseUrl}/open-data`,
      status: 'public',
      fields: { list: 'allowed', metadata: 'allowed', key: 'exports/2026 a&b.json' },
      volatile: ['key'],
      detail: { address: '127.0.0.1' },
    });
    expect(seen).toEqual([
      { method: 'GET', url: '/storage/v1/b/open-data/o?maxResults=1', credentials: false },
      { method: 'GET', url: '/storage/v1/b/open-data/o/exports%2F2026%20a%26b.json', credentials: false },
    ]);
  });

  it('says listable when only the list answers, refused when the list is refused, and tries nothing more', async () => {
    handler = answering({
      '/storage/v1/b/listable/o?maxResults=1': (r) => json(r, 200, { items: [{ name: 'a.txt' }] }),
      '/storage/v1/b/listable/o/a.txt': (r) => json(r, 403, { error: { code: 403 } }),
      '/storage/v1/b/private/o?maxResults=1': (r) => json(r, 401, { error: { code: 401, message: 'Anonymous caller does not have storage.objects.list access' } }),
      '/storage/v1/b/empty/o?maxResults=1': (r) => json(r, 200, { kind: 'storage#objects' }),
    });
    expect(await prove('gcp', 'listable')).toMatchObject({ status: 'listable', fields: { list: 'allowed', metadata: 'refused (403)', key: 'a.txt' } });
    expect(await prove('gcp', 'private')).toMatchObject({ status: 'refused', fields: { list: 'refused (401)', metadata: 'not tried (no object known)' } });
    expect(seen).toHaveLength(1);
    expect(await prove('gcp', 'empty')).toMatchObject({ status: 'listable', fields: { list: 'allowed', metadata: 'not tried (nothing listed)' } });
  });
});

describe('the bucket proof on S3', () => {
  const listing = (key: string) =>
    `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><Contents><Key>${key}</Key><Size>3</Size></Contents></ListBucketResult>`;
  const xml = (body: string) => (r: ServerResponse) => r.writeHead(200, { 'content-type': 'application/xml' }).end(body);

  it('reads the XML listing’s first key (entities and all) and asks for its metadata with HEAD, path-style', async () => {
    handler = answering({
      '/site?list-type=2&max-keys=1': xml(listing('img/a &amp; b&#x2F;&lt;c&gt;.png')),
      '/site/img/a%20%26%20b/%3Cc%3E.png': (r) => r.writeHead(200, { 'content-length': '3' }).end(),
    });
    expect(await prove('aws', 'site')).toMatchObject({ status: 'public', fields: { list: 'allowed', metadata: 'allowed', key: 'img/a & b/<c>.png' } });
    expect(seen.map((s) => `${s.method} ${s.url} ${s.credentials}`)).toEqual(['GET /site?list-type=2&max-keys=1 false', 'HEAD /site/img/a%20%26%20b/%3Cc%3E.png false']);
  });

  it('keeps an untrusted key short, and never asks for a key that no URL can name', async () => {
    const long = `${'`'.repeat(5)}@team ${'x'.repeat(5000)}`;
    handler = answering({ '/long?list-type=2&max-keys=1': xml(listing(long)), '/dots?list-type=2&max-keys=1': xml(listing('a/../secret')) });
    const finding = await prove('aws', 'long');
    expect(String(finding.fields.key).length).toBeLessThan(200);
    expect(String(finding.fields.key)).toMatch(/^`{5}@team x+… \[truncated, \d+ more characters\]$/);
    expect(await prove('aws', 'dots')).toMatchObject({ status: 'listable', fields: { metadata: 'not tried (no URL names that key)', key: 'a/../secret' } });
    expect(seen).toHaveLength(1);
  });
});

describe('the bucket proof’s fence', () => {
  it('never contacts an endpoint outside the probe scope, and says so', async () => {
    // 127.0.0.2 is loopback like the rest, but outside the fence: a listener there counts what reaches it.
    const outside = await countingListener('127.0.0.2');
    const fenced = { ...checkContext(), scope: { allowRanges: ['127.0.0.0/8'], onlyRanges: ['127.0.0.1/32'] } };
    try {
      const finding = await prove('aws', 'shop', `http://127.0.0.2:${outside.port}`, fenced);
      expect(finding).toMatchObject({ key: 'bucket/aws/shop', status: 'skipped', fields: { reason: expect.stringMatching(/outside the probe fence/) } });
      expect(outside.seen.connections).toBe(0);
    } finally {
      await close(outside.server);
    }
  });

  it('gives an endpoint that does not answer an unknown finding under the same key', async () => {
    const finding = await prove('gcp', 'shop', `http://127.0.0.1:${await closedPort()}`);
    expect(finding).toMatchObject({ key: 'bucket/gcp/shop', status: 'unknown', fields: { error: expect.stringMatching(/ECONNREFUSED/) } });
  });
});
