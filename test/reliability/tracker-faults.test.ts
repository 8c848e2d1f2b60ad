// The GitHub tracker against a GitHub that fails: server errors, primary and secondary rate limits
// (403 and 429 with Retry-After), requests carried out whose answer is lost (the connection cut),
// and requests carried out that are never answered (the client's timeout). `vigil worker` runs as a
// process of its own against the local GitHub server, which injects the faults and checks every
// request against GitHub's OpenAPI description. Every issue is made, once; no comment twice.
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fingerprintLabel } from '../../activities/tracker/github';
import { createLogger } from '../../lib/logger';
import { parseIssueMarker } from '../../lib/markers';
import { startIntake } from '../../workers/intake';
import { githubTrackerSettings, startFakeGitHub, type Fault, type FakeGitHub, type RecordedRequest } from '../helpers/github-server';
import { claimNamespace } from '../helpers/vigil';
import { checkIssues, gitHubIssues, progressOf } from './faults/invariant';
import { genericAlert, startSender } from './faults/sender';
import { allFenceRefusals, INTAKE_TOKEN, prepareVigil, startWorker, stopRoles, type VigilSetup } from './faults/vigil-processes';
import { recordTrial } from './tally';

const TOKEN = 'ghp_reliabilityTracker0123456789abcd';
const ISSUES = '/repos/{owner}/{repo}/issues';
const COMMENTS = '/repos/{owner}/{repo}/issues/{issue_number}/comments';
const LABELS = '/repos/{owner}/{repo}/labels';

let github: FakeGitHub;
let setup: VigilSetup;
let connection: Connection;
let client: Client;
let intake: { app: FastifyInstance; url: string };

beforeAll(async () => {
  github = await startFakeGitHub({ tokens: [TOKEN] });
  github.addRepo('acme', 'security', { branches: ['main', 'vigil-evidence'] });
  setup = await prepareVigil({
    temporalAddress: inject('temporalAddress'),
    namespace: await claimNamespace(),
    settings: { tracker: githubTrackerSettings(github.url, { token: 'VIGIL_RELIABILITY_GITHUB_TOKEN' }) },
    env: { VIGIL_RELIABILITY_GITHUB_TOKEN: TOKEN },
  });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: setup.config.temporal.namespace });
  intake = await startIntake({ config: setup.config, token: INTAKE_TOKEN, client, logger: createLogger('reliability-intake', 'silent') });
});

afterAll(async () => {
  const leftBehind = await stopRoles();
  await intake?.app.close();
  await connection?.close();
  await github?.close();
  await setup?.remove();
  expect(leftBehind).toEqual([]);
  expect(allFenceRefusals()).toEqual([]);
});

/** The faults, by what they stand for in the table, each met by the next requests of its route. */
const faults: Array<{ family: string; method: string; route: string; fault: Fault; times: number }> = [
  { family: '5xx', method: 'POST', route: ISSUES, fault: { kind: 'error', status: 502 }, times: 1 },
  { family: '5xx', method: 'GET', route: ISSUES, fault: { kind: 'error', status: 500 }, times: 2 },
  { family: '5xx', method: 'POST', route: COMMENTS, fault: { kind: 'error', status: 503 }, times: 1 },
  { family: '5xx', method: 'GET', route: COMMENTS, fault: { kind: 'error', status: 502 }, times: 1 },
  { family: 'rate limit', method: 'POST', route: ISSUES, fault: { kind: 'secondary-rate-limit', status: 429, retryAfter: 1 }, times: 1 },
  { family: 'rate limit', method: 'POST', route: COMMENTS, fault: { kind: 'secondary-rate-limit', status: 403, retryAfter: 1 }, times: 1 },
  { family: 'rate limit', method: 'GET', route: ISSUES, fault: { kind: 'rate-limit', status: 403, resetAfter: 1 }, times: 1 },
  { family: 'lost answer', method: 'POST', route: ISSUES, fault: { kind: 'lose-answer' }, times: 1 },
  { family: 'lost answer', method: 'POST', route: COMMENTS, fault: { kind: 'lose-answer' }, times: 1 },
  { family: 'lost answer', method: 'POST', route: LABELS, fault: { kind: 'lose-answer' }, times: 1 },
  { family: 'no answer', method: 'POST', route: ISSUES, fault: { kind: 'lose-answer', hang: true }, times: 1 },
];

