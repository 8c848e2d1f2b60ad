// Issue 17's whole round trip: moto as the AWS inventory and the remediation's API, a machine on a
// loopback Elastic IP behind a security group that opens its port to the internet, and two people
// on the local tracker. One asks for the proposed revoke, the other approves it: the rule is
// revoked by its id, the re-check finds the port closed, the issue carries every step and the
// archive a record of each, and an undo puts the same rule back. The machine follows the group as
// a real one would: the front in front of moto closes its listener when the revoke lands and opens
// it again when the rule is authorised back, before either answer reaches Vigil.
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordConnections, type ConnectionLog } from '../helpers/connections';
import { startMoto, type Moto } from '../helpers/moto';
import { startMotoFront, type MotoFront } from '../helpers/moto-front';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

const ACCOUNT = '123456789012';
const people = { alice: 'alice-token-0123456789abcdef', bob: 'bob-token-0123456789abcdef' };

/** A machine's port that answers only while its listener is up: closed (refused) otherwise. */
interface Machine {
  address: string;
  port: number;
  listening(): boolean;
  open(): Promise<void>;
  close(): Promise<void>;
}

async function startMachine(address: string): Promise<Machine> {
  let server: net.Server | undefined;
  let port = 0;
  const open = async () => {
    const listener = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => listener.once('error', reject).listen(port, address, resolve));
    port = (listener.address() as net.AddressInfo).port;
    server = listener;
  };
  await open();
  return {
    address,
    get port() {
      return port;
    },
    listening: () => server?.listening ?? false,
    open,
    close: () => new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve())),
  };
}

let connections: ConnectionLog;
let moto: Moto;
let front: MotoFront;
let ec2: EC2Client;
let vigil: TestVigil;
let machine: Machine;
let group: string;

beforeAll(async () => {
  connections = recordConnections();
  moto = await startMoto();
  front = await startMotoFront(moto);
  ec2 = new EC2Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials: moto.credentials });
  group = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'ssh-anywhere', Description: 'ssh' }))).GroupId!;
  const { Instances } = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, SecurityGroupIds: [group] }));
  // moto's Elastic IPs are in 127.0.0.0/8: the machine listens there, on the port the group opens.
  const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: Instances![0]!.InstanceId }));
  machine = await startMachine(eip.PublicIp!);
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: group,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: machine.port, ToPort: machine.port, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'ssh from anywhere' }] }],
    }),
  );
  front.afterSuccess('ec2:RevokeSecurityGroupIngress', () => machine.close());
  front.afterSuccess('ec2:AuthorizeSecurityGroupIngress', () => machine.open());
  process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
  vigil = await startTestVigil({
    inventory: { aws: { accounts: [{ id: ACCOUNT, useOwnCredentials: true }], endpoint: moto.endpoint, maxAttempts: 2 } },
    tracker: { local: { people: Object.entries(people).map(([name, token]) => ({ name, token })) } },
    response: { dryRun: false, askers: ['alice', 'bob'], approvers: ['alice', 'bob'], aws: { useOwnCredentials: true, endpoint: front.endpoint, maxAttempts: 2 } },
  });
});
afterAll(async () => {
  await vigil?.stop();
  await machine?.close();
  await front?.close();
  await moto?.stop();
  connections?.stop();
});

const ingressRules = async () =>
  ((await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [group] }] }))).SecurityGroupRules ?? []).filter((rule) => !rule.IsEgress);

async function comment(number: number, person: keyof typeof people, body: string) {
  const response = await fetch(`${vigil.url}/v1/issues/${number}/comments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${people[person]}`, 'content-type': 'application/json' },
    body: JSON.stringify({ body }),
  });
  expect(response.status).toBeLessThan(300);
}

const bodies = async (number: number) => ((await vigil.tracker.readIssue(number))?.comments ?? []).map((c) => c.body);
const headingOf = (body: string) => body.split('\n')[0]!;
const commentStarting = (number: number, heading: string) => eventually(async () => (await bodies(number)).find((body) => body.startsWith(heading)), 90_000);

