// The scheduled re-scan end to end on real Temporal: moto (through the real AWS SDK), the local
// Cloud Asset server (through the real GCP client) and a static file, read whole and judged; each
// violation becomes exactly one investigation with one issue, and a second scan re-checks those
// instead of repeating them. Every connection is recorded: the public-looking addresses the
// inventories hand out are never contacted (probes are fenced to loopback).
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  EC2Client,
  RunInstancesCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArchive } from '../../activities/archive';
import { configSchema } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { createConfiguredDelivery } from '../../workers/delivery';
import { applySchedules, listSchedules } from '../../workers/schedules';
import type { RescanSummary } from '../../workflows/rescan-inventory';
import { startCloudAssetServer, type ApiAsset, type CloudAssetServer } from '../helpers/cloud-asset-server';
import { recordConnections, type ConnectionLog } from '../helpers/connections';
import { startMoto, type Moto } from '../helpers/moto';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const PROJECT = 'rescan-project';
const GCP_TOKEN = 'ya29.rescan-test-token';

let connections: ConnectionLog;
let moto: Moto;
let assets: CloudAssetServer;
let vigil: TestVigil;
const machines = { billing: '', web: '', bastion: '', honeypot: '' };

async function group(ec2: EC2Client, name: string, permissions: IpPermission[]): Promise<string> {
  const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name }));
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: permissions }));
  return GroupId!;
}

/** An instance with an Elastic IP, so that it certainly has a public address. */
async function machine(ec2: EC2Client, name: string, groupId: string, tags: Record<string, string> = {}): Promise<string> {
  const { Instances } = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: 1,
      MaxCount: 1,
      SecurityGroupIds: [groupId],
      TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries({ Name: name, ...tags }).map(([Key, Value]) => ({ Key, Value })) }],
    }),
  );
  const id = Instances![0]!.InstanceId!;
  const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: id }));
  return id;
}

const anywhere = (port: number): IpPermission => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: '0.0.0.0/0' }] });

