// The inventory discovery end to end on real Temporal: an AWS organisation in moto (IAM authorization
// on), a main worker, the local tracker. A gap gets one issue, which closes once it heals and reopens
// when it comes back; a newly found account gets its re-scan schedule without a restart.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsInventory } from '../../activities/context/aws';
import { createAwsInventory } from '../../activities/context/aws/inventory';
import { createCoverageActivities, MAX_OPENED_PER_RUN, type FollowedScopes, type GapIssues, type ProviderCoverage, type ProviderDiscovery, type RescanFollower } from '../../activities/coverage';
import { createGitHubTracker } from '../../activities/tracker/github';
import { createLocalTracker } from '../../activities/tracker/local';
import type { Tracker } from '../../activities/tracker/types';
import { configSchema } from '../../lib/config';
import type { DiscoverySummary } from '../../workflows/discover-inventory';
import { applySchedules, DISCOVERY_SCHEDULE, rescanFollower, rescanScheduleId, runSchedulesNow } from '../../workers/schedules';
import { startFakeGitHub } from '../helpers/github-server';
import { createMotoOrganization, setMotoAuth, startMoto, type Moto, type MotoOrganization } from '../helpers/moto';
import { eventually, startTestVigil, type TestVigil } from '../helpers/vigil';

const REGION = 'us-east-1';
const READ = ['ec2:Describe*'];

let moto: Moto;
let org: MotoOrganization;
let vigil: TestVigil;
const ids = { workloads: '', ok: '', missing: '' };

beforeAll(async () => {
  moto = await startMoto();
  org = await createMotoOrganization(moto, REGION);
  ids.workloads = await org.ou('workloads');
  ids.ok = await org.account('covered', ids.workloads);
  ids.missing = await org.account('no-role-yet', ids.workloads);
  await org.role(ids.ok, 'VigilReadOnly', READ);
  await setMotoAuth(moto, true);
  // The worker's own credentials, as the default chain finds them: an IAM user of the management account.
  process.env.AWS_ACCESS_KEY_ID = org.worker.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = org.worker.secretAccessKey;
  vigil = await startTestVigil({
    inventory: { aws: { organization: { ous: [ids.workloads], regions: [REGION] }, endpoint: moto.endpoint, maxAttempts: 2 } },
  });
});

afterAll(async () => {
  await vigil?.stop();
  await moto?.stop();
});

let run = 0;
const discover = () =>
  vigil.client.workflow.execute('discoverInventory', {
    taskQueue: vigil.config.temporal.taskQueue,
    workflowId: `test-discovery-${++run}`,
  }) as Promise<DiscoverySummary>;

const none: GapIssues = { opened: 0, reopened: 0, open: 0, changed: 0, closed: 0, gone: 0, deferred: 0 };

const gapReason = (account: string) => `cannot assume role arn:aws:iam::${account}:role/VigilReadOnly (AccessDenied)`;

/** Every AWS re-scan schedule the server has, sorted. */
async function rescanIds(): Promise<string[]> {
  const found: string[] = [];
  for await (const { scheduleId } of vigil.client.schedule.list()) if (scheduleId.startsWith('vigil-rescan/aws/')) found.push(scheduleId);
  return found.sort();
}

/** The re-scan schedule of a scope, or undefined when there is none. */
const rescanSchedule = (scope: string) =>
  vigil.client.schedule
    .getHandle(rescanScheduleId({ provider: 'aws', scope }))
    .describe()
    .catch((err: unknown) => {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    });

