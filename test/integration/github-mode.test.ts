// Vigil with the GitHub tracker, whole: an alert becomes an issue on (a local, OpenAPI-checked)
// GitHub, and the issues webhook, signed, tells the investigation what people did.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import getPort from 'get-port';
import { issueMarker, parseIssueMarker } from '../../lib/markers';
import { githubTrackerSettings, startFakeGitHub, type FakeGitHub } from '../helpers/github-server';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

const token = 'ghp_testtokentesttokentesttoken0000';
const secret = 'webhook-secret-for-tests-0123';
let github: FakeGitHub;
let vigil: TestVigil;

beforeAll(async () => {
  github = await startFakeGitHub({ tokens: [token] });
  github.addRepo('acme', 'security', { branches: ['main', 'vigil-evidence'] });
  process.env.VIGIL_TEST_GITHUB_TOKEN = token;
  process.env.VIGIL_TEST_WEBHOOK_SECRET = secret;
  vigil = await startTestVigil({ tracker: githubTracker() });
});
const githubTracker = () => githubTrackerSettings(github.url, { token: 'VIGIL_TEST_GITHUB_TOKEN', webhookSecret: 'VIGIL_TEST_WEBHOOK_SECRET' });
afterAll(async () => {
  await vigil.stop();
  await github.close();
  expect(github.problems).toEqual([]);
});

const deliver = (event: string, payload: object, signWith = secret, to = vigil) => {
  const body = JSON.stringify(payload);
  return fetch(`${to.url}/v1/github/webhook`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': crypto.randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', signWith).update(body).digest('hex')}`,
    },
    body,
  });
};

describe('GitHub mode', () => {
  it('opens the issue on GitHub and follows close and suppress through the webhook', async () => {
    const response = await vigil.post('generic', { id: 'gh-1', title: 'SSH open on web-1 @team', severity: 'high', network: { ports: [22] } });
    expect(response.status).toBe(202);
    const repo = github.repo('acme', 'security');
    const issue = await eventually(async () => {
      const found = [...repo.issues.values()][0];
      return found && [...repo.comments.values()].some((comment) => comment.issueNumber === found.number) ? found : undefined;
    }, 60_000);
    expect(issue.title).toBe('[high] SSH open on web-1 @\u2060team');
    expect(issue.labels).toEqual(expect.arrayContaining(['vigil', 'source:generic', 'severity:high', 'kind:exposure']));
    // Nothing was probed (no address): the exposure is unconfirmed, never shown open.
    await eventually(async () => (repo.issues.get(issue.number)?.labels.includes('exposure:unconfirmed') ? true : undefined));
    expect(repo.issues.get(issue.number)?.labels).not.toContain('exposure:open');
    expect(parseIssueMarker(issue.body)).toEqual({ fingerprint: 'gh-1', workflowId: 'alert/generic/gh-1' });

    const payload = (state: string, labels: string[]) => ({
      action: state === 'closed' ? 'closed' : 'labeled',
      issue: { number: issue.number, state, body: issue.body, labels: labels.map((name) => ({ name })) },
      repository: { name: 'security', owner: { login: 'acme' } },
    });
    expect((await deliver('issues', payload('closed', ['vigil']), 'not-the-secret')).status).toBe(401);
    expect((await fetch(`${vigil.url}/v1/github/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(400);

    expect((await deliver('issues', payload('closed', ['vigil']))).status).toBe(204);
    await eventually(async () => ((await queryProgress(vigil.client, 'alert/generic/gh-1'))?.issueState === 'closed' ? true : undefined));
    expect((await deliver('issues', payload('open', ['vigil', 'vigil:suppress']))).status).toBe(204);
    const progress = await eventually(async () => {
      const current = await queryProgress(vigil.client, 'alert/generic/gh-1');
      return current?.suppressed ? current : undefined;
    });
    expect(progress.issueState).toBe('open');
    // Events about issues that are not Vigil's are accepted and ignored.
    expect((await deliver('issues', { ...payload('closed', []), issue: { number: 99, state: 'closed', body: 'a person wrote this', labels: [] } })).status).toBe(204);
    expect((await deliver('ping', { zen: 'Keep it logically awesome.' })).status).toBe(204);
  });

  it('answers 503 to a person\'s action that cannot reach Temporal, so GitHub shows it failed and it can be redelivered', async () => {
    const away = await startTestVigil({ tracker: githubTracker(), intakeTemporalAddress: `127.0.0.1:${await getPort()}` });
    try {
      const issue = { number: 7, state: 'closed', body: issueMarker('gh-away', 'alert/generic/gh-away'), labels: [] };
      const answer = await deliver('issues', { action: 'closed', issue, repository: { name: 'security', owner: { login: 'acme' } } }, secret, away);
      expect(answer.status).toBe(503);
      expect(await answer.json()).toEqual({ error: expect.stringContaining('redeliver') });
    } finally {
      await away.stop();
    }
  });
});
