// `/vigil` commands from issue comments, against a real Vigil: on GitHub (a local, OpenAPI-checked
// GitHub; signed issue_comment deliveries; a team's members by GitHub's membership API) and on the
// local tracker (a person's own token as the API's bearer, or their login on the page). A command
// reaches the investigation as the responseCommand update, whose validator decides; what it refuses,
// what cannot be read and what finds the investigation ended is answered on the issue. Last, a plan
// proposed for a machine behind a security group (moto) is asked for and approved from comments.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { AllocateAddressCommand, AssociateAddressCommand, AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { Octokit } from '@octokit/rest';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueMarker, parseCommentMarker, commentMarker } from '../../lib/markers';
import { githubTrackerSettings, issueCommentEvent, sendWebhook, startFakeGitHub, type FakeGitHub, type RepoState } from '../helpers/github-server';
import { startMoto, type Moto } from '../helpers/moto';
import { commentAsPage, logIn, postComment } from '../helpers/tracker-page';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

const githubToken = 'ghp_commandstokencommandstoken0000';
const secret = 'webhook-secret-for-commands-0123';
/** A day the acceptance may run until, whatever day the test runs. */
const later = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
const accepting = `/vigil accept staging box, firewalled upstream until ${later}`;

const acceptedOf = async (vigil: TestVigil, workflowId: string) => (await queryProgress(vigil.client, workflowId))?.response?.accepted;