const families: Record<string, string> = {
  '5xx': 'GitHub answering 5xx (500, 502, 503) to creates, lists and comments',
  'rate limit': 'GitHub rate limits: secondary (429 and 403 with Retry-After), primary (403, no requests left)',
  'lost answer': 'GitHub request carried out, its answer lost (connection cut): issue, comment, label',
  'no answer': 'GitHub issue created, never answered (until the client gives up)',
};

describe('the GitHub tracker against a failing GitHub', () => {
  it('makes every issue once and no comment twice', async () => {
    for (const { method, route, fault, times } of faults) github.inject(method, route, fault, times);
    await startWorker(setup, client);

    // Four identities; two of them delivered three times (distinct bodies), so the repeats' count
    // is updated in place.
    const alerts = [
      ...['a', 'b', 'c', 'd'].map((name) => genericAlert(`tracker-${name}`, { description: 'delivery 1' })),
      ...[2, 3].flatMap((n) => ['a', 'b'].map((name) => ({ ...genericAlert(`tracker-${name}`, { description: `delivery ${n}` }), key: `tracker-${name}#${n}` }))),
    ];
    const expected = new Map<string, number>();
    for (const alert of alerts) {
      const id = JSON.parse(alert.body).id as string;
      expected.set(id, (expected.get(id) ?? 0) + 1);
    }
    const sent = await startSender(alerts, { url: intake.url, concurrency: alerts.length }).done;
    expect(sent.filter((alert) => !alert.accepted).map((alert) => alert.key)).toEqual([]);

    const progress = await progressOf(
      client,
      [...expected.keys()].map((id) => `alert/generic/${id}`),
      { done: (p, workflowId) => p.firstReportComplete === true && p.occurrences >= expected.get(workflowId.slice('alert/generic/'.length))! },
    );
    const repo = github.repo('acme', 'security');
    const report = checkIssues(gitHubIssues(repo), expected.keys());
    const counted = (id: string) => progress.get(`alert/generic/${id}`)?.occurrences === expected.get(id);

    // Which identity each faulted request concerned, where the request says so.
    const byLabel = new Map([...expected.keys()].map((id) => [fingerprintLabel(id), id]));
    const identityOf = (request: RecordedRequest): string | undefined => {
      const number = Number(/\/issues\/(\d+)/.exec(request.path)?.[1]);
      const commentId = Number(/\/issues\/comments\/(\d+)/.exec(request.path)?.[1]);
      const body = request.body as { body?: string; name?: string } | undefined;
      return (
        parseIssueMarker(body?.body)?.fingerprint ??
        (number ? parseIssueMarker(repo.issues.get(number)?.body)?.fingerprint : undefined) ??
        (commentId ? parseIssueMarker(repo.issues.get(repo.comments.get(commentId)?.issueNumber ?? -1)?.body)?.fingerprint : undefined) ??
        byLabel.get(String(request.query.labels ?? body?.name ?? ''))
      );
    };
    const allHeld = report.problems.length === 0 && [...expected.keys()].every(counted);
    // The server meets a route's faults in the order they were injected: each faulted request's
    // family follows from its place among that route's faulted requests.
    const queues = new Map<string, string[]>();
    for (const { family, method, route, times } of faults) queues.set(`${method} ${route}`, [...(queues.get(`${method} ${route}`) ?? []), ...Array<string>(times).fill(family)]);
    const met = github.requests.filter((request) => request.fault).map((request) => ({ request, family: queues.get(`${request.method} ${request.route}`)!.shift()! }));
    for (const [family, fault] of Object.entries(families)) {
      const ofFamily = met.filter((entry) => entry.family === family).map((entry) => entry.request);
      const held = ofFamily.filter((request) => {
        const identity = identityOf(request);
        return identity ? report.held.has(identity) && counted(identity) : allHeld;
      });
      recordTrial({ fault, tried: ofFamily.length, held: held.length, check: 'every issue made once, counts right, no comment marker twice' });
      expect(ofFamily.length, `${family} faults met`).toBeGreaterThan(0);
    }

    expect(report.problems).toEqual([]);
    expect([...expected.keys()].filter((id) => !counted(id))).toEqual([]);
    expect(github.problems).toEqual([]);
  });
});
