// The response activities against the local tracker and a local archive folder, as the worker builds
// them: each step audited once and commented once however often it is retried; an accepted risk
// stored, honoured by the re-scan until its last day, and removed at its end; plans proposed only
// when the response is on and only when new.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeSecurityGroupRulesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { Client, Connection } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAcceptedRiskStore, createArchive, createAuditStore } from '../../activities/archive';
import { createStaticInventory } from '../../activities/context/static';
import { createRescanActivities } from '../../activities/rescan';
import { evaluateRescan } from '../../activities/rescan/evaluate';
import { createExecutors, createResponseActivities } from '../../activities/response';
import { acceptedRisks, type StoredAcceptance } from '../../activities/response/accepted-risk';
import type { ResponseActivities } from '../../activities/response/types';
import { localTrackerRoot } from '../../activities/tracker';
import { createLocalTracker, type LocalTracker } from '../../activities/tracker/local';
import type { NormalizedAlert } from '../../lib/alert';
import { configSchema, type Config } from '../../lib/config';
import { emptyContext, type PublicResource } from '../../lib/context';
import type { IssueRef } from '../../lib/investigation';
import { createLogger } from '../../lib/logger';
import type { AcceptedRisk, AuditEntry, PlanStatus, RemediationPlan } from '../../lib/response';
import { createConfiguredDelivery } from '../../workers/delivery';
import { startMoto, type Moto } from '../helpers/moto';
import { eventually } from '../helpers/vigil';

const WORKFLOW = 'alert/vigil-rescan/static:-:db-1';
const RUN = 'run-1';

const staticInventory = `
resources:
  - id: db-1
    name: orders database
    addresses: [198.51.100.20]
    open: [{ protocol: tcp, ports: 5432 }]
  - id: jump-1
    addresses: [198.51.100.22]
    open: [{ protocol: tcp, ports: 22 }]
`;

let dir: string;
let config: Config;
let tracker: LocalTracker;
let activities: ResponseActivities;
let issue: IssueRef;
const env = new MockActivityEnvironment();
/** An activity run as a worker runs it (its context, its cancellation), its result typed. */
const call = <I, R>(activity: (input: I) => Promise<R>, input: I) => env.run(activity, input) as Promise<R>;

