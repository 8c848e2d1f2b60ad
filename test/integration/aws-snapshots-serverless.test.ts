// Snapshots, images and serverless entry points read by the AWS inventory from a real moto server,
// and the URL proof asked of function URLs that a test DNS server points at loopback listeners.
// Nothing here connects outside 127.0.0.0/8: the probe scope is fenced to it.
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import * as apigateway from '@aws-sdk/client-api-gateway';
import * as apigatewayv2 from '@aws-sdk/client-apigatewayv2';
import * as ec2 from '@aws-sdk/client-ec2';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import * as lambda from '@aws-sdk/client-lambda';
import * as rds from '@aws-sdk/client-rds';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsInventory } from '../../activities/context/aws';
import { createCoveredAccounts } from '../../activities/context/aws/covered-accounts';
import { createAwsInventory } from '../../activities/context/aws/inventory';
import { createExposureActivities } from '../../activities/probe/exposures';
import type { NormalizedAlert } from '../../lib/alert';
import { configSchema } from '../../lib/config';
import { emptyContext, type ProviderContext, type PublicResource } from '../../lib/context';
import { makeCertificate } from '../helpers/certificates';
import { startTestDns, type TestDns } from '../helpers/dns-server';
import { createMotoOrganization, startMoto, type Moto } from '../helpers/moto';

const account = '111111111111';
/** A second account Vigil covers (hand-listed): sharing with it stays inside. */
const sibling = '222222222222';
const stranger = '444455556666';
const region = 'us-east-1';

let moto: Moto;
let dns: TestDns;
const servers: Server[] = [];
const seeded = {
  snapshots: { everyone: '', stranger: '', sibling: '', unshared: '' },
  images: { everyone: '', sibling: '' },
  functions: { open: '', refusing: '', metadata: '' },
  rest: { open: '', iam: '' },
  http: '',
};

