// Who a principal is, read for real: IAM in moto (users with and without MFA, console password and
// access keys used and unused, administrators directly, through a group and through a policy of
// their own, a role behind an assumed-role ARN) through the role the AWS inventory assumes, and GCP
// service accounts and the organisation's domain from the local Cloud Asset server; refusals and
// failures as AWS sends them, from a loopback server. Then the same through a whole investigation:
// an alert naming only a principal gets an actors comment.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreateLoginProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  EnableMFADeviceCommand,
  IAMClient,
  ListUsersCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfiguredPrincipals, type PrincipalLookup } from '../../activities/principals';
import type { PrincipalFacts } from '../../lib/intel';
import { startCloudAssetServer, type ApiAsset, type CloudAssetServer } from '../helpers/cloud-asset-server';
import { startMoto, type Moto } from '../helpers/moto';
import { eventually, startTestVigil } from '../helpers/vigil';

const ACCOUNT = '111111111111';
const UNCOVERED = '222222222222';
const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';
const everything = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
const s3Only = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] });

let moto: Moto;
let lookup: PrincipalLookup;
const keys = { used: '', unused: '' };

/** IAM as some role in the account: moto files what these credentials create under that account. */
async function iamIn(account: string): Promise<IAMClient> {
  const sts = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: moto.credentials });
  const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/seeder`, RoleSessionName: 'seed' }));
  return new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! } });
}

beforeAll(async () => {
  // AdministratorAccess and the other AWS-managed policies exist in moto only when it loads them.
  process.env.MOTO_IAM_LOAD_MANAGED_POLICIES = 'true';
  moto = await startMoto();
  const iam = await iamIn(ACCOUNT);
  // alice: MFA, a console password, one key used and one never, AdministratorAccess attached to her.
  await iam.send(new CreateUserCommand({ UserName: 'alice' }));
  const { VirtualMFADevice } = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'alice-phone' }));
  await iam.send(new EnableMFADeviceCommand({ UserName: 'alice', SerialNumber: VirtualMFADevice!.SerialNumber!, AuthenticationCode1: '123456', AuthenticationCode2: '654321' }));
  await iam.send(new CreateLoginProfileCommand({ UserName: 'alice', Password: 'correct-horse-battery-staple-1!' }));
  const used = (await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }))).AccessKey!;
  keys.used = used.AccessKeyId!;
  keys.unused = (await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }))).AccessKey!.AccessKeyId!;
  await iam.send(new AttachUserPolicyCommand({ UserName: 'alice', PolicyArn: ADMIN }));
  // Using the key is what IAM records as its last use.
  await new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: keys.used, secretAccessKey: used.SecretAccessKey! } }).send(new ListUsersCommand({}));
  // bob: nothing of his own, administrator through the group `admins`.
  await iam.send(new CreateUserCommand({ UserName: 'bob' }));
  await iam.send(new CreateGroupCommand({ GroupName: 'admins' }));
  await iam.send(new AttachGroupPolicyCommand({ GroupName: 'admins', PolicyArn: ADMIN }));
  await iam.send(new AddUserToGroupCommand({ GroupName: 'admins', UserName: 'bob' }));
  // carol: a customer policy granting * on *, and an inline policy that does not.
  await iam.send(new CreateUserCommand({ UserName: 'carol' }));
  const { Policy } = await iam.send(new CreatePolicyCommand({ PolicyName: 'break-glass', PolicyDocument: everything }));
  await iam.send(new AttachUserPolicyCommand({ UserName: 'carol', PolicyArn: Policy!.Arn! }));
  await iam.send(new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'storage', PolicyDocument: s3Only }));
  // deploy: a role with read-only access only.
  await iam.send(new CreateRoleCommand({ RoleName: 'deploy', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
  await iam.send(new AttachRolePolicyCommand({ RoleName: 'deploy', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }));

  lookup = await createConfiguredPrincipals({ aws: { accounts: [{ id: ACCOUNT }], endpoint: moto.endpoint } }, { credentials: moto.credentials });
}, 120_000);
afterAll(async () => {
  await moto?.stop();
});

const one = async (name: string, cloud: { provider?: string; account?: string } = {}): Promise<PrincipalFacts> => (await lookup.describe([{ name, ...cloud }]))[0]!;

describe('AWS principals', () => {
  it('describes a user: MFA, console access, each key with its last use, AdministratorAccess attached', async () => {
    const alice = await one(`arn:aws:iam::${ACCOUNT}:user/alice`);
    expect(alice).toMatchObject({ kind: 'aws-user', account: ACCOUNT, name: 'alice', arn: `arn:aws:iam::${ACCOUNT}:user/alice`, mfaDevices: 1, console: { enabled: true }, adminPolicies: [{ policy: 'AdministratorAccess', via: 'attached' }] });
    expect(alice.kind === 'aws-user' && alice.created).toMatch(/^\d{4}-/);
    const accessKeys = alice.kind === 'aws-user' ? alice.accessKeys : [];
    expect(accessKeys).toHaveLength(2);
    expect(accessKeys?.find((key) => key.id === keys.used)).toMatchObject({ status: 'Active', lastUsed: { at: expect.stringMatching(/^\d{4}-/), service: 'iam' } });
    expect(accessKeys?.find((key) => key.id === keys.unused)?.lastUsed).toBeUndefined();
  });

  it('finds administrators through a group and through a policy of their own, not through a narrower inline one', async () => {
    // bob is named as a bare user name, with the alert's account.
    expect(await one('bob', { provider: 'aws', account: ACCOUNT })).toMatchObject({ kind: 'aws-user', mfaDevices: 0, console: { enabled: false }, accessKeys: [], adminPolicies: [{ policy: 'AdministratorAccess', via: 'group admins' }] });
    expect(await one(`arn:aws:iam::${ACCOUNT}:user/carol`)).toMatchObject({ adminPolicies: [{ policy: 'break-glass', via: 'attached' }] });
  });

  it('reads the role behind an assumed-role ARN, and the user behind an access key id', async () => {
    expect(await one(`arn:aws:sts::${ACCOUNT}:assumed-role/deploy/ci-run-7`)).toMatchObject({ kind: 'aws-role', name: 'deploy', seenAs: 'ci-run-7', adminPolicies: [] });
    expect(await one(keys.unused)).toMatchObject({ kind: 'aws-user', name: 'alice', seenAs: keys.unused });
  });

  it('says why when it cannot tell: an unknown user, an account the inventory does not cover', async () => {
    expect(await one(`arn:aws:iam::${ACCOUNT}:user/nobody`)).toEqual({ kind: 'unread', reason: `no user nobody in account ${ACCOUNT}` });
    expect(await one(`arn:aws:iam::${UNCOVERED}:user/alice`)).toEqual({ kind: 'unread', reason: `account ${UNCOVERED} is not covered by inventory.aws` });
    expect(await one('someone@example.com')).toEqual({ kind: 'unread', reason: 'domain example.com; inventory.gcp is not configured' });
  });
});

/** A loopback server answering IAM and STS calls (query protocol) with `reply`, by the call's body. */
async function fakeAws(reply: (body: string) => { status: number; code: string }) {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const { status, code } = reply(body);
      response.writeHead(status, { 'content-type': 'text/xml' }).end(`<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>no</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('AWS principals: refusals and failures as AWS sends them', () => {
  const OWN = '333333333333';
  const ROLE = '444444444444';
  it('says which permission or role was refused, and throws a failure worth retrying', async () => {
    const aws = await fakeAws((body) =>
      body.includes('Action=AssumeRole') ? { status: 403, code: 'AccessDenied' } : body.includes('UserName=flaky') ? { status: 503, code: 'ServiceUnavailable' } : { status: 403, code: 'AccessDenied' },
    );
    try {
      const refused = await createConfiguredPrincipals({ aws: { accounts: [{ id: OWN, useOwnCredentials: true }, { id: ROLE }], endpoint: aws.endpoint, maxAttempts: 1 } }, { credentials: moto.credentials });
      expect(await refused.describe([{ name: `arn:aws:iam::${OWN}:user/locked` }, { name: `arn:aws:iam::${ROLE}:role/any` }])).toEqual([
        { kind: 'unread', reason: `access denied to iam:GetUser in account ${OWN} (AccessDenied)` },
        { kind: 'unread', reason: `cannot assume role arn:aws:iam::${ROLE}:role/VigilReadOnly (AccessDenied)` },
      ]);
      await expect(refused.describe([{ name: `arn:aws:iam::${OWN}:user/flaky` }])).rejects.toMatchObject({ name: 'ServiceUnavailable' });
    } finally {
      await aws.close();
    }
  });
});

