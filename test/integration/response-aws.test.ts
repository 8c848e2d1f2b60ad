// The AWS remediation executor against a real moto server, driven through the real AWS SDK over
// HTTP: plans read from the inventory's context, security-group rules revoked by id and authorised
// back, S3 Block Public Access turned on and back, a lost answer retried, dry runs, the remediation
// role assumed, refusals. moto sits behind a loopback front (test/helpers/moto-front) that can lose
// an answer after moto has acted. Every call goes to 127.0.0.1; nothing connects to the
// public-looking addresses moto hands out.
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  ModifySecurityGroupRulesCommand,
  RunInstancesCommand,
  type IpPermission,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import * as s3 from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsInventory } from '../../activities/context/aws';
import { createAwsInventory } from '../../activities/context/aws/inventory';
import { createAwsExecutor } from '../../activities/response/aws';
import type { ProposeInput } from '../../activities/response/types';
import { emptyActors, emptyNetwork, type NormalizedAlert } from '../../lib/alert';
import { configSchema } from '../../lib/config';
import type { RemediationAction } from '../../lib/response';
import { startMoto, type Moto } from '../helpers/moto';
import { startMotoFront, type MotoFront } from '../helpers/moto-front';

const account = '111111111111';
const region = 'us-east-1';
const EXTERNAL_ID_ENV = 'VIGIL_TEST_REMEDIATION_EXTERNAL_ID';
const externalId = 'remediation-external-id-kept-secret';

type RevokeAction = Extract<RemediationAction, { kind: 'aws-revoke-ingress' }>;
type BlockAction = Extract<RemediationAction, { kind: 'aws-s3-block-public-access' }>;

let moto: Moto;
let front: MotoFront;
let ec2: EC2Client;
let bucketClient: s3.S3Client;