describe('commands from GitHub comments', () => {
  let github: FakeGitHub;
  let repo: RepoState;
  let vigil: TestVigil;
  const githubTracker = () => githubTrackerSettings(github.url, { token: 'VIGIL_TEST_COMMANDS_GITHUB_TOKEN', webhookSecret: 'VIGIL_TEST_COMMANDS_WEBHOOK_SECRET' });
  const response = { askers: ['alice'], approvers: ['@acme/secops', 'bob'] };

  beforeAll(async () => {
    github = await startFakeGitHub({ tokens: [githubToken], teams: { 'acme/secops': ['carol', { login: 'dave', state: 'pending' }] } });
    repo = github.addRepo('acme', 'security', { branches: ['main', 'vigil-evidence'] });
    process.env.VIGIL_TEST_COMMANDS_GITHUB_TOKEN = githubToken;
    process.env.VIGIL_TEST_COMMANDS_WEBHOOK_SECRET = secret;
    vigil = await startTestVigil({ tracker: githubTracker(), response });
  });
  afterAll(async () => {
    await vigil?.stop();
    await github?.close();
    expect(github.problems).toEqual([]);
  });

  /** A person's comment on GitHub, and the signed delivery GitHub sends about it. */
  async function comment(issue: number, login: string, body: string, { signWith = secret, type = 'User' as 'User' | 'Bot', to = vigil } = {}) {
    const stored = github.addPersonComment('acme', 'security', issue, login, body);
    const event = issueCommentEvent(repo, issue, stored, login, body, type);
    const deliveryId = randomUUID();
    const answer = await sendWebhook(to.url, 'issue_comment', event, signWith, deliveryId);
    return { status: answer.status, id: stored.id, redeliver: () => sendWebhook(to.url, 'issue_comment', event, secret, deliveryId) };
  }
  const answerTo = (commentId: number) => [...repo.comments.values()].find((candidate) => parseCommentMarker(candidate.body) === `response-answer/${commentId}`)?.body;

  it('takes a command only signed, only from a person, and only from who may give it: a team member accepts the risk once', async () => {
    expect((await vigil.post('generic', { id: 'commands-1', title: 'SSH open on web-1', severity: 'high', network: { ports: [22] } })).status).toBe(202);
    const workflowId = 'alert/generic/commands-1';
    const issue = await eventually(async () => {
      const found = [...repo.issues.values()].find((candidate) => candidate.labels.includes('exposure:unconfirmed'));
      return found && (await queryProgress(vigil.client, workflowId))?.exposure === 'unconfirmed' ? found : undefined;
    }, 60_000);

    // A bad signature: refused, and nothing reaches the investigation or the issue.
    const forged = await comment(issue.number, 'carol', accepting, { signWith: 'not-the-secret' });
    expect(forged.status).toBe(401);
    // Vigil's own comments (its hidden marker) and bots' are never commands.
    const own = await comment(issue.number, 'carol', `${accepting}\n\n${commentMarker('alert/generic/commands-1/report')}`);
    const bot = await comment(issue.number, 'vigil-app[bot]', accepting, { type: 'Bot' });
    expect([own.status, bot.status]).toEqual([204, 204]);
    for (const { id } of [forged, own, bot]) expect(answerTo(id)).toBeUndefined();
    expect(await acceptedOf(vigil, workflowId)).toBeUndefined();

    // Not an approver, and a pending member of the approvers' team: refused by the investigation, said on the issue.
    const stranger = await comment(issue.number, 'mallory', accepting);
    const pending = await comment(issue.number, 'dave', accepting);
    expect([stranger.status, pending.status]).toEqual([204, 204]);
    expect(answerTo(stranger.id)).toContain('mallory may not accept a risk: only the people in response.approvers may');
    expect(answerTo(stranger.id)).toContain(`\`${accepting}\``);
    expect(answerTo(pending.id)).toContain('dave may not accept a risk');
    expect(await acceptedOf(vigil, workflowId)).toBeUndefined();

    // A /vigil line that cannot be read: answered with the usage.
    const garbled = await comment(issue.number, 'carol', 'Thanks!\n/vigil accept forever');
    expect(garbled.status).toBe(204);
    expect(answerTo(garbled.id)).toContain('takes a reason and the last day it holds');
    expect(answerTo(garbled.id)).toContain('/vigil remediate <plan>');

    // An active member of @acme/secops, an approver: accepted, no answer needed.
    const lookups = github.count('GET', '/orgs/{org}/teams/{team_slug}/memberships/{username}');
    const approved = await comment(issue.number, 'Carol', accepting);
    expect(approved.status).toBe(204);
    const accepted = await eventually(() => acceptedOf(vigil, workflowId));
    expect(accepted).toMatchObject({ by: 'Carol', reason: 'staging box, firewalled upstream', until: later });
    expect(answerTo(approved.id)).toBeUndefined();
    expect(github.count('GET', '/orgs/{org}/teams/{team_slug}/memberships/{username}')).toBeGreaterThan(lookups);
    await eventually(async () => (repo.issues.get(issue.number)?.state === 'closed' ? true : undefined), 30_000);

    // GitHub redelivers the same comment: the update's id is the comment's, so nothing happens twice.
    expect((await approved.redeliver()).status).toBe(204);
    expect((await stranger.redeliver()).status).toBe(204);
    expect(await acceptedOf(vigil, workflowId)).toEqual(accepted);
    expect([...repo.comments.values()].filter((candidate) => parseCommentMarker(candidate.body) === `response-answer/${stranger.id}`)).toHaveLength(1);
  });

  it('answers a command on an issue whose investigation has ended', async () => {
    const octokit = new Octokit({ baseUrl: github.url, auth: githubToken });
    const { data: issue } = await octokit.rest.issues.create({ owner: 'acme', repo: 'security', title: 'An old one', body: `Old.\n\n${issueMarker('commands-ended', 'alert/generic/commands-ended')}` });
    const ended = await comment(issue.number, 'bob', accepting);
    expect(ended.status).toBe(204);
    expect(answerTo(ended.id)).toContain('the investigation has ended; reopen the issue to start it again');
  });

  it('says on the issue when GitHub will not tell who is in a team, and what permission that needs', async () => {
    const octokit = new Octokit({ baseUrl: github.url, auth: githubToken });
    const { data: issue } = await octokit.rest.issues.create({ owner: 'acme', repo: 'security', title: 'Teams', body: issueMarker('commands-teams', 'alert/generic/commands-teams') });
    github.inject('GET', '/orgs/{org}/teams/{team_slug}/memberships/{username}', { kind: 'error', status: 403, message: 'Resource not accessible by integration' });
    const refused = await comment(issue.number, 'erin', accepting);
    expect(refused.status).toBe(204);
    expect(answerTo(refused.id)).toContain("GitHub did not let Vigil read the members of `@acme/secops` (403): its token or app needs the organization's *Members: read* permission");
  });

  it("answers 503 to a command that cannot reach Temporal, and nothing on the issue, so GitHub's redelivery does it", async () => {
    const away = await startTestVigil({ tracker: githubTracker(), response, intakeTemporalAddress: `127.0.0.1:${await getPort()}` });
    try {
      const octokit = new Octokit({ baseUrl: github.url, auth: githubToken });
      const { data: issue } = await octokit.rest.issues.create({ owner: 'acme', repo: 'security', title: 'Away', body: issueMarker('commands-away', 'alert/generic/commands-away') });
      const undelivered = await comment(issue.number, 'bob', accepting, { to: away });
      expect(undelivered.status).toBe(503);
      expect(answerTo(undelivered.id)).toBeUndefined();
    } finally {
      await away.stop();
    }
  });
});

