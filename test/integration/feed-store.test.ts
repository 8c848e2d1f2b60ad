import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFeedStore, type FeedStoreOptions } from '../../activities/intel/feed-store';
import { fireholLevel1 } from '../../activities/intel/feeds/firehol-level1';
import { torExits } from '../../activities/intel/feeds/tor-exits';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, '../fixtures/intel/feeds', name), 'utf8');

// A loopback server whose answers the tests change: a body, or an HTTP status.
const answers = new Map<string, { status: number; body: string }>();
let server: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const answer = answers.get(request.url ?? '') ?? { status: 404, body: 'not found' };
    response.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(path.join(tmpdir(), 'vigil-feeds-'));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const hour = 60 * 60 * 1000;
const fetchedAt = new Date('2026-11-28T09:00:00Z');

/** A store over the two feeds, in its own folder, with a clock the test sets. */
function storeAt(folder: string, clock: { now: Date }, extra: Partial<FeedStoreOptions> = {}) {
  return createFeedStore({
    dir: path.join(dir, folder),
    feeds: [
      { definition: torExits, url: `${base}/${folder}/tor` },
      { definition: fireholLevel1, url: `${base}/${folder}/firehol` },
    ],
    timeoutMs: 5000,
    maxAgeMs: 48 * hour,
    now: () => clock.now,
    ...extra,
  });
}

function serve(folder: string, status = 200) {
  answers.set(`/${folder}/tor`, { status, body: fixture('tor-exits/tor-bulk-exit-list.txt') });
  answers.set(`/${folder}/firehol`, { status, body: fixture('firehol-level1/firehol-level1.netset') });
}