function gcpAssets(): ApiAsset[] {
  const network = `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/networks/default`;
  const resource = (discoveryName: string, data: Record<string, unknown>, location?: string) => ({
    version: 'v1',
    discoveryDocumentUri: 'https://www.googleapis.com/discovery/v1/apis/compute/v1/rest',
    discoveryName,
    parent: '//cloudresourcemanager.googleapis.com/projects/4242',
    ...(location ? { location } : {}),
    data,
  });
  const instance = (name: string, natIP: string, tags: string[]): ApiAsset => ({
    name: `//compute.googleapis.com/projects/${PROJECT}/zones/europe-west1-b/instances/${name}`,
    assetType: 'compute.googleapis.com/Instance',
    resource: resource(
      'Instance',
      { name, status: 'RUNNING', tags: { items: tags }, networkInterfaces: [{ name: 'nic0', network, networkIP: '10.132.0.9', accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT', natIP }] }] },
      'europe-west1-b',
    ),
  });
  return [
    {
      name: `//compute.googleapis.com/projects/${PROJECT}/global/firewalls/allow-ssh`,
      assetType: 'compute.googleapis.com/Firewall',
      resource: resource('Firewall', { name: 'allow-ssh', network, direction: 'INGRESS', priority: 1000, sourceRanges: ['0.0.0.0/0'], targetTags: ['ssh'], allowed: [{ IPProtocol: 'tcp', ports: ['22'] }] }),
    },
    {
      name: `//compute.googleapis.com/projects/${PROJECT}/global/firewalls/allow-https`,
      assetType: 'compute.googleapis.com/Firewall',
      resource: resource('Firewall', { name: 'allow-https', network, direction: 'INGRESS', priority: 1000, sourceRanges: ['0.0.0.0/0'], allowed: [{ IPProtocol: 'tcp', ports: ['443'] }] }),
    },
    instance('jump', '34.120.9.1', ['ssh']),
    instance('shop', '34.120.9.2', []),
  ];
}

const staticInventory = `
resources:
  - id: db-1
    name: orders database
    addresses: [198.51.100.20]
    open: [{ protocol: tcp, ports: 5432 }]
  - id: www-1
    addresses: [198.51.100.21]
    open: [{ protocol: tcp, ports: 443 }]
`;

beforeAll(async () => {
  connections = recordConnections();
  moto = await startMoto();
  const ec2 = new EC2Client({ region: REGION, endpoint: moto.endpoint, credentials: moto.credentials });
  const admin = await group(ec2, 'admin', [anywhere(22), anywhere(3389)]);
  const web = await group(ec2, 'web', [anywhere(443)]);
  machines.billing = await machine(ec2, 'billing-dashboard', admin);
  machines.web = await machine(ec2, 'shop-front', web);
  machines.bastion = await machine(ec2, 'bastion', admin, { public: 'approved' });
  machines.honeypot = await machine(ec2, 'honeypot', admin);

  assets = await startCloudAssetServer({ assets: gcpAssets(), tokens: [GCP_TOKEN] });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-rescan-'));
  await writeFile(path.join(dir, 'inventory.yaml'), staticInventory);

  // The worker's own credentials, as the default chain finds them.
  process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
  vigil = await startTestVigil({
    inventory: {
      aws: { accounts: [{ id: ACCOUNT, useOwnCredentials: true }], regions: [REGION], endpoint: moto.endpoint, maxAttempts: 2 },
      gcp: { scopes: [`projects/${PROJECT}`], endpoint: assets.url, accessToken: GCP_TOKEN },
      static: { files: [path.join(dir, 'inventory.yaml')] },
    },
    rescan: {
      allow: [
        { tag: 'public=approved', reason: 'the bastion host', expires: '2099-12-31' },
        { resource: machines.honeypot, reason: 'a honeypot, for a while', expires: '2021-06-30' },
      ],
    },
  });
});

afterAll(async () => {
  await vigil?.stop();
  await moto?.stop();
  await assets?.close();
  expect(assets?.problems ?? []).toEqual([]);
  connections.stop();
  expect(connections.outsideLoopback()).toEqual([]);
});

const rescan = (provider: string, scope: string) =>
  vigil.client.workflow.execute('rescanInventory', {
    args: [{ provider, scope }],
    taskQueue: vigil.config.temporal.taskQueue,
    workflowId: `test-rescan/${provider}/${scope}/${Date.now()}`,
  }) as Promise<RescanSummary>;

/** Waits for the investigation's first report, and returns its progress. */
const reported = (workflowId: string) => eventually(async () => ((await queryProgress(vigil.client, workflowId))?.firstReportComplete ? queryProgress(vigil.client, workflowId) : undefined), 60_000);

/** Both scans of one scope: the first starts one investigation per violation, the second re-checks them. */
async function scanTwice(provider: string, scope: string, expectedWorkflows: string[]) {
  const first = await rescan(provider, scope);
  expect(first).toMatchObject({ provider, scope, violations: expectedWorkflows.length, started: expectedWorkflows.length, rechecked: 0, undispatched: 0, problems: [] });
  const issues = [];
  for (const workflowId of expectedWorkflows) {
    const progress = await reported(workflowId);
    expect(progress?.issue, workflowId).toBeDefined();
    issues.push(progress!.issue!.number);
  }
  expect(new Set(issues).size).toBe(expectedWorkflows.length);

  const second = await rescan(provider, scope);
  expect(second).toMatchObject({ violations: expectedWorkflows.length, started: 0, rechecked: expectedWorkflows.length, undispatched: 0 });
  for (const workflowId of expectedWorkflows) {
    const watch = await eventually(async () => {
      const progress = await queryProgress(vigil.client, workflowId);
      return progress?.watch && progress.watch.checks >= 1 ? progress.watch : undefined;
    }, 60_000);
    expect(watch.checks, workflowId).toBe(1);
  }
  return { first, second, issues };
}

const byTitle = async (numbers: number[]) => {
  const all = await vigil.tracker.listIssues();
  return all.filter((issue) => numbers.includes(issue.number));
};

describe('re-scan of every inventory scope', () => {
  it('AWS: one investigation per unallowed machine exposing a sensitive port; a second scan re-checks them', async () => {
    const workflows = [machines.billing, machines.honeypot].map((id) => `alert/vigil-rescan/aws:${ACCOUNT}:${id}`);
    const { first, issues } = await scanTwice('aws', `${ACCOUNT}/${REGION}`, workflows);
    expect(first.instances).toBe(4);
    // The bastion stays public by its tag; the honeypot's allowance has expired.
    expect(first.allowed).toEqual([{ instance: machines.bastion, reason: 'the bastion host', expires: '2099-12-31' }]);

    const opened = await byTitle(issues);
    expect(opened.map((issue) => issue.title).sort()).toEqual([
      `[critical] billing-dashboard (${machines.billing}) exposes 22/tcp, 3389/tcp to the internet`,
      `[critical] honeypot (${machines.honeypot}) exposes 22/tcp, 3389/tcp to the internet`,
    ]);
    for (const issue of opened) {
      expect(issue.labels).toEqual(expect.arrayContaining(['source:vigil-rescan', 'severity:critical', 'kind:exposure']));
      // A re-check, not a repeat: no "seen again" comment.
      expect(issue.comments.some((comment) => comment.body.startsWith('### Seen'))).toBe(false);
    }
    // Nothing else was started: the tracker holds exactly these issues from the AWS scope.
    expect((await vigil.tracker.listIssues()).filter((issue) => issue.title.includes(`(i-`))).toHaveLength(2);
  });

  it('GCP: the firewall opening SSH to a tagged instance with an external address', async () => {
    const workflow = `alert/vigil-rescan/gcp:${PROJECT}:projects/${PROJECT}/zones/europe-west1-b/instances/jump`;
    const { first, issues } = await scanTwice('gcp', `projects/${PROJECT}`, [workflow]);
    expect(first).toMatchObject({ instances: 2, allowed: [] });
    const [issue] = await byTitle(issues);
    expect(issue!.title).toBe(`[high] jump (projects/${PROJECT}/zones/europe-west1-b/instances/jump) exposes 22/tcp to the internet`);
    expect(issue!.labels).toContain('severity:high');
  });

  it('static: every declared resource is judged', async () => {
    const { first, issues } = await scanTwice('static', 'static', ['alert/vigil-rescan/static:-:db-1']);
    expect(first.instances).toBe(2);
    expect((await byTitle(issues)).map((issue) => issue.title)).toEqual(['[critical] orders database (db-1) exposes 5432/tcp to the internet']);
  });

  it('archives every alert it dispatches, marked dispatched, so the sweeper has nothing to redo; one issue per violation', async () => {
    const archived = [];
    const range = { since: new Date(Date.now() - 24 * 3600 * 1000), until: new Date(), source: 'vigil-rescan' };
    for await (const meta of createArchive(vigil.config).list(range)) archived.push(meta);
    // Two scans of three scopes, four violations in all.
    expect(archived).toHaveLength(8);
    expect(archived.every((meta) => meta.dispatchedAt !== undefined && meta.dispatchedTo.length === 1)).toBe(true);
    // Each alert names its machine with the resource type its inventory gave it.
    const archive = createArchive(vigil.config);
    const resources = await Promise.all(archived.map(async (meta) => JSON.parse((await archive.read(meta.id)).body.toString()).resources));
    expect(new Set(resources.map(([resource]) => `${resource.type} ${resource.id}`))).toEqual(
      new Set([
        `aws:ec2:instance ${machines.billing}`,
        `aws:ec2:instance ${machines.honeypot}`,
        `gcp:compute:instance projects/${PROJECT}/zones/europe-west1-b/instances/jump`,
        'static:inventory:resource db-1',
      ]),
    );
    // And exactly one issue per violation over every scope and scan.
    expect(await vigil.tracker.listIssues()).toHaveLength(4);
  });

  it('a re-scan record delivered again (by the sweeper or a replay) re-checks its investigation, never counts a repeat', async () => {
    const workflowId = 'alert/vigil-rescan/static:-:db-1';
    const range = { since: new Date(Date.now() - 24 * 3600 * 1000), until: new Date(), source: 'vigil-rescan' };
    const records = [];
    for await (const meta of createArchive(vigil.config).list(range)) if (meta.dispatchedTo.includes(workflowId)) records.push(meta);
    const checksBefore = (await queryProgress(vigil.client, workflowId))!.watch!.checks;

    const outcome = await createConfiguredDelivery(vigil.config, vigil.client, createLogger('rescan-test', 'silent')).redeliver(records[0]!);
    expect(outcome).toEqual({ alerts: [expect.objectContaining({ workflowId, dispatched: true, rechecked: true })] });
    await eventually(async () => ((await queryProgress(vigil.client, workflowId))!.watch!.checks > checksBefore ? true : undefined), 60_000);
    const [issue] = (await vigil.tracker.listIssues()).filter((candidate) => candidate.title.includes('(db-1)'));
    expect(issue!.comments.some((comment) => comment.body.startsWith('### Seen'))).toBe(false);
  });
});

describe('re-scan schedules', () => {
  it('one per scope, overlap SKIP, applied twice without duplicates, and removed with its scope', async () => {
    // A task queue no worker polls: a schedule that fires during the test starts nothing.
    const config = configSchema.parse({ ...vigil.config, temporal: { ...vigil.config.temporal, taskQueue: 'rescan-schedules-test' }, rescan: { every: '12h' } });
    await applySchedules(vigil.client, config);
    await applySchedules(vigil.client, config);
    const expected = ['vigil-rescan/aws/123456789012/us-east-1', `vigil-rescan/gcp/projects/${PROJECT}`, 'vigil-rescan/static/static'];
    const listed = await eventually(async () => {
      const rescans = (await listSchedules(vigil.client)).filter((schedule) => schedule.workflowType === 'rescanInventory');
      return rescans.length === expected.length ? rescans : undefined;
    });
    expect(listed.map(({ id, every }) => ({ id, every }))).toEqual(expected.map((id) => ({ id, every: '12h' })));
    for (const { nextRun } of listed) expect(Date.parse(nextRun!)).toBeGreaterThan(Date.now());
    const described = await vigil.client.schedule.getHandle(expected[1]!).describe();
    expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(described.action).toMatchObject({ workflowType: 'rescanInventory', args: [{ provider: 'gcp', scope: `projects/${PROJECT}` }], taskQueue: 'rescan-schedules-test' });

    const withoutGcp = configSchema.parse({ ...config, inventory: { ...config.inventory, gcp: undefined } });
    await applySchedules(vigil.client, withoutGcp);
    await expect(vigil.client.schedule.getHandle(expected[1]!).describe()).rejects.toThrow(/not found/i);
    const remaining = await eventually(async () => {
      const rescans = (await listSchedules(vigil.client)).filter((schedule) => schedule.workflowType === 'rescanInventory');
      return rescans.length === 2 ? rescans : undefined;
    });
    expect(remaining.map(({ id }) => id)).toEqual([expected[0], expected[2]]);

    const off = configSchema.parse({ ...config, rescan: { enabled: false } });
    await applySchedules(vigil.client, off);
    await eventually(async () => ((await listSchedules(vigil.client)).some((schedule) => schedule.workflowType === 'rescanInventory') ? undefined : true));
  });
});
