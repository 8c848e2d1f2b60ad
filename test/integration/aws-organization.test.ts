// AWS Organizations discovery against a real moto server with its IAM authorization on: the worker
// is an IAM user of the management account, every account is read through a role assumed in it, and
// moto refuses what the policies do not allow. Every call goes to 127.0.0.1.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateSecurityGroupCommand, DescribeRegionsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsInventory } from '../../activities/context/aws';
import { createAwsInventory } from '../../activities/context/aws/inventory';
import type { CoverageReport } from '../../activities/context/types';
import { createMotoOrganization, setMotoAuth, startMoto, type Moto, type MotoOrganization } from '../helpers/moto';

const REGION = 'us-east-1';
const READ = ['ec2:Describe*'];

let moto: Moto;
let org: MotoOrganization;
const ids = { workloads: '', prod: '', sandbox: '', prodA: '', prodB: '', workC: '', sandboxD: '', closedE: '', excludedF: '' };
let allRegions: string[];

const inventory = (organization: Record<string, unknown>, extra: Record<string, unknown> = {}, membershipTtlMs?: number) =>
  createAwsInventory(awsInventory.settings.parse({ organization, endpoint: moto.endpoint, maxAttempts: 2, ...extra }), {
    credentials: org.worker,
    ...(membershipTtlMs === undefined ? {} : { membershipTtlMs }),
  });

/**
 * moto behind a loopback proxy that refuses EC2 in one region as AWS does when a service control
 * policy denies it (403 UnauthorizedOperation), and forwards everything else untouched (the Host
 * header included, so that moto still checks the signatures).
 */
