// The walking skeleton through every layer for real: HTTP intake → archive → Temporal (dev server)
// → worker → local tracker.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VigilFingerprint, VigilKind, VigilSeverity, VigilSource } from '../../lib/search-attributes';
import { progressQuery } from '../../lib/investigation';
import { logIn } from '../helpers/tracker-page';
import { eventually, startTestVigil, type TestVigil } from '../helpers/vigil';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startTestVigil();
});
afterAll(() => vigil.stop());

const alert = (id: string, extra: object = {}) => ({
  id,
  title: `SSH open on ${id}`,
  severity: 'high',
  network: { ips: ['127.0.0.1'], cidrs: ['0.0.0.0/0'], ports: [22] },
  ...extra,
});

async function issueWithComments(fingerprintText: string, count: number) {
  return eventually(async () => {
    const issue = (await vigil.tracker.listIssues()).find((candidate) => candidate.fingerprint === fingerprintText);
    return issue && issue.comments.length >= count ? issue : undefined;
  });
}

async function archivedRecords(): Promise<string[]> {
  const root = path.join(vigil.config.dataDir, 'archive');
  const entries = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((entry) => entry.endsWith('.raw'));
}

describe('walking skeleton', () => {
  it('turns a generic alert into an issue with its summary, searchable in Temporal', async () => {
    const response = await vigil.post('generic', alert('host-1', { description: '@team <b>bold</b>' }));
    expect(response.status).toBe(202);
    const [accepted] = response.body.alerts;
    expect(accepted).toEqual({ id: `${response.body.archiveId}#0`, fingerprint: 'host-1', kind: 'exposure', workflowId: 'alert/generic/host-1', dispatched: true });

    const issue = await issueWithComments('host-1', 1);
    expect(issue.title).toBe('[high] SSH open on host-1');
    expect(issue.labels.slice(0, 4)).toEqual(['vigil', 'source:generic', 'severity:high', 'kind:exposure']);
    // Nothing answers on loopback's port 22 and no inventory knows host-1: said so, never "open".
    const labelled = await eventually(async () => {
      const { labels } = (await vigil.tracker.readIssue(issue.number))!;
      return labels.some((label) => label.startsWith('exposure:')) ? labels : undefined;
    });
    expect(labelled.filter((label) => label.startsWith('exposure:'))).toEqual(['exposure:unconfirmed']);
    expect(issue.body).toContain('`alert/generic/host-1`');
    expect(issue.comments[0]!.body).toContain(`\`${response.body.archiveId}\``);
    expect(issue.comments[0]!.body).toContain('```text\n@team <b>bold</b>\n```');

    const handle = vigil.client.workflow.getHandle(accepted.workflowId);
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(VigilSource)).toBe('generic');
    expect(description.typedSearchAttributes.get(VigilSeverity)).toBe('high');
    expect(description.typedSearchAttributes.get(VigilKind)).toBe('exposure');
    expect(description.typedSearchAttributes.get(VigilFingerprint)).toBe('host-1');
    expect(await description.staticSummary()).toBe('exposure · high · `SSH open on host-1`');
    expect((await handle.query(progressQuery)).issue?.number).toBe(issue.number);

    const listed = (await vigil.read(`/v1/issues/${issue.number}`).then((r) => r.json())) as { comments: { body: string }[] };
    expect(listed).toMatchObject({ number: issue.number, state: 'open', evidence: [] });
    expect(listed.comments[0]?.body).toBe(issue.comments[0]!.body);
  });

  it('collapses repeats of one alert onto one issue, one comment counting the repeats', async () => {
    const first = alert('host-2');
    const resent = await Promise.all([vigil.post('generic', first), vigil.post('generic', first)]);
    expect(resent.map((r) => r.status)).toEqual([202, 202]);
    await vigil.post('generic', { ...first, description: 'seen again, with more detail' });
    const issue = await issueWithComments('host-2', 2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const issues = (await vigil.tracker.listIssues()).filter((candidate) => candidate.fingerprint === 'host-2');
    expect(issues).toHaveLength(1);
    // The summary, the exposure checks (nothing confirmed by an inventory here) and the repeats.
    const comments = (await vigil.tracker.readIssue(issue.number))!.comments.map((comment) => comment.body.split('\n')[0]);
    expect(comments).toEqual(['### Alert received', '### Exposure checks', expect.stringMatching(/^### Seen 2 times/)]);
  });

  it('makes an issue of a payload no adapter understands', async () => {
    const response = await vigil.post('auto', { tool: 'acme', finding: 'something' });
    expect(response.status).toBe(202);
    const [accepted] = response.body.alerts;
    expect(accepted.kind).toBe('unparsed');
    const issue = await issueWithComments(accepted.fingerprint, 1);
    expect(issue.labels).toContain('kind:unparsed');
    expect(issue.comments[0]!.body).toContain('no known source recognises this payload');
  });

  it('serves the issues as JSON and as a page, with alert text inert', async () => {
    await vigil.post('generic', alert('host-3', { title: '<script>alert(1)</script> @admin' }));
    await issueWithComments('host-3', 1);
    const { issues } = (await vigil.read('/v1/issues').then((r) => r.json())) as { issues: object[] };
    for (const issue of issues) {
      expect(Object.keys(issue).sort()).toEqual(
        ['body', 'comments', 'createdAt', 'evidence', 'labels', 'number', 'state', 'title', 'updatedAt'],
      );
    }
    const { cookie } = await logIn(vigil.url, vigil.token);
    const page = await fetch(`${vigil.url}/issues`, { headers: { cookie } });
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62; @\u2060admin');
    expect(html).not.toContain('<script>');
    expect((await vigil.read('/v1/issues/999')).status).toBe(404);
    expect((await fetch(`${vigil.url}/healthz`)).status).toBe(200);
  });
});

describe('bad input gets a clear 4xx and starts nothing', () => {
  it('401 without the token, and nothing archived', async () => {
    const before = await archivedRecords();
    const response = await vigil.post('generic', alert('x'), { authorization: 'Bearer wrong-token-wrong-token' });
    expect(response).toMatchObject({ status: 401, body: { error: 'unauthenticated: missing or wrong bearer token' } });
    const missing = await fetch(`${vigil.url}/v1/alerts/generic`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(missing.status).toBe(401);
    expect(await archivedRecords()).toEqual(before);
  });

  it('404 for an unknown source, listing the known ones', async () => {
    const response = await vigil.post('nagios', alert('x'));
    expect(response).toMatchObject({ status: 404, body: { knownSources: expect.arrayContaining(['generic', 'auto']) } });
  });

  it('415 for a body that is not JSON, 413 for one over the limit', async () => {
    const wrongType = await vigil.post('generic', 'title=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(wrongType).toMatchObject({ status: 415, body: { error: expect.stringMatching(/^send the alert as application\/json/) } });
    const tooBig = await vigil.post('generic', alert('x', { description: 'x'.repeat(70 * 1024) }));
    expect(tooBig).toMatchObject({ status: 413, body: { error: "the body is larger than this source's limit of 65536 bytes" } });
  });

  it('400 for malformed JSON, archived but not investigated', async () => {
    const before = await archivedRecords();
    const response = await vigil.post('generic', '{"title": "unterminated');
    expect(response).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^malformed JSON/) } });
    expect(await archivedRecords()).toHaveLength(before.length + 1);
    const { meta } = await import('../../activities/archive/local').then(({ createLocalArchive }) =>
      createLocalArchive(path.join(vigil.config.dataDir, 'archive')).read(response.body.archiveId),
    );
    expect(meta.dispatchedTo).toEqual([]);
    expect(meta.headers.authorization).toBeUndefined();
  });
});