describe('inventory discovery', () => {
  it('opens one issue per gap, closes it once healed and reopens it when it comes back; re-scans follow the accounts found', async () => {
    const first = await discover();
    // The organisation and its unit are rows of their own, beside the two accounts.
    expect(first.providers).toEqual([{ provider: 'aws', accounts: 4, ok: 3, scopes: 1 }]);
    expect(first.gaps).toEqual([{ provider: 'aws', account: ids.missing, reason: gapReason(ids.missing) }]);
    expect(first.issues).toEqual({ ...none, opened: 1 });
    const issue = (await vigil.tracker.findIssue(`coverage/aws/${ids.missing}`))!;
    expect(issue).toMatchObject({ state: 'open', title: `Coverage gap: aws ${ids.missing}`, labels: ['vigil', 'kind:coverage-gap'] });
    expect(issue.body).toContain(gapReason(ids.missing));
    expect(first.schedules.created).toEqual([rescanScheduleId({ provider: 'aws', scope: `${ids.ok}/${REGION}` })]);
    expect((await rescanSchedule(`${ids.ok}/${REGION}`))?.action).toMatchObject({ workflowType: 'rescanInventory', args: [{ provider: 'aws', scope: `${ids.ok}/${REGION}` }] });

    // Again: the same gap, the same issue.
    expect((await discover()).issues).toEqual({ ...none, open: 1 });

    // An account joins the organisation: its re-scan is scheduled by the next discovery, the worker still running.
    const joined = await org.withoutAuth(async () => {
      const id = await org.account('joined', ids.workloads);
      await org.role(id, 'VigilReadOnly', READ);
      return id;
    });
    const third = await discover();
    expect(third.schedules.created).toEqual([rescanScheduleId({ provider: 'aws', scope: `${joined}/${REGION}` })]);
    expect(await rescanSchedule(`${joined}/${REGION}`)).toBeDefined();

    // The role is made: the gap heals, its issue is closed with a comment saying so.
    await org.withoutAuth(() => org.role(ids.missing, 'VigilReadOnly', READ));
    const healed = await discover();
    expect(healed.gaps).toEqual([]);
    expect(healed.issues).toEqual({ ...none, closed: 1 });
    const closed = (await vigil.tracker.readIssue(issue.number))!;
    expect(closed.state).toBe('closed');
    expect(closed.comments.map((comment) => comment.body)).toEqual([expect.stringMatching(/^Healed: the discovery of `.+` read it\. Closed by Vigil\.$/)]);
    expect(await rescanSchedule(`${ids.missing}/${REGION}`)).toBeDefined();

    // The role loses its permissions: the same issue reopens, and says why now.
    await org.withoutAuth(() => org.revokeRole(ids.missing, 'VigilReadOnly'));
    expect((await discover()).issues).toEqual({ ...none, reopened: 1 });
    const reopened = (await vigil.tracker.readIssue(issue.number))!;
    expect(reopened.state).toBe('open');
    expect(reopened.comments.at(-1)!.body).toContain('access denied (AccessDenied)');
    expect(reopened.body).toContain('access denied (AccessDenied)');
    expect((await vigil.tracker.listIssues()).map((listed) => listed.number)).toEqual([issue.number]);
  });

  it('is scheduled, runs once when the schedules are applied at start, and leaves the discovered re-scans to the discovery', async () => {
    const { applied, deleted } = await applySchedules(vigil.client, vigil.config);
    expect(applied).toContainEqual({ id: DISCOVERY_SCHEDULE, every: '1h' });
    // The scopes found by discovery are not the configuration's, and stay.
    expect(deleted).toEqual([]);
    expect(await rescanSchedule(`${ids.ok}/${REGION}`)).toBeDefined();

    await runSchedulesNow(vigil.client, vigil.config);
    const completed = await eventually(async () => {
      const handle = vigil.client.schedule.getHandle(DISCOVERY_SCHEDULE);
      const action = (await handle.describe()).info.recentActions.at(-1);
      if (!action) return undefined;
      const description = await vigil.client.workflow.getHandle(action.action.workflow.workflowId).describe();
      return description.status.name === 'COMPLETED' ? description : undefined;
    }, 60_000);
    expect(completed.type).toBe('discoverInventory');
  });

  it('deletes the re-scans of an account excluded or gone, none of an account it cannot read, and none at all when the organisation cannot be listed, in a fresh worker too', async () => {
    // A worker's activities as a fresh process has them: a provider that has discovered nothing yet.
    const fresh = (organization: Record<string, unknown>) =>
      createCoverageActivities({
        inventory: [createAwsInventory(awsInventory.settings.parse({ organization, endpoint: moto.endpoint, maxAttempts: 2 }), { credentials: org.worker })],
        tracker: vigil.tracker,
        labels: vigil.config.tracker.labels,
        rescans: rescanFollower(vigil.client, vigil.config),
      });
    const follow = async (organization: Record<string, unknown>) => {
      const activities = fresh(organization);
      const env = new MockActivityEnvironment();
      const coverage = (await env.run(activities.discoverCoverage)) as ProviderDiscovery[];
      return { coverage: coverage as ProviderCoverage[], followed: (await env.run(activities.followRescanScopes, { coverage })) as FollowedScopes };
    };
    const scopeOf = (account: string) => `${account}/${REGION}`;
    const settings = { ous: [ids.workloads], regions: [REGION] };
    // Both accounts have re-scans from the first test (the one without a role has lost its permissions since).
    for (const account of [ids.ok, ids.missing]) expect(await rescanSchedule(scopeOf(account))).toBeDefined();

    // An account that cannot be read keeps its re-scan, though this process never learnt its regions.
    const unreadable = await follow(settings);
    expect(unreadable.coverage[0]!.gaps).toEqual([{ provider: 'aws', account: ids.missing, reason: 'access denied (AccessDenied)' }]);
    expect(unreadable.followed.deleted).toEqual([]);
    expect(await rescanSchedule(scopeOf(ids.missing))).toBeDefined();

    // An account excluded is no longer re-scanned; once it is back, it is again.
    const excluded = await follow({ ...settings, exclude: [ids.ok] });
    expect(excluded.followed.deleted).toEqual([rescanScheduleId({ provider: 'aws', scope: scopeOf(ids.ok) })]);
    expect(await rescanSchedule(scopeOf(ids.ok))).toBeUndefined();
    expect((await follow(settings)).followed).toEqual({ created: [rescanScheduleId({ provider: 'aws', scope: scopeOf(ids.ok) })], deleted: [] });
    // A schedule already as configured is left untouched, not rewritten every run.
    const updatedAt = async () => (await rescanSchedule(scopeOf(ids.ok)))!.info.lastUpdatedAt?.getTime();
    const untouched = await updatedAt();
    await follow(settings);
    expect(await updatedAt()).toBe(untouched);

    // The worker loses organizations:List* and restarts: every re-scan stays, and the accounts they name are still read.
    await org.withoutAuth(async () => {
      const { IAMClient, PutUserPolicyCommand } = await import('@aws-sdk/client-iam');
      const iam = new IAMClient({ region: REGION, endpoint: moto.endpoint, credentials: moto.credentials });
      const statement = [{ Effect: 'Allow', Action: ['ec2:Describe*', 'sts:AssumeRole'], Resource: '*' }];
      await iam.send(new PutUserPolicyCommand({ UserName: 'vigil-worker', PolicyName: 'vigil', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statement }) }));
    });
    const before = await rescanIds();
    const refused = await follow(settings);
    expect(refused.coverage[0]!.incomplete).toBe(true);
    expect(refused.coverage[0]!.accounts.find((account) => account.id === ids.ok)).toMatchObject({ state: 'ok' });
    expect(refused.followed.deleted).toEqual([]);
    expect(await rescanIds()).toEqual(before);
    expect(before).toContain(rescanScheduleId({ provider: 'aws', scope: scopeOf(ids.ok) }));
    // Whatever an incomplete report leaves out, nothing is deleted for it.
    const { followRescanScopes } = fresh(settings);
    const incomplete: ProviderCoverage = { provider: 'aws', accounts: [], gaps: [], scopes: [], incomplete: true };
    expect(await new MockActivityEnvironment().run(followRescanScopes, { coverage: [incomplete] })).toEqual({ created: [], deleted: [] });
    expect(await rescanIds()).toEqual(before);
  });
});

