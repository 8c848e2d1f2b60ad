// The AWS inventory against a real moto server, seeded and read through the real AWS SDK over HTTP,
// and against a loopback server answering as AWS does when it refuses. Nothing here connects to the
// public-looking addresses moto hands out: every call goes to 127.0.0.1.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AllocateAddressCommand,
  AssignIpv6AddressesCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateSecurityGroupCommand,
  EC2Client,
  RunInstancesCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsInventory } from '../../activities/context/aws';
import { createAwsInventory } from '../../activities/context/aws/inventory';
import type { ContextQuery } from '../../activities/context/types';
import type { Exposure } from '../../lib/context';
import { startMoto, type Moto } from '../helpers/moto';

const accountA = '111111111111';
const accountB = '222222222222';
const region = 'us-east-1';
const externalId = 'external-id-that-must-stay-secret';

/** `inventory.aws` as the provider's schema makes it, defaults included. */
const awsSettings = (aws: Record<string, unknown>) => awsInventory.settings.parse(aws);
const brief = (exposures: Exposure[]) => exposures.map((e) => `${e.instance} ${e.address} ${e.protocol}/${e.ports.from}-${e.ports.to} ${e.rule}`).sort();
const query = (account: string, resources: ContextQuery['resources'], addresses: string[] = []): ContextQuery => ({ provider: 'aws', account, region, resources, addresses });

let moto: Moto;
const seeded = {
  web: { group: '', instance: '', eni: '', elasticIp: '', privateIp: '', ipv6: '2600:1f18:4c1:7a00::10', prefixList: '' },
  fleet: { group: '', instances: [] as string[] },
  b: { group: '', instance: '' },
};