describe('remediation from the issue, approved by a second person, then undone', () => {
  it('revokes the rule, finds the port closed, audits every step, and puts the rule back', async () => {
    const response = await vigil.post('generic', {
      id: `sg/${group}`,
      title: `Security group ${group} allows SSH from anywhere`,
      severity: 'high',
      kind: 'exposure',
      cloud: { provider: 'aws', account: ACCOUNT, region: 'us-east-1' },
      resources: [{ type: 'aws:ec2:security-group', id: group }],
      network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [machine.port], protocol: 'tcp' },
    });
    expect(response.status).toBe(202);
    const workflowId = response.body.alerts[0].workflowId as string;
    const issue = await eventually(async () => (await vigil.tracker.listIssues())[0]);
    const [rule] = await ingressRules();

    // The plan names the exact rule and call.
    const proposal = await commentStarting(issue.number, '### Proposed remediation');
    expect(proposal).toContain(rule!.SecurityGroupRuleId!);
    expect(proposal).toContain(`ec2:RevokeSecurityGroupIngress GroupId=${group} SecurityGroupRuleIds=${rule!.SecurityGroupRuleId}`);
    expect(proposal).toContain('/vigil remediate p1');

    await comment(issue.number, 'alice', '/vigil remediate p1');
    await commentStarting(issue.number, '### Remediation `p1`: requested by @alice');
    // The asker cannot approve her own request: refused on the issue, and nothing changes.
    await comment(issue.number, 'alice', '/vigil approve p1');
    const refusal = await eventually(async () => (await bodies(issue.number)).find((body) => body.startsWith('**Not done:** `/vigil approve p1` from `alice`')), 60_000);
    expect(refusal).toContain('approval needs a second person');
    expect(await ingressRules()).toHaveLength(1);

    await comment(issue.number, 'bob', '/vigil approve p1');
    const executed = await commentStarting(issue.number, '### Remediation `p1`: executed');
    expect(executed).not.toContain('DRY RUN');
    expect(await ingressRules()).toEqual([]);
    const rechecked = await commentStarting(issue.number, '### Remediation `p1`: re-checked');
    expect(rechecked).toContain(`${machine.address}:${machine.port}`);
    expect(rechecked).toContain(`closed: ${machine.address}:${machine.port}`);
    const progress = await queryProgress(vigil.client, workflowId);
    expect(progress?.openEndpoints ?? []).not.toContain(`${machine.address}:${machine.port}`);

    await comment(issue.number, 'alice', '/vigil undo p1');
    await commentStarting(issue.number, '### Remediation `p1`: undone by @alice');
    const restored = await ingressRules();
    expect(restored.map(({ IpProtocol, FromPort, ToPort, CidrIpv4, Description }) => ({ IpProtocol, FromPort, ToPort, CidrIpv4, Description }))).toEqual([
      { IpProtocol: 'tcp', FromPort: machine.port, ToPort: machine.port, CidrIpv4: '0.0.0.0/0', Description: 'ssh from anywhere' },
    ]);
    expect(machine.listening()).toBe(true);

    // The whole trail, in order, on the issue; and a record of each step in the archive.
    const trail = (await bodies(issue.number)).map(headingOf).filter((heading) => /remediation/i.test(heading));
    expect(trail).toEqual([
      '### Proposed remediation',
      '### Remediation `p1`: requested by @alice',
      '### Remediation `p1`: approved by @bob',
      '### Remediation `p1`: executed',
      '### Remediation `p1`: re-checked',
      '### Remediation `p1`: undone by @alice',
      ...trail.slice(6).filter((heading) => heading === '### Remediation `p1`: re-checked'),
    ]);
    const auditDir = path.join(vigil.config.dataDir, 'audit');
    const files = await eventually(async () => {
      const found = (await readdir(auditDir, { recursive: true })).filter((name) => name.endsWith('.json'));
      return found.length >= 6 ? found : undefined;
    });
    const records = await Promise.all(files.map(async (name) => JSON.parse(await readFile(path.join(auditDir, name), 'utf8'))));
    const steps = records.map((record) => record.step);
    expect(steps).toEqual(expect.arrayContaining(['proposed', 'requested', 'approved', 'executed', 'rechecked', 'undone']));
    const execution = records.find((record) => record.step === 'executed');
    expect(execution).toMatchObject({ actor: 'vigil', workflowId, apiCall: expect.stringContaining(rule!.SecurityGroupRuleId!) });
    expect(execution.requestIds.length).toBeGreaterThan(0);
    expect(records.find((record) => record.step === 'approved')).toMatchObject({ actor: 'bob' });

    expect(connections.outsideLoopback()).toEqual([]);
  });
});