describe('feed store', () => {
  it('refreshes, then says listed (with verdict, entry and age) or not-listed (with age)', async () => {
    serve('a');
    const clock = { now: fetchedAt };
    const store = storeAt('a', clock);
    expect(await store.refresh()).toEqual([
      { feed: 'tor-exits', ok: true, entryCount: 4 },
      { feed: 'firehol-level1', ok: true, entryCount: 6 },
    ]);
    const copy = JSON.parse(await readFile(path.join(dir, 'a', 'tor-exits.json'), 'utf8'));
    expect(copy).toMatchObject({ url: `${base}/a/tor`, fetchedAt: fetchedAt.toISOString(), entryCount: 4, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    clock.now = new Date(fetchedAt.getTime() + 3 * hour);
    const [tor, firehol] = await store.check('198.51.100.23');
    expect(tor).toMatchObject({ source: 'tor-exits', status: 'listed', verdict: 'suspicious', fetchedAt: fetchedAt.toISOString() });
    expect(tor!.evidence).toBe('listed in the Tor exit node list as 198.51.100.23 (list fetched 2026-11-28T09:00Z, 3 h old)');
    expect(firehol).toMatchObject({ status: 'not-listed', evidence: 'not in the FireHOL level1 blocklist (list fetched 2026-11-28T09:00Z, 3 h old)' });

    const [, inRange] = await store.check('203.0.113.77');
    expect(inRange).toMatchObject({ status: 'listed', verdict: 'malicious', details: { entry: '203.0.113.0/24' } });
    // IPv4-mapped actor addresses match IPv4 entries.
    expect((await store.check('::ffff:198.51.100.23'))[0]!.status).toBe('listed');
  });

  it('keeps the last good copy and its age through an outage (HTTP 500, an HTML page, connection refused)', async () => {
    serve('b');
    const clock = { now: fetchedAt };
    const store = storeAt('b', clock);
    await store.refresh();

    clock.now = new Date(fetchedAt.getTime() + 5 * hour);
    serve('b', 500);
    expect(await store.refresh('tor-exits')).toEqual([{ feed: 'tor-exits', ok: false, error: expect.stringContaining('HTTP 500') }]);
    answers.set('/b/tor', { status: 200, body: fixture('not-a-feed.html') });
    expect((await store.refresh('tor-exits'))[0]).toMatchObject({ ok: false, error: expect.stringContaining('not an address') });
    const refused = storeAt('b', clock, { feeds: [{ definition: torExits, url: 'http://127.0.0.1:1/tor' }] });
    expect((await refused.refresh())[0]).toMatchObject({ ok: false, error: expect.stringMatching(/ECONNREFUSED|fetch failed/) });

    const [tor] = await store.check('198.51.100.23');
    expect(tor).toMatchObject({ status: 'listed', evidence: expect.stringContaining('list fetched 2026-11-28T09:00Z, 5 h old') });
  });

  it('says unknown, and why, when there is no copy at all', async () => {
    serve('c', 503);
    const store = storeAt('c', { now: fetchedAt });
    const before = await store.check('198.51.100.23');
    expect(before.map((result) => result.status)).toEqual(['unknown', 'unknown']);
    expect(before[0]!.evidence).toMatch(/no copy of the Tor exit node list: the feed has not been refreshed yet/);
    await store.refresh();
    const after = await store.check('198.51.100.23');
    expect(after[0]!.evidence).toMatch(/no copy of the Tor exit node list: last refresh failed: HTTP 503/);
  });

  it('says unknown for a copy older than the maximum age', async () => {
    serve('d');
    const clock = { now: fetchedAt };
    const store = storeAt('d', clock);
    await store.refresh();
    clock.now = new Date(fetchedAt.getTime() + 72 * hour);
    const [tor] = await store.check('198.51.100.23');
    expect(tor).toMatchObject({ status: 'unknown', fetchedAt: fetchedAt.toISOString() });
    expect(tor!.evidence).toBe('copy of the Tor exit node list too old to trust (list fetched 2026-11-28T09:00Z, 3 d old, maximum 2 d)');
  });

  // Decision: a private or reserved actor address gets one `not-listed` result per feed, saying it was
  // deliberately not matched. Not `unknown` (nothing failed) and not a match (FireHOL level1 lists
  // 10.0.0.0/8, which says nothing about a host on the customer's own network).
  it('does not match private or reserved addresses, even though FireHOL lists them', async () => {
    serve('e');
    const store = storeAt('e', { now: fetchedAt });
    await store.refresh();
    for (const ip of ['10.0.0.1', '0.0.0.1', '::1', '::ffff:10.1.2.3']) {
      const results = await store.check(ip);
      expect(results).toEqual([
        expect.objectContaining({ source: 'tor-exits', status: 'not-listed', evidence: 'private or reserved address: not matched' }),
        expect.objectContaining({ source: 'firehol-level1', status: 'not-listed', evidence: 'private or reserved address: not matched' }),
      ]);
    }
  });

  it('picks up a copy refreshed by another process, and refuses oversized bodies', async () => {
    serve('f');
    const clock = { now: fetchedAt };
    const reader = storeAt('f', clock);
    const writer = storeAt('f', clock);
    await writer.refresh();
    await reader.load();
    expect((await reader.check('192.0.2.200'))[0]!.status).toBe('not-listed');
    answers.set('/f/tor', { status: 200, body: '192.0.2.200\n' });
    clock.now = new Date(fetchedAt.getTime() + hour);
    await writer.refresh('tor-exits');
    expect((await reader.check('192.0.2.200'))[0]).toMatchObject({ status: 'listed', evidence: expect.stringContaining('list fetched 2026-11-28T10:00Z, 0 min old') });

    const small = storeAt('f', clock, { maxBytes: 10 });
    expect((await small.refresh('firehol-level1'))[0]).toMatchObject({ ok: false, error: expect.stringContaining('limit') });
    expect((await reader.check('203.0.113.5'))[1]!.status).toBe('listed'); // the good copy is still there
  });

  it('answers unknown for something that is not an IP address', async () => {
    const results = await storeAt('g', { now: fetchedAt }).check('evil.example');
    expect(results.map((result) => result.status)).toEqual(['unknown', 'unknown']);
  });
});