/** SDK configuration of some role in the account: moto files what it creates there. */
async function configIn(id: string) {
  const sts = new STSClient({ region, endpoint: moto.endpoint, credentials: moto.credentials });
  const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${id}:role/seeder`, RoleSessionName: 'seed' }));
  return { region, endpoint: moto.endpoint, credentials: { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! } };
}

/** `response.aws` as the configuration makes it, defaults included, pointed at the front. */
const awsSettings = (aws: Record<string, unknown> = {}) =>
  configSchema.parse({ response: { aws: { endpoint: front.endpoint, externalId: { env: EXTERNAL_ID_ENV }, maxAttempts: 2, ...aws } } }).response.aws;
const executor = (aws: Record<string, unknown> = {}) => createAwsExecutor(awsSettings(aws), { credentials: moto.credentials });

const ssh = (cidr: string, description?: string): IpPermission => ({
  IpProtocol: 'tcp',
  FromPort: 22,
  ToPort: 22,
  ...(cidr.includes(':') ? { Ipv6Ranges: [{ CidrIpv6: cidr, ...(description ? { Description: description } : {}) }] } : { IpRanges: [{ CidrIp: cidr, ...(description ? { Description: description } : {}) }] }),
});

async function createGroup(name: string, permissions: IpPermission[]): Promise<string> {
  const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name }));
  if (permissions.length > 0) await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: permissions }));
  return GroupId!;
}

async function ingressOf(groupId: string): Promise<SecurityGroupRule[]> {
  const { SecurityGroupRules = [] } = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
  return SecurityGroupRules.filter((rule) => !rule.IsEgress);
}

/** A group opening tcp/22 to 0.0.0.0/0, and the action revoking that rule as a plan carries it. */
async function openSsh(name: string): Promise<RevokeAction> {
  const groupId = await createGroup(name, [ssh('0.0.0.0/0', `ssh for ${name}`)]);
  const [rule] = await ingressOf(groupId);
  return {
    kind: 'aws-revoke-ingress',
    account,
    region,
    groupId,
    ruleId: rule!.SecurityGroupRuleId!,
    permission: { protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0', description: `ssh for ${name}` },
  };
}

async function machine(name: string, groupId: string): Promise<string> {
  const { Instances } = await ec2.send(
    new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, SecurityGroupIds: [groupId], TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: name }] }] }),
  );
  return Instances![0]!.InstanceId!;
}

async function blockOf(bucket: string): Promise<s3.PublicAccessBlockConfiguration | null> {
  try {
    return (await bucketClient.send(new s3.GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration ?? null;
  } catch (err) {
    if ((err as Error).name === 'NoSuchPublicAccessBlockConfiguration') return null;
    throw err;
  }
}

async function bucket(name: string, block?: s3.PublicAccessBlockConfiguration): Promise<BlockAction> {
  await bucketClient.send(new s3.CreateBucketCommand({ Bucket: name }));
  if (block) await bucketClient.send(new s3.PutPublicAccessBlockCommand({ Bucket: name, PublicAccessBlockConfiguration: block }));
  return { kind: 'aws-s3-block-public-access', account, region, bucket: name };
}

/** The failure a call ended with, for its type and retryability. */
async function failureOf(work: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await work.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

const calls = (operation: string) => front.requests.filter((request) => request.operation === operation);

beforeAll(async () => {
  process.env[EXTERNAL_ID_ENV] = externalId;
  moto = await startMoto();
  front = await startMotoFront(moto);
  const config = await configIn(account);
  ec2 = new EC2Client(config);
  bucketClient = new s3.S3Client({ ...config, forcePathStyle: true });
});
afterAll(async () => {
  await front?.close();
  await moto?.stop();
});

describe('AWS remediation: security-group ingress', () => {
  const web = { group: '', instances: [] as string[], address: '', bucket: 'vigil-public-reports' };
  let input: ProposeInput;

  beforeAll(async () => {
    web.group = await createGroup('web', [
      ssh('0.0.0.0/0', 'ssh from anywhere'),
      ssh('::/0'),
      ssh('10.0.0.0/8', 'office'),
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    ]);
    for (const name of ['web-1', 'web-2', 'web-3']) web.instances.push(await machine(name, web.group));
    const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: web.instances[0] }));
    web.address = eip.PublicIp!;
    await bucketClient.send(new s3.CreateBucketCommand({ Bucket: web.bucket }));
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${web.bucket}/*` }] };
    await bucketClient.send(new s3.PutBucketPolicyCommand({ Bucket: web.bucket, Policy: JSON.stringify(policy) }));

    // The context as the investigation has it: the AWS inventory's reading of the alert's resources.
    const inventory = createAwsInventory(awsInventory.settings.parse({ accounts: [{ id: account }], endpoint: moto.endpoint }), { credentials: moto.credentials });
    const context = await inventory.collect({
      provider: 'aws',
      account,
      region,
      resources: [
        { type: 'aws:ec2:instance', id: web.instances[0]! },
        { type: 'aws:s3:bucket', id: web.bucket },
      ],
      addresses: [],
    });
    expect(context.problems).toEqual([]);
    const alert: NormalizedAlert = {
      source: 'test',
      kind: 'exposure',
      fingerprint: 'ssh-open',
      title: 'SSH open to the internet',
      severity: 'high',
      cloud: { provider: 'aws', account, region },
      resources: [{ type: 'aws:ec2:instance', id: web.instances[0]! }],
      network: emptyNetwork(),
      actors: emptyActors(),
      archive: { id: 'a', sha256: 'a', receivedAt: new Date().toISOString() },
    };
    input = { alert, context: { consulted: ['aws'], ...context }, answered: [`${web.address}:22`], proven: [web.bucket] };
  });

  it('proposes one plan per internet-wide rule of the permission that answered, with the machines that lose it too', async () => {
    const rules = await ingressOf(web.group);
    const idOf = (cidr: string) => rules.find((rule) => (rule.CidrIpv4 ?? rule.CidrIpv6) === cidr && rule.FromPort === 22)!.SecurityGroupRuleId!;
    const plans = await executor().propose(input);
    const revokes = plans.filter((plan) => plan.action.kind === 'aws-revoke-ingress');
    // 443 did not answer, and 10.0.0.0/8 is not the internet: only the two internet-wide ssh rules.
    expect(revokes.map((plan) => plan.action)).toEqual([
      { kind: 'aws-revoke-ingress', account, region, groupId: web.group, ruleId: idOf('0.0.0.0/0'), permission: { protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0', description: 'ssh from anywhere' } },
      { kind: 'aws-revoke-ingress', account, region, groupId: web.group, ruleId: idOf('::/0'), permission: { protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv6: '::/0' } },
    ]);
    const [v4] = revokes;
    expect(v4!.title).toBe(`Revoke tcp/22 from 0.0.0.0/0 on ${web.group} (web)`);
    expect(v4!.apiCall).toBe(`ec2:RevokeSecurityGroupIngress GroupId=${web.group} SecurityGroupRuleIds=${idOf('0.0.0.0/0')}`);
    expect(v4!.serves).toEqual([`2 other machines behind ${web.group} (web) also lose tcp/22 from 0.0.0.0/0: ${web.instances[1]} (web-2), ${web.instances[2]} (web-3).`]);
    expect(v4!.expected).toBe(`tcp/22 on ${web.address} no longer reachable from 0.0.0.0/0 through this rule`);
    expect(v4!.undo).toBe(`ec2:AuthorizeSecurityGroupIngress GroupId=${web.group} IpPermissions=[tcp/22 from 0.0.0.0/0, description "ssh from anywhere"]: the same permission back, under a new rule id`);

    const [block] = plans.filter((plan) => plan.action.kind === 'aws-s3-block-public-access');
    expect(block!.action).toEqual({ kind: 'aws-s3-block-public-access', account, region, bucket: web.bucket });
    expect(block!.serves[0]).toMatch(new RegExp(`^Every anonymous reader of ${web.bucket} loses access \\(public because .*policy`));
  });

  it('proposes nothing for what did not answer', async () => {
    expect(await executor().propose({ ...input, answered: [`${web.address}:2222`, `${web.address}:443x`], proven: [] })).toEqual([]);
  });

  it("revokes the rule by its id, leaving the group's other rules", async () => {
    const action = await openSsh('revoke');
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: action.groupId, IpPermissions: [ssh('10.0.0.0/8')] }));
    const record = await executor().execute(action, false);
    expect(record).toEqual({
      outcome: 'changed',
      apiCall: `ec2:RevokeSecurityGroupIngress GroupId=${action.groupId} SecurityGroupRuleIds=${action.ruleId}`,
      requestIds: [expect.any(String)],
      before: action.permission,
      at: expect.any(String),
    });
    expect((await ingressOf(action.groupId)).map((rule) => rule.CidrIpv4)).toEqual(['10.0.0.0/8']);
    // Carried out again (a retry), it finds the rule gone.
    expect((await executor().execute(action, false)).outcome).toBe('already');
  });

  it("answers `already`, not a failure, when the revoke's answer was lost and the SDK retried it", async () => {
    const action = await openSsh('lost-answer');
    front.loseNextAnswer('ec2:RevokeSecurityGroupIngress');
    const record = await executor().execute(action, false);
    expect(record.outcome).toBe('already');
    expect(calls('ec2:RevokeSecurityGroupIngress').filter((call) => call.params.get('GroupId') === action.groupId)).toHaveLength(2);
    expect(await ingressOf(action.groupId)).toEqual([]);
  });

  it("answers `already` to the next attempt when the lost answer failed the first (Temporal's retry)", async () => {
    const action = await openSsh('lost-attempt');
    front.loseNextAnswer('ec2:RevokeSecurityGroupIngress');
    const once = executor({ maxAttempts: 1 });
    const failed = await once.execute(action, false).then(
      () => undefined,
      (err: unknown) => err,
    );
    // A lost answer is no refusal: thrown as is, for Temporal to retry.
    expect(failed).toBeInstanceOf(Error);
    expect(failed).not.toBeInstanceOf(ApplicationFailure);
    expect(await ingressOf(action.groupId)).toEqual([]);
    expect((await once.execute(action, false)).outcome).toBe('already');
  });

  it('lands the revoke before its answer: a hook on the front sees the rule gone', async () => {
    const action = await openSsh('hooked');
    const seen: { rules: string[]; answered: boolean }[] = [];
    let answered = false;
    const remove = front.afterSuccess('ec2:RevokeSecurityGroupIngress', async (request) => {
      if (request.params.get('GroupId') === action.groupId) seen.push({ rules: (await ingressOf(action.groupId)).map((rule) => rule.SecurityGroupRuleId!), answered });
    });
    try {
      await executor().execute(action, false);
      answered = true;
    } finally {
      remove();
    }
    expect(seen).toEqual([{ rules: [], answered: false }]);
  });

  it('undoes a revoke with exactly the recorded permission, description included, and says under which rule id', async () => {
    const action = await openSsh('undo');
    const execution = await executor().execute(action, false);
    const undone = await executor().undo(action, execution, false);
    expect(undone).toMatchObject({ outcome: 'changed', apiCall: expect.stringMatching(/^ec2:AuthorizeSecurityGroupIngress /), requestIds: [expect.any(String)] });
    const [restored, ...others] = await ingressOf(action.groupId);
    expect(others).toEqual([]);
    expect(restored).toMatchObject({ SecurityGroupRuleId: undone.restoredRuleId, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '0.0.0.0/0', Description: 'ssh for undo' });
    expect(undone.restoredRuleId).not.toBe(action.ruleId);

    // Its answer lost, the SDK's retry finds the permission back: `already`, with the same rule id.
    await executor().execute({ ...action, ruleId: undone.restoredRuleId! }, false);
    front.loseNextAnswer('ec2:AuthorizeSecurityGroupIngress');
    const again = await executor().undo(action, execution, false);
    expect(again.outcome).toBe('already');
    expect(again.restoredRuleId).toBe((await ingressOf(action.groupId))[0]!.SecurityGroupRuleId);
  });

  it('undoes a revoke with the rule as it was when revoked: a description changed since the plan comes back as it was then', async () => {
    const action = await openSsh('relabelled');
    await ec2.send(
      new ModifySecurityGroupRulesCommand({
        GroupId: action.groupId,
        SecurityGroupRules: [{ SecurityGroupRuleId: action.ruleId, SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '0.0.0.0/0', Description: 'vendor access, ticket 4711' } }],
      }),
    );
    const execution = await executor().execute(action, false);
    expect(execution.before).toMatchObject({ description: 'vendor access, ticket 4711' });
    const undone = await executor().undo(action, execution, false);
    expect(undone.apiCall).toContain('description "vendor access, ticket 4711"');
    const [restored] = await ingressOf(action.groupId);
    expect(restored).toMatchObject({ CidrIpv4: '0.0.0.0/0', FromPort: 22, ToPort: 22, Description: 'vendor access, ticket 4711' });
  });

  it("changes nothing in a dry run, checking the calls with EC2's own DryRun", async () => {
    const action = await openSsh('dry-run');
    const record = await executor().execute(action, true);
    expect(record).toEqual({ outcome: 'dry-run', apiCall: `ec2:RevokeSecurityGroupIngress GroupId=${action.groupId} SecurityGroupRuleIds=${action.ruleId}`, requestIds: [expect.any(String)], at: expect.any(String) });
    expect((await ingressOf(action.groupId)).map((rule) => rule.SecurityGroupRuleId)).toEqual([action.ruleId]);
    expect(calls('ec2:RevokeSecurityGroupIngress').filter((call) => call.params.get('GroupId') === action.groupId).map((call) => call.params.get('DryRun'))).toEqual(['true']);

    await executor().execute(action, false);
    expect((await executor().undo(action, record, true)).outcome).toBe('dry-run');
    expect(await ingressOf(action.groupId)).toEqual([]);
  });

  it('acts through the remediation role assumed in the account, with the external id', async () => {
    const action = await openSsh('role');
    expect((await executor({ roleName: 'VigilRemediation' }).execute(action, false)).outcome).toBe('changed');
    const assumed = calls('sts:AssumeRole').map((call) => [call.params.get('RoleArn'), call.params.get('RoleSessionName'), call.params.get('ExternalId')]);
    expect(assumed).toContainEqual([`arn:aws:iam::${account}:role/VigilRemediation`, 'vigil-remediation', externalId]);

    // With the worker's own credentials, moto answers for its default account, where the group is not.
    const own = await failureOf(executor({ useOwnCredentials: true }).execute(await openSsh('own'), false));
    expect(own.type).toBe('RemediationRefused');
    expect(own.message).toContain("refused for the worker's own credentials: InvalidGroup.NotFound");
  });

  it('refuses, without retries, a group that does not exist and a rule changed since the plan', async () => {
    const action = await openSsh('refused');
    const missing = await failureOf(executor().execute({ ...action, groupId: 'sg-0123456789abcdef0' }, false));
    expect(missing.type).toBe('RemediationRefused');
    expect(missing.nonRetryable).toBe(true);
    expect(missing.message).toBe(
      `ec2:RevokeSecurityGroupIngress on ${action.ruleId} of sg-0123456789abcdef0 in account ${account} (${region}) refused for role arn:aws:iam::${account}:role/VigilRemediation: ` +
        "InvalidGroup.NotFound: The security group 'sg-0123456789abcdef0' does not exist",
    );

    // Narrowed to the office since the plan was made (the rule keeps its id): no longer what was approved.
    await ec2.send(
      new ModifySecurityGroupRulesCommand({
        GroupId: action.groupId,
        SecurityGroupRules: [{ SecurityGroupRuleId: action.ruleId, SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '10.0.0.0/8' } }],
      }),
    );
    const changed = await failureOf(executor().execute(action, false));
    expect(changed.type).toBe('RemediationRefused');
    expect(changed.nonRetryable).toBe(true);
    expect(changed.message).toContain('is no longer tcp/22 from 0.0.0.0/0');
    expect((await ingressOf(action.groupId)).map((rule) => rule.SecurityGroupRuleId)).toEqual([action.ruleId]);
  });
});

