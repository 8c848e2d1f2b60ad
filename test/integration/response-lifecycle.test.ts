// The response's lifecycle on the time-skipping test server: commands sent as intake sends them
// (the `responseCommand` update, keyed by the comment), refused by the validator with the reason or
// acted on by the investigation's main loop, whose timers expire a request not approved in time and
// end an accepted risk. Real probes of real loopback listeners, the real local tracker, and moto as
// the AWS inventory and the remediation's cloud.
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AllocateAddressCommand, AssociateAddressCommand, AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localTrackerRoot } from '../../activities/tracker';
import { createLocalTracker } from '../../activities/tracker/local';
import type { NormalizedAlert } from '../../lib/alert';
import { configSchema } from '../../lib/config';
import { alertReceived, progressQuery, type InvestigationProgress } from '../../lib/investigation';
import { createLogger } from '../../lib/logger';
import { responseCommand, type ResponseCommand, type ResponseRequest } from '../../lib/response';
import { createMainWorker } from '../../workers/main-worker';
import { startMoto, type Moto } from '../helpers/moto';
import { startMotoFront } from '../helpers/moto-front';
import { queryPatiently, timeSkippingServerPerTest } from '../helpers/time-skipping';
import { loopbackOnlyProbes } from '../helpers/vigil';

const timeSkipping = timeSkippingServerPerTest();

async function listener(host = '127.0.0.1', port = 0): Promise<Server> {
  const server = createServer((socket) => socket.destroy()).listen(port, host);
  await once(server, 'listening');
  return server;
}
const close = (server: Server) => new Promise((resolve) => server.close(resolve));

interface Investigation {
  handle: WorkflowHandle;
  dataDir: string;
  comments(): Promise<string[]>;
  labels(): Promise<string[]>;
  state(): Promise<'open' | 'closed'>;
  progress(): Promise<InvestigationProgress>;
  /** A comment's command as intake delivers it: the update, with the comment's id as its id. */
  command(command: ResponseCommand, author: string, roles: ResponseRequest['roles'], selfApproval?: boolean): Promise<string>;
  stop(): Promise<void>;
}

let sequence = 0;

