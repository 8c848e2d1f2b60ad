// The GitHub tracker driving the real @octokit/rest over HTTP against the fake GitHub server, which
// checks every request and answer against GitHub's OpenAPI description.
import { generateKeyPairSync } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../activities/archive/records';
import { createGitHubTracker, fingerprintLabel, webUrlOf, type GitHubTrackerOptions } from '../../activities/tracker/github';
import type { NewIssue } from '../../activities/tracker/types';
import type { GitHubSettings } from '../../lib/config';
import { commentMarker, issueMarker, parseCommentMarker, parseIssueMarker } from '../../lib/markers';
import { startFakeGitHub, type FakeGitHub } from '../helpers/github-server';
import { defaultLabels } from '../helpers/labels';

const token = 'ghp_test0123456789abcdefghijklmnopqrstuv';
const labels = defaultLabels;

const ISSUES = '/repos/{owner}/{repo}/issues';
const ISSUE = '/repos/{owner}/{repo}/issues/{issue_number}';
const COMMENTS = '/repos/{owner}/{repo}/issues/{issue_number}/comments';
const LABELS = '/repos/{owner}/{repo}/labels';
const LABEL = '/repos/{owner}/{repo}/labels/{name}';
const CONTENTS = '/repos/{owner}/{repo}/contents/{path}';
const ACCESS_TOKENS = '/app/installations/{installation_id}/access_tokens';

let github: FakeGitHub;
/** Every line the trackers logged, checked for secrets after each test. */
let logged: string[];
/** Secrets a test used, which must appear in no log line and no error message. */
let secrets: string[];

beforeEach(async () => {
  github = await startFakeGitHub({ tokens: [token] });
  github.addRepo('acme', 'security', { branches: ['main', 'vigil-evidence'] });
  logged = [];
  secrets = [token];
});

afterEach(async () => {
  const problems = [...github.problems];
  await github.close();
  expect(problems, 'requests and answers invalid against the OpenAPI subset').toEqual([]);
  for (const secret of secrets) expect(logged.filter((line) => line.includes(secret))).toEqual([]);
});

const settingsFor = (overrides: Partial<GitHubSettings> = {}): GitHubSettings => ({
  owner: 'acme',
  repo: 'security',
  baseUrl: github.url,
  auth: { token: { env: 'VIGIL_TEST_GITHUB_TOKEN' } },
  evidence: { kind: 'branch', branch: 'vigil-evidence' },
  ...overrides,
});

const trackerFor = (overrides: Partial<GitHubSettings> = {}, options: GitHubTrackerOptions = {}) =>
  createGitHubTracker(settingsFor(overrides), labels, {
    env: { VIGIL_TEST_GITHUB_TOKEN: token },
    retryBaseDelayMs: 10,
    writeIntervalMs: 0,
    notifyingWriteIntervalMs: 0,
    log: { debug: (line) => logged.push(line), warn: (line) => logged.push(line) },
    ...options,
  });

const newIssue = (fingerprint = 'aws:ec2:sg-0123'): NewIssue => ({
  fingerprint,
  workflowId: `alert/generic/${fingerprint}`,
  title: `Security group ${fingerprint} allows SSH from the internet`,
  body: 'An alert body.',
  labels: ['vigil', 'severity:high', 'kind:exposure'],
});

const repoState = () => github.repo('acme', 'security');

/** The rejection of a promise that must fail. */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

function expectMisconfigured(err: Error, ...mentions: string[]) {
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect((err as ApplicationFailure).type).toBe('GitHubMisconfigured');
  for (const mention of mentions) expect(err.message).toContain(mention);
  for (const secret of secrets) expect(err.message).not.toContain(secret);
}

function expectRetryable(err: Error) {
  expect(err).toBeInstanceOf(Error);
  expect(err instanceof ApplicationFailure && err.nonRetryable).toBe(false);
  for (const secret of secrets) expect(err.message).not.toContain(secret);
}