/** The activities as the worker builds them, from a configuration. */
const build = (settings: Config) =>
  createResponseActivities({
    settings: settings.response,
    executors: createExecutors(settings.response),
    tracker,
    labels: settings.tracker.labels,
    audit: createAuditStore(settings),
    accepted: acceptedRisks(createAcceptedRiskStore(settings)),
  });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-response-'));
  await writeFile(path.join(dir, 'inventory.yaml'), staticInventory);
  config = configSchema.parse({ dataDir: dir, inventory: { static: { files: [path.join(dir, 'inventory.yaml')] } }, response: { askers: ['alice'], approvers: ['bob'] } });
  tracker = createLocalTracker({ root: localTrackerRoot(config) });
  activities = build(config);
  ({ issue } = await tracker.findOrCreateIssue({ fingerprint: 'static:-:db-1', workflowId: WORKFLOW, title: 'orders database exposes 5432/tcp', body: 'body', labels: ['vigil'] }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = () => ({ workflowId: WORKFLOW, run: RUN, issue });

const plan: RemediationPlan = {
  id: 'p1',
  title: 'Enforce public access prevention on orders-exports',
  action: { kind: 'gcp-bucket-public-access-prevention', project: 'shop', bucket: 'orders-exports' },
  apiCall: 'storage.buckets.patch b/orders-exports {"iamConfiguration": {"publicAccessPrevention": "enforced"}}',
  serves: [],
  expected: 'the bucket is no longer readable by anyone on the internet',
  undo: 'storage.buckets.patch with the previous value (inherited)',
};

const entry = (step: AuditEntry['step'], at: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({ workflowId: WORKFLOW, issue: issue.number, step, plan: 'p1', actor: 'alice', at, ...extra });

/** Every audit record under the audit folder, as paths relative to it, with their JSON. */
async function auditRecords(): Promise<{ key: string; record: any }[]> {
  const root = path.join(dir, 'audit');
  const names = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  const files = names.filter((name) => name.endsWith('.json')).sort();
  return Promise.all(files.map(async (key) => ({ key: key.split(path.sep).join('/'), record: JSON.parse(await readFile(path.join(root, key), 'utf8')) })));
}

const comments = async () => (await tracker.readIssue(issue.number))!.comments;

describe('reportResponse', () => {
  it('writes the audit record and the comment once, however often the step is retried; a later step adds its own', async () => {
    const requested = entry('requested', '2026-12-01T10:00:00.000Z', { commentUrl: '/issues#issue-1' });
    const status: PlanStatus = { plan, state: 'requested', proposedAt: '2026-12-01T09:00:00.000Z', requestedBy: 'alice', requestedAt: requested.at, expiresAt: '2026-12-02T10:00:00.000Z' };
    // A retry is the same activity with the same input: Temporal hands it the workflow's entry again.
    for (let attempt = 0; attempt < 3; attempt++) await call(activities.reportResponse, { ...run(), entry: requested, status });

    const records = await auditRecords();
    // The workflow id made one safe folder name, kept apart from similar ids by a hash of the whole.
    const folder = `alert_vigil-rescan_static_-_db-1~${createHash('sha256').update(WORKFLOW).digest('hex').slice(0, 16)}`;
    expect(records.map(({ key }) => key)).toEqual([`2026/12/01/${folder}/p1-requested-2026-12-01T100000.000Z.json`]);
    expect(records[0]!.record).toEqual({ ...requested, status });
    const posted = await comments();
    expect(posted).toHaveLength(1);
    expect(posted[0]!.key).toBe(`${WORKFLOW}/${RUN}#response/p1/requested/${requested.at}`);
    expect(posted[0]!.body).toMatch(/^### Remediation `p1`: requested by @alice\n/);

    const approved = entry('approved', '2026-12-01T10:05:00.000Z', { actor: 'bob' });
    const executing: PlanStatus = { ...status, state: 'executing', approvedBy: 'bob', approvedAt: approved.at };
    await call(activities.reportResponse, { ...run(), entry: approved, status: executing });
    await call(activities.reportResponse, { ...run(), entry: approved, status: executing });
    expect((await auditRecords()).map(({ record }) => record.step)).toEqual(['approved', 'requested']);
    expect((await comments()).map(({ body }) => body.split('\n')[0])).toEqual(['### Remediation `p1`: requested by @alice', '### Remediation `p1`: approved by @bob']);
  });

  it('shows the proposal with its plans, audited with them', async () => {
    const proposed = entry('proposed', '2026-12-01T09:00:00.000Z', { plan: undefined, actor: 'vigil' });
    await call(activities.reportResponse, { ...run(), entry: proposed, plans: [plan] });
    const record = (await auditRecords()).find(({ key }) => key.endsWith('/p1-proposed-2026-12-01T090000.000Z.json'));
    expect(record?.record).toEqual({ ...proposed, plans: [plan] });
    const comment = (await comments()).find(({ key }) => key === `${WORKFLOW}/${RUN}#response/p1/proposed/${proposed.at}`);
    expect(comment?.body).toMatch(/^### Proposed remediation\n\n\*\*DRY RUN\*\*/);
    expect(comment?.body).toContain('/vigil remediate p1');
  });

  it('on a suppressed issue, audits the step and comments nothing', async () => {
    const before = (await comments()).length;
    const cancelled = entry('cancelled', '2026-12-01T11:00:00.000Z');
    await call(activities.reportResponse, { ...run(), entry: cancelled, suppressed: true });
    expect((await auditRecords()).some(({ record }) => record.step === 'cancelled' && record.at === cancelled.at)).toBe(true);
    expect(await comments()).toHaveLength(before);
  });
});

describe('accepted risk', () => {
  const alert = { resources: [{ type: 'static:inventory:resource', id: 'db-1' }] } as NormalizedAlert;
  const accepted: AcceptedRisk = { reason: 'a read replica for the auditors, until the migration', until: '2099-12-31', by: 'bob', at: '2026-12-01T12:00:00.000Z' };
  const storeFolder = () => path.join(dir, 'accepted-risks');

  /** The re-scan's own activity over the static inventory (nothing is dispatched, so the client is never connected). */
  const scan = () => {
    const archive = createArchive(config);
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const rescan = createRescanActivities({
      inventory: [createStaticInventory({ files: [path.join(dir, 'inventory.yaml')] })],
      settings: config.rescan,
      archive,
      delivery: createConfiguredDelivery(config, client, createLogger('response-test', 'silent'), { archive }),
      accepted: acceptedRisks(createAcceptedRiskStore(config)),
    });
    return call(rescan.scanScope, { provider: 'static', scope: 'static' });
  };

  it('is stored, labels and closes the issue, and the re-scan leaves the resource alone, saying who accepted it and why', async () => {
    expect((await scan()).violations.map((violation) => ('instance' in violation ? violation.instance.id : violation.resource.id)).sort()).toEqual(['db-1', 'jump-1']);

    await call(activities.acceptRisk, { ...run(), alert, accepted });
    await call(activities.acceptRisk, { ...run(), alert, accepted });
    const stored = await readdir(storeFolder());
    expect(stored).toHaveLength(1);
    expect(JSON.parse(await readFile(path.join(storeFolder(), stored[0]!), 'utf8'))).toEqual({
      resources: [{ type: 'static:inventory:resource', id: 'db-1' }],
      reason: accepted.reason,
      expires: '2099-12-31',
      by: 'bob',
      workflowId: WORKFLOW,
      at: accepted.at,
    });
    const state = await tracker.getIssue(issue.number);
    expect(state.state).toBe('closed');
    expect(state.labels).toContain('risk:accepted');

    const scanned = await scan();
    expect(scanned.violations.map((violation) => ('instance' in violation ? violation.instance.id : violation.resource.id))).toEqual(['jump-1']);
    expect(scanned.allowed).toEqual([{ instance: 'db-1', reason: `risk accepted by bob on the issue of ${WORKFLOW}: ${accepted.reason}`, expires: '2099-12-31' }]);
  });

  it('holds through its last day, as rescan.allow entries do', async () => {
    const context = await createStaticInventory({ files: [path.join(dir, 'inventory.yaml')] }).scan!('static');
    const acceptance: StoredAcceptance = { resources: [{ type: 'static:inventory:resource', id: 'jump-1' }], reason: 'bastion', expires: '2026-12-31', by: 'bob', workflowId: 'w', at: 'x' };
    const judged = (today: string) => evaluateRescan(context, config.rescan, today, [acceptance]).allowed.map(({ instance }) => instance);
    expect(judged('2026-12-31')).toEqual(['jump-1']);
    expect(judged('2027-01-01')).toEqual([]);
    // The configured allowances come first: of two that match, the configured one is said.
    const configured = evaluateRescan(context, { ...config.rescan, allow: [{ resource: 'jump-1', reason: 'configured', expires: '2099-01-01' }] }, '2026-12-01', [acceptance]);
    expect(configured.allowed).toEqual([{ instance: 'jump-1', reason: 'configured', expires: '2099-01-01' }]);
    expect(evaluateRescan({ ...emptyContext() }, config.rescan, '2026-12-01', [acceptance])).toEqual({ violations: [], allowed: [] });
  });

  it('leaves a later acceptance of the same investigation alone when an earlier one ends', async () => {
    await call(activities.endAcceptedRisk, { ...run(), alert, accepted: { ...accepted, at: '2026-11-01T00:00:00.000Z' } });
    expect(await readdir(storeFolder())).toHaveLength(1);
    expect((await tracker.getIssue(issue.number)).state).toBe('closed');
  });

  it('ends: removed, the label taken off, the issue reopened, and the re-scan reports the resource again', async () => {
    await call(activities.endAcceptedRisk, { ...run(), alert, accepted });
    await call(activities.endAcceptedRisk, { ...run(), alert, accepted });
    expect(await readdir(storeFolder())).toEqual([]);
    const state = await tracker.getIssue(issue.number);
    expect(state.state).toBe('open');
    expect(state.labels).not.toContain('risk:accepted');
    const scanned = await scan();
    expect(scanned.allowed).toEqual([]);
    expect(scanned.violations).toHaveLength(2);
  });
});

describe('proposeRemediations', () => {
  // A bucket an outsider's proof showed public: the AWS executor plans from the context alone, no call made.
  const bucket: PublicResource = {
    provider: 'aws',
    class: 'storage',
    type: 'aws:s3:bucket',
    id: 'orders-exports',
    account: '123456789012',
    region: 'us-east-1',
    public: true,
    reasons: ['the bucket policy allows s3:GetObject to everyone'],
    facts: {},
    proofs: [{ kind: 'bucket', provider: 'aws', bucket: 'orders-exports', baseUrl: 'http://127.0.0.1:1' }],
    tags: {},
  };
  const alert = { cloud: { provider: 'aws', account: '123456789012', region: 'us-east-1' } } as NormalizedAlert;
  const input = { alert, context: { ...emptyContext(), consulted: ['aws'], resources: [bucket] }, answered: [], proven: [bucket.id] };
  // Were an executor to call its cloud, it would meet nothing but a closed loopback port.
  const closed = { aws: { useOwnCredentials: true, endpoint: 'http://127.0.0.1:1', maxAttempts: 1 }, gcp: { computeEndpoint: 'http://127.0.0.1:1', storageEndpoint: 'http://127.0.0.1:1' } };

  it("asks the executor of the context's provider, and proposes only what is not known already", async () => {
    const on = build(configSchema.parse({ dataDir: dir, response: closed }));
    const proposed = await call(on.proposeRemediations, { ...input, known: [] });
    expect(proposed.map(({ action }) => action)).toEqual([{ kind: 'aws-s3-block-public-access', account: '123456789012', region: 'us-east-1', bucket: 'orders-exports' }]);
    // The same action, its keys in another order (as a history may hold it), is known.
    const known = [{ bucket: 'orders-exports', region: 'us-east-1', account: '123456789012', kind: 'aws-s3-block-public-access' as const }];
    expect(await call(on.proposeRemediations, { ...input, known })).toEqual([]);
    // Another provider's resources ask no AWS executor.
    expect(await call(on.proposeRemediations, { ...input, context: { ...input.context, resources: [{ ...bucket, provider: 'static' }] }, known: [] })).toEqual([]);
  });

  it('proposes nothing when the response is off', async () => {
    const off = build(configSchema.parse({ dataDir: dir, response: { ...closed, enabled: false } }));
    expect(await call(off.proposeRemediations, { ...input, known: [] })).toEqual([]);
  });

  it('refuses to carry out a plan once the response is switched off', async () => {
    const off = build(configSchema.parse({ dataDir: dir, response: { ...closed, enabled: false } }));
    await expect(call(off.executeRemediation, { plan })).rejects.toMatchObject({ type: 'RemediationRefused', nonRetryable: true });
  });
});

/** An HTTP server on loopback that takes requests and never answers them: where a call waits until cancelled. */
async function silentServer(): Promise<{ url: string; requests: { method: string; url: string; body: string }[]; close(): Promise<void> }> {
  const requests: { method: string; url: string; body: string }[] = [];
  const server: Server = createServer((request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => requests.push({ method: request.method!, url: request.url!, body: Buffer.concat(chunks).toString('utf8') }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('executeRemediation', () => {
  let aws: Awaited<ReturnType<typeof silentServer>>;
  let gcp: Awaited<ReturnType<typeof silentServer>>;
  let executing: ResponseActivities;

  beforeAll(async () => {
    [aws, gcp] = await Promise.all([silentServer(), silentServer()]);
    // The response's own identities: the worker's AWS credentials, a GCP service-account key that signs its own tokens.
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const keyFile = path.join(dir, 'remediation-key.json');
    await writeFile(keyFile, JSON.stringify({ type: 'service_account', project_id: 'shop', private_key_id: 'k1', private_key: privateKey, client_email: 'vigil-remediation@shop.iam.gserviceaccount.com' }));
    executing = build(
      configSchema.parse({
        dataDir: dir,
        response: {
          dryRun: false,
          aws: { useOwnCredentials: true, endpoint: aws.url, maxAttempts: 1 },
          gcp: { credentialsFile: keyFile, computeEndpoint: gcp.url, storageEndpoint: gcp.url },
        },
      }),
    );
  });

  afterAll(async () => {
    await Promise.all([aws?.close(), gcp?.close()]);
  });

  /** Carries the plan out until its first call reaches a server, then cancels the activity: it ends at once. */
  async function executeUntilCalled(action: RemediationPlan['action'], server: typeof aws) {
    const environment = new MockActivityEnvironment();
    const before = server.requests.length;
    const outcome = environment.run(executing.executeRemediation, { plan: { ...plan, action } });
    outcome.catch(() => undefined);
    await eventually(async () => (server.requests.length > before ? true : undefined));
    environment.cancel();
    await expect(outcome).rejects.toBeInstanceOf(CancelledFailure);
    return server.requests.slice(before);
  }

  it('hands each action to the executor of its kind, and honours a cancellation while the cloud does not answer', async () => {
    const firewall = await executeUntilCalled({ kind: 'gcp-firewall-disable', project: 'shop', firewall: 'allow-ssh-anywhere' }, gcp);
    expect(firewall[0]).toMatchObject({ method: 'GET', url: '/compute/v1/projects/shop/global/firewalls/allow-ssh-anywhere' });

    const revoke = await executeUntilCalled(
      { kind: 'aws-revoke-ingress', account: '123456789012', region: 'us-east-1', groupId: 'sg-0abc', ruleId: 'sgr-0def', permission: { protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' } },
      aws,
    );
    // The EC2 query API: a form naming the action.
    expect(revoke[0]?.body).toMatch(/^Action=\w+SecurityGroup/);
    expect(gcp.requests.every(({ url }) => url.startsWith('/compute/') || url.startsWith('/storage/'))).toBe(true);
    expect(aws.requests.every(({ body }) => body.startsWith('Action='))).toBe(true);
  });
});

describe('executeRemediation and undoRemediation with the AWS executor, against moto', () => {
  const REGION = 'us-east-1';
  let moto: Moto;
  let ec2: EC2Client;

  beforeAll(async () => {
    moto = await startMoto();
    process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
    ec2 = new EC2Client({ region: REGION, endpoint: moto.endpoint, credentials: moto.credentials });
  });

  afterAll(async () => {
    ec2?.destroy();
    await moto?.stop();
  });

  /** The group's internet-wide SSH rules, by id. */
  const sshRules = async (groupId: string) => {
    const { SecurityGroupRules = [] } = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
    return SecurityGroupRules.filter((rule) => !rule.IsEgress && rule.FromPort === 22 && rule.CidrIpv4 === '0.0.0.0/0').map((rule) => rule.SecurityGroupRuleId!);
  };

  it('revokes the rule (once, however often retried), undoes it exactly, and changes nothing in dry run', async () => {
    const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web' }));
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    const [ruleId] = await sshRules(GroupId!);
    const revoke: RemediationPlan = {
      ...plan,
      action: { kind: 'aws-revoke-ingress', account: '123456789012', region: REGION, groupId: GroupId!, ruleId: ruleId!, permission: { protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' } },
    };
    const settings = (dryRun: boolean) => build(configSchema.parse({ dataDir: dir, response: { dryRun, aws: { useOwnCredentials: true, endpoint: moto.endpoint, maxAttempts: 1 } } }));

    const dry = await call(settings(true).executeRemediation, { plan: revoke });
    // EC2 checked the call (its request id) and did not make it.
    expect(dry).toMatchObject({ outcome: 'dry-run', requestIds: [expect.any(String)] });
    expect(await sshRules(GroupId!)).toEqual([ruleId]);

    const live = settings(false);
    const executed = await call(live.executeRemediation, { plan: revoke });
    expect(executed.outcome).toBe('changed');
    expect(executed.apiCall).toContain(ruleId);
    expect(executed.requestIds.length).toBeGreaterThan(0);
    expect(await sshRules(GroupId!)).toEqual([]);
    expect((await call(live.executeRemediation, { plan: revoke })).outcome).toBe('already');

    const undone = await call(live.undoRemediation, { plan: revoke, execution: executed });
    expect(undone.outcome).toBe('changed');
    const restored = await sshRules(GroupId!);
    expect(restored).toHaveLength(1);
    expect(undone.restoredRuleId).toBe(restored[0]);
    expect((await call(live.undoRemediation, { plan: revoke, execution: executed })).outcome).toBe('already');
  });
});
