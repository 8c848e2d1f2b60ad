// S3 buckets read by the AWS inventory from a real moto server (policies, ACLs, Block Public Access of
// the bucket and of the account), and the anonymous bucket proof asked of moto on loopback. Nothing
// here connects outside 127.0.0.0/8: the probe scope is fenced to it, and S3's public name is answered
// by a test DNS server with moto's address.
import { createServer, request, type Server } from 'node:http';
import * as s3 from '@aws-sdk/client-s3';
import { PutPublicAccessBlockCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsInventory } from '../../activities/context/aws';
import { createAwsInventory } from '../../activities/context/aws/inventory';
import { s3BucketReader } from '../../activities/context/aws/resources/s3';
import type { ContextQuery } from '../../activities/context/types';
import { bucketProof } from '../../activities/probe/proofs/bucket';
import { runProofs } from '../../activities/probe/proofs';
import type { PublicResource } from '../../lib/context';
import { startTestDns, type TestDns } from '../helpers/dns-server';
import { close, listen, probeSettings } from '../helpers/loopback';
import { startMoto, type Moto } from '../helpers/moto';

const account = '111111111111';
/** An account whose Block Public Access (account-wide) restricts and ignores everything public. */
const locked = '333333333333';
const region = 'us-east-1';

let moto: Moto;
let dns: TestDns;
/**
 * moto behind a loopback proxy that answers, as AWS does, the requests matching a canned answer's
 * pattern (a refusal, a verdict moto never gives), and passes the others to moto.
 */
let aws: { server: Server; endpoint: string; answers: { match: RegExp; status: number; body: string }[] };
const accessDenied = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
const policyStatus = (isPublic: boolean) => `<?xml version="1.0" encoding="UTF-8"?><PolicyStatus><IsPublic>${isPublic}</IsPublic></PolicyStatus>`;

/** SDK configuration of a role in the account: moto files what it creates there. */
async function configIn(id: string) {
  const sts = new STSClient({ region, endpoint: moto.endpoint, credentials: moto.credentials });
  const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${id}:role/seeder`, RoleSessionName: 'seed' }));
  return { region, endpoint: moto.endpoint, credentials: { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! } };
}

const statement = (bucket: string, extra: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Principal: '*',
  // moto names an anonymous HEAD `s3:HeadObject` (AWS: s3:GetObject), so only `s3:*` lets the proof read metadata there.
  Action: 's3:*',
  Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
  ...extra,
});

async function seed(id: string, buckets: { name: string; region?: string; policy?: Record<string, unknown>; acl?: 'public-read'; block?: s3.PublicAccessBlockConfiguration; objects?: { key: string; acl?: 'public-read' }[]; tags?: Record<string, string> }[]) {
  const client = new s3.S3Client({ ...(await configIn(id)), forcePathStyle: true });
  for (const bucket of buckets) {
    await client.send(
      new s3.CreateBucketCommand({ Bucket: bucket.name, ...(bucket.region ? { CreateBucketConfiguration: { LocationConstraint: bucket.region as s3.BucketLocationConstraint } } : {}) }),
    );
    if (bucket.policy) await client.send(new s3.PutBucketPolicyCommand({ Bucket: bucket.name, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [bucket.policy] }) }));
    if (bucket.acl) await client.send(new s3.PutBucketAclCommand({ Bucket: bucket.name, ACL: bucket.acl }));
    if (bucket.block) await client.send(new s3.PutPublicAccessBlockCommand({ Bucket: bucket.name, PublicAccessBlockConfiguration: bucket.block }));
    if (bucket.tags) await client.send(new s3.PutBucketTaggingCommand({ Bucket: bucket.name, Tagging: { TagSet: Object.entries(bucket.tags).map(([Key, Value]) => ({ Key, Value })) } }));
    for (const object of bucket.objects ?? []) {
      await client.send(new s3.PutObjectCommand({ Bucket: bucket.name, Key: object.key, Body: 'secret content', ...(object.acl ? { ACL: object.acl } : {}) }));
    }
  }
}

beforeAll(async () => {
  [moto, dns] = await Promise.all([startMoto(), startTestDns()]);
  await seed(account, [
    { name: 'public-policy', policy: statement('public-policy'), objects: [{ key: 'reports/2026 q1&q2.csv' }], tags: { team: 'web' } },
    { name: 'public-acl', acl: 'public-read', objects: [{ key: 'index.html', acl: 'public-read' }] },
    { name: 'public-empty', region: 'eu-west-1', policy: statement('public-empty') },
    { name: 'private', objects: [{ key: 'payroll.csv' }] },
    { name: 'restricted', policy: statement('restricted'), block: { RestrictPublicBuckets: true, BlockPublicPolicy: true } },
    { name: 'endpoint-only', policy: statement('endpoint-only', { Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } } }) },
    { name: 'denies-vigil', policy: statement('denies-vigil') },
  ]);
  await seed(locked, [{ name: 'locked-public', policy: statement('locked-public'), acl: 'public-read' }]);
  // AWS puts the account id in S3 Control's host name; moto's address cannot carry it.
  const control = new S3ControlClient({ ...(await configIn(locked)), endpointProvider: () => ({ url: new URL(moto.endpoint) }) });
  await control.send(new PutPublicAccessBlockCommand({ AccountId: locked, PublicAccessBlockConfiguration: { IgnorePublicAcls: true, RestrictPublicBuckets: true } }));
});
beforeAll(async () => {
  const answers: (typeof aws)['answers'] = [];
  const server = createServer((incoming, outgoing) => {
    const canned = answers.find(({ match }) => match.test(`${incoming.method} ${incoming.url}`));
    if (canned) {
      outgoing.writeHead(canned.status, { 'content-type': 'application/xml' }).end(canned.body);
      return;
    }
    const { hostname, port } = new URL(moto.endpoint);
    const forward = request({ hostname, port, path: incoming.url, method: incoming.method, headers: { ...incoming.headers, host: `${hostname}:${port}` } }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    incoming.pipe(forward);
  });
  aws = { server, endpoint: `http://127.0.0.1:${await listen(server)}`, answers };
});
afterAll(() => Promise.all([moto?.stop(), dns?.close(), aws && close(aws.server)]));

