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
const ids = { workloads: '', prod: '', sandbox: '', empty: '', prodA: '', prodB: '', workC: '', sandboxD: '', closedE: '', excludedF: '' };
let allRegions: string[];

const inventory = (organization: Record<string, unknown>, extra: Record<string, unknown> = {}, membershipTtlMs?: number) =>
  createAwsInventory(awsInventory.settings.parse({ organization, endpoint: moto.endpoint, maxAttempts: 2, ...extra }), {
    credentials: org.worker,
    ...(membershipTtlMs === undefined ? {} : { membershipTtlMs }),
  });

/**
 * moto behind a loopback proxy that answers EC2 in one region with an error, as AWS does when a
 * service control policy denies it (403 UnauthorizedOperation, the default), and forwards everything
 * else untouched (the Host header included, so that moto still checks the signatures).
 */
async function refusingRegion(
  region: string,
  answer: { status: number; code: string } = { status: 403, code: 'UnauthorizedOperation' },
): Promise<{ endpoint: string; server: Server; signed: string[] }> {
  const target = new URL(moto.endpoint);
  /** The credential scope of every request (`<date>/<region>/<service>/aws4_request`), and the STS action: what was called where. */
  const signed: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const scope = /Credential=[^/]+\/\d+\/([^,]+)\/aws4_request/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      signed.push(`${scope} ${/Action=(\w+)/.exec(Buffer.concat(chunks).toString())?.[1] ?? ''}`.trim());
      if ((req.headers.authorization ?? '').includes(`/${region}/ec2/aws4_request`)) {
        res.writeHead(answer.status, { 'content-type': 'text/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${answer.code}</Code>` +
            '<Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>refused</RequestID></Response>',
        );
        return;
      }
      const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      });
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, signed };
}

/** The rows of accounts (not those of the organisation and its units), by id. */
const byId = (report: CoverageReport) => Object.fromEntries(report.accounts.filter(({ id }) => /^\d{12}$/.test(id)).map(({ id, ...rest }) => [id, rest]));
const placeRows = (report: CoverageReport) => report.accounts.filter(({ id }) => !/^\d{12}$/.test(id));

