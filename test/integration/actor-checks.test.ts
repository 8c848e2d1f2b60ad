// Who acted: an actor alert's IP is checked against the feeds' local copies (downloaded from
// loopback by the scheduled refresh) and a provider, and the issue says what each source said.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedDefinitions } from '../../activities/intel/feeds';
import { VigilVerdict } from '../../lib/search-attributes';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/intel/feeds');
let server: Server;
let vigil: TestVigil;

beforeAll(async () => {
  const tor = await readFile(path.join(fixtures, 'tor-exits/tor-bulk-exit-list.txt'));
  server = createServer((request, response) => {
    if (request.url === '/tor') return void response.end(tor);
    if (request.url === '/internetdb/198.51.100.23') {
      response.setHeader('content-type', 'application/json');
      return void response.end(JSON.stringify({ ip: '198.51.100.23', ports: [22, 9001], hostnames: [], tags: ['tor'], vulns: [], cpes: [] }));
    }
    response.statusCode = 500;
    response.end('down for maintenance');
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  vigil = await startTestVigil({
    intel: {
      feeds: {
        // Every other feed is off: nothing is downloaded from beyond loopback.
        ...Object.fromEntries(feedDefinitions.map(({ name }) => [name, { enabled: false }])),
        'tor-exits': { url: `${base}/tor` },
        // Down: it must say `unknown`, never "not listed".
        'firehol-level1': { url: `${base}/firehol` },
      },
      providers: { 'shodan-internetdb': { baseUrl: `${base}/internetdb` } },
    },
  });
});
afterAll(async () => {
  await vigil.stop();
  server.close();
});

describe('actor checks', () => {
  it('reports a Tor exit as suspicious, with every source and its freshness, and an outage as unknown', async () => {
    const refreshed = await vigil.client.workflow.execute('refreshFeeds', {
      taskQueue: vigil.config.temporal.taskQueue,
      workflowId: 'refresh-feeds-test',
    });
    expect(refreshed).toEqual([
      { feed: 'tor-exits', ok: true, entryCount: expect.any(Number) },
      expect.objectContaining({ feed: 'firehol-level1', ok: false, error: expect.stringMatching(/500/) }),
    ]);

    const response = await vigil.post('generic', {
      id: 'console-login-tor',
      title: 'Console sign-in from an unusual address',
      severity: 'medium',
      actors: { ips: ['198.51.100.23', '10.1.2.3'] },
    });
    expect(response.status).toBe(202);
    const comment = await eventually(async () => {
      const issue = (await vigil.tracker.listIssues())[0];
      return issue?.comments.find((c) => c.body.startsWith('### Actors'))?.body;
    }, 30_000);
    expect(comment).toContain('- `198.51.100.23`: **suspicious** — `tor-exits`, `shodan-internetdb`');
    expect(comment).toMatch(/\| `tor-exits` \| `listed` \| `suspicious` \| `listed in the Tor exit node list .*min old\)` \|/);
    expect(comment).toMatch(/\| `firehol-level1` \| `unknown` \| — \|/);
    expect(comment).toMatch(/\| `shodan-internetdb` \| `listed` \| `suspicious` \|/);
    // A private address is looked up nowhere (lists that contain private ranges would call it
    // malicious), and shares one line with any other.
    expect(comment.split('\n\n').at(-1)).toBe('- `10.1.2.3`: private or reserved, not checked');

    const progress = await eventually(async () => {
      const current = await queryProgress(vigil.client, 'alert/generic/console-login-tor');
      return current?.verdict ? current : undefined;
    });
    expect(progress.verdict).toBe('suspicious');
    const description = await vigil.client.workflow.getHandle('alert/generic/console-login-tor').describe();
    expect(description.typedSearchAttributes.get(VigilVerdict)).toBe('suspicious');
  });
});
