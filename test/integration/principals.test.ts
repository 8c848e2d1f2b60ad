// Who a principal is, read for real: IAM in moto (users with and without MFA, console password and
// access keys used and unused, administrators directly, through a group and through a policy of
// their own, a role behind an assumed-role ARN) through the role the AWS inventory assumes, and GCP
// service accounts and the organisation's domain from the local Cloud Asset server; refusals and
// failures as AWS sends them, from a loopback server. Then the same through a whole investigation:
// an alert naming only a principal gets an actors comment.
import { createServer, request as httpRequest } from 'node:http';
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

/**
 * A loopback proxy in front of moto that counts what reaches it: each IAM or STS action, and the
 * most requests it ever held at once.
 */
async function countingProxy(target: string) {
  const actions = new Map<string, number>();
  let inFlight = 0;
  let most = 0;
  const upstream = new URL(target);
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = /(?:^|&)Action=([^&]+)/.exec(body.toString())?.[1] ?? 'unknown';
      actions.set(action, (actions.get(action) ?? 0) + 1);
      most = Math.max(most, ++inFlight);
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
        answer.on('end', () => inFlight--);
      });
      forward.on('error', () => {
        inFlight--;
        response.writeHead(502).end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: (action: string) => actions.get(action) ?? 0,
    most: () => most,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('AWS principals under an alert storm', () => {
  const STORM = '555555555555';
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  beforeAll(async () => {
    const iam = await iamIn(STORM);
    await iam.send(new CreateRoleCommand({ RoleName: 'worker', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
    // dave holds one customer policy three ways: attached to him and to both of his groups.
    const { Policy } = await iam.send(new CreatePolicyCommand({ PolicyName: 'ops-everything', PolicyDocument: everything }));
    await iam.send(new CreateUserCommand({ UserName: 'dave' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'dave', PolicyArn: Policy!.Arn! }));
    for (const group of ['ops', 'oncall']) {
      await iam.send(new CreateGroupCommand({ GroupName: group }));
      await iam.send(new AttachGroupPolicyCommand({ GroupName: group, PolicyArn: Policy!.Arn! }));
      await iam.send(new AddUserToGroupCommand({ GroupName: group, UserName: 'dave' }));
    }
    for (let i = 0; i < 20; i++) await iam.send(new CreateUserCommand({ UserName: `user-${i}` }));
    proxy = await countingProxy(moto.endpoint);
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
  });
  const reader = () => createConfiguredPrincipals({ aws: { accounts: [{ id: STORM }], endpoint: proxy.endpoint } }, { credentials: moto.credentials });

  it('asks IAM once for a role that 50 findings name, each still seen as its own session', async () => {
    const lookup = await reader();
    const findings = Array.from({ length: 50 }, (_, i) => lookup.describe([{ name: `arn:aws:sts::${STORM}:assumed-role/worker/run-${i}` }]));
    const facts = (await Promise.all(findings)).flat();
    expect(facts.map((fact) => (fact.kind === 'aws-role' ? fact.seenAs : fact.kind))).toEqual(Array.from({ length: 50 }, (_, i) => `run-${i}`));
    expect(proxy.count('GetRole')).toBe(1);
    expect(proxy.count('ListAttachedRolePolicies')).toBe(1);
  });

  it('judges a customer policy once per version, however many ways a user holds it', async () => {
    const dave = (await (await reader()).describe([{ name: `arn:aws:iam::${STORM}:user/dave` }]))[0]!;
    expect(dave.kind === 'aws-user' && dave.adminPolicies.map(({ via }) => via).sort()).toEqual(['attached', 'group oncall', 'group ops']);
    expect(proxy.count('GetPolicyVersion')).toBe(1);
    expect(proxy.count('GetPolicy')).toBe(1);
  });

  it('keeps at most 8 IAM requests in flight to an account, however many principals are asked at once', async () => {
    const lookup = await reader();
    const before = proxy.count('GetUser');
    const users = Array.from({ length: 20 }, (_, i) => ({ name: `arn:aws:iam::${STORM}:user/user-${i}` }));
    const facts = (await Promise.all([lookup.describe(users.slice(0, 10)), lookup.describe(users.slice(10))])).flat();
    expect(facts.map(({ kind }) => kind)).toEqual(users.map(() => 'aws-user'));
    expect(proxy.count('GetUser') - before).toBe(20);
    expect(proxy.most()).toBeLessThanOrEqual(8);
  });
});

describe('GCP principals', () => {
  let server: CloudAssetServer;
  const ENV = { VIGIL_TEST_GCP_TOKEN: 'test-access-token-0123456789' };
  const organization: ApiAsset = {
    name: '//cloudresourcemanager.googleapis.com/organizations/123',
    assetType: 'cloudresourcemanager.googleapis.com/Organization',
    ancestors: ['organizations/123'],
    resource: { version: 'v1', discoveryName: 'Organization', data: { name: 'organizations/123', displayName: 'example.com', lifecycleState: 'ACTIVE' } },
  };
  const serviceAccount = (project: string, number: string, email: string, displayName: string, disabled: boolean, organisation = 'organizations/123'): ApiAsset => ({
    name: `//iam.googleapis.com/projects/${project}/serviceAccounts/${email.length}${number}`,
    assetType: 'iam.googleapis.com/ServiceAccount',
    ancestors: [`projects/${number}`, organisation],
    resource: {
      version: 'v1',
      discoveryName: 'ServiceAccount',
      parent: `//cloudresourcemanager.googleapis.com/projects/${number}`,
      data: { name: `projects/${project}/serviceAccounts/${email}`, email, displayName, disabled, projectId: project, uniqueId: `${email.length}${number}` },
    },
  });

  beforeAll(async () => {
    server = await startCloudAssetServer({
      assets: [
        organization,
        serviceAccount('proj-a', '555', 'ci@proj-a.iam.gserviceaccount.com', 'CI deployer', true),
        serviceAccount('proj-a', '555', '555-compute@developer.gserviceaccount.com', 'Compute Engine default service account', false),
        // A project of another organisation that Vigil's credentials happen to read.
        serviceAccount('proj-b', '777', 'web@proj-b.iam.gserviceaccount.com', 'web', false, 'organizations/999'),
      ],
      tokens: [ENV.VIGIL_TEST_GCP_TOKEN],
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const reader = async (scopes = ['organizations/123']) => {
    const { createGcpPrincipals } = await import('../../activities/principals/gcp');
    const { createPrincipalLookup } = await import('../../activities/principals');
    return createPrincipalLookup({ gcp: createGcpPrincipals({ scopes, endpoint: server.url, accessToken: { env: 'VIGIL_TEST_GCP_TOKEN' } }, ENV) });
  };
  /** The parents read since `from`, in order. */
  const parentsRead = (from: number) => server.requests.slice(from).map(({ request }) => String(request.parent));

  it("tells the organisation's service accounts and accounts from external ones, with the domain, reading only the projects the e-mails name", async () => {
    server.fail('projects/other-proj', 'PERMISSION_DENIED');
    const lookup = await reader();
    const from = server.requests.length;
    const facts = await lookup.describe([
      { name: 'serviceAccount:ci@proj-a.iam.gserviceaccount.com' },
      { name: '555-compute@developer.gserviceaccount.com' },
      { name: 'intruder@other-proj.iam.gserviceaccount.com' },
      { name: 'web@proj-b.iam.gserviceaccount.com' },
      { name: 'service-555@gcp-sa-pubsub.iam.gserviceaccount.com' },
      { name: '555@cloudservices.gserviceaccount.com' },
      { name: 'legacy@proj.example.com.iam.gserviceaccount.com' },
      { name: 'alice@example.com' },
      { name: 'user:eve@gmail.com' },
    ]);
    expect(facts).toEqual([
      { kind: 'gcp-service-account', email: 'ci@proj-a.iam.gserviceaccount.com', displayName: 'CI deployer', disabled: true, project: 'proj-a' },
      { kind: 'gcp-service-account', email: '555-compute@developer.gserviceaccount.com', displayName: 'Compute Engine default service account', disabled: false, project: 'proj-a' },
      { kind: 'external', email: 'intruder@other-proj.iam.gserviceaccount.com', domain: 'other-proj.iam.gserviceaccount.com', account: 'service-account' },
      { kind: 'external', email: 'web@proj-b.iam.gserviceaccount.com', domain: 'proj-b.iam.gserviceaccount.com', account: 'service-account' },
      { kind: 'unread', reason: "a Google-managed service agent (gcp-sa-pubsub.iam.gserviceaccount.com): it lives in Google's projects, which no scope lists" },
      { kind: 'unread', reason: "a Google-managed service agent (cloudservices.gserviceaccount.com): it lives in Google's projects, which no scope lists" },
      { kind: 'unread', reason: 'a service account whose e-mail (proj.example.com.iam.gserviceaccount.com) names no project Vigil can read' },
      { kind: 'organisation-account', email: 'alice@example.com', domain: 'example.com' },
      { kind: 'external', email: 'eve@gmail.com', domain: 'gmail.com', account: 'user' },
    ]);
    // The organisation for its domain; each named project once; never a service-account listing of the whole organisation.
    expect(parentsRead(from).sort()).toEqual(['organizations/123', 'projects/555', 'projects/other-proj', 'projects/proj-a', 'projects/proj-b']);
    expect(server.requests.slice(from).filter(({ request }) => String(request.parent).startsWith('organizations/')).map(({ request }) => request.assetTypes)).toEqual([[
      'cloudresourcemanager.googleapis.com/Organization',
    ]]);
    expect(server.problems).toEqual([]);
  });

  it('keeps what it read: an alert storm naming the same accounts asks Cloud Asset once', async () => {
    const lookup = await reader();
    const from = server.requests.length;
    const storm = Array.from({ length: 20 }, () => lookup.describe([{ name: 'ci@proj-a.iam.gserviceaccount.com' }, { name: 'bob@example.com' }]));
    for (const facts of await Promise.all(storm)) expect(facts.map(({ kind }) => kind)).toEqual(['gcp-service-account', 'organisation-account']);
    expect(parentsRead(from).sort()).toEqual(['organizations/123', 'projects/proj-a']);
  });

  it('throws on a spent quota or a failure worth retrying, and keeps nothing of it', async () => {
    const lookup = await reader();
    server.fail('projects/proj-a', 'RESOURCE_EXHAUSTED', 1);
    await expect(lookup.describe([{ name: 'ci@proj-a.iam.gserviceaccount.com' }])).rejects.toThrow();
    expect(await lookup.describe([{ name: 'ci@proj-a.iam.gserviceaccount.com' }])).toMatchObject([{ kind: 'gcp-service-account' }]);
    server.fail('organizations/123', 'INTERNAL', 1);
    await expect(lookup.describe([{ name: 'eve@gmail.com' }])).rejects.toThrow();
  });

  it('says so when a configured scope cannot be read, or the account is not in its project', async () => {
    const lookup = await reader(['organizations/123', 'projects/proj-c']);
    server.fail('organizations/123', 'PERMISSION_DENIED', 1);
    server.fail('projects/proj-c', 'PERMISSION_DENIED', 1);
    expect(await lookup.describe([{ name: 'alice@example.com' }, { name: 'x@proj-c.iam.gserviceaccount.com' }, { name: 'gone@proj-a.iam.gserviceaccount.com' }])).toEqual([
      { kind: 'unread', reason: "domain example.com; the organisation's own domains are unknown (could not read organizations/123: access denied)" },
      { kind: 'unread', reason: 'could not read projects/proj-c: access denied' },
      { kind: 'unread', reason: 'no service account gone@proj-a.iam.gserviceaccount.com in project proj-a (deleted, or not listed by Cloud Asset yet)' },
    ]);
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
