// The inventory discovery end to end on real Temporal: an AWS organisation in moto (IAM authorization
// on), a main worker, the local tracker. A gap gets one issue, which closes once it heals and reopens
// when it comes back; a newly found account gets its re-scan schedule without a restart.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCoverageActivities, type GapIssues, type ProviderCoverage } from '../../activities/coverage';
import { createGitHubTracker } from '../../activities/tracker/github';
import { createLocalTracker } from '../../activities/tracker/local';
import type { Tracker } from '../../activities/tracker/types';
import { configSchema } from '../../lib/config';
import type { DiscoverySummary } from '../../workflows/discover-inventory';
import { applySchedules, DISCOVERY_SCHEDULE, rescanScheduleId, runSchedulesNow } from '../../workers/schedules';
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

const gapReason = (account: string) => `cannot assume role arn:aws:iam::${account}:role/VigilReadOnly (AccessDenied)`;

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
    expect(first.providers).toEqual([{ provider: 'aws', accounts: 2, ok: 1, scopes: 1 }]);
    expect(first.gaps).toEqual([{ provider: 'aws', account: ids.missing, reason: gapReason(ids.missing) }]);
    expect(first.issues).toEqual({ opened: 1, reopened: 0, open: 0, closed: 0 });
    const issue = (await vigil.tracker.findIssue(`coverage/aws/${ids.missing}`))!;
    expect(issue).toMatchObject({ state: 'open', title: `Coverage gap: aws ${ids.missing}: ${gapReason(ids.missing)}`, labels: ['vigil', 'kind:coverage-gap'] });
    expect(first.schedules.created).toEqual([rescanScheduleId({ provider: 'aws', scope: `${ids.ok}/${REGION}` })]);
    expect((await rescanSchedule(`${ids.ok}/${REGION}`))?.action).toMatchObject({ workflowType: 'rescanInventory', args: [{ provider: 'aws', scope: `${ids.ok}/${REGION}` }] });

    // Again: the same gap, the same issue.
    expect((await discover()).issues).toEqual({ opened: 0, reopened: 0, open: 1, closed: 0 });

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
    expect(healed.issues).toEqual({ opened: 0, reopened: 0, open: 0, closed: 1 });
    const closed = (await vigil.tracker.readIssue(issue.number))!;
    expect(closed.state).toBe('closed');
    expect(closed.comments.map((comment) => comment.body)).toEqual([expect.stringMatching(/^Healed: the discovery of `.+` read it\. Closed by Vigil\.$/)]);
    expect(await rescanSchedule(`${ids.missing}/${REGION}`)).toBeDefined();

    // The role loses its permissions: the same issue reopens, and says why now.
    await org.withoutAuth(() => org.revokeRole(ids.missing, 'VigilReadOnly'));
    expect((await discover()).issues).toEqual({ opened: 0, reopened: 1, open: 0, closed: 0 });
    const reopened = (await vigil.tracker.readIssue(issue.number))!;
    expect(reopened.state).toBe('open');
    expect(reopened.comments.at(-1)!.body).toContain('access denied (AccessDenied)');
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
});

describe('coverage-gap issues of accounts and of their regions', () => {
  it('closes a region’s issue once the region is read, but not while its whole account cannot be', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'vigil-coverage-'));
    const tracker = createLocalTracker({ root });
    const { reportCoverageGaps } = createCoverageActivities({
      inventory: [],
      tracker,
      labels: configSchema.parse({}).tracker.labels,
      followScopes: () => Promise.reject(new Error('reporting gaps touches no schedule')),
    });
    const [a, b] = ['111111111111', '222222222222'];
    const report = (runId: number, gaps: ProviderCoverage['gaps']) =>
      new MockActivityEnvironment().run(reportCoverageGaps, {
        coverage: [
          {
            provider: 'aws',
            accounts: [a, b].map((id) => ({ provider: 'aws', id, state: gaps.some((gap) => gap.account === id) ? 'gap' : 'ok' })),
            gaps,
            scopes: [`${a}/us-east-1`, `${a}/eu-west-3`, `${b}/us-east-1`],
          },
        ],
        workflowId: `discovery-${runId}`,
        discoveredAt: `2026-12-01T0${runId}:00:00.000Z`,
      }) as Promise<GapIssues>;
    const state = async (fingerprint: string) => (await tracker.findIssue(fingerprint))?.state;
    try {
      const denied = (account: string, region: string) => ({ provider: 'aws', account, region, reason: `cannot read ${region}: access denied (UnauthorizedOperation)` });
      expect(await report(1, [denied(a, 'eu-west-3'), denied(b, 'us-east-1')])).toEqual({ opened: 2, reopened: 0, open: 0, closed: 0 });
      expect(await state(`coverage/aws/${a}/eu-west-3`)).toBe('open');

      // a's region is read now; b cannot be read at all, so its region's issue says nothing new and stays open.
      expect(await report(2, [{ provider: 'aws', account: b, reason: 'cannot assume role (AccessDenied)' }])).toEqual({ opened: 1, reopened: 0, open: 0, closed: 1 });
      expect([await state(`coverage/aws/${a}/eu-west-3`), await state(`coverage/aws/${b}/us-east-1`), await state(`coverage/aws/${b}`)]).toEqual(['closed', 'open', 'open']);

      // Everything read: every gap issue closed, each once.
      expect(await report(3, [])).toEqual({ opened: 0, reopened: 0, open: 0, closed: 2 });
      expect(await report(3, [])).toEqual({ opened: 0, reopened: 0, open: 0, closed: 0 });
      expect((await tracker.listIssues()).map((issue) => [issue.fingerprint, issue.state, issue.comments.length])).toEqual([
        [`coverage/aws/${a}/eu-west-3`, 'closed', 1],
        [`coverage/aws/${b}/us-east-1`, 'closed', 1],
        [`coverage/aws/${b}`, 'closed', 1],
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('coverage-gap issues on GitHub', () => {
  it('finds a gap’s issue by fingerprint to close it once healed, creating nothing', async () => {
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
      expect(await tracker.findIssue('coverage/aws/111111111111')).toBeUndefined();
      const { reportCoverageGaps } = createCoverageActivities({ inventory: [], tracker, labels, followScopes: () => Promise.reject(new Error('not here')) });
      const coverage = (gaps: ProviderCoverage['gaps']): ProviderCoverage[] => [
        { provider: 'aws', accounts: [{ provider: 'aws', id: '111111111111', state: gaps.length ? 'gap' : 'ok' }], gaps, scopes: ['111111111111/us-east-1'] },
      ];
      const report = (run: number, gaps: ProviderCoverage['gaps']) =>
        new MockActivityEnvironment().run(reportCoverageGaps, { coverage: coverage(gaps), workflowId: `discovery-${run}`, discoveredAt: '2026-12-01T00:00:00.000Z' }) as Promise<GapIssues>;

      expect(await report(1, [{ provider: 'aws', account: '111111111111', reason: 'cannot assume role (AccessDenied)' }])).toMatchObject({ opened: 1 });
      expect(await tracker.findIssue('coverage/aws/111111111111')).toMatchObject({ state: 'open', labels: expect.arrayContaining(['vigil', 'kind:coverage-gap']) });
      expect(await report(2, [])).toMatchObject({ closed: 1 });
      expect([...repo.issues.values()].map((issue) => issue.state)).toEqual(['closed']);
      expect(await tracker.findIssue('coverage/aws/111111111111')).toMatchObject({ state: 'closed' });
      expect(github.problems).toEqual([]);
    } finally {
      await github.close();
    }
  });
});