/** SDK configuration of a role in the account: moto files what it creates there. */
async function configIn(id: string) {
  const sts = new STSClient({ region, endpoint: moto.endpoint, credentials: moto.credentials });
  const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${id}:role/seeder`, RoleSessionName: 'seed' }));
  return { region, endpoint: moto.endpoint, credentials: { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! } };
}

/** An empty zip archive: moto stores the code without running it (only invoking needs Docker). */
const EMPTY_ZIP = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);

async function seedEc2(config: Awaited<ReturnType<typeof configIn>>) {
  const client = new ec2.EC2Client(config);
  const { VolumeId } = await client.send(new ec2.CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 8 }));
  // moto takes the older form of the call (OperationType, GroupNames, UserIds), which AWS accepts too.
  const snapshot = async (name: string, share?: { GroupNames?: ['all']; UserIds?: string[] }) => {
    const { SnapshotId } = await client.send(new ec2.CreateSnapshotCommand({ VolumeId, TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'Name', Value: name }] }] }));
    if (share) await client.send(new ec2.ModifySnapshotAttributeCommand({ SnapshotId, Attribute: 'createVolumePermission', OperationType: 'add', ...share }));
    return SnapshotId!;
  };
  seeded.snapshots = {
    everyone: await snapshot('everyone', { GroupNames: ['all'] }),
    stranger: await snapshot('stranger', { UserIds: [stranger] }),
    sibling: await snapshot('sibling', { UserIds: [sibling] }),
    unshared: await snapshot('unshared'),
  };
  const { Instances } = await client.send(new ec2.RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1 }));
  const image = async (name: string, add: ec2.LaunchPermission[]) => {
    const { ImageId } = await client.send(new ec2.CreateImageCommand({ InstanceId: Instances![0]!.InstanceId, Name: name }));
    await client.send(new ec2.ModifyImageAttributeCommand({ ImageId, LaunchPermission: { Add: add } }));
    return ImageId!;
  };
  seeded.images = { everyone: await image('golden-everyone', [{ Group: 'all' }]), sibling: await image('golden-sibling', [{ UserId: sibling }]) };
}

async function seedRds(config: Awaited<ReturnType<typeof configIn>>) {
  const client = new rds.RDSClient(config);
  await client.send(new rds.CreateDBInstanceCommand({ DBInstanceIdentifier: 'orders', Engine: 'postgres', DBInstanceClass: 'db.t3.micro', AllocatedStorage: 20, MasterUsername: 'admin', MasterUserPassword: 'not-a-secret-1' }));
  await client.send(new rds.CreateDBSnapshotCommand({ DBInstanceIdentifier: 'orders', DBSnapshotIdentifier: 'orders-public' }));
  await client.send(new rds.ModifyDBSnapshotAttributeCommand({ DBSnapshotIdentifier: 'orders-public', AttributeName: 'restore', ValuesToAdd: ['all'] }));
  await client.send(new rds.CreateDBClusterCommand({ DBClusterIdentifier: 'ledger', Engine: 'aurora-postgresql', MasterUsername: 'admin', MasterUserPassword: 'not-a-secret-1' }));
  await client.send(new rds.CreateDBClusterSnapshotCommand({ DBClusterIdentifier: 'ledger', DBClusterSnapshotIdentifier: 'ledger-shared' }));
  await client.send(new rds.ModifyDBClusterSnapshotAttributeCommand({ DBClusterSnapshotIdentifier: 'ledger-shared', AttributeName: 'restore', ValuesToAdd: [sibling] }));
}

async function seedServerless(config: Awaited<ReturnType<typeof configIn>>) {
  const iam = new IAMClient(config);
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
  const { Role } = await iam.send(new CreateRoleCommand({ RoleName: 'fn', AssumeRolePolicyDocument: JSON.stringify(trust) }));
  const functions = new lambda.LambdaClient(config);
  const fn = async (name: string, auth?: 'NONE' | 'AWS_IAM') => {
    await functions.send(new lambda.CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: Role!.Arn, Handler: 'index.handler', Code: { ZipFile: EMPTY_ZIP } }));
    if (!auth) return '';
    const { FunctionUrl } = await functions.send(new lambda.CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: auth, ...(auth === 'NONE' ? { Cors: { AllowOrigins: ['*'] } } : {}) }));
    // What the console adds with a URL that needs no authentication: everyone may call it.
    if (auth === 'NONE' && name !== 'unpermitted') {
      await functions.send(
        new lambda.AddPermissionCommand({ FunctionName: name, StatementId: 'url', Action: 'lambda:InvokeFunctionUrl', Principal: '*', FunctionUrlAuthType: 'NONE' }),
      );
    }
    return FunctionUrl!;
  };
  seeded.functions = { open: await fn('open', 'NONE'), refusing: await fn('refusing', 'NONE'), metadata: await fn('metadata', 'NONE') };
  await fn('unpermitted', 'NONE');
  await fn('signed', 'AWS_IAM');
  await fn('plain');

  const rest = new apigateway.APIGatewayClient(config);
  const restApi = async (name: string, authorizationType: string) => {
    const { id } = await rest.send(new apigateway.CreateRestApiCommand({ name }));
    const { items } = await rest.send(new apigateway.GetResourcesCommand({ restApiId: id }));
    const { id: resourceId } = await rest.send(new apigateway.CreateResourceCommand({ restApiId: id, parentId: items![0]!.id, pathPart: 'orders' }));
    await rest.send(new apigateway.PutMethodCommand({ restApiId: id, resourceId, httpMethod: 'GET', authorizationType }));
    await rest.send(new apigateway.PutIntegrationCommand({ restApiId: id, resourceId, httpMethod: 'GET', type: 'MOCK' }));
    await rest.send(new apigateway.CreateDeploymentCommand({ restApiId: id, stageName: 'prod' }));
    return id!;
  };
  seeded.rest = { open: await restApi('orders-open', 'NONE'), iam: await restApi('orders-iam', 'AWS_IAM') };

  const v2 = new apigatewayv2.ApiGatewayV2Client(config);
  const { ApiId } = await v2.send(new apigatewayv2.CreateApiCommand({ Name: 'items', ProtocolType: 'HTTP' }));
  await v2.send(new apigatewayv2.CreateRouteCommand({ ApiId, RouteKey: 'GET /items', AuthorizationType: 'NONE' }));
  await v2.send(new apigatewayv2.CreateStageCommand({ ApiId, StageName: '$default' }));
  seeded.http = ApiId!;
}

/** An HTTPS server on `address`:443 answering every request with `status`. */
async function listen(address: string, status: number): Promise<void> {
  const server = createServer(makeCertificate({ commonName: 'lambda-url', subjectAltName: 'DNS:*.lambda-url.us-east-1.on.aws' }), (_request, response) => {
    response.writeHead(status, { server: 'test-lambda', 'content-type': 'application/json' }).end('{}');
  });
  server.listen(443, address);
  await once(server, 'listening');
  servers.push(server);
}

beforeAll(async () => {
  [moto, dns] = await Promise.all([startMoto(), startTestDns()]);
  const config = await configIn(account);
  await Promise.all([seedEc2(config), seedRds(config), seedServerless(config)]);
}, 60_000);
afterAll(async () => {
  await Promise.all([...servers.map((server) => new Promise((resolve) => server.close(resolve))), dns?.close(), moto?.stop()]);
});

const inventory = () =>
  createAwsInventory(awsInventory.settings.parse({ accounts: [{ id: account }, { id: sibling }], endpoint: moto.endpoint, maxAttempts: 2 }), { credentials: moto.credentials });

/** One re-scan of the account, shared by the tests that read it (moto lists snapshots slowly). */
let scanned: Promise<ProviderContext> | undefined;
const scan = () => (scanned ??= inventory().scan!(`${account}/${region}`));

const byId = (resources: PublicResource[] | undefined) => new Map((resources ?? []).map((resource) => [resource.id, resource]));

describe('snapshots and images on moto', () => {
  it('reads every own snapshot and image: shared with everyone or a stranger is public, with the organisation is not', async () => {
    const context = await scan();
    expect(context.problems).toEqual([]);
    const found = byId(context.resources);
    const { snapshots, images } = seeded;
    expect(found.get(snapshots.everyone)).toMatchObject({
      type: 'aws:ec2:snapshot',
      class: 'snapshot',
      name: 'everyone',
      public: true,
      reasons: ['shared with everyone (createVolumePermission group all)'],
      facts: { size: '8 GiB', encrypted: 'no', 'shared with': 'everyone' },
      proofs: [],
      aliases: [`arn:aws:ec2:${region}::snapshot/${snapshots.everyone}`, `arn:aws:ec2:${region}:${account}:snapshot/${snapshots.everyone}`],
    });
    expect(found.get(snapshots.stranger)).toMatchObject({ public: true, reasons: [`shared with account ${stranger}, not one Vigil covers`] });
    expect(found.get(snapshots.sibling)).toMatchObject({ public: false, reasons: ['shared with 1 account Vigil covers'], facts: { 'shared with': sibling } });
    expect(found.get(snapshots.unshared)).toMatchObject({ public: false, reasons: ['not shared'] });
    // Its own only: the four above and the two its images were made with, none of the public ones moto holds.
    expect((context.resources ?? []).filter((resource) => resource.type === 'aws:ec2:snapshot')).toHaveLength(6);
    expect(found.get(images.everyone)).toMatchObject({ type: 'aws:ec2:image', public: true, reasons: ['shared with everyone (launchPermission group all)'] });
    expect(found.get(images.sibling)).toMatchObject({ type: 'aws:ec2:image', public: false, reasons: ['shared with 1 account Vigil covers'] });
    expect(found.get('orders-public')).toMatchObject({ type: 'aws:rds:db-snapshot', public: true, reasons: ['shared with everyone (restore attribute all)'], facts: { engine: 'postgres', database: 'orders' } });
    expect(found.get('ledger-shared')).toMatchObject({ type: 'aws:rds:db-cluster-snapshot', public: false, reasons: ['shared with 1 account Vigil covers'] });
  });

  it('reads the snapshots an alert names, by id or ARN, and no others', async () => {
    const refs = [
      { type: 'aws:ec2:snapshot', id: `arn:aws:ec2:${region}::snapshot/${seeded.snapshots.stranger}` },
      { type: 'aws:rds:db-snapshot', id: 'orders-public' },
    ];
    const context = await inventory().collect({ provider: 'aws', account, region, resources: refs, addresses: [] });
    expect(context.problems).toEqual([]);
    expect((context.resources ?? []).map((resource) => `${resource.id} ${resource.public}`).sort()).toEqual(['orders-public true', `${seeded.snapshots.stranger} true`].sort());
  });

  it('answers an account-level finding (every snapshot, `*`) with the public snapshots alone', async () => {
    const refs = [{ type: 'aws:account', id: account }, { type: 'aws:ec2:snapshot', id: '*' }];
    const context = await inventory().collect({ provider: 'aws', account, region, resources: refs, addresses: [] });
    expect(context.problems).toEqual([]);
    expect((context.resources ?? []).map((resource) => resource.id).sort()).toEqual([seeded.snapshots.everyone, seeded.snapshots.stranger].sort());
  });
});

describe('the accounts Vigil owns', () => {
  it('counts the organisation’s accounts as ours, even for readers asking at once while it is being listed', async () => {
    const organization = await createMotoOrganization(moto);
    const member = await organization.account('member', organization.root);
    const settings = awsInventory.settings.parse({ organization: {}, endpoint: moto.endpoint, maxAttempts: 2 });
    const covered = createCoveredAccounts(settings, { credentials: organization.worker }, () => new ec2.EC2Client({ region, endpoint: moto.endpoint }));
    const [first, second] = await Promise.all([covered.ownAccounts(), covered.ownAccounts()]);
    expect([first.has(member), second.has(member)]).toEqual([true, true]);
  });
});

describe('serverless entry points on moto', () => {
  it('finds function URLs without authentication and APIs with open methods, each with its URL as proof', async () => {
    const context = await scan();
    const found = byId(context.resources);
    expect(found.get('open')).toMatchObject({
      type: 'aws:lambda:function',
      class: 'serverless',
      public: true,
      reasons: ['the function URL needs no authentication (AuthType NONE)'],
      facts: { 'auth type': 'NONE', 'CORS origins': '*' },
      proofs: [{ kind: 'url', url: seeded.functions.open }],
    });
    expect(found.get('signed')).toMatchObject({ public: false, reasons: ['the function URL requires IAM authentication (AuthType AWS_IAM)'], proofs: [] });
    expect(found.get('plain')).toMatchObject({ public: false, reasons: ['no function URL'] });
    expect(found.get('unpermitted')).toMatchObject({ public: false, reasons: ['the function URL needs no authentication (AuthType NONE), but its resource policy lets no one call it'], proofs: [] });
    expect(found.get(seeded.rest.open)).toMatchObject({
      type: 'aws:apigateway:rest-api',
      name: 'orders-open',
      public: true,
      reasons: ['1 method needs no authorisation (GET /orders)'],
      proofs: [{ kind: 'url', url: `https://${seeded.rest.open}.execute-api.${region}.amazonaws.com/prod/orders` }],
    });
    expect(found.get(seeded.rest.iam)).toMatchObject({ public: false, reasons: ['every method needs authorisation or an API key'] });
    expect(found.get(seeded.http)).toMatchObject({
      type: 'aws:apigateway:http-api',
      public: true,
      reasons: ['1 route needs no authorisation (GET /items)'],
      proofs: [{ kind: 'url', url: `https://${seeded.http}.execute-api.${region}.amazonaws.com/` }],
    });
  });

  it('proves function URLs as an outsider: answered is public, 403 is refused, a name resolving to metadata is never contacted', async () => {
    const host = (url: string) => new URL(url).hostname;
    dns.set(host(seeded.functions.open), ['127.0.0.61']);
    dns.set(host(seeded.functions.refusing), ['127.0.0.62']);
    dns.set(host(seeded.functions.metadata), ['169.254.169.254']);
    await Promise.all([listen('127.0.0.61', 200), listen('127.0.0.62', 403)]);
    const refs = ['open', 'refusing', 'metadata', 'signed'].map((id) => ({ type: 'aws:lambda:function', id }));
    const context = { ...emptyContext(), ...(await inventory().collect({ provider: 'aws', account, region, resources: refs, addresses: [] })) };
    const settings = { ...configSchema.parse({}).probe, serviceTimeoutMs: 3000 };
    const scope = { allowRanges: ['127.0.0.0/8'], onlyRanges: ['127.0.0.0/8'], resolvers: [dns.server] };
    const alert: NormalizedAlert = {
      kind: 'exposure',
      fingerprint: 'function-urls',
      title: 'Lambda function URL without authentication',
      severity: 'high',
      resources: refs,
      network: { ips: [], cidrs: [], ports: [] },
      actors: { ips: [], domains: [], principals: [], userAgents: [] },
      source: 'generic',
      archive: { id: 'x', sha256: '0'.repeat(64), receivedAt: new Date().toISOString() },
    };
    const report = await createExposureActivities(settings, scope, { screenshots: false }).checkExposures({ alert, context });
    const url = (fn: string) => report.findings.find((finding) => finding.key === `url/${fn}`);
    expect(url(seeded.functions.open)).toMatchObject({ check: 'url', status: 'public', fields: { method: 'HEAD', 'status code': 200, server: 'test-lambda' } });
    expect(url(seeded.functions.refusing)).toMatchObject({ status: 'refused', fields: { method: 'GET', 'status code': 403 } });
    expect(url(seeded.functions.metadata)).toMatchObject({ status: 'skipped', fields: { reason: expect.stringContaining('169.254.169.254 is a link-local address') } });
    expect(report.findings.filter((finding) => finding.check === 'url')).toHaveLength(3);
    // With probing off, nothing is asked, and the issue says which proofs were not.
    const off = await createExposureActivities({ ...settings, enabled: false }, scope, { screenshots: false }).checkExposures({ alert, context });
    expect(off.findings).toEqual([]);
    expect(off.skipped).toContainEqual({ target: seeded.functions.open, reason: 'probing is off (probe.enabled: false)' });
  });
});
