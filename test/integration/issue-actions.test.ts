// People act on the local tracker's issues (API and page); the investigation hears of it: a closed
// issue is reopened when the alert recurs, a suppressed one gets no more comments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn, pressAsPage } from '../helpers/tracker-page';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startTestVigil();
});
afterAll(() => vigil.stop());

const alert = (description: string) => ({ id: 'act-1', title: 'Actions test', severity: 'low', description });
const workflowId = 'alert/generic/act-1';

const api = (path: string, body?: object, token: string | null = vigil.token) =>
  fetch(`${vigil.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body ?? {}),
  });

const commentsOf = async (number: number) => (await vigil.tracker.readIssue(number))!.comments;

describe('issue actions', () => {
  it('close, recurrence, suppress: the investigation follows what people do', async () => {
    await vigil.post('generic', alert('first'));
    const issue = await eventually(async () => (await vigil.tracker.listIssues()).find((i) => i.comments.length === 1));

    expect((await api(`/v1/issues/${issue.number}/close`, {}, null)).status).toBe(401);
    const closed = await api(`/v1/issues/${issue.number}/close`);
    expect(closed.status).toBe(200);
    expect(await closed.json()).toMatchObject({ state: 'closed' });
    await eventually(async () => ((await queryProgress(vigil.client, workflowId))?.issueState === 'closed' ? true : undefined));

    // The alert recurs: the issue is reopened, with a comment that says so.
    await vigil.post('generic', alert('second'));
    const reopened = await eventually(async () => {
      const current = await vigil.tracker.readIssue(issue.number);
      return current?.state === 'open' && current.comments.length === 3 ? current : undefined;
    });
    expect(reopened.comments[1]!.body).toMatch(/^### Alert received again: the issue was closed and is reopened/);
    expect(reopened.comments[2]!.body).toMatch(/^### Seen 2 times/);

    // Suppressed: deliveries are still counted, but nothing more is said.
    const suppressed = await api(`/v1/issues/${issue.number}/labels`, { add: ['vigil:suppress'] });
    expect(await suppressed.json()).toMatchObject({ labels: expect.arrayContaining(['vigil:suppress']) });
    await eventually(async () => ((await queryProgress(vigil.client, workflowId))?.suppressed ? true : undefined));
    await vigil.post('generic', alert('third'));
    await eventually(async () => ((await queryProgress(vigil.client, workflowId))?.occurrences === 3 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await commentsOf(issue.number)).map((comment) => comment.body.split('\n')[0])).toEqual([
      '### Alert received',
      '### Alert received again: the issue was closed and is reopened',
      '### Seen 2 times',
    ]);

    expect((await api(`/v1/issues/${issue.number}/labels`, { add: 'not-a-list' })).status).toBe(400);
    expect((await api('/v1/issues/999/close')).status).toBe(404);
  });

  it('takes the page buttons from a logged-in page (test/integration/local-tracker-security.test.ts has the refusals)', async () => {
    const issue = (await vigil.tracker.listIssues())[0]!;
    const session = await logIn(vigil.url, vigil.token);
    const pressed = await pressAsPage(vigil.url, session, issue.number, 'close');
    expect(pressed.status).toBe(303);
    expect(pressed.headers.get('location')).toBe(`/issues#issue-${issue.number}`);
    expect((await vigil.tracker.readIssue(issue.number))!.state).toBe('closed');
    expect((await pressAsPage(vigil.url, session, issue.number, 'reopen')).status).toBe(303);
    expect((await pressAsPage(vigil.url, session, issue.number, 'explode')).status).toBe(400);
  });

  it('filters by state and label, and serves evidence shown inline', async () => {
    const issue = (await vigil.tracker.listIssues())[0]!;
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    const link = await vigil.tracker.attachEvidence(issue.number, { name: 'screenshot-127.0.0.1-8080.png', contentType: 'image/png', data: png });
    await vigil.tracker.upsertComment(issue.number, 'test#evidence', `Screenshot:\n\n${link.markdown}`);

    const served = await vigil.read(link.url);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer())).toEqual(png);
    expect((await vigil.read(`/v1/issues/${issue.number}/evidence/..%2F..%2Fintake-token`)).status).toBe(404);

    const listed = async (query: string) =>
      ((await (await vigil.read(`/v1/issues${query}`)).json()) as { issues: { number: number; evidence: unknown[] }[] }).issues;
    expect((await listed('?state=open')).map((i) => i.number)).toEqual([issue.number]);
    expect(await listed('?state=closed')).toEqual([]);
    expect(await listed('?label=kind:resource&label=vigil:suppress')).toHaveLength(1);
    expect(await listed('?label=kind:exposure')).toEqual([]);
    expect((await listed(''))[0]!.evidence).toEqual([{ path: `evidence/${issue.number}/screenshot-127.0.0.1-8080.png`, contentType: 'image/png' }]);

    const { cookie } = await logIn(vigil.url, vigil.token);
    const page = await (await fetch(`${vigil.url}/issues?label=vigil:suppress`, { headers: { cookie } })).text();
    expect(page).toContain(`<img src="${link.url}" alt="screenshot-127.0.0.1-8080.png">`);
    expect(page).toContain('value="unsuppress"');
  });
});