/** An exposure alert's investigation, with the main worker set up as `vigil` sets it up. */
async function investigate(settings: Record<string, unknown>, alert: Omit<NormalizedAlert, 'archive' | 'fingerprint' | 'source' | 'kind' | 'actors'>, cleanup: () => Promise<void>): Promise<Investigation> {
  sequence += 1;
  const dataDir = String(settings.dataDir);
  const config = configSchema.parse({
    temporal: { taskQueue: `response-${sequence}` },
    probe: { ...loopbackOnlyProbes, connectTimeoutMs: 500, serviceTimeoutMs: 1000 },
    screenshots: { enabled: false },
    // No related investigation to wait for: correlation is tested on its own.
    correlation: { settleMs: 0 },
    ...settings,
  });
  const worker: Worker = await createMainWorker({
    config,
    connection: timeSkipping.env.nativeConnection,
    client: timeSkipping.env.client,
    logger: createLogger('response-test', 'silent'),
    workflowBundle: { code: inject('workflowBundleCode') },
  });
  const running = worker.run();
  timeSkipping.adopt(worker, running);
  const workflowId = `alert/generic/response-${sequence}`;
  await timeSkipping.env.client.workflow.signalWithStart('investigateAlert', {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    signal: alertReceived,
    signalArgs: [
      {
        ...alert,
        source: 'generic',
        kind: 'exposure',
        fingerprint: `response-${sequence}`,
        actors: { ips: [], domains: [], principals: [], userAgents: [] },
        archive: { id: `2026/12/01/generic/${sequence}`, sha256: `response-${sequence}`, receivedAt: '2026-12-01T10:00:00Z' },
      } satisfies NormalizedAlert,
    ],
  });
  const tracker = createLocalTracker({ root: localTrackerRoot(config) });
  const handle = timeSkipping.env.client.workflow.getHandle(workflowId);
  let comment = 0;
  return {
    handle,
    dataDir,
    comments: async () => ((await tracker.readIssue(1))?.comments ?? []).map((stored) => stored.body),
    labels: async () => (await tracker.getIssue(1)).labels,
    state: async () => (await tracker.getIssue(1)).state,
    progress: () => queryPatiently(timeSkipping.env.client, handle, progressQuery),
    async command(command, author, roles, selfApproval = false) {
      comment += 1;
      const commentId = `${sequence}0${comment}`;
      const request: ResponseRequest = { command, author, roles, selfApproval, commentId, commentUrl: `http://127.0.0.1/issues/1#comment-${commentId}` };
      try {
        return (await handle.executeUpdate(responseCommand, { args: [request], updateId: `comment-${commentId}` })).said;
      } catch (err) {
        // The refusal as intake says it on the issue: the validator's reason.
        if (err instanceof WorkflowUpdateFailedError) throw new Error(`refused: ${err.cause?.message}`, { cause: err });
        throw err;
      }
    },
    async stop() {
      worker.shutdown();
      await running;
      await cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits (in real time: time-skipping is locked while nothing awaits a result) for a condition. */
async function until<T>(what: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await what().catch(() => undefined);
    if (value !== undefined && accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const headings = (comments: string[]) => comments.map((body) => body.split('\n')[0]!);
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const DAY_MS = 24 * 60 * 60_000;

const asker = { ask: true, approve: false };
const approver = { ask: false, approve: true };
const nobody = { ask: false, approve: false };

describe('an accepted risk', () => {
  it('closes the issue and silences the watch until the end of its day, then reopens the issue and re-checks at once', async () => {
    const server = await listener();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-response-'));
    const inventory = path.join(dataDir, 'inventory.yaml');
    await writeFile(inventory, JSON.stringify({ resources: [{ id: 'vm-bastion', addresses: ['127.0.0.1'], refs: ['sg-bastion'], open: [{ ports: (server.address() as AddressInfo).port }] }] }));
    const investigation = await investigate(
      { dataDir, inventory: { static: { files: [inventory] } } },
      {
        title: 'Security group sg-bastion open to the internet',
        severity: 'high',
        resources: [{ type: 'aws:ec2:security-group', id: 'sg-bastion' }],
        network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [], protocol: 'tcp' },
      },
      () => close(server).then(() => undefined),
    );
    try {
      const first = await until(investigation.progress, (progress) => progress.firstReportComplete === true && progress.exposure === 'open');
      expect(first.watch?.state).toBe('watching');
      // The workflow's clock (the test server's, skipped ahead by earlier tests).
      const today = Date.parse(first.lastCheck!);
      // Two days on: still ahead whenever in the day the commands land.
      const lastDay = day(today + 2 * DAY_MS);

      // Refused, each with its reason: not an approver, a day past, a plan that was never proposed.
      const accept = (until: string) => ({ verb: 'accept', reason: 'the bastion host: SSH from anywhere by design', until }) as const;
      await expect(investigation.command(accept(lastDay), 'carol', asker)).rejects.toThrow('refused: carol may not accept a risk: only the people in response.approvers may');
      await expect(investigation.command(accept(day(today - DAY_MS)), 'bob', approver)).rejects.toThrow(`is past: a risk is accepted until today (${day(today)}) or a later day`);
      await expect(investigation.command({ verb: 'remediate', plan: 'p1' }, 'alice', asker)).rejects.toThrow('refused: there is no plan p1: no plan has been proposed here');

      expect(await investigation.command(accept(lastDay), 'bob', approver)).toBe(`risk accepted by bob until ${lastDay}: the issue closes and the watch is silent until then`);
      await until(investigation.state, (state) => state === 'closed');
      expect(await investigation.labels()).toContain('risk:accepted');
      const accepted = (await investigation.comments()).find((body) => body.startsWith('### Risk accepted'));
      expect(accepted).toContain(`### Risk accepted until ${lastDay} by @bob`);
      expect(accepted).toContain('The command: `http://127.0.0.1/issues/1#comment-');
      expect(await readdir(path.join(dataDir, 'accepted-risks'))).toHaveLength(1);
      const audited = await readdir(path.join(dataDir, 'audit'), { recursive: true });
      expect(audited.some((file) => /risk-accepted-.*\.json$/.test(file))).toBe(true);

      // A day later (six re-checks' worth for a high alert): not one re-check, the issue still closed.
      await timeSkipping.env.sleep('1d');
      const silent = await investigation.progress();
      expect(silent.watch).toMatchObject({ state: 'watching', checks: 0 });
      expect(silent.response?.accepted).toMatchObject({ by: 'bob', until: lastDay });
      expect(await investigation.state()).toBe('closed');
      expect(headings(await investigation.comments()).filter((heading) => heading.startsWith('### Re-check') || heading === '### No longer watched')).toEqual([]);
      expect((await investigation.handle.describe()).status.name).toBe('RUNNING');

      // A minute past the end of that day (UTC): the issue reopens, the label goes, and the watch looks
      // at once (its next timed re-check would be 4 h on).
      const endsMs = Date.parse(`${lastDay}T00:00:00Z`) + DAY_MS;
      await timeSkipping.env.sleep(endsMs - (today + DAY_MS) + 60_000);
      await until(investigation.state, (state) => state === 'open');
      const after = await until(investigation.progress, (progress) => (progress.watch?.checks ?? 0) >= 1);
      expect(after.watch).toMatchObject({ state: 'watching', checks: 1 });
      // The watch starts over from the end of the acceptance (the workflow's clock, on its timer).
      expect(after.watch!.since.slice(0, 16)).toBe(new Date(endsMs).toISOString().slice(0, 16));
      expect(after.response?.accepted).toBeUndefined();
      expect(await investigation.labels()).not.toContain('risk:accepted');
      expect(await readdir(path.join(dataDir, 'accepted-risks'))).toEqual([]);
      const ended = (await investigation.comments()).find((body) => body.startsWith('### Accepted risk expired'));
      expect(ended).toContain(`until ${lastDay}`);
    } finally {
      await investigation.stop();
    }
  });
});

describe('plans on a machine behind a security group (moto)', () => {
  let moto: Moto;
  let ec2: EC2Client;
  const account = '123456789012';
  const region = 'us-east-1';

  beforeAll(async () => {
    moto = await startMoto();
    ec2 = new EC2Client({ region, endpoint: moto.endpoint, credentials: moto.credentials });
    // The worker's own credentials, as the default chain finds them (inventory and remediation alike).
    process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
  });
  afterAll(async () => {
    await moto?.stop();
  });

  /**
   * A machine with an Elastic IP (moto's are in 127.0.0.0/8) and a listener on it, behind a group
   * whose rule opens the listener's port to the internet; an investigation of the group's alert.
   */
  async function exposedMachine(response: Record<string, unknown>, awsEndpoint = moto.endpoint) {
    const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const address = eip.PublicIp!;
    const port = await getPort({ host: address });
    const machine = { server: await listener(address, port), address, port };
    const group = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: `ssh-${sequence + 1}`, Description: 'ssh from anywhere' }))).GroupId!;
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    const { Instances } = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, SecurityGroupIds: [group] }));
    await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: Instances![0]!.InstanceId }));
    const investigation = await investigate(
      {
        dataDir: await mkdtemp(path.join(os.tmpdir(), 'vigil-response-')),
        inventory: { aws: { accounts: [{ id: account, useOwnCredentials: true }], endpoint: moto.endpoint, maxAttempts: 2 } },
        response: { askers: ['alice', 'carol'], approvers: ['bob'], ...response, aws: { useOwnCredentials: true, endpoint: awsEndpoint, maxAttempts: 2 } },
      },
      {
        title: `Security group ${group} allows SSH from anywhere`,
        // A low alert: re-checked once a day, so the days below hold few re-checks.
        severity: 'low',
        cloud: { provider: 'aws', account, region },
        resources: [{ type: 'aws:ec2:security-group', id: group }],
        network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: port, to: port }], protocol: 'tcp' },
      },
      async () => {
        if (machine.server.listening) await close(machine.server);
      },
    );
    return { investigation, machine, group, endpoint: `${address}:${port}` };
  }

  /** The group's ingress rules open to the internet, as EC2 has them now. */
  const openRules = async (group: string) => {
    const { DescribeSecurityGroupRulesCommand } = await import('@aws-sdk/client-ec2');
    const { SecurityGroupRules = [] } = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [group] }] }));
    return SecurityGroupRules.filter((rule) => !rule.IsEgress && rule.CidrIpv4 === '0.0.0.0/0');
  };

  const stateOf = (progress: InvestigationProgress, plan = 'p1') => progress.response?.plans.find((status) => status.plan.id === plan)?.state;

  it('refuses what roles and states do not allow, expires a request not approved in time, cancels, and carries a plan out in dry run', async () => {
    const { investigation, group, endpoint } = await exposedMachine({ planTtl: '2h' });
    try {
      const proposed = await until(investigation.progress, (progress) => (progress.response?.plans.length ?? 0) > 0);
      expect(proposed.openEndpoints).toContain(endpoint);
      expect(proposed.response!.plans[0]).toMatchObject({ state: 'proposed', plan: { id: 'p1', action: { kind: 'aws-revoke-ingress', groupId: group } } });
      await until(investigation.comments, (comments) => headings(comments).includes('### Proposed remediation'));

      // Not someone who may ask; a plan not asked for; then asked for, and approved neither by the asker nor by an asker.
      await expect(investigation.command({ verb: 'remediate', plan: 'p1' }, 'mallory', nobody)).rejects.toThrow('refused: mallory may not remediate a plan: only the people in response.askers or response.approvers may');
      await expect(investigation.command({ verb: 'approve', plan: 'p1' }, 'bob', approver)).rejects.toThrow('refused: p1 has not been asked for: /vigil remediate p1 first');
      await expect(investigation.command({ verb: 'remediate', plan: 'p7' }, 'alice', asker)).rejects.toThrow('refused: there is no plan p7: the plans here are p1');
      expect(await investigation.command({ verb: 'remediate', plan: 'p1' }, 'alice', { ask: true, approve: true })).toMatch(/^p1 requested by alice: an approver's \/vigil approve p1 carries it out; the request expires at /);
      await expect(investigation.command({ verb: 'approve', plan: 'p1' }, 'alice', { ask: true, approve: true })).rejects.toThrow('refused: approval needs a second person: response.selfApproval is off');
      await expect(investigation.command({ verb: 'approve', plan: 'p1' }, 'carol', asker)).rejects.toThrow('refused: carol may not approve: only the people in response.approvers may');
      const requested = (await investigation.progress()).response!.plans[0]!;
      // response.planTtl, through the watch policy.
      expect(Date.parse(requested.expiresAt!) - Date.parse(requested.requestedAt!)).toBe(2 * 60 * 60_000);
      await until(investigation.comments, (comments) => headings(comments).includes('### Remediation `p1`: requested by @alice'));

      // Not approved within the plan TTL: expired on the workflow's timer, said on the issue; approving it now is refused.
      await timeSkipping.env.sleep('3h');
      await until(investigation.progress, (progress) => stateOf(progress) === 'expired');
      await expect(investigation.command({ verb: 'approve', plan: 'p1' }, 'bob', approver)).rejects.toThrow('refused: p1 is expired: only a requested plan can be approved');
      await until(investigation.comments, (comments) => headings(comments).includes('### Remediation `p1`: expired'));

      // Asked for again, and cancelled by the asker: nothing is left to cancel.
      await investigation.command({ verb: 'remediate', plan: 'p1' }, 'alice', asker);
      expect(await investigation.command({ verb: 'cancel', plan: 'p1' }, 'alice', asker)).toBe('p1 cancelled by alice');
      await expect(investigation.command({ verb: 'cancel', plan: 'p1' }, 'alice', asker)).rejects.toThrow('refused: p1 is cancelled: only a requested plan can be cancelled');
      await until(investigation.comments, (comments) => headings(comments).includes('### Remediation `p1`: cancelled by @alice'));

      // Asked for and approved by two people: in dry run (the default) it is carried out as far as saying what it would do.
      await investigation.command({ verb: 'remediate', plan: 'p1' }, 'alice', asker);
      expect(await investigation.command({ verb: 'approve', plan: 'p1' }, 'bob', approver)).toBe('p1 approved by bob: carrying it out now');
      const done = await until(investigation.progress, (progress) => stateOf(progress) === 'executed');
      expect(done.response!.plans[0]!.execution).toMatchObject({ outcome: 'dry-run' });
      await until(investigation.comments, (comments) => headings(comments).includes('### Remediation `p1`: executed (DRY RUN)'));
      expect(await openRules(group)).toHaveLength(1);
      await expect(investigation.command({ verb: 'undo', plan: 'p1' }, 'alice', asker)).rejects.toThrow('refused: p1 was a dry run: nothing was changed, so there is nothing to undo');

      // Every step is in the audit store too.
      const audited = (await readdir(path.join(investigation.dataDir, 'audit'), { recursive: true })).filter((file) => file.endsWith('.json'));
      const steps = audited.map((file) => /(p1|p\d+(?:-p\d+)*)-([a-z-]+)-\d/.exec(path.basename(file))?.slice(1, 3).join(' ')).sort();
      expect(steps).toEqual(['p1 approved', 'p1 cancelled', 'p1 executed', 'p1 expired', 'p1 proposed', 'p1 requested', 'p1 requested', 'p1 requested'].sort());
    } finally {
      await investigation.stop();
    }
  });

  it('carries an approved plan out, re-checks at once and says the port closed; an undo puts the rule back, re-checks, and proposes the restored rule afresh', async () => {
    // The machine stops answering when the revoke lands, and answers again when the rule comes back.
    const front = await startMotoFront(moto);
    const { investigation, machine, group, endpoint } = await exposedMachine({ dryRun: false }, front.endpoint);
    front.afterSuccess('ec2:RevokeSecurityGroupIngress', () => close(machine.server).then(() => undefined));
    front.afterSuccess('ec2:AuthorizeSecurityGroupIngress', async () => {
      machine.server = await listener(machine.address, machine.port);
    });
    try {
      const proposed = await until(investigation.progress, (progress) => (progress.response?.plans.length ?? 0) > 0);
      const checksBefore = proposed.watch?.checks ?? 0;
      await investigation.command({ verb: 'remediate', plan: 'p1' }, 'alice', asker);
      await investigation.command({ verb: 'approve', plan: 'p1' }, 'bob', approver);

      const executedPlan = await until(investigation.progress, (progress) => stateOf(progress) === 'executed' && (progress.watch?.checks ?? 0) > checksBefore);
      expect(executedPlan.response!.plans[0]!.execution).toMatchObject({ outcome: 'changed' });
      expect(await openRules(group)).toEqual([]);
      const rechecked = await until(investigation.comments, (comments) => comments.some((body) => body.startsWith('### Remediation `p1`: re-checked')));
      expect(rechecked.find((body) => body.startsWith('### Remediation `p1`: re-checked'))).toContain(`closed: ${endpoint}`);
      expect(headings(rechecked)).toContain('### Remediation `p1`: executed');

      // Undone by an asker: the permission back under a new rule id, the port answering again, and that rule proposed as p2.
      expect(await investigation.command({ verb: 'undo', plan: 'p1' }, 'alice', asker)).toBe('p1 being undone, as alice asked');
      const back = await until(investigation.progress, (progress) => stateOf(progress) === 'undone' && stateOf(progress, 'p2') === 'proposed');
      const restored = await openRules(group);
      expect(restored).toHaveLength(1);
      expect(back.response!.plans[1]!.plan.action).toMatchObject({ kind: 'aws-revoke-ingress', ruleId: restored[0]!.SecurityGroupRuleId });
      const comments = await until(investigation.comments, (all) => all.filter((body) => body.startsWith('### Remediation `p1`: re-checked')).length === 2);
      expect(headings(comments)).toContain('### Remediation `p1`: undone by @alice');
      expect(comments.filter((body) => body.startsWith('### Remediation `p1`: re-checked')).at(-1)).toContain(`still answering: ${endpoint}`);
    } finally {
      await investigation.stop();
      await front.close();
    }
  });
});