/** EC2 as some role in the account: moto files what these credentials create under that account. */
async function ec2In(account: string): Promise<EC2Client> {
  const sts = new STSClient({ region, endpoint: moto.endpoint, credentials: moto.credentials });
  const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/seeder`, RoleSessionName: 'seed' }));
  return new EC2Client({ region, endpoint: moto.endpoint, credentials: { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! } });
}

async function group(ec2: EC2Client, name: string, permissions: IpPermission[]): Promise<string> {
  const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name }));
  if (permissions.length > 0) await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: permissions }));
  return GroupId!;
}

async function instance(ec2: EC2Client, name: string, groupId: string) {
  const { Instances } = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: 1,
      MaxCount: 1,
      SecurityGroupIds: [groupId],
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: name }, { Key: 'team', Value: 'web' }] }],
    }),
  );
  return Instances![0]!;
}

beforeAll(async () => {
  moto = await startMoto();
  const a = await ec2In(accountA);
  const { PrefixList } = await a.send(new CreateManagedPrefixListCommand({ PrefixListName: 'anywhere', MaxEntries: 2, AddressFamily: 'IPv4', Entries: [{ Cidr: '0.0.0.0/0' }] }));
  seeded.web.prefixList = PrefixList!.PrefixListId!;
  const app = await group(a, 'app', []);
  seeded.web.group = await group(a, 'web', [
    { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
    { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: app }] },
    { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: '203.0.113.0/24' }] },
    { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, PrefixListIds: [{ PrefixListId: seeded.web.prefixList }] },
  ]);
  const web = await instance(a, 'web-1', seeded.web.group);
  seeded.web.instance = web.InstanceId!;
  seeded.web.eni = web.NetworkInterfaces![0]!.NetworkInterfaceId!;
  seeded.web.privateIp = web.PrivateIpAddress!;
  const eip = await a.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  seeded.web.elasticIp = eip.PublicIp!;
  await a.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: seeded.web.instance }));
  await a.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: seeded.web.eni, Ipv6Addresses: [seeded.web.ipv6] }));

  // More instances than a page holds, each in its own reservation (moto pages reservations).
  seeded.fleet.group = await group(a, 'fleet', [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]);
  for (let i = 0; i < 12; i++) seeded.fleet.instances.push((await instance(a, `fleet-${i}`, seeded.fleet.group)).InstanceId!);

  const b = await ec2In(accountB);
  seeded.b.group = await group(b, 'b-web', [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]);
  seeded.b.instance = (await instance(b, 'b-1', seeded.b.group)).InstanceId!;
});
afterAll(() => moto?.stop());

const motoInventory = (pageSize?: number, accounts: Record<string, unknown>[] = [{ id: accountA }, { id: accountB }]) =>
  createAwsInventory(awsSettings({ accounts, endpoint: moto.endpoint, externalId, maxAttempts: 2 }), {
    credentials: moto.credentials,
    ...(pageSize ? { pageSize } : {}),
  });

describe('AWS inventory on moto', () => {
  it('reads a security group: the instance carrying it, every rule, and exactly what opens to the internet', async () => {
    const { web } = seeded;
    const context = await motoInventory(5).collect(query(accountA, [{ type: 'aws:ec2:security-group', id: web.group }]));
    expect(context.problems).toEqual([]);
    expect(context.instances).toEqual([
      {
        provider: 'aws',
        type: 'aws:ec2:instance',
        id: web.instance,
        name: 'web-1',
        account: accountA,
        region,
        publicAddresses: [web.elasticIp, web.ipv6],
        privateAddresses: [web.privateIp],
        dnsNames: expect.arrayContaining([expect.stringMatching(/\.ec2\.internal$/)]),
        tags: { Name: 'web-1', team: 'web' },
      },
    ]);
    expect(context.rules.map((rule) => [rule.id, rule.name, rule.sources])).toEqual([
      [`${web.group}/ingress/tcp/22-22`, `web (${web.group}) tcp 22`, ['0.0.0.0/0']],
      [`${web.group}/ingress/tcp/443-443`, `web (${web.group}) tcp 443`, ['::/0']],
      [`${web.group}/ingress/tcp/8080-8080`, `web (${web.group}) tcp 8080`, [expect.stringMatching(/^sg-/)]],
      [`${web.group}/ingress/tcp/5432-5432`, `web (${web.group}) tcp 5432`, ['203.0.113.0/24']],
      [`${web.group}/ingress/tcp/80-80`, `web (${web.group}) tcp 80`, [web.prefixList, '0.0.0.0/0']],
    ]);
    expect(brief(context.exposures)).toEqual([
      `${web.instance} ${web.elasticIp} tcp/22-22 ${web.group}/ingress/tcp/22-22`,
      `${web.instance} ${web.elasticIp} tcp/80-80 ${web.group}/ingress/tcp/80-80`,
      `${web.instance} ${web.ipv6} tcp/443-443 ${web.group}/ingress/tcp/443-443`,
    ]);
  });

  it('finds the same machine from its instance id, its network interface, its Elastic IP and its private address', async () => {
    const { web } = seeded;
    const inventory = motoInventory();
    const expected = { instance: web.instance, exposures: 3 };
    for (const [resources, addresses] of [
      [[{ type: 'aws:ec2:instance', id: web.instance }], []],
      [[{ type: 'aws:ec2:network-interface', id: `arn:aws:ec2:${region}:${accountA}:network-interface/${web.eni}` }], []],
      [[], [web.elasticIp]],
      [[], [web.privateIp]],
    ] as const) {
      const context = await inventory.collect(query(accountA, [...resources], [...addresses]));
      expect({ instance: context.instances.map((i) => i.id).join(), exposures: context.exposures.length }, JSON.stringify({ resources, addresses })).toEqual(expected);
    }
  });

  it('assumes the role of the alert’s account: each account sees only its own resources', async () => {
    const inventory = motoInventory();
    const inB = await inventory.collect(query(accountB, [{ type: 'aws:ec2:security-group', id: seeded.b.group }]));
    expect(inB.instances.map((i) => [i.id, i.account])).toEqual([[seeded.b.instance, accountB]]);
    expect(brief(inB.exposures)).toEqual([expect.stringMatching(new RegExp(`^${seeded.b.instance} \\S+ all/0-65535 ${seeded.b.group}/ingress/all/0-65535$`))]);
    expect(await inventory.collect(query(accountA, [{ type: 'aws:ec2:security-group', id: seeded.b.group }]))).toMatchObject({ instances: [], rules: [], problems: [] });
    expect(await inventory.collect(query(accountB, [{ type: 'aws:ec2:instance', id: seeded.web.instance }]))).toMatchObject({ instances: [], rules: [], problems: [] });
  });

  it('follows every page when a group holds more machines than a page', async () => {
    const context = await motoInventory(5).collect(query(accountA, [{ type: 'aws:ec2:security-group', id: seeded.fleet.group }]));
    expect(context.instances.map((i) => i.id).sort()).toEqual([...seeded.fleet.instances].sort());
    expect(context.exposures).toHaveLength(12);
    // Without a region, the account's own regions are read.
    const everywhere = motoInventory(5, [{ id: accountA, regions: ['eu-west-1', region] }]);
    const regionless = { provider: 'aws', account: accountA, resources: [{ type: 'aws:ec2:security-group', id: seeded.fleet.group }], addresses: [] };
    expect((await everywhere.collect(regionless)).instances).toHaveLength(12);
  });

  it('reports refused credentials and role assumptions as problems naming the AWS error', async () => {
    const setAuth = (count: string) =>
      fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: count }).then((r) => r.json());
    await setAuth('0');
    try {
      const sg = [{ type: 'aws:ec2:security-group', id: seeded.web.group }];
      expect((await motoInventory().collect(query(accountA, sg))).problems).toEqual([
        { provider: 'aws', scope: `account ${accountA} in ${region}`, reason: `cannot assume role arn:aws:iam::${accountA}:role/VigilReadOnly (InvalidClientTokenId)` },
      ]);
      const own = motoInventory(undefined, [{ id: accountA, useOwnCredentials: true }]);
      expect((await own.collect(query(accountA, sg))).problems).toEqual([{ provider: 'aws', scope: `account ${accountA} in ${region}`, reason: 'access denied (AuthFailure)' }]);
    } finally {
      await setAuth('inf');
    }
  });
});

describe('AWS inventory: a whole account and region, for the re-scan', () => {
  it('lists one scope per account and region, and reads everything in one, page by page', async () => {
    const inventory = motoInventory(5, [{ id: accountA, regions: ['eu-west-1', region] }, { id: accountB }]);
    expect(inventory.scopes!()).toEqual([`${accountA}/eu-west-1`, `${accountA}/${region}`, `${accountB}/${region}`]);
    const context = await inventory.scan!(`${accountA}/${region}`);
    expect(context.problems).toEqual([]);
    expect(context.instances.map((i) => i.id).sort()).toEqual([seeded.web.instance, ...seeded.fleet.instances].sort());
    // Every group's rules, including the one no interface carries.
    expect(context.rules.filter((rule) => rule.id.startsWith(seeded.web.group))).toHaveLength(5);
    expect(brief(context.exposures).filter((line) => line.startsWith(seeded.web.instance))).toHaveLength(3);
    expect(context.exposures.filter((e) => seeded.fleet.instances.includes(e.instance))).toHaveLength(12);
    // Another account's machines are read with that account's role only.
    expect((await inventory.scan!(`${accountB}/${region}`)).instances.map((i) => i.id)).toEqual([seeded.b.instance]);
    expect((await inventory.scan!(`${accountA}/eu-west-1`)).instances).toEqual([]);
  });

  it('says so for a scope that is not configured', async () => {
    const inventory = motoInventory(undefined, [{ id: accountA }]);
    for (const scope of [`${accountB}/${region}`, accountA]) {
      expect((await inventory.scan!(scope)).problems).toEqual([{ provider: 'aws', scope, reason: `${scope} is not an <account>/<region> of inventory.aws.accounts` }]);
    }
  });
});

describe('AWS inventory: what it does not read', () => {
  it('answers without calling AWS when the alert is not about AWS, names nothing it reads, or comes from an unconfigured account', async () => {
    // Nothing listens there: any call would fail the collection.
    const inventory = createAwsInventory(awsSettings({ accounts: [{ id: accountA }], endpoint: `http://127.0.0.1:${await getPort()}`, maxAttempts: 1 }));
    const sg = [{ type: 'aws:ec2:security-group', id: 'sg-1' }];
    expect(await inventory.collect({ ...query(accountA, sg), provider: 'gcp' })).toEqual({ instances: [], rules: [], exposures: [], problems: [] });
    expect(await inventory.collect(query(accountA, [{ type: 'aws:iam:user', id: 'alice' }]))).toEqual({ instances: [], rules: [], exposures: [], problems: [] });
    expect((await inventory.collect(query('999999999999', sg))).problems).toEqual([
      { provider: 'aws', scope: 'account 999999999999', reason: 'account 999999999999 is not configured in inventory.aws.accounts' },
    ]);
  });
});

