// The local tracker's people: their comments stored with author and id (ids that issues stored before
// ids existed get the same way), and page sessions that name the person and end when the person's
// token changes or the person is removed.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalTracker, type LocalTracker } from '../../activities/tracker/local';
import { registerSessions, type TrackerPerson } from '../../intake/tracker-session';

describe("people's comments on the local tracker", () => {
  let root: string;
  let tracker: LocalTracker;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'vigil-people-'));
    tracker = createLocalTracker({ root });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const open = (fingerprint: string) => tracker.findOrCreateIssue({ fingerprint, workflowId: `wf/${fingerprint}`, title: fingerprint, body: 'b', labels: [] });

  it('stores them with their author and an id of their own, beside Vigil\'s', async () => {
    const { issue } = await open('fp-a');
    const { issue: other } = await open('fp-b');
    await tracker.upsertComment(issue.number, 'wf/fp-a/report', 'Vigil reports.');
    const first = await tracker.addPersonComment(issue.number, 'alice', '/vigil remediate p1');
    const second = await tracker.addPersonComment(issue.number, 'bob', '/vigil remediate p1');
    const elsewhere = await tracker.addPersonComment(other.number, 'alice', 'same text, other issue');
    expect(first).toMatchObject({ author: 'alice', body: '/vigil remediate p1', id: `${issue.number}-2` });
    expect(new Set([first!.id, second!.id, elsewhere!.id]).size).toBe(3);
    // Vigil's keyed comments never land on a person's.
    await tracker.upsertComment(issue.number, 'wf/fp-a/report', 'Vigil reports again.');
    const stored = (await tracker.readIssue(issue.number))!.comments;
    expect(stored.map(({ id, author, body }) => ({ id, author, body }))).toEqual([
      { id: `${issue.number}-1`, author: undefined, body: 'Vigil reports again.' },
      { id: `${issue.number}-2`, author: 'alice', body: '/vigil remediate p1' },
      { id: `${issue.number}-3`, author: 'bob', body: '/vigil remediate p1' },
    ]);
    expect(await tracker.addPersonComment(999, 'alice', 'nowhere')).toBeUndefined();
  });

  it('gives comments stored before ids existed the ids their places give, so new ones follow on', async () => {
    const { issue } = await open('fp-old');
    await tracker.upsertComment(issue.number, 'wf/fp-old/a', 'one');
    await tracker.upsertComment(issue.number, 'wf/fp-old/b', 'two');
    const file = path.join(root, 'issues', `${issue.number}.json`);
    const written = JSON.parse(await readFile(file, 'utf8'));
    for (const comment of written.comments) delete comment.id;
    await writeFile(file, JSON.stringify(written));

    expect((await tracker.readIssue(issue.number))!.comments.map((comment) => comment.id)).toEqual([`${issue.number}-1`, `${issue.number}-2`]);
    expect((await tracker.addPersonComment(issue.number, 'alice', 'three'))!.id).toBe(`${issue.number}-3`);
  });
});

describe("a person's page session", () => {
  const token = 'tracker-token-for-sessions-0123';
  let app: FastifyInstance;
  const start = async (people: TrackerPerson[]) => {
    app = Fastify();
    const sessions = await registerSessions(app, token, 60_000, people);
    app.post<{ Querystring: { as?: string } }>('/login', async (request, reply) => {
      sessions.start(reply, people.find((person) => person.name === request.query.as));
      return 'in';
    });
    app.get('/who', async (request) => sessions.of(request) ?? { nobody: true });
    return app;
  };
  afterEach(() => app?.close());

  const logIn = async (as?: string) => (await app.inject({ method: 'POST', url: `/login${as ? `?as=${as}` : ''}`, headers: { host: 'vigil.test:8787' } })).headers['set-cookie'] as string;
  const who = async (cookie: string) => (await app.inject({ method: 'GET', url: '/who', headers: { host: 'vigil.test:8787', cookie: cookie.split(';')[0]! } })).json();

  it('names the person, and a login with the tracker token no one', async () => {
    await start([{ name: 'alice', token: 'alice-token-0123456789abcdef' }]);
    expect(await who(await logIn('alice'))).toMatchObject({ person: 'alice' });
    const anonymous = await who(await logIn());
    expect(anonymous).toMatchObject({ id: expect.any(String) });
    expect(anonymous.person).toBeUndefined();
  });

  it("ends when the person's token changes or the person is removed", async () => {
    await start([{ name: 'alice', token: 'alice-token-0123456789abcdef' }]);
    const cookie = await logIn('alice');
    await app.close();
    await start([{ name: 'alice', token: 'alice-token-CHANGED-0123456789' }]);
    expect(await who(cookie)).toEqual({ nobody: true });
    await app.close();
    await start([]);
    expect(await who(cookie)).toEqual({ nobody: true });
    await app.close();
    await start([{ name: 'alice', token: 'alice-token-0123456789abcdef' }]);
    expect(await who(cookie)).toMatchObject({ person: 'alice' });
  });
});