describe('AWS remediation: S3 Block Public Access', () => {
  const partial = { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: false };
  const allOn = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

  it('turns all four settings on for a bucket that had none, and the undo removes them again', async () => {
    const action = await bucket('vigil-block-none');
    const record = await executor().execute(action, false);
    expect(record).toEqual({
      outcome: 'changed',
      apiCall: 's3:PutPublicAccessBlock Bucket=vigil-block-none BlockPublicAcls=true IgnorePublicAcls=true BlockPublicPolicy=true RestrictPublicBuckets=true',
      requestIds: [expect.any(String)],
      before: null,
      at: expect.any(String),
    });
    expect(await blockOf(action.bucket)).toEqual(allOn);
    const undone = await executor().undo(action, record, false);
    expect(undone).toMatchObject({ outcome: 'changed', apiCall: 's3:DeletePublicAccessBlock Bucket=vigil-block-none' });
    expect(await blockOf(action.bucket)).toBeNull();
    expect((await executor().undo(action, record, false)).outcome).toBe('already');
  });

  it('keeps a partial configuration for the undo, which puts exactly it back', async () => {
    const action = await bucket('vigil-block-partial', partial);
    const record = await executor().execute(action, false);
    expect(record).toMatchObject({ outcome: 'changed', before: partial });
    expect(await blockOf(action.bucket)).toEqual(allOn);
    // A retry finds it on: `already`.
    expect((await executor().execute(action, false)).outcome).toBe('already');
    const undone = await executor().undo(action, record, false);
    expect(undone).toMatchObject({ outcome: 'changed', apiCall: 's3:PutPublicAccessBlock Bucket=vigil-block-partial BlockPublicAcls=true IgnorePublicAcls=false BlockPublicPolicy=true RestrictPublicBuckets=false' });
    expect(await blockOf(action.bucket)).toEqual(partial);
  });

  it("keeps the configuration it found when the put's answer was lost and the SDK sent it again", async () => {
    const action = await bucket('vigil-block-lost', partial);
    const puts = calls('s3:PutPublicAccessBlock').length;
    front.loseNextAnswer('s3:PutPublicAccessBlock');
    const record = await executor().execute(action, false);
    expect(record).toMatchObject({ outcome: 'changed', before: partial });
    expect(calls('s3:PutPublicAccessBlock')).toHaveLength(puts + 2);
    expect(await blockOf(action.bucket)).toEqual(allOn);
    await executor().undo(action, record, false);
    expect(await blockOf(action.bucket)).toEqual(partial);
  });

  it('changes nothing in a dry run', async () => {
    const action = await bucket('vigil-block-dry', partial);
    expect(await executor().execute(action, true)).toEqual({ outcome: 'dry-run', apiCall: expect.stringMatching(/^s3:PutPublicAccessBlock /), requestIds: [], at: expect.any(String) });
    expect(await blockOf(action.bucket)).toEqual(partial);
  });

  it('refuses a bucket that does not exist, without retries', async () => {
    const refused = await failureOf(executor().execute({ kind: 'aws-s3-block-public-access', account, region, bucket: 'vigil-no-such-bucket' }, false));
    expect(refused.type).toBe('RemediationRefused');
    expect(refused.nonRetryable).toBe(true);
    expect(refused.message).toContain('NoSuchBucket');
  });
});
