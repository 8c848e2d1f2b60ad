// An exposure alert investigated end to end through Temporal: the inventory says which machines and
// ports, the probes and a real Chromium on the browser queue say what answers, and the issue shows
// it. Every connection this process opens is recorded, to prove nothing beyond loopback was touched
// although the inventories name a metadata address and public-looking ones.
import { readFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  AllocateAddressCommand,
  AssignIpv6AddressesCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VigilExposure } from '../../lib/search-attributes';
import { startDemoServices, type DemoServices } from '../../scripts/demo-services';
import { recordConnections, type ConnectionLog } from '../helpers/connections';
import { startMoto, type Moto } from '../helpers/moto';
import { runVigil } from '../helpers/processes';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

const demoAlert = path.resolve(import.meta.dirname, '../../demo/alerts/01-ssh-open-to-internet.json');
let connections: ConnectionLog;

beforeAll(() => {
  connections = recordConnections();
});
afterAll(() => {
  connections.stop();
});

const comment = async (vigil: TestVigil, number: number, heading: string) =>
  eventually(async () => (await vigil.tracker.readIssue(number))?.comments.find((c) => c.body.startsWith(heading))?.body, 60_000);

describe('an exposure alert on machines from the static inventory', () => {
  let services: DemoServices;
  let vigil: TestVigil;

  beforeAll(async () => {
    services = await startDemoServices(await mkdtemp(path.join(os.tmpdir(), 'vigil-exposure-')));
    vigil = await startTestVigil({ inventory: { static: { files: [services.inventoryFile] } }, browser: true });
  });
  afterAll(async () => {
    await vigil?.stop();
    await services?.stop();
  });

  it('shows the machines, what answers with a screenshot of the web page, the SSH server, and the metadata address as skipped', async () => {
    const response = await vigil.post('generic', await readFile(demoAlert, 'utf8'));
    expect(response.status).toBe(202);
    const workflowId = response.body.alerts[0].workflowId as string;
    const issue = await eventually(async () => (await vigil.tracker.listIssues())[0]);

    const context = await comment(vigil, issue.number, '### Affected resources');
    expect(context).toContain('| `i-0demo0000000000a1` | `billing-dashboard` | `111122223333` | `eu-west-1` | `127.0.0.1` | `10.0.1.17` | **yes** |');
    expect(context).toContain(`| \`127.0.0.1\` | \`tcp\` | \`${services.sshPort}\` | \`sg-0demo22 ssh\` | \`0.0.0.0/0\` |`);
    expect(context).toContain('| `169.254.169.254` | `tcp` | `80` | `sg-0demo22 web` | `0.0.0.0/0` |');

    const exposure = await comment(vigil, issue.number, '### Exposure checks');
    expect(exposure).toContain('2 endpoint(s) probed: **2 open**, 0 closed, 0 filtered.');
    expect(exposure).toMatch(new RegExp(`\\| \`127\\.0\\.0\\.1:${services.webPort}\` \\| \`answered\` \\| \`http\` \\| \`200\` .*\`Acme billing — internal dashboard\` \\| \`demo-httpd/1\\.0\``));
    expect(exposure).toMatch(new RegExp(`\\| \`127\\.0\\.0\\.1:${services.sshPort}\` \\| \`password-allowed\` \\| \`OpenSSH_9\\.2p1 Debian-2\` \\| \`ssh-ed25519\` \\| \`SHA256:`));
    expect(exposure).toContain('| `169.254.169.254:80` | `a link-local address (cloud metadata lives here), not allowed by probe.allowRanges` |');
    expect(exposure).toMatch(/`captured`\n\n!\[screenshot-[0-9a-f]{16}\.png\]\(\/v1\/issues\/\d+\/evidence\/screenshot-[0-9a-f]{16}\.png\)/);

    const stored = await vigil.tracker.readIssue(issue.number);
    expect(stored!.labels).toContain('exposure:open');
    const [evidence] = stored!.evidence;
    const png = await vigil.read(`/v1/issues/${issue.number}/evidence/${path.basename(evidence!.path)}`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await png.arrayBuffer()).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

    const progress = await eventually(async () => {
      const current = await queryProgress(vigil.client, workflowId);
      return current?.firstReportComplete ? current : undefined;
    });
    expect(progress.openEndpoints?.sort()).toEqual([`127.0.0.1:${services.sshPort}`, `127.0.0.1:${services.webPort}`].sort());
    expect(progress.watch?.state).toBe('watching');
    const description = await vigil.client.workflow.getHandle(workflowId).describe();
    expect(description.typedSearchAttributes.get(VigilExposure)).toBe('open');

    // `vigil recheck` as an operator runs it: a check with nothing changed, and no comment.
    const comments = stored!.comments.length;
    const recheck = runVigil(['recheck', workflowId], { TEMPORAL_ADDRESS: vigil.config.temporal.address, TEMPORAL_NAMESPACE: vigil.config.temporal.namespace });
    expect(await recheck.exited).toBe(0);
    expect(recheck.output()).toContain(`asked ${workflowId} to re-check`);
    await eventually(async () => ((await queryProgress(vigil.client, workflowId))?.watch?.checks === 1 ? true : undefined), 60_000);
    expect((await vigil.tracker.readIssue(issue.number))!.comments).toHaveLength(comments);

    expect(connections.hosts()).toContain('127.0.0.1');
    expect(connections.outsideLoopback()).toEqual([]);
  });
});