describe('GitHub tracker: issues', () => {
  it('opens one issue per fingerprint, with the marker and the fingerprint label, and finds it again', async () => {
    const tracker = trackerFor();
    const first = await tracker.findOrCreateIssue(newIssue());
    const second = await tracker.findOrCreateIssue(newIssue());

    expect(first).toEqual({ issue: { number: 1, url: `${github.url}/acme/security/issues/1` }, created: true, state: 'open' });
    expect(second).toEqual({ ...first, created: false });
    expect(repoState().issues.size).toBe(1);
    const issue = repoState().issues.get(1)!;
    expect(issue.body).toBe(`An alert body.\n\n${issueMarker('aws:ec2:sg-0123', 'alert/generic/aws:ec2:sg-0123')}`);
    expect(parseIssueMarker(issue.body)).toEqual({ fingerprint: 'aws:ec2:sg-0123', workflowId: 'alert/generic/aws:ec2:sg-0123' });
    const label = fingerprintLabel('aws:ec2:sg-0123');
    expect(label).toMatch(/^vigil:fp:[0-9a-f]{12}$/);
    expect(issue.labels).toEqual(['vigil', 'severity:high', 'kind:exposure', label]);
    // The second call only looked: one list, no create.
    expect(github.count('POST', ISSUES)).toBe(1);
    expect(github.requests.filter((r) => r.route === ISSUES && r.method === 'GET').at(-1)?.query).toEqual({ labels: label, state: 'all', per_page: 100 });
  });

  it('keeps fingerprints apart, even when their issues share a label by accident', async () => {
    const tracker = trackerFor();
    const a = await tracker.findOrCreateIssue(newIssue('fp-a'));
    // An issue carrying fp-b's label but another fingerprint's marker is not fp-b's issue.
    await tracker.updateLabels(a.issue.number, { add: [fingerprintLabel('fp-b')] });
    const b = await tracker.findOrCreateIssue(newIssue('fp-b'));
    expect(b.issue.number).not.toBe(a.issue.number);
    expect(parseIssueMarker(repoState().issues.get(b.issue.number)!.body)?.fingerprint).toBe('fp-b');
  });

  it('opens one issue when called concurrently, in one process and across workers', async () => {
    const tracker = trackerFor();
    const sameProcess = await Promise.all(Array.from({ length: 6 }, () => tracker.findOrCreateIssue(newIssue('fp-1'))));
    expect(new Set(sameProcess.map((r) => r.issue.number)).size).toBe(1);
    expect(sameProcess.filter((r) => r.created)).toHaveLength(1);
    expect(github.count('POST', ISSUES)).toBe(1);

    // Separate trackers stand for separate workers: they may both create, then agree on the lowest
    // number, and the other issue is closed and loses the fingerprint label.
    const workers = await Promise.all(Array.from({ length: 4 }, () => trackerFor().findOrCreateIssue(newIssue('fp-2'))));
    const numbers = new Set(workers.map((r) => r.issue.number));
    expect(numbers.size).toBe(1);
    const label = fingerprintLabel('fp-2');
    const labelled = [...repoState().issues.values()].filter((issue) => issue.labels.includes(label));
    expect(labelled.map((issue) => issue.number)).toEqual([...numbers]);
    const others = [...repoState().issues.values()].filter((issue) => issue.number !== labelled[0]!.number && parseIssueMarker(issue.body)?.fingerprint === 'fp-2');
    for (const other of others) expect(other.state).toBe('closed');
    expect(await trackerFor().findOrCreateIssue(newIssue('fp-2'))).toMatchObject({ issue: { number: labelled[0]!.number }, created: false });
  });

  it('looks again, and does not create twice, when the answer to a create is lost', async () => {
    github.inject('POST', ISSUES, { kind: 'lose-answer' });
    const result = await trackerFor().findOrCreateIssue(newIssue());
    expect(result).toMatchObject({ issue: { number: 1 }, created: true, state: 'open' });
    expect(repoState().issues.size).toBe(1);
    expect(github.count('POST', ISSUES)).toBe(1);
    expect(github.requests.find((r) => r.route === ISSUES && r.method === 'POST')?.status).toBe('lost');
  });

  it('looks again when a create times out, and finds what it did', async () => {
    github.inject('POST', ISSUES, { kind: 'lose-answer', hang: true });
    const started = Date.now();
    const result = await trackerFor({}, { requestTimeoutMs: 300 }).findOrCreateIssue(newIssue());
    expect(result).toMatchObject({ issue: { number: 1 }, created: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(repoState().issues.size).toBe(1);
    expect(github.count('POST', ISSUES)).toBe(1);
  });

  it('finds the issue when Temporal retries a call whose create was done but whose answer was lost', async () => {
    github.inject('POST', ISSUES, { kind: 'lose-answer' });
    const err = await failureOf(trackerFor({}, { createAttempts: 1 }).findOrCreateIssue(newIssue()));
    expectRetryable(err);
    // The activity's retry, in a new worker process.
    const retried = await trackerFor().findOrCreateIssue(newIssue());
    expect(retried).toMatchObject({ issue: { number: 1 }, created: false });
    expect(repoState().issues.size).toBe(1);
  });

  it('creates again after a server error that did nothing, once', async () => {
    github.inject('POST', ISSUES, { kind: 'error', status: 502 });
    const result = await trackerFor().findOrCreateIssue(newIssue());
    expect(result).toMatchObject({ issue: { number: 1 }, created: true });
    expect(github.count('POST', ISSUES)).toBe(2);
    expect(repoState().issues.size).toBe(1);
  });

  it('reports the state so a closed issue can be reopened, and reopens and closes', async () => {
    const tracker = trackerFor();
    const { issue } = await tracker.findOrCreateIssue(newIssue());
    await tracker.closeIssue(issue.number);
    expect(await tracker.getIssue(issue.number)).toMatchObject({ number: issue.number, state: 'closed' });
    expect(repoState().issues.get(issue.number)!.stateReason).toBe('completed');
    expect(await tracker.findOrCreateIssue(newIssue())).toMatchObject({ created: false, state: 'closed' });

    await tracker.reopenIssue(issue.number);
    await tracker.reopenIssue(issue.number); // a retry changes nothing
    expect(await tracker.getIssue(issue.number)).toEqual({
      number: issue.number,
      state: 'open',
      labels: ['vigil', 'severity:high', 'kind:exposure', fingerprintLabel('aws:ec2:sg-0123')],
    });
  });
});

describe('GitHub tracker: labels', () => {
  it('creates missing labels with Vigil colours first, once per process, and ignores removing an absent one', async () => {
    const tracker = trackerFor();
    const { issue } = await tracker.findOrCreateIssue(newIssue());
    const label = (name: string) => repoState().labels.get(name.toLowerCase());
    expect(label('severity:high')).toMatchObject({ color: 'd93f0b', description: 'Vigil: severity of the alert' });
    expect(label(fingerprintLabel('aws:ec2:sg-0123'))?.description).toContain('Vigil');
    expect(github.count('POST', LABELS)).toBe(4);

    await tracker.updateLabels(issue.number, { add: ['exposure:open', 'vigil'], remove: ['severity:high', 'exposure:remediated'] });
    expect(label('exposure:open')).toMatchObject({ color: 'b60205' });
    expect(repoState().issues.get(issue.number)!.labels).toEqual(['vigil', 'kind:exposure', fingerprintLabel('aws:ec2:sg-0123'), 'exposure:open']);

    const lookups = github.count('GET', LABEL);
    await tracker.updateLabels(issue.number, { add: ['exposure:open'] });
    expect(github.count('GET', LABEL)).toBe(lookups);
    expect(github.count('POST', LABELS)).toBe(5);
  });

  it('takes a label made meanwhile as made (422 already_exists)', async () => {
    github.inject('POST', LABELS, { kind: 'lose-answer' });
    const { issue } = await trackerFor().findOrCreateIssue({ ...newIssue(), labels: ['vigil'] });
    expect(repoState().labels.get('vigil')).toMatchObject({ color: '5319e7' });
    expect(github.requests.some((r) => r.route === LABELS && r.status === 422)).toBe(true);
    expect(repoState().issues.get(issue.number)!.labels).toContain('vigil');
  });

  it('shortens labels over 50 characters, the same way every time', async () => {
    const tracker = trackerFor();
    const long = `source:${'x'.repeat(60)}`;
    const { issue } = await tracker.findOrCreateIssue({ ...newIssue(), labels: [long] });
    const names = repoState().issues.get(issue.number)!.labels;
    expect(names[0]).toHaveLength(50);
    await tracker.updateLabels(issue.number, { remove: [long] });
    expect(repoState().issues.get(issue.number)!.labels).toEqual([fingerprintLabel('aws:ec2:sg-0123')]);
  });
});

describe('GitHub tracker: comments', () => {
  it('posts a keyed comment once and updates it in place', async () => {
    const tracker = trackerFor();
    const { issue } = await tracker.findOrCreateIssue(newIssue());
    expect(await tracker.upsertComment(issue.number, 'wf#summary', 'first')).toEqual({ created: true });
    expect(await tracker.upsertComment(issue.number, 'wf#summary', 'second')).toEqual({ created: false });
    expect(await tracker.upsertComment(issue.number, 'wf#other', 'other')).toEqual({ created: true });
    const comments = [...repoState().comments.values()];
    expect(comments.map((c) => c.body)).toEqual([`second\n\n${commentMarker('wf#summary')}`, `other\n\n${commentMarker('wf#other')}`]);
    // The same body again is no edit at all.
    const edits = github.count('PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}');
    await tracker.upsertComment(issue.number, 'wf#summary', 'second');
    expect(github.count('PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}')).toBe(edits);
  });

  it('finds its comment on a later page', async () => {
    const tracker = trackerFor();
    const { issue } = await tracker.findOrCreateIssue(newIssue());
    const at = new Date().toISOString();
    for (let id = 1; id <= 150; id++) {
      const body = id === 140 ? `old\n\n${commentMarker('wf#occurrences')}` : `someone's comment ${id}`;
      repoState().comments.set(id, { id, issueNumber: issue.number, body, createdAt: at, updatedAt: at });
    }
    expect(await tracker.upsertComment(issue.number, 'wf#occurrences', 'Seen 3 times')).toEqual({ created: false });
    expect(parseCommentMarker(repoState().comments.get(140)!.body)).toBe('wf#occurrences');
    expect(repoState().comments.get(140)!.body).toContain('Seen 3 times');
    expect(repoState().comments.size).toBe(150);
    expect(github.count('GET', COMMENTS)).toBe(2);
  });

  it('never comments twice when the answer to a create is lost, in the call or in its retry', async () => {
    const tracker = trackerFor();
    const { issue } = await tracker.findOrCreateIssue(newIssue());
    github.inject('POST', COMMENTS, { kind: 'lose-answer' });
    expect(await tracker.upsertComment(issue.number, 'wf#a', 'body a')).toEqual({ created: true });
    expect(github.count('POST', COMMENTS)).toBe(1);

    github.inject('POST', COMMENTS, { kind: 'lose-answer' });
    expectRetryable(await failureOf(trackerFor({}, { createAttempts: 1 }).upsertComment(issue.number, 'wf#b', 'body b')));
    expect(await tracker.upsertComment(issue.number, 'wf#b', 'body b')).toEqual({ created: false });
    expect([...repoState().comments.values()].map((c) => parseCommentMarker(c.body))).toEqual(['wf#a', 'wf#b']);
  });
});

describe('GitHub tracker: evidence', () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

  it('commits evidence to the branch, links it as an image, and keeps one file per name', async () => {
    const tracker = trackerFor();
    const { issue } = await tracker.findOrCreateIssue(newIssue());
    const file = { name: 'screenshot-203.0.113.10-443.png', contentType: 'image/png', data: png };
    const link = await tracker.attachEvidence(issue.number, file);
    const url = `${github.url}/acme/security/blob/vigil-evidence/issues/${issue.number}/screenshot-203.0.113.10-443.png?raw=true`;
    expect(link).toEqual({ url, markdown: `![screenshot-203.0.113.10-443.png](${url})` });
    const files = repoState().branches.get('vigil-evidence')!;
    expect(files.get(`issues/${issue.number}/screenshot-203.0.113.10-443.png`)?.content).toEqual(png);
    expect(repoState().branches.get('main')!.size).toBe(0);

    // The same file again: nothing to commit. A new version: updated in place.
    expect(await tracker.attachEvidence(issue.number, file)).toEqual(link);
    expect(github.count('PUT', CONTENTS)).toBe(1);
    expect(await tracker.attachEvidence(issue.number, { ...file, data: Buffer.concat([png, png]) })).toEqual(link);
    expect(github.count('PUT', CONTENTS)).toBe(2);
    expect(files.size).toBe(1);
    expect(files.get(`issues/${issue.number}/screenshot-203.0.113.10-443.png`)?.content).toEqual(Buffer.concat([png, png]));

    const text = await tracker.attachEvidence(issue.number, { name: 'probe.txt', contentType: 'text/plain', data: Buffer.from('open') });
    expect(text.markdown).toBe(`[probe.txt](${github.url}/acme/security/blob/vigil-evidence/issues/${issue.number}/probe.txt?raw=true)`);
  });

  it('commits once when the answer to the commit is lost', async () => {
    github.inject('PUT', CONTENTS, { kind: 'lose-answer' });
    const link = await trackerFor().attachEvidence(7, { name: 'a.png', contentType: 'image/png', data: png });
    expect(link.url).toContain('/issues/7/a.png');
    expect(repoState().commits).toBe(1);
    expect(repoState().branches.get('vigil-evidence')!.get('issues/7/a.png')?.content).toEqual(png);
  });

  it('commits to another repository when the evidence settings name one', async () => {
    github.addRepo('acme', 'evidence', { branches: ['main', 'shots'] });
    const tracker = trackerFor({ evidence: { kind: 'branch', branch: 'shots', owner: 'acme', repo: 'evidence' } });
    const link = await tracker.attachEvidence(3, { name: 'x.png', contentType: 'image/png', data: png });
    expect(link.url).toBe(`${github.url}/acme/evidence/blob/shots/issues/3/x.png?raw=true`);
    expect(github.repo('acme', 'evidence').branches.get('shots')!.has('issues/3/x.png')).toBe(true);
  });

  it('names the missing branch and how to create it', async () => {
    const err = await failureOf(trackerFor({ evidence: { kind: 'branch', branch: 'no-such-branch' } }).attachEvidence(1, { name: 'a.png', contentType: 'image/png', data: png }));
    expectMisconfigured(err, '"no-such-branch"', 'acme/security', 'git switch --orphan no-such-branch', 'git push origin no-such-branch');
    const noRepo = trackerFor({ evidence: { kind: 'branch', branch: 'vigil-evidence', owner: 'acme', repo: 'no-such-repo' } });
    expectMisconfigured(await failureOf(noRepo.attachEvidence(1, { name: 'a.png', contentType: 'image/png', data: png })), 'acme/no-such-repo', 'evidence.owner and repo');
  });

  it('links evidence where people read GitHub, for github.com, Enterprise Server and GHE.com', () => {
    expect(webUrlOf('https://api.github.com')).toBe('https://github.com');
    expect(webUrlOf('https://github.example.com/api/v3')).toBe('https://github.example.com');
    expect(webUrlOf('https://api.octocorp.ghe.com')).toBe('https://octocorp.ghe.com');
  });

  it('stores evidence in the artifact store when evidence is by URL', async () => {
    const blobs = new Map<string, { data: Buffer; contentType: string }>();
    const artifacts: BlobStore = {
      location: 'memory',
      get: async (key) => blobs.get(key)?.data,
      put: async (key, data, contentType) => void blobs.set(key, { data: Buffer.from(data), contentType }),
      keys: async function* () {},
    };
    const tracker = trackerFor({ evidence: { kind: 'url', baseUrl: 'https://evidence.example.com/vigil/' } }, { artifacts });
    const link = await tracker.attachEvidence(5, { name: 'report.json', contentType: 'application/json', data: Buffer.from('{}') });
    expect(link).toEqual({
      url: 'https://evidence.example.com/vigil/github/acme/security/issues/5/report.json',
      markdown: '[report.json](https://evidence.example.com/vigil/github/acme/security/issues/5/report.json)',
    });
    expect(blobs.get('github/acme/security/issues/5/report.json')).toEqual({ data: Buffer.from('{}'), contentType: 'application/json' });
    expect(github.requests).toHaveLength(0);
  });
});

describe('GitHub tracker: failures', () => {
  it('retries a server error, then succeeds', async () => {
    const tracker = trackerFor();
    const { issue } = await tracker.findOrCreateIssue(newIssue());
    github.inject('GET', ISSUE, { kind: 'error', status: 500 });
    github.inject('PATCH', ISSUE, { kind: 'error', status: 502 }, 2);
    expect(await tracker.getIssue(issue.number)).toMatchObject({ state: 'open' });
    await tracker.closeIssue(issue.number);
    expect(github.count('GET', ISSUE)).toBe(2);
    expect(github.count('PATCH', ISSUE)).toBe(3);
    expect(repoState().issues.get(issue.number)!.state).toBe('closed');
  });

  it.each([403, 429] as const)('waits out a secondary rate limit (%i, retry-after 1 s), then goes again', async (status) => {
    const tracker = trackerFor();
    const { issue } = await tracker.findOrCreateIssue(newIssue());
    github.inject('POST', COMMENTS, { kind: 'secondary-rate-limit', status, retryAfter: 1 });
    expect(await tracker.upsertComment(issue.number, 'wf#x', 'hello')).toEqual({ created: true });
    const posts = github.requests.filter((r) => r.route === COMMENTS && r.method === 'POST');
    expect(posts.map((r) => r.status)).toEqual([status, 201]);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(repoState().comments.size).toBe(1);
    expect(logged.some((line) => line.includes('secondary rate limit'))).toBe(true);
  });

  it('waits for the reset of the primary rate limit, then goes again', async () => {
    github.inject('GET', ISSUE, { kind: 'rate-limit', status: 403, resetAfter: 1 });
    const tracker = trackerFor();
    const { issue } = await tracker.findOrCreateIssue(newIssue());
    expect(await tracker.getIssue(issue.number)).toMatchObject({ state: 'open' });
    const gets = github.requests.filter((r) => r.route === ISSUE && r.method === 'GET');
    expect(gets.map((r) => r.status)).toEqual([403, 200]);
    expect(gets[1]!.at - gets[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('leaves to Temporal what outlasts the retries: server errors and rate limits are retryable', async () => {
    github.inject('GET', ISSUE, { kind: 'error', status: 503 }, 10);
    expectRetryable(await failureOf(trackerFor({}, { retries: 1 }).getIssue(1)));
    expect(github.count('GET', ISSUE)).toBe(2);

    github.inject('GET', ISSUES, { kind: 'secondary-rate-limit', status: 403, retryAfter: 1 });
    expectRetryable(await failureOf(trackerFor({}, { rateLimitRetries: 0 }).findOrCreateIssue(newIssue())));
    expect(repoState().issues.size).toBe(0);
  });

  it('does not retry bad credentials: GitHubMisconfigured, and the token is in no message', async () => {
    const wrong = 'ghp_wrong0123456789abcdefghijklmnopqrstu';
    secrets.push(wrong);
    const tracker = createGitHubTracker(settingsFor({ auth: { token: wrong } }), labels, { log: { debug: (l) => logged.push(l), warn: (l) => logged.push(l) } });
    const err = await failureOf(tracker.findOrCreateIssue(newIssue()));
    expectMisconfigured(err, '401', 'Bad credentials', 'tracker.github.auth');
    expect(github.requests).toHaveLength(1);
  });

  it('does not retry a missing repository or a refused permission', async () => {
    expectMisconfigured(await failureOf(trackerFor({ repo: 'nope' }).getIssue(1)), 'acme/nope', 'tracker.github.owner and repo');
    github.inject('POST', ISSUES, { kind: 'error', status: 403, message: 'Resource not accessible by integration' });
    expectMisconfigured(await failureOf(trackerFor().findOrCreateIssue(newIssue())), '403', 'Resource not accessible by integration', 'Issues');
    expect(repoState().issues.size).toBe(0);
  });

  it('tells a missing issue from a missing repository', async () => {
    const err = await failureOf(trackerFor().getIssue(42));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('GitHubNotFound');
    expect(err.message).toContain('#42');
  });
});

describe('GitHub tracker: GitHub App authentication', () => {
  const keys = () =>
    generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      // GitHub hands out PKCS#1 keys.
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });

  it('gets an installation token with a JWT and works with it', async () => {
    const { publicKey, privateKey } = keys();
    await github.close();
    github = await startFakeGitHub({ app: { appId: 12345, publicKey, installationId: 42 } });
    github.addRepo('acme', 'security');
    secrets.push(privateKey);
    const settings = settingsFor({ auth: { appId: 12345, privateKey: { env: 'VIGIL_TEST_APP_KEY' }, installationId: 42 } });
    const tracker = createGitHubTracker(settings, labels, {
      env: { VIGIL_TEST_APP_KEY: privateKey.replace(/\n/g, '\\n') }, // as one-line variables keep it
      writeIntervalMs: 0,
      notifyingWriteIntervalMs: 0,
      log: { debug: (l) => logged.push(l), warn: (l) => logged.push(l) },
    });
    const { issue } = await tracker.findOrCreateIssue(newIssue());
    await tracker.upsertComment(issue.number, 'k', 'body');
    expect(github.installationTokens).toHaveLength(1);
    expect(github.count('POST', ACCESS_TOKENS)).toBe(1);
    secrets.push(...github.installationTokens);
    expect(repoState().issues.size).toBe(1);
  });

  it('does not retry a wrong installation or a key GitHub does not know', async () => {
    const { publicKey } = keys();
    const other = keys();
    await github.close();
    github = await startFakeGitHub({ app: { appId: 12345, publicKey, installationId: 42 } });
    github.addRepo('acme', 'security');
    secrets.push(other.privateKey);
    const trackerWith = (privateKey: string, installationId: number) =>
      createGitHubTracker(settingsFor({ auth: { appId: 12345, privateKey, installationId } }), labels, {
        log: { debug: (l) => logged.push(l), warn: (l) => logged.push(l) },
      });
    expectMisconfigured(await failureOf(trackerWith(other.privateKey, 42).getIssue(1)), '401', 'tracker.github.auth');
    expect(() => trackerWith('not a key', 42)).toThrow(/privateKey is not a PEM private key/);
    const wrongInstallation = keys();
    await github.close();
    github = await startFakeGitHub({ app: { appId: 12345, publicKey: wrongInstallation.publicKey, installationId: 42 } });
    github.addRepo('acme', 'security');
    secrets.push(wrongInstallation.privateKey);
    expectMisconfigured(await failureOf(trackerWith(wrongInstallation.privateKey, 7).getIssue(1)), 'installation', 'installationId');
  });
});

describe('the fake GitHub server', () => {
  it('answers 422 to a request invalid against the OpenAPI description, and records it', async () => {
    const post = (body: unknown) =>
      fetch(`${github.url}/repos/acme/security/issues`, { method: 'POST', headers: { authorization: `token ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const response = await post({ titel: 'misspelt' });
    expect(response.status).toBe(422);
    expect(github.problems.join('\n')).toMatch(/invalid request POST \/repos\/acme\/security\/issues: body must have required property 'title'/);
    const query = await fetch(`${github.url}/repos/acme/security/issues?state=everything`, { headers: { authorization: `token ${token}` } });
    expect(query.status).toBe(422);
    expect(github.problems.some((p) => p.includes('query/state must be equal to one of the allowed values'))).toBe(true);
    github.problems.length = 0;
  });

  it('records an answer of its own that the description does not allow', async () => {
    const { issue } = await trackerFor().findOrCreateIssue(newIssue());
    (repoState().issues.get(issue.number) as { title: unknown }).title = 42;
    await trackerFor().getIssue(issue.number);
    expect(github.problems).toEqual([expect.stringContaining(`invalid answer to GET /repos/acme/security/issues/${issue.number}: 200 answer/title must be string`)]);
    github.problems.length = 0;
  });
});