beforeAll(async () => {
  moto = await startMoto();
  org = await createMotoOrganization(moto, REGION);
  ids.workloads = await org.ou('workloads');
  ids.prod = await org.ou('prod', ids.workloads);
  ids.sandbox = await org.ou('sandbox');
  ids.empty = await org.ou('empty');
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

describe('an organisation that lists no account', () => {
  // First: a later test takes the worker's right to list the organisation.
  it('is a gap of the organisation, and the accounts earlier discoveries found are kept', async () => {
    const report = await inventory({ ous: [ids.empty], regions: [REGION] }).discover!({ scopes: [`${ids.prodA}/${REGION}`] });
    const reason = `the organisation lists no active account under ${ids.empty}`;
    expect(report.gaps).toEqual([{ provider: 'aws', account: 'organization', reason }]);
    expect(placeRows(report)).toEqual([
      { provider: 'aws', id: 'organization', name: null, state: reason, reason, lastRead: null },
      { provider: 'aws', id: ids.empty, name: null, state: 'ok', lastRead: expect.any(String) },
    ]);
    // Taken as a listing that may have missed accounts, not as every account gone: their re-scans stay.
    expect(report.incomplete).toBe(true);
    expect(report.scopes).toEqual([`${ids.prodA}/${REGION}`]);
  });
});

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
        lastRead: null,
      },
      [ids.workC]: { provider: 'aws', name: 'work-c', state: 'ok', lastRead: expect.any(String) },
    });
    expect(report.gaps).toEqual([{ provider: 'aws', account: ids.prodB, reason: `cannot assume role arn:aws:iam::${ids.prodB}:role/VigilReadOnly (AccessDenied)` }]);
    expect(report.scopes.sort()).toEqual([`${ids.prodA}/eu-west-1`, `${ids.prodA}/${REGION}`, `${ids.workC}/eu-west-1`, `${ids.workC}/${REGION}`].sort());
    // The organisation and each configured unit have a row of their own, listed whole.
    expect(placeRows(report)).toEqual([
      { provider: 'aws', id: 'organization', name: null, state: 'ok', lastRead: expect.any(String) },
      { provider: 'aws', id: ids.workloads, name: null, state: 'ok', lastRead: expect.any(String) },
    ]);
    expect(report.incomplete).toBeUndefined();
  });

  it('says a unit that is gone (ParentNotFoundException) as a gap of that unit, lists the others all the same, and calls the listing incomplete', async () => {
    const gone = 'ou-zzzz-zzzzzzzz';
    const report = await inventory({ ous: [ids.prod, gone], regions: [REGION] }).discover!();
    const reason = `cannot list the accounts of organisational unit ${gone} (ParentNotFoundException)`;
    expect(report.gaps).toContainEqual({ provider: 'aws', account: gone, reason });
    expect(Object.keys(byId(report)).sort()).toEqual([ids.prodA, ids.prodB].sort());
    expect(placeRows(report)).toEqual([
      { provider: 'aws', id: 'organization', name: null, state: 'ok', lastRead: expect.any(String) },
      { provider: 'aws', id: ids.prod, name: null, state: 'ok', lastRead: expect.any(String) },
      { provider: 'aws', id: gone, name: null, state: reason, reason, lastRead: null },
    ]);
    expect(report.incomplete).toBe(true);
  });

  it('reads a discovered account from a fixed home region: a region it cannot read is a gap of that region, never of the whole account', async () => {
    // The region sorted first: an account's alphabetically first region must not become where it is read from.
    const first = allRegions[0]!;
    const refusing = await refusingRegion(first);
    const usEast = await refusingRegion(REGION);
    try {
      const provider = createAwsInventory(awsInventory.settings.parse({ organization: { ous: [ids.prod], exclude: [ids.prodB] }, endpoint: refusing.endpoint, maxAttempts: 2 }), {
        credentials: org.worker,
      });
      const reason = `cannot read ${first}: access denied (UnauthorizedOperation)`;
      // Twice: the second discovery knows the account's regions.
      // (moto lists the China and GovCloud regions as enabled too, and refuses them: gaps of their own.)
      for (let run = 0; run < 2; run++) {
        const { gaps } = await provider.discover!();
        expect(gaps).toContainEqual({ provider: 'aws', account: ids.prodA, region: first, reason });
        expect(gaps.filter((gap) => !gap.region)).toEqual([]);
      }

      // A service control policy that denies us-east-1: organization.homeRegion reads the account elsewhere.
      const settings = (homeRegion?: string) =>
        awsInventory.settings.parse({ organization: { ous: [ids.prod], exclude: [ids.prodB], regions: [REGION, 'eu-west-1'], ...(homeRegion ? { homeRegion } : {}) }, endpoint: usEast.endpoint, maxAttempts: 2 });
      const elsewhere = await createAwsInventory(settings('eu-west-1'), { credentials: org.worker }).discover!();
      expect(elsewhere.gaps).toEqual([{ provider: 'aws', account: ids.prodA, region: REGION, reason: `cannot read ${REGION}: access denied (UnauthorizedOperation)` }]);
      expect(elsewhere.scopes).toEqual([`${ids.prodA}/${REGION}`, `${ids.prodA}/eu-west-1`]);
      expect((await createAwsInventory(settings(), { credentials: org.worker }).discover!()).gaps).toEqual([
        { provider: 'aws', account: ids.prodA, reason: 'access denied (UnauthorizedOperation)' },
      ]);
    } finally {
      refusing.server.close();
      usEast.server.close();
    }
  });

  it('leaves an account whose read fails with no refusal unread this time, without a gap, and reads the others', async () => {
    const { endpoint, server } = await refusingRegion('eu-west-3', { status: 400, code: 'InvalidParameterValue' });
    try {
      const provider = createAwsInventory(
        awsInventory.settings.parse({
          organization: { ous: [ids.prod], exclude: [ids.prodB], regions: [REGION, 'eu-west-3'] },
          accounts: [{ id: org.management, useOwnCredentials: true, regions: [REGION] }],
          endpoint,
          maxAttempts: 2,
        }),
        { credentials: org.worker },
      );
      const report = await provider.discover!();
      expect(report.gaps).toEqual([]);
      expect(report.unsettled).toEqual([ids.prodA]);
      expect(byId(report)).toEqual({
        [org.management]: { provider: 'aws', name: null, state: 'ok', lastRead: expect.any(String) },
        [ids.prodA]: {
          provider: 'aws',
          name: 'prod-a',
          state: 'not read this time (InvalidParameterValue)',
          reason: expect.stringMatching(/^InvalidParameterValue: .+: read again by the next discovery$/),
          lastRead: null,
        },
      });
    } finally {
      server.close();
    }
  });

  it('reads each account in the regions it has enabled when none are configured, and says which it cannot read', async () => {
    const provider = inventory({ exclude: [org.management, ids.excludedF, ids.prodB] });
    const report = await provider.discover!();
    const accounts = byId(report);
    expect(Object.keys(accounts).sort()).toEqual([ids.prodA, ids.workC, ids.sandboxD].sort());
    expect(accounts[ids.sandboxD]).toMatchObject({ state: 'access denied (AccessDenied)' });
    expect(accounts[ids.sandboxD]!.lastRead).toBeNull();
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
    expect(byId(first)[org.management]).toEqual({ provider: 'aws', name: null, state: 'ok', lastRead: expect.any(String) });
    expect(first.scopes).toEqual([`${org.management}/eu-west-1`, `${ids.prodA}/${REGION}`]);
    expect(first.gaps.map((gap) => gap.account)).toEqual([ids.prodB]);

    await org.withoutAuth(() => org.role(ids.prodB, 'VigilReadOnly', READ));
    const healed = await provider.discover!();
    expect(healed.gaps).toEqual([]);
    expect(byId(healed)[ids.prodB]).toEqual({ provider: 'aws', name: 'prod-b', state: 'ok', lastRead: expect.any(String) });
    expect(provider.scopes!()).toEqual([`${org.management}/eu-west-1`, `${ids.prodA}/${REGION}`, `${ids.prodB}/${REGION}`]);
  });

  it('reports a region it cannot read as a gap of that region, and keeps re-scanning the account there', async () => {
    const { endpoint, server, signed } = await refusingRegion('eu-west-3');
    try {
      const provider = createAwsInventory(
        awsInventory.settings.parse({ organization: { ous: [ids.prod], exclude: [ids.prodB], regions: [REGION, 'eu-west-3'] }, endpoint, maxAttempts: 2 }),
        { credentials: org.worker },
      );
      const report = await provider.discover!();
      const reason = 'cannot read eu-west-3: access denied (UnauthorizedOperation)';
      expect(report.gaps).toEqual([{ provider: 'aws', account: ids.prodA, region: 'eu-west-3', reason }]);
      expect(byId(report)).toEqual({ [ids.prodA]: { provider: 'aws', name: 'prod-a', state: reason, reason, lastRead: null } });
      expect(report.scopes).toEqual([`${ids.prodA}/${REGION}`, `${ids.prodA}/eu-west-3`]);
      // The role is assumed once for the account, not once per region read.
      expect(signed.filter((call) => call.endsWith('AssumeRole'))).toHaveLength(1);
      expect((await provider.scan!(`${ids.prodA}/eu-west-3`)).problems).toEqual([
        { provider: 'aws', scope: `account ${ids.prodA} in eu-west-3`, reason: 'access denied (UnauthorizedOperation)' },
      ]);
    } finally {
      server.close();
    }
  });

  it('says when the organisation cannot be listed, keeps covering the accounts it holds, and a fresh process those whose re-scans exist', async () => {
    const outsider = inventory({ ous: [ids.prod], regions: [REGION] });
    const before = await outsider.discover!();
    await org.withoutAuth(async () => {
      // The worker loses organizations:List*: the policy is rewritten without it.
      const { IAMClient, PutUserPolicyCommand } = await import('@aws-sdk/client-iam');
      const iam = new IAMClient({ region: REGION, endpoint: moto.endpoint, credentials: moto.credentials });
      const statement = [{ Effect: 'Allow', Action: ['ec2:Describe*', 'sts:AssumeRole'], Resource: '*' }];
      await iam.send(new PutUserPolicyCommand({ UserName: 'vigil-worker', PolicyName: 'vigil', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statement }) }));
    });
    const reason = `cannot list the accounts of organisational unit ${ids.prod} (HTTP 403)`;
    const report = await outsider.discover!();
    expect(report.gaps).toEqual([{ provider: 'aws', account: ids.prod, reason }]);
    expect(report.incomplete).toBe(true);
    expect(Object.keys(byId(report)).sort()).toEqual([ids.prodA, ids.prodB].sort());

    // A worker restarted meanwhile holds nothing of the organisation: the scopes whose re-scans exist stand for it.
    // (prod-b has had its role since an earlier test.)
    expect(before.scopes.sort()).toEqual([`${ids.prodA}/${REGION}`, `${ids.prodB}/${REGION}`].sort());
    const restarted = await inventory({ ous: [ids.prod], regions: [REGION] }).discover!({ scopes: before.scopes });
    expect(restarted.incomplete).toBe(true);
    expect(Object.keys(byId(restarted)).sort()).toEqual([ids.prodA, ids.prodB].sort());
    expect(byId(restarted)[ids.prodA]).toEqual({ provider: 'aws', name: null, state: 'ok', lastRead: expect.any(String) });
    expect(restarted.scopes.sort()).toEqual(before.scopes.sort());
    expect(placeRows(restarted)).toContainEqual({ provider: 'aws', id: ids.prod, name: null, state: reason, reason, lastRead: null });

    // Without units, the organisation's own row says it.
    const whole = await inventory({ regions: [REGION] }).discover!();
    const refused = "cannot list the organisation's accounts (HTTP 403)";
    expect(placeRows(whole)).toEqual([{ provider: 'aws', id: 'organization', name: null, state: refused, reason: refused, lastRead: null }]);
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