/** Reporting gaps touches no schedule. */
const noRescans: RescanFollower = {
  follow: () => Promise.reject(new Error('reporting gaps touches no schedule')),
  known: () => Promise.reject(new Error('reporting gaps touches no schedule')),
};

describe('coverage-gap issues of accounts and of their regions', () => {
  let root: string;
  let tracker: ReturnType<typeof createLocalTracker>;
  let runs = 0;
  const [a, b] = ['111111111111', '222222222222'];
  const denied = (account: string, region: string, why = 'UnauthorizedOperation') => ({ provider: 'aws', account, region, reason: `cannot read ${region}: access denied (${why})` });
  const aws = (gaps: ProviderCoverage['gaps'], more: Partial<ProviderCoverage> = {}, ids = [a, b]): ProviderCoverage => ({
    provider: 'aws',
    accounts: ids.map((id) => ({ provider: 'aws', id, name: null, state: gaps.some((gap) => gap.account === id) ? 'gap' : 'ok', lastRead: null })),
    gaps,
    scopes: ids.flatMap((id) => [`${id}/us-east-1`, `${id}/eu-west-3`]),
    ...more,
  });
  const report = (...coverage: ProviderDiscovery[]) => {
    const { reportCoverageGaps } = createCoverageActivities({ inventory: [], tracker, labels: configSchema.parse({}).tracker.labels, rescans: noRescans });
    runs += 1;
    return new MockActivityEnvironment().run(reportCoverageGaps, { coverage, workflowId: `discovery-${runs}`, discoveredAt: `2026-12-01T00:${String(runs).padStart(2, '0')}:00.000Z` }) as Promise<GapIssues>;
  };
  const issue = async (fingerprint: string) => (await tracker.findIssue(fingerprint))!;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'vigil-coverage-'));
    tracker = createLocalTracker({ root });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('keeps one issue per account for its regions, current as they change, closed once read, but not while the whole account cannot be', async () => {
    expect(await report(aws([denied(a, 'eu-west-3'), denied(b, 'us-east-1'), denied(b, 'eu-west-3')]))).toEqual({ ...none, opened: 2 });
    const bRegions = await issue(`coverage/aws/${b}/regions`);
    expect(bRegions).toMatchObject({ state: 'open', title: `Coverage gap: regions of aws ${b}` });
    expect(bRegions.body).toContain('these 2 regions');
    expect(bRegions.body).toContain('- `us-east-1`: `cannot read us-east-1: access denied (UnauthorizedOperation)`');

    // One of b's regions is read now, the other refused otherwise: the body says so, a comment says it changed.
    expect(await report(aws([denied(a, 'eu-west-3'), denied(b, 'us-east-1', 'OptInRequired')]))).toEqual({ ...none, open: 1, changed: 1 });
    const changed = await issue(`coverage/aws/${b}/regions`);
    expect(changed.body).toContain('this region');
    expect(changed.body).not.toContain('eu-west-3');
    expect(changed.comments.map((comment) => comment.body)).toEqual([expect.stringMatching(/^Changed \(`.+`\): now `cannot read us-east-1: access denied \(OptInRequired\)`/)]);

    // a's region is read now; b cannot be read at all, so its regions issue says nothing new and stays open.
    expect(await report(aws([{ provider: 'aws', account: b, reason: 'cannot assume role (AccessDenied)' }]))).toEqual({ ...none, opened: 1, closed: 1 });
    expect([(await issue(`coverage/aws/${a}/regions`)).state, (await issue(`coverage/aws/${b}/regions`)).state, (await issue(`coverage/aws/${b}`)).state]).toEqual([
      'closed',
      'open',
      'open',
    ]);

    // Everything read: every gap issue closed, each once.
    expect(await report(aws([]))).toEqual({ ...none, closed: 2 });
    expect(await report(aws([]))).toEqual(none);
    expect((await tracker.listIssues()).map((listed) => [listed.fingerprint, listed.state, listed.comments.at(-1)!.body])).toEqual([
      [`coverage/aws/${a}/regions`, 'closed', expect.stringMatching(/^Healed/)],
      [`coverage/aws/${b}/regions`, 'closed', expect.stringMatching(/^Healed/)],
      [`coverage/aws/${b}`, 'closed', expect.stringMatching(/^Healed/)],
    ]);
  });

  it('closes the issue of a place no longer covered, unless the listing was incomplete, the account unread this time or its provider failed', async () => {
    const gap = (account: string) => ({ provider: 'aws', account, reason: 'cannot assume role (AccessDenied)' });
    expect(await report(aws([gap(a), gap(b)]), { provider: 'gcp', accounts: [], gaps: [{ provider: 'gcp', account: 'locked', reason: 'cannot list its assets (PERMISSION_DENIED)' }], scopes: [] })).toEqual({
      ...none,
      opened: 3,
    });

    // a leaves the organisation, but the listing was incomplete (a unit refused); b is unread this time; GCP failed.
    const unsure = aws([], { incomplete: true, unsettled: [b] }, [b]);
    expect(await report(unsure, { provider: 'gcp', failed: 'InternalError: boom' })).toEqual(none);
    expect((await tracker.listIssues()).map((listed) => listed.state)).toEqual(['open', 'open', 'open']);

    // Listed whole: a has left, b is read; GCP finds no such project any more.
    expect(await report(aws([], {}, [b]), { provider: 'gcp', accounts: [], gaps: [], scopes: [] })).toEqual({ ...none, closed: 1, gone: 2 });
    expect((await tracker.listIssues()).map((listed) => [listed.fingerprint, listed.state, listed.comments.at(-1)!.body])).toEqual([
      [`coverage/aws/${a}`, 'closed', expect.stringMatching(/^No longer covered: /)],
      [`coverage/aws/${b}`, 'closed', expect.stringMatching(/^Healed/)],
      ['coverage/gcp/locked', 'closed', expect.stringMatching(/^No longer covered: /)],
    ]);
  });

  it(`opens at most ${MAX_OPENED_PER_RUN} issues a run, the rest the next run`, async () => {
    const ids = Array.from({ length: MAX_OPENED_PER_RUN + 5 }, (_, i) => String(300000000000 + i));
    const coverage = aws(ids.map((id) => ({ provider: 'aws', account: id, reason: 'cannot assume role (AccessDenied)' })), {}, ids);
    expect(await report(coverage)).toEqual({ ...none, opened: MAX_OPENED_PER_RUN, deferred: 5 });
    expect(await report(coverage)).toEqual({ ...none, opened: 5, open: MAX_OPENED_PER_RUN });
    expect(await tracker.listIssues()).toHaveLength(ids.length);
  });
});