const inventory = (endpoint = moto.endpoint) =>
  createAwsInventory(awsInventory.settings.parse({ accounts: [{ id: account }, { id: locked }], endpoint, maxAttempts: 2 }), {
    credentials: moto.credentials,
  });
const query = (id: string, ...buckets: string[]): ContextQuery => ({ provider: 'aws', account: id, region, resources: buckets.map((bucket) => ({ type: 'aws:s3:bucket', id: bucket })), addresses: [] });
const brief = (resources: PublicResource[] | undefined) => Object.fromEntries((resources ?? []).map((r) => [r.id, { public: r.public, reasons: r.reasons }]));

describe('S3 buckets in the AWS inventory', () => {
  it('reads a bucket named by the alert: public by its policy, with its facts, tags and the anonymous proof to try', async () => {
    const context = await inventory().collect(query(account, 'public-policy'));
    expect(context.problems).toEqual([]);
    expect(context.resources).toEqual([
      {
        provider: 'aws',
        class: 'storage',
        type: 'aws:s3:bucket',
        id: 'public-policy',
        aliases: ['arn:aws:s3:::public-policy'],
        account,
        region,
        public: true,
        reasons: ['the bucket policy allows s3:* to everyone'],
        facts: { region, policy: 'public', acl: 'private', 'block public access': 'bucket: off; account: off' },
        proofs: [{ kind: 'bucket', provider: 'aws', bucket: 'public-policy', baseUrl: moto.endpoint }],
        tags: { team: 'web' },
      },
    ]);
  });

  it('judges each bucket: ACL, Block Public Access of the bucket and of the account, pinning conditions; by name or ARN; one gone is left out', async () => {
    const reader = inventory();
    const mine = await reader.collect(query(account, 'public-acl', 'arn:aws:s3:::public-empty', 'private', 'restricted', 'endpoint-only', 'no-such-bucket', 'locked-public'));
    expect(mine.problems).toEqual([]);
    expect(brief(mine.resources)).toEqual({
      'public-acl': { public: true, reasons: ['the bucket ACL grants READ to everyone (AllUsers)'] },
      'public-empty': { public: true, reasons: ['the bucket policy allows s3:* to everyone'] },
      private: { public: false, reasons: ['the bucket has no policy', 'the bucket ACL grants nothing to everyone'] },
      restricted: {
        public: false,
        reasons: ['the bucket policy allows s3:* to everyone, but Block Public Access (bucket) restricts it to the account and AWS services', 'the bucket ACL grants nothing to everyone'],
      },
      'endpoint-only': { public: false, reasons: ['the bucket policy allows s3:* to everyone only on aws:SourceVpce', 'the bucket ACL grants nothing to everyone'] },
      // `locked-public` belongs to another account: not read from this one.
    });
    const eu = mine.resources!.find((r) => r.id === 'public-empty')!;
    expect({ region: eu.region, fact: eu.facts.region }).toEqual({ region: 'eu-west-1', fact: 'eu-west-1' });
    expect(mine.resources!.filter((r) => !r.public).flatMap((r) => r.proofs)).toEqual([]);

    const theirs = await reader.collect(query(locked, 'locked-public'));
    expect(brief(theirs.resources)).toEqual({
      'locked-public': {
        public: false,
        reasons: [
          'the bucket policy allows s3:* to everyone, but Block Public Access (account) restricts it to the account and AWS services',
          'the bucket ACL grants READ to everyone (AllUsers), but Block Public Access (account) ignores public ACLs',
        ],
      },
    });
    expect(theirs.resources![0]!.facts['block public access']).toBe('bucket: off; account: IgnorePublicAcls, RestrictPublicBuckets');
  });

  /** The reader itself, as the inventory runs it (the inventory's scan also runs every other reader, whose moto catalogues take long to list). */
  const session = async (endpoint = moto.endpoint) => {
    const { credentials } = await configIn(account);
    return { account, region, clientConfig: { region, endpoint, credentials, maxAttempts: 2, retryMode: 'adaptive' as const }, ownAccounts: async () => new Set([account]) };
  };

  it('scans every bucket of the account once, whatever their regions', async () => {
    const buckets = (await s3BucketReader.scan(await session())).map((r) => `${r.id} ${r.region} ${r.public}`);
    expect(buckets.sort()).toEqual([
      'denies-vigil us-east-1 true',
      'endpoint-only us-east-1 false',
      'private us-east-1 false',
      'public-acl us-east-1 true',
      'public-empty eu-west-1 true',
      'public-policy us-east-1 true',
      'restricted us-east-1 false',
    ]);
  });

  it('re-scans the buckets with one region of the account only, the first in sorted order whatever order the regions are listed in', async () => {
    const inRegions = createAwsInventory(awsInventory.settings.parse({ accounts: [{ id: account, regions: ['us-west-2', region] }], endpoint: moto.endpoint, maxAttempts: 2 }), {
      credentials: moto.credentials,
    });
    const [east, west] = await Promise.all([inRegions.scan!(`${account}/${region}`), inRegions.scan!(`${account}/us-west-2`)]);
    expect(east.resources?.filter((r) => r.type === 'aws:s3:bucket')).toHaveLength(7);
    expect(west.resources?.filter((r) => r.type === 'aws:s3:bucket')).toEqual([]);
  });

  it('says what a refusal left unknown: an alert’s bucket becomes a problem, a scanned one stays listed, not public; a refused listing is a problem', async () => {
    aws.answers.splice(0, Infinity, { match: /^GET \/denies-vigil\/?\?policy=/, status: 403, body: accessDenied });
    const named = await inventory(aws.endpoint).collect(query(account, 'denies-vigil'));
    expect(named).toMatchObject({ resources: [], problems: [{ provider: 'aws', scope: `account ${account} in ${region} (aws:s3:bucket)`, reason: 'access denied (AccessDenied)' }] });
    // What was read decides the others, and a public ACL would decide this one whatever its policy says.
    const scanned = await s3BucketReader.scan(await session(aws.endpoint));
    expect(scanned.find((r) => r.id === 'denies-vigil')).toMatchObject({
      public: false,
      reasons: ['the bucket policy could not be read (AccessDenied)', 'the bucket ACL grants nothing to everyone'],
      facts: { policy: 'unknown (AccessDenied)' },
      proofs: [],
    });
    expect(scanned.filter((r) => r.public).map((r) => r.id).sort()).toEqual(['public-acl', 'public-empty', 'public-policy']);

    aws.answers.splice(0, Infinity, { match: /^GET \/\?/, status: 403, body: accessDenied });
    expect((await inventory(aws.endpoint).collect(query(account, 'public-acl'))).problems).toEqual([
      { provider: 'aws', scope: `account ${account} in ${region} (aws:s3:bucket)`, reason: 'access denied (AccessDenied)' },
    ]);
  });

  it('takes AWS’s verdict on a policy over its own reading, and in place of a policy it may not read', async () => {
    aws.answers.splice(
      0,
      Infinity,
      { match: /^GET \/endpoint-only\/?\?policyStatus=/, status: 200, body: policyStatus(true) },
      { match: /^GET \/denies-vigil\/?\?policy=/, status: 403, body: accessDenied },
      { match: /^GET \/denies-vigil\/?\?policyStatus=/, status: 200, body: policyStatus(false) },
    );
    const context = await inventory(aws.endpoint).collect(query(account, 'endpoint-only', 'denies-vigil'));
    expect(context.problems).toEqual([]);
    expect(brief(context.resources)).toEqual({
      'endpoint-only': { public: true, reasons: ['AWS judges the bucket policy public'] },
      'denies-vigil': { public: false, reasons: ['AWS judges the bucket policy not public', 'the bucket ACL grants nothing to everyone'] },
    });
  });
});