describe('GCP principals', () => {
  let server: CloudAssetServer;
  let gcpLookup: PrincipalLookup;
  const ENV = { VIGIL_TEST_GCP_TOKEN: 'test-access-token-0123456789' };
  const organization: ApiAsset = {
    name: '//cloudresourcemanager.googleapis.com/organizations/123',
    assetType: 'cloudresourcemanager.googleapis.com/Organization',
    ancestors: ['organizations/123'],
    resource: { version: 'v1', discoveryName: 'Organization', data: { name: 'organizations/123', displayName: 'example.com', lifecycleState: 'ACTIVE' } },
  };
  const serviceAccount: ApiAsset = {
    name: '//iam.googleapis.com/projects/proj-a/serviceAccounts/104567',
    assetType: 'iam.googleapis.com/ServiceAccount',
    ancestors: ['projects/555', 'organizations/123'],
    resource: {
      version: 'v1',
      discoveryName: 'ServiceAccount',
      parent: '//cloudresourcemanager.googleapis.com/projects/555',
      data: { name: 'projects/proj-a/serviceAccounts/ci@proj-a.iam.gserviceaccount.com', email: 'ci@proj-a.iam.gserviceaccount.com', displayName: 'CI deployer', disabled: true, projectId: 'proj-a', uniqueId: '104567' },
    },
  };

  beforeAll(async () => {
    server = await startCloudAssetServer({ assets: [organization, serviceAccount], tokens: [ENV.VIGIL_TEST_GCP_TOKEN] });
    const { createGcpPrincipals } = await import('../../activities/principals/gcp');
    const { createPrincipalLookup } = await import('../../activities/principals');
    gcpLookup = createPrincipalLookup({ gcp: createGcpPrincipals({ scopes: ['organizations/123'], endpoint: server.url, accessToken: { env: 'VIGIL_TEST_GCP_TOKEN' } }, ENV) });
  });
  afterAll(async () => {
    await server.close();
  });

  it("tells the organisation's service accounts and accounts from external ones, with the domain", async () => {
    const facts = await gcpLookup.describe([
      { name: 'serviceAccount:ci@proj-a.iam.gserviceaccount.com' },
      { name: 'intruder@other-proj.iam.gserviceaccount.com' },
      { name: 'alice@example.com' },
      { name: 'user:eve@gmail.com' },
    ]);
    expect(facts).toEqual([
      { kind: 'gcp-service-account', email: 'ci@proj-a.iam.gserviceaccount.com', displayName: 'CI deployer', disabled: true, project: 'proj-a' },
      { kind: 'external', email: 'intruder@other-proj.iam.gserviceaccount.com', domain: 'other-proj.iam.gserviceaccount.com', account: 'service-account' },
      { kind: 'organisation-account', email: 'alice@example.com', domain: 'example.com' },
      { kind: 'external', email: 'eve@gmail.com', domain: 'gmail.com', account: 'user' },
    ]);
    expect(server.problems).toEqual([]);
  });

  it('says so when the organisation cannot be read, and throws on a failure worth retrying', async () => {
    server.fail('organizations/123', 'PERMISSION_DENIED');
    expect(await gcpLookup.describe([{ name: 'stranger@proj-z.iam.gserviceaccount.com' }])).toEqual([
      { kind: 'unread', reason: 'service account not found in the scopes Vigil could read (could not read organizations/123: access denied)' },
    ]);
    server.fail('organizations/123', 'INTERNAL');
    await expect(gcpLookup.describe([{ name: 'eve@gmail.com' }])).rejects.toThrow();
  });
});

describe('an investigation of an alert naming only a principal', () => {
  it('comments who the principal is', async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey });
    const vigil = await startTestVigil({ inventory: { aws: { accounts: [{ id: ACCOUNT }], endpoint: moto.endpoint } } });
    try {
      const response = await vigil.post('generic', {
        id: 'root-like-activity',
        title: 'Unusual IAM activity',
        severity: 'high',
        kind: 'actor',
        cloud: { provider: 'aws', account: ACCOUNT },
        actors: { principals: ['bob'] },
      });
      expect(response.status).toBe(202);
      const comment = await eventually(async () => (await vigil.tracker.listIssues())[0]?.comments.find((c) => c.body.startsWith('### Actors'))?.body, 60_000);
      expect(comment).toContain(`- \`bob\`: AWS user \`bob\` in account \`${ACCOUNT}\``);
      expect(comment).toContain('**administrator**: `AdministratorAccess` (`group admins`)');
      expect(comment).toContain('No earlier investigation names it.');
    } finally {
      await vigil.stop();
    }
  }, 120_000);
});