async function refusingRegion(region: string): Promise<{ endpoint: string; server: Server }> {
  const target = new URL(moto.endpoint);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if ((req.headers.authorization ?? '').includes(`/${region}/ec2/aws4_request`)) {
        res.writeHead(403, { 'content-type': 'text/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>UnauthorizedOperation</Code>' +
            '<Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>refused</RequestID></Response>',
        );
        return;
      }
      const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const byId = (report: CoverageReport) => Object.fromEntries(report.accounts.map(({ id, ...rest }) => [id, rest]));

beforeAll(async () => {
  moto = await startMoto();
  org = await createMotoOrganization(moto, REGION);
  ids.workloads = await org.ou('workloads');
  ids.prod = await org.ou('prod', ids.workloads);
  ids.sandbox = await org.ou('sandbox');
  ids.prodA = await org.account('prod-a', ids.prod);
  ids.prodB = await org.account('prod-b', ids.prod);
  ids.workC = await org.account('work-c', ids.workloads);
  ids.sandboxD = await org.account('sandbox-d', ids.sandbox);
  ids.closedE = await org.account('closed-e', ids.workloads);
  ids.excludedF = await org.account('excluded-f', ids.workloads);
  // prod-b has no VigilReadOnly role; sandbox-d has one that may do nothing.
  for (const account of [ids.prodA, ids.workC, ids.closedE, ids.excludedF]) await org.role(account, 'VigilReadOnly', READ);
  await org.role(ids.sandboxD, 'VigilReadOnly');
  await org.close(ids.closedE);
  // A machine in work-c, for an alert about it.
  const sts = new STSClient({ region: REGION, endpoint: moto.endpoint, credentials: moto.credentials });
  const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ids.workC}:role/seeder`, RoleSessionName: 'seed' }));
  const ec2 = new EC2Client({ region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! } });
  const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web' }));
  await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, SecurityGroupIds: [GroupId!] }));
  allRegions = ((await ec2.send(new DescribeRegionsCommand({}))).Regions ?? []).map((region) => region.RegionName!).sort();
  await setMotoAuth(moto, true);
});
afterAll(() => moto?.stop());

describe('AWS Organizations discovery on moto', () => {
  it('covers the active accounts under the organisational units, at any depth, minus the exclusions', async () => {
    const report = await inventory({ ous: [ids.workloads], exclude: [ids.excludedF], regions: [REGION, 'eu-west-1'] }).discover!();
    // sandbox-d is under another unit, closed-e is closed (SUSPENDED), excluded-f is excluded.
    expect(byId(report)).toEqual({
      [ids.prodA]: { provider: 'aws', name: 'prod-a', state: 'ok', lastRead: expect.any(String) },
      [ids.prodB]: {
        provider: 'aws',
        name: 'prod-b',
        state: `cannot assume role arn:aws:iam::${ids.prodB}:role/VigilReadOnly (AccessDenied)`,
        reason: `cannot assume role arn:aws:iam::${ids.prodB}:role/VigilReadOnly (AccessDenied)`,
      },
      [ids.workC]: { provider: 'aws', name: 'work-c', state: 'ok', lastRead: expect.any(String) },
    });
    expect(report.gaps).toEqual([{ provider: 'aws', account: ids.prodB, reason: `cannot assume role arn:aws:iam::${ids.prodB}:role/VigilReadOnly (AccessDenied)` }]);
    expect(report.scopes.sort()).toEqual([`${ids.prodA}/eu-west-1`, `${ids.prodA}/${REGION}`, `${ids.workC}/eu-west-1`, `${ids.workC}/${REGION}`].sort());
  });

  it('reads each account in the regions it has enabled when none are configured, and says which it cannot read', async () => {
    const provider = inventory({ exclude: [org.management, ids.excludedF, ids.prodB] });
    const report = await provider.discover!();
    const accounts = byId(report);
    expect(Object.keys(accounts).sort()).toEqual([ids.prodA, ids.workC, ids.sandboxD].sort());
    expect(accounts[ids.sandboxD]).toMatchObject({ state: 'access denied (AccessDenied)' });
    expect(accounts[ids.sandboxD]!.lastRead).toBeUndefined();
    expect(report.scopes.filter((scope) => scope.startsWith(`${ids.prodA}/`)).map((scope) => scope.split('/')[1]).sort()).toEqual(allRegions);
    // The re-scan and lookups follow the discovered set.
    expect(provider.scopes!()).toEqual(report.scopes);
    expect((await provider.scan!(`${ids.workC}/${REGION}`)).instances).toHaveLength(1);
  });

  it('follows the discovered set without a restart: an alert about an account it does not hold yet lists the organisation again, within a bound', async () => {
    const alert = { provider: 'aws', account: ids.workC, region: REGION, resources: [], addresses: ['203.0.113.1'] };
    // Never discovered in this process: the alert's account is looked for among the organisation's.
    const provider = inventory({ ous: [ids.workloads] });
    expect((await provider.collect(alert)).problems).toEqual([]);
    // An account that joins afterwards is not listed again within the bound...
    const late = await org.withoutAuth(async () => {
      const id = await org.account('late-g', ids.workloads);
      await org.role(id, 'VigilReadOnly', READ);
      return id;
    });
    const lateAlert = { ...alert, account: late };
    expect((await provider.collect(lateAlert)).problems).toEqual([
      { provider: 'aws', scope: `account ${late}`, reason: `account ${late} is neither in inventory.aws.accounts nor an active account of the organisation that Vigil covers` },
    ]);
    // ...and is once it has passed; an account outside the units stays out.
    const eager = inventory({ ous: [ids.workloads] }, {}, 0);
    expect((await eager.collect(lateAlert)).problems).toEqual([]);
    expect((await eager.collect({ ...alert, account: ids.sandboxD })).problems).toHaveLength(1);
  });

  it('covers hand-listed accounts beside the discovered ones, with their own settings, and heals a gap once the role exists', async () => {
    const provider = inventory({ ous: [ids.prod], regions: [REGION] }, { accounts: [{ id: org.management, useOwnCredentials: true, regions: ['eu-west-1'] }] });
    const first = await provider.discover!();
    expect(byId(first)[org.management]).toEqual({ provider: 'aws', state: 'ok', lastRead: expect.any(String) });
    expect(first.scopes).toEqual([`${org.management}/eu-west-1`, `${ids.prodA}/${REGION}`]);
    expect(first.gaps.map((gap) => gap.account)).toEqual([ids.prodB]);

    await org.withoutAuth(() => org.role(ids.prodB, 'VigilReadOnly', READ));
    const healed = await provider.discover!();
    expect(healed.gaps).toEqual([]);
    expect(byId(healed)[ids.prodB]).toEqual({ provider: 'aws', name: 'prod-b', state: 'ok', lastRead: expect.any(String) });
    expect(provider.scopes!()).toEqual([`${org.management}/eu-west-1`, `${ids.prodA}/${REGION}`, `${ids.prodB}/${REGION}`]);
  });

  it('reports a region it cannot read as a gap of that region, and keeps re-scanning the account there', async () => {
    const { endpoint, server } = await refusingRegion('eu-west-3');
    try {
      const provider = createAwsInventory(
        awsInventory.settings.parse({ organization: { ous: [ids.prod], exclude: [ids.prodB], regions: [REGION, 'eu-west-3'] }, endpoint, maxAttempts: 2 }),
        { credentials: org.worker },
      );
      const report = await provider.discover!();
      const reason = 'cannot read eu-west-3: access denied (UnauthorizedOperation)';
      expect(report.gaps).toEqual([{ provider: 'aws', account: ids.prodA, region: 'eu-west-3', reason }]);
      expect(byId(report)).toEqual({ [ids.prodA]: { provider: 'aws', name: 'prod-a', state: reason, reason } });
      expect(report.scopes).toEqual([`${ids.prodA}/${REGION}`, `${ids.prodA}/eu-west-3`]);
      expect((await provider.scan!(`${ids.prodA}/eu-west-3`)).problems).toEqual([
        { provider: 'aws', scope: `account ${ids.prodA} in eu-west-3`, reason: 'access denied (UnauthorizedOperation)' },
      ]);
    } finally {
      server.close();
    }
  });

  it('says when the organisation cannot be listed, and keeps covering the accounts it holds', async () => {
    const outsider = inventory({ ous: [ids.prod], regions: [REGION] });
    await outsider.discover!();
    await org.withoutAuth(async () => {
      // The worker loses organizations:List*: the policy is rewritten without it.
      const { IAMClient, PutUserPolicyCommand } = await import('@aws-sdk/client-iam');
      const iam = new IAMClient({ region: REGION, endpoint: moto.endpoint, credentials: moto.credentials });
      const statement = [{ Effect: 'Allow', Action: ['ec2:Describe*', 'sts:AssumeRole'], Resource: '*' }];
      await iam.send(new PutUserPolicyCommand({ UserName: 'vigil-worker', PolicyName: 'vigil', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statement }) }));
    });
    const report = await outsider.discover!();
    expect(report.gaps).toEqual([{ provider: 'aws', account: 'organization', reason: "cannot list the organisation's accounts (HTTP 403)" }]);
    expect(Object.keys(byId(report)).sort()).toEqual([ids.prodA, ids.prodB].sort());
  });
});

describe('inventory.aws.organization settings', () => {
  it('names the key at fault', () => {
    const parsed = awsInventory.settings.safeParse({ organization: { ous: ['workloads'], exclude: ['12'], extra: true } });
    expect(parsed.success).toBe(false);
    const paths = parsed.error!.issues.map((issue) => [...issue.path, ...('keys' in issue ? issue.keys : [])].join('.'));
    expect(paths.sort()).toEqual(['organization.exclude.0', 'organization.extra', 'organization.ous.0']);
  });
});