describe('the anonymous bucket proof against moto', () => {
  const scope = { allowRanges: ['127.0.0.0/8'], onlyRanges: ['127.0.0.0/8'] };
  const check = () => ({ scope: { ...scope, resolvers: [dns.server] }, settings: probeSettings(), signal: new AbortController().signal });
  const prove = async (bucket: string, baseUrl = moto.endpoint) => (await bucketProof.run({ kind: 'bucket', provider: 'aws', bucket, baseUrl }, {} as PublicResource, check()))[0]!;

  it('reads one listed object’s metadata without credentials when the policy or the object’s ACL allows it, at S3’s name as the internet resolves it', async () => {
    // S3's regional name, answered by the test DNS server with moto's address (its port kept).
    dns.set('s3.us-east-1.amazonaws.com', ['127.0.0.1']);
    const port = new URL(moto.endpoint).port;
    const viaName = await prove('public-policy', `http://s3.us-east-1.amazonaws.com:${port}`);
    expect(viaName).toMatchObject({
      key: 'bucket/aws/public-policy',
      check: 'bucket',
      target: `http://s3.us-east-1.amazonaws.com:${port}/public-policy`,
      status: 'public',
      fields: { list: 'allowed', metadata: 'allowed', key: 'reports/2026 q1&q2.csv' },
    });
    expect(dns.asked).toContain('s3.us-east-1.amazonaws.com');
    expect((await prove('public-acl')).fields).toEqual({ list: 'allowed', metadata: 'allowed', key: 'index.html' });
  });

  it('is not public when the object’s metadata is refused (moto lists any bucket), nor when nothing is listed', async () => {
    expect(await prove('private')).toMatchObject({ status: 'listable', fields: { list: 'allowed', metadata: 'refused (403)', key: 'payroll.csv' } });
    expect(await prove('public-empty')).toMatchObject({ status: 'listable', fields: { list: 'allowed', metadata: 'not tried (nothing listed)' } });
    expect(await prove('no-such-bucket')).toMatchObject({ status: 'not-found', fields: { list: 'not found (404)', metadata: 'not tried (no object known)' } });
  });

  it('runs for the public buckets of a context only', async () => {
    const context = await inventory().collect(query(account, 'public-acl', 'private'));
    const findings = await runProofs(context, check());
    expect(findings.map((f) => [f.key, f.status])).toEqual([['bucket/aws/public-acl', 'public']]);
  });
});