describe('coverage-gap issues on GitHub', () => {
  it('lists the open gap issues once a run instead of looking each place up, and closes a healed one', async () => {
    const token = 'ghp_test0123456789abcdefghijklmnopqrstuv';
    const github = await startFakeGitHub({ tokens: [token] });
    const repo = github.addRepo('acme', 'security');
    try {
      const labels = configSchema.parse({}).tracker.labels;
      const tracker: Tracker = createGitHubTracker({ owner: 'acme', repo: 'security', baseUrl: github.url, auth: { token: { env: 'VIGIL_TEST_GITHUB_TOKEN' } }, evidence: { kind: 'branch', branch: 'vigil-evidence' } }, labels, {
        env: { VIGIL_TEST_GITHUB_TOKEN: token },
        retryBaseDelayMs: 10,
        writeIntervalMs: 0,
        notifyingWriteIntervalMs: 0,
      });
      const { reportCoverageGaps } = createCoverageActivities({ inventory: [], tracker, labels, rescans: noRescans });
      const ids = ['111111111111', '222222222222', '333333333333'];
      const gap = (account: string) => ({ provider: 'aws', account, reason: 'cannot assume role (AccessDenied)' });
      const coverage = (gaps: ProviderCoverage['gaps']): ProviderCoverage[] => [
        { provider: 'aws', accounts: ids.map((id) => ({ provider: 'aws', id, name: null, state: gaps.some((one) => one.account === id) ? 'gap' : 'ok', lastRead: null })), gaps, scopes: ids.map((id) => `${id}/us-east-1`) },
      ];
      const report = (run: number, gaps: ProviderCoverage['gaps']) =>
        new MockActivityEnvironment().run(reportCoverageGaps, { coverage: coverage(gaps), workflowId: `discovery-${run}`, discoveredAt: '2026-12-01T00:00:00.000Z' }) as Promise<GapIssues>;
      const listings = () => github.count('GET', '/repos/{owner}/{repo}/issues');

      expect(await report(1, ids.map(gap))).toMatchObject({ opened: 3 });
      // Nothing changed: one listing, not a lookup per place (nor per place read), and nothing written.
      const [listed, sent] = [listings(), github.requests.length];
      expect(await report(2, ids.map(gap))).toEqual({ ...none, open: 3 });
      expect(listings() - listed).toBe(1);
      expect(github.requests.length - sent).toBe(1);

      expect(await report(3, ids.slice(1).map(gap))).toEqual({ ...none, open: 2, closed: 1 });
      expect([...repo.issues.values()].map((one) => one.state)).toEqual(['closed', 'open', 'open']);
      expect(await tracker.findIssue('coverage/aws/111111111111')).toMatchObject({ state: 'closed' });
      expect(github.problems).toEqual([]);
    } finally {
      await github.close();
    }
  });
});