describe('commands from the local tracker', () => {
  const alice = 'alice-token-0123456789abcdef';
  const bob = 'bob-token-0123456789abcdef';
  let vigil: TestVigil;
  const workflowId = 'alert/generic/commands-local-1';
  let number: number;

  beforeAll(async () => {
    process.env.VIGIL_TEST_ALICE_TOKEN = alice;
    vigil = await startTestVigil({
      tracker: { local: { people: [{ name: 'alice', token: { env: 'VIGIL_TEST_ALICE_TOKEN' } }, { name: 'bob', token: bob }] } },
      response: { askers: ['alice'], approvers: ['bob'] },
    });
    await vigil.post('generic', { id: 'commands-local-1', title: 'SSH open on db-1', severity: 'high', network: { ports: [22] } });
    number = await eventually(async () => ((await queryProgress(vigil.client, workflowId))?.exposure === 'unconfirmed' ? (await vigil.tracker.listIssues())[0]?.number : undefined), 60_000);
  });
  afterAll(() => vigil?.stop());

  const answerTo = async (commentId: string) => (await vigil.tracker.readIssue(number))!.comments.find((comment) => comment.key === `response-answer/${commentId}`)?.body;

  it("stores a person's comment with its author, and takes comments only with a person's own token", async () => {
    const posted = await postComment(vigil.url, alice, number, 'Looking at it.');
    expect(posted.status).toBe(201);
    const { comment, command } = (await posted.json()) as { comment: { id: string; author: string }; command: string };
    expect(comment).toMatchObject({ author: 'alice', body: 'Looking at it.', id: expect.stringMatching(/^\d+-\d+$/) });
    expect(command).toBe('none');
    const view = (await (await vigil.read(`/v1/issues/${number}`)).json()) as { comments: { id: string; author?: string; body: string }[] };
    expect(view.comments.find((candidate) => candidate.id === comment.id)).toEqual(expect.objectContaining({ author: 'alice', body: 'Looking at it.' }));
    expect(view.comments.filter((candidate) => candidate.author === undefined).length).toBeGreaterThan(0);

    expect((await postComment(vigil.url, vigil.trackerToken, number, 'no name')).status).toBe(403);
    expect((await postComment(vigil.url, 'not-anyones-token-0123456789', number, 'who?')).status).toBe(401);
    expect((await postComment(vigil.url, alice, number, '   ')).status).toBe(400);
    expect((await postComment(vigil.url, alice, 9999, 'nowhere')).status).toBe(404);
    // A person's token reads the API too.
    expect((await vigil.read(`/v1/issues/${number}`)).status).toBe(200);
    expect((await fetch(`${vigil.url}/v1/issues`, { headers: { authorization: `Bearer ${bob}` } })).status).toBe(200);
  });

  it('answers a refused or unreadable command on the issue, after the comment', async () => {
    const refused = (await (await postComment(vigil.url, alice, number, accepting)).json()) as { comment: { id: string }; command: string };
    expect(refused.command).toBe('answered');
    expect(await answerTo(refused.comment.id)).toContain('alice may not accept a risk');
    const garbled = (await (await postComment(vigil.url, alice, number, '/vigil remediate')).json()) as { comment: { id: string }; command: string };
    expect(garbled.command).toBe('answered');
    expect(await answerTo(garbled.comment.id)).toContain('takes one plan');
    const comments = (await vigil.tracker.readIssue(number))!.comments;
    expect(comments.findIndex((comment) => comment.id === refused.comment.id)).toBeLessThan(comments.findIndex((comment) => comment.key === `response-answer/${refused.comment.id}`));
    expect(await acceptedOf(vigil, workflowId)).toBeUndefined();
  });

  it("takes comments from a person's login on the page, not from the tracker token's", async () => {
    const anonymous = await logIn(vigil.url, vigil.trackerToken);
    expect(await (await fetch(`${vigil.url}/issues`, { headers: { cookie: anonymous.cookie } })).text()).toContain('Log in with your own token');
    expect((await commentAsPage(vigil.url, anonymous, number, accepting)).status).toBe(403);

    const page = await logIn(vigil.url, bob);
    const html = await (await fetch(`${vigil.url}/issues`, { headers: { cookie: page.cookie } })).text();
    expect(html).toContain('Logged in as <b>bob</b>');
    expect(html).toContain(`action="/issues/${number}/comments"`);
    const posted = await commentAsPage(vigil.url, page, number, accepting);
    expect(posted.status).toBe(303);
    expect(await acceptedOf(vigil, workflowId)).toMatchObject({ by: 'bob', until: later });
    const stored = (await vigil.tracker.readIssue(number))!.comments.find((comment) => comment.author === 'bob');
    expect(stored?.body).toBe(accepting);
    expect(posted.headers.get('location')).toBe(`/issues#comment-${stored!.id}`);
    expect(await answerTo(stored!.id)).toBeUndefined();
    // Without the page's CSRF token, nothing.
    expect((await commentAsPage(vigil.url, { ...page, csrf: 'forged' }, number, 'x')).status).toBe(403);
  });

  it('answers 503 when Temporal cannot be reached, with the comment kept and the failure said on the issue', async () => {
    const away = await startTestVigil({
      tracker: { local: { people: [{ name: 'bob', token: bob }] } },
      response: { approvers: ['bob'] },
      intakeTemporalAddress: `127.0.0.1:${await getPort()}`,
    });
    try {
      const { issue } = await away.tracker.findOrCreateIssue({ fingerprint: 'away', workflowId: 'alert/generic/commands-away', title: 'Away', body: 'Away.', labels: [] });
      const answer = await postComment(away.url, bob, issue.number, accepting);
      expect(answer.status).toBe(503);
      const { comment } = (await answer.json()) as { comment: { id: string } };
      const comments = (await away.tracker.readIssue(issue.number))!.comments;
      expect(comments.find((stored) => stored.id === comment.id)).toMatchObject({ author: 'bob', body: accepting });
      expect(comments.find((stored) => stored.key === `response-answer/${comment.id}`)?.body).toContain('Temporal did not answer');
    } finally {
      await away.stop();
    }
  });

  it("counts wrong tokens at the comment API as guesses, and then refuses a person's right one too", async () => {
    // Ten wrong ones in the window are allowed (one was sent above): the next is refused.
    const statuses: number[] = [];
    while (!statuses.includes(429) && statuses.length < 11) statuses.push((await postComment(vigil.url, `wrong-token-${statuses.length}-0123456789`, number, 'x')).status);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((status) => status === 401)).toBe(true);
    expect((await postComment(vigil.url, alice, number, 'x')).status).toBe(429);
  });
});