/** A loopback server answering every request with `reply`, recording the requests' bodies. */
async function fakeAws(reply: (body: string) => { status: number; xml: string }) {
  const bodies: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      bodies.push(body);
      const { status, xml } = reply(body);
      res.writeHead(status, { 'content-type': 'text/xml' }).end(xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const secretKey = 'worker-secret-access-key-0123456789';
const ownCredentials = { accessKeyId: 'AKIAWORKER', secretAccessKey: secretKey };
const stsError = (code: string) =>
  `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>not authorized to perform: sts:AssumeRole</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`;
const ec2Error = (code: string) => `<Response><Errors><Error><Code>${code}</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>r-2</RequestID></Response>`;

describe('AWS inventory: refusals and failures as AWS sends them', () => {
  it('turns a refused role assumption into a problem, without the external id', async () => {
    const aws = await fakeAws(() => ({ status: 403, xml: stsError('AccessDenied') }));
    try {
      const inventory = createAwsInventory(awsSettings({ accounts: [{ id: accountA }], endpoint: aws.endpoint, externalId, maxAttempts: 1 }), { credentials: ownCredentials });
      const context = await inventory.collect(query(accountA, [{ type: 'aws:ec2:instance', id: 'i-1' }]));
      expect(context.problems).toEqual([{ provider: 'aws', scope: `account ${accountA} in ${region}`, reason: `cannot assume role arn:aws:iam::${accountA}:role/VigilReadOnly (AccessDenied)` }]);
      expect(aws.bodies.some((body) => body.includes('Action=AssumeRole') && body.includes(`ExternalId=${externalId}`))).toBe(true);
      expect(JSON.stringify(context)).not.toContain(externalId);
    } finally {
      await aws.close();
    }
  });

  it('turns an EC2 refusal into a problem', async () => {
    const aws = await fakeAws(() => ({ status: 403, xml: ec2Error('UnauthorizedOperation') }));
    try {
      const inventory = createAwsInventory(awsSettings({ accounts: [{ id: accountA, useOwnCredentials: true }], endpoint: aws.endpoint, maxAttempts: 1 }), { credentials: ownCredentials });
      const context = await inventory.collect(query(accountA, [{ type: 'aws:ec2:security-group', id: 'sg-1' }]));
      expect(context.problems).toEqual([{ provider: 'aws', scope: `account ${accountA} in ${region}`, reason: 'access denied (UnauthorizedOperation)' }]);
    } finally {
      await aws.close();
    }
  });

  it('throws a server failure once the SDK’s attempts are spent, without any secret in the error', async () => {
    const aws = await fakeAws(() => ({ status: 503, xml: ec2Error('Unavailable') }));
    try {
      const inventory = createAwsInventory(awsSettings({ accounts: [{ id: accountA, useOwnCredentials: true }], endpoint: aws.endpoint, externalId, maxAttempts: 3 }), { credentials: ownCredentials });
      const failure = await inventory.collect(query(accountA, [{ type: 'aws:ec2:security-group', id: 'sg-1' }])).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(failure?.name).toBe('Unavailable');
      expect(aws.bodies).toHaveLength(3);
      const told = `${failure?.message} ${failure?.stack} ${JSON.stringify(failure)}`;
      expect(told).not.toContain(secretKey);
      expect(told).not.toContain(externalId);
    } finally {
      await aws.close();
    }
  });
});