describe('an exposure alert on machines from AWS, one of them with a public IPv6 address', () => {
  let moto: Moto;
  let vigil: TestVigil;
  let group: string;
  let elasticIp: string;
  const publicIpv6 = '2600:1f18:4c1:7a00::10';

  beforeAll(async () => {
    moto = await startMoto();
    const ec2 = new EC2Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials: moto.credentials });
    group = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'ssh-anywhere', Description: 'ssh' }))).GroupId!;
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: group,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
        ],
      }),
    );
    const { Instances } = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, SecurityGroupIds: [group] }));
    // moto's Elastic IPs are in 127.0.0.0/8; the IPv6 address is a real-looking public one.
    const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    elasticIp = eip.PublicIp!;
    await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: Instances![0]!.InstanceId }));
    await ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: Instances![0]!.NetworkInterfaces![0]!.NetworkInterfaceId, Ipv6Addresses: [publicIpv6] }));
    // The worker's own credentials, as the default chain finds them.
    process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
    vigil = await startTestVigil({
      inventory: { aws: { accounts: [{ id: '123456789012', useOwnCredentials: true }], endpoint: moto.endpoint, maxAttempts: 2 } },
      // Even an allowance of the whole internet stays inside the loopback fence.
      probe: { extraTargets: ['0.0.0.0/0'] },
    });
  });
  afterAll(async () => {
    await vigil?.stop();
    await moto?.stop();
  });

  it('finds the instance behind the group and probes nothing outside loopback', async () => {
    const response = await vigil.post('generic', {
      id: `sg/${group}`,
      title: `Security group ${group} allows SSH from anywhere`,
      severity: 'high',
      kind: 'exposure',
      cloud: { provider: 'aws', account: '123456789012', region: 'us-east-1' },
      resources: [{ type: 'aws:ec2:security-group', id: group }],
      network: { ips: ['198.51.100.200'], cidrs: ['0.0.0.0/0'], ports: [22], protocol: 'tcp' },
    });
    expect(response.status).toBe(202);
    const issue = await eventually(async () => (await vigil.tracker.listIssues())[0]);
    const context = await comment(vigil, issue.number, '### Affected resources');
    expect(context).toContain(`| \`${elasticIp}\` | \`tcp\` | \`22\` | \`ssh-anywhere (${group}) tcp 22\` |`);
    expect(context).toContain(`| \`${publicIpv6}\` | \`tcp\` | \`443\` | \`ssh-anywhere (${group}) tcp 443\` |`);
    const exposure = await comment(vigil, issue.number, '### Exposure checks');
    // The loopback Elastic IP is probed; the public IPv6 address reaches the probing stage and is refused.
    expect(exposure).toMatch(new RegExp(`\\| \`${elasticIp.replaceAll('.', '\\.')}:22\` \\| \`(closed|open)\``));
    expect(exposure).toContain(`| \`[${publicIpv6}]:443\` | \`outside the probe fence (127.0.0.0/8)\` |`);
    expect(exposure).toContain('| `198.51.100.200:22` | `a reserved or documentation address, not allowed by probe.allowRanges` |');
    expect(connections.outsideLoopback()).toEqual([]);
  });
});