describe('a plan asked for and approved from comments (moto as the AWS inventory, dry run)', () => {
  const account = '123456789012';
  const region = 'us-east-1';
  const alice = 'alice-token-for-plans-0123456789';
  const bob = 'bob-token-for-plans-0123456789';
  let moto: Moto;
  let vigil: TestVigil;
  let machine: Server;

  beforeAll(async () => {
    moto = await startMoto();
    // The worker's own credentials, as the default chain finds them (inventory and remediation alike).
    process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
    vigil = await startTestVigil({
      tracker: { local: { people: [{ name: 'alice', token: alice }, { name: 'bob', token: bob }] } },
      inventory: { aws: { accounts: [{ id: account, useOwnCredentials: true }], endpoint: moto.endpoint, maxAttempts: 2 } },
      response: { askers: ['alice'], approvers: ['alice', 'bob'], aws: { useOwnCredentials: true, endpoint: moto.endpoint, maxAttempts: 2 } },
    });
  });
  afterAll(async () => {
    await vigil?.stop();
    if (machine?.listening) await new Promise((resolve) => machine.close(resolve));
    await moto?.stop();
  });

  it('refuses self-approval with the reason on the issue, and carries the plan out on a second person\'s approval', async () => {
    // A machine with an Elastic IP (moto's are in 127.0.0.0/8) and a listener on it, behind a group open to the internet.
    const ec2 = new EC2Client({ region, endpoint: moto.endpoint, credentials: moto.credentials });
    const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const port = await getPort({ host: eip.PublicIp! });
    machine = createServer((socket) => socket.destroy()).listen(port, eip.PublicIp!);
    await once(machine, 'listening');
    const group = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'ssh-commands', Description: 'ssh from anywhere' }))).GroupId!;
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    const { Instances } = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, SecurityGroupIds: [group] }));
    await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: Instances![0]!.InstanceId }));

    const sent = await vigil.post('generic', {
      id: 'commands-plan-1',
      title: `Security group ${group} allows SSH from anywhere`,
      severity: 'low',
      cloud: { provider: 'aws', account, region },
      resources: [{ type: 'aws:ec2:security-group', id: group }],
      network: { cidrs: ['0.0.0.0/0'], ports: [port], protocol: 'tcp' },
    });
    expect(sent.status).toBe(202);
    const workflowId = 'alert/generic/commands-plan-1';
    const planState = async () => (await queryProgress(vigil.client, workflowId))?.response?.plans.find((status) => status.plan.id === 'p1')?.state;
    await eventually(async () => ((await planState()) === 'proposed' ? true : undefined), 90_000);
    const number = (await vigil.tracker.listIssues())[0]!.number;
    const answerTo = async (commentId: string) => (await vigil.tracker.readIssue(number))!.comments.find((comment) => comment.key === `response-answer/${commentId}`)?.body;
    const say = async (token: string, body: string) => (await (await postComment(vigil.url, token, number, body)).json()) as { comment: { id: string }; command: string };

    expect((await say(alice, '/vigil remediate p1')).command).toBe('delivered');
    expect(await planState()).toBe('requested');
    const selfApproved = await say(alice, '/vigil approve p1');
    expect(selfApproved.command).toBe('answered');
    expect(await answerTo(selfApproved.comment.id)).toContain('approval needs a second person: response.selfApproval is off');
    expect(await planState()).toBe('requested');

    const page = await logIn(vigil.url, bob);
    expect((await commentAsPage(vigil.url, page, number, 'Checked with the owner.\n\n/vigil approve p1')).status).toBe(303);
    await eventually(async () => ((await planState()) === 'executed' ? true : undefined), 60_000);
    const progress = await queryProgress(vigil.client, workflowId);
    expect(progress?.response?.plans[0]).toMatchObject({ requestedBy: 'alice', approvedBy: 'bob', execution: { outcome: 'dry-run' } });
  });
});
