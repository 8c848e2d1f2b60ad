// A public bucket followed end to end on real Temporal, with moto as the AWS inventory: the alert's
// issue says why the bucket is public and what it gave an outsider (an anonymous list and a HEAD of
// one object, at moto's endpoint on loopback), the bucket is made private, and the watch says so
// once and then marks it remediated. Then the re-scan of the account finds the public bucket and the
// public snapshot left in it without any alert, and lets the one allowed by its tag stay public.
// Every connection is recorded: nothing leaves loopback.
import { CreateSnapshotCommand, CreateVolumeCommand, EC2Client, ModifySnapshotAttributeCommand } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, DeleteBucketPolicyCommand, PutBucketPolicyCommand, PutBucketTaggingCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recheckNow } from '../../lib/investigation';
import type { RescanSummary } from '../../workflows/rescan-inventory';
import { recordConnections, type ConnectionLog } from '../helpers/connections';
import { startMoto, type Moto } from '../helpers/moto';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const buckets = { watched: 'vigil-watched-logs', exports: 'vigil-rescan-exports', site: 'vigil-approved-site', quiet: 'vigil-private-archive' };

let connections: ConnectionLog;
let moto: Moto;
let s3: S3Client;
let vigil: TestVigil;
let snapshot = '';

/**
 * A bucket with one object, readable by anyone through its policy. moto enforces anonymous GET and
 * HEAD of an object by the policy (it names HEAD `s3:HeadObject`); AWS's `s3:GetObject` covers both.
 */
async function publicBucket(name: string, tags: Record<string, string> = {}): Promise<void> {
  await privateBucket(name);
  const policy = {
    Version: '2012-10-17',
    Statement: [{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:HeadObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`] }],
  };
  await s3.send(new PutBucketPolicyCommand({ Bucket: name, Policy: JSON.stringify(policy) }));
  if (Object.keys(tags).length > 0) await s3.send(new PutBucketTaggingCommand({ Bucket: name, Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } }));
}

async function privateBucket(name: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  await s3.send(new PutObjectCommand({ Bucket: name, Key: 'reports/2026-11.csv', Body: 'account,amount\n' }));
}

beforeAll(async () => {
  connections = recordConnections();
  moto = await startMoto();
  s3 = new S3Client({ region: REGION, endpoint: moto.endpoint, credentials: moto.credentials, forcePathStyle: true });
  await publicBucket(buckets.watched);
  await publicBucket(buckets.exports);
  await publicBucket(buckets.site, { public: 'approved' });
  await privateBucket(buckets.quiet);
  const ec2 = new EC2Client({ region: REGION, endpoint: moto.endpoint, credentials: moto.credentials });
  const { VolumeId } = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 8 }));
  const { SnapshotId } = await ec2.send(new CreateSnapshotCommand({ VolumeId }));
  // moto takes the older form of the call (OperationType, GroupNames), which AWS accepts too.
  await ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId, Attribute: 'createVolumePermission', OperationType: 'add', GroupNames: ['all'] }));
  snapshot = SnapshotId!;

  // The worker's own credentials, as the default chain finds them.
  process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
  vigil = await startTestVigil({
    inventory: { aws: { accounts: [{ id: ACCOUNT, useOwnCredentials: true }], regions: [REGION], endpoint: moto.endpoint, maxAttempts: 2 } },
    rescan: { allow: [{ tag: 'public=approved', reason: 'the public website', expires: '2099-12-31' }] },
  });
});

afterAll(async () => {
  await vigil?.stop();
  s3?.destroy();
  await moto?.stop();
  connections?.stop();
  expect(connections?.outsideLoopback() ?? []).toEqual([]);
});

/** The investigation's progress once `ready` holds for it. */
const progressWhen = (workflowId: string, ready: (progress: NonNullable<Awaited<ReturnType<typeof queryProgress>>>) => boolean) =>
  eventually(async () => {
    const progress = await queryProgress(vigil.client, workflowId);
    return progress && ready(progress) ? progress : undefined;
  }, 60_000);

const commentsOf = async (number: number) => ((await vigil.tracker.readIssue(number))?.comments ?? []).map((comment) => comment.body);

describe('a public bucket, watched until it is private', () => {
  it('says why it is public and what an outsider got; one change comment when it turns private, then remediated', async () => {
    const alert = {
      id: 'public-bucket-watched',
      title: `S3 bucket ${buckets.watched} allows public read access`,
      severity: 'high',
      kind: 'exposure',
      cloud: { provider: 'aws', account: ACCOUNT, region: REGION },
      resources: [{ type: 'aws:s3:bucket', id: buckets.watched }],
    };
    expect((await vigil.post('generic', alert)).status).toBe(202);
    const workflowId = 'alert/generic/public-bucket-watched';
    const first = await progressWhen(workflowId, (progress) => progress.firstReportComplete === true);
    // The anonymous read answered: open, as a port that answers is.
    expect(first.exposure).toBe('open');
    const issue = first.issue!.number;

    const reported = await commentsOf(issue);
    const context = reported.find((body) => body.startsWith('### Affected resources'))!;
    expect(context).toContain('1 public resource(s) of 1 read (`aws`):');
    expect(context).toMatch(new RegExp(`- bucket \`${buckets.watched}\`, public: \`[^\`]*policy[^\`]*s3:GetObject[^\`]*\``));
    expect(context).not.toContain('No inventory');
    const exposure = reported.find((body) => body.startsWith('### Exposure checks'))!;
    expect(exposure).toMatch(new RegExp(`- bucket \`[^\`]*${buckets.watched}[^\`]*\`: \\*\\*public\\*\\*`));

    // The remediation, then re-checks asked for at once (the watch's timer would do the same, later).
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: buckets.watched }));
    const handle = vigil.client.workflow.getHandle(workflowId);
    for (const check of [1, 2, 3]) {
      await handle.signal(recheckNow);
      await progressWhen(workflowId, (progress) => (progress.watch?.checks ?? 0) >= check);
    }
    const done = await progressWhen(workflowId, (progress) => progress.exposure === 'remediated');
    expect(done.watch?.state).toBe('remediated');

    const after = await commentsOf(issue);
    const changes = after.filter((body) => body.startsWith('### Re-check'));
    expect(changes).toHaveLength(1);
    expect(changes[0]).toContain(`- \`inventory\` \`${buckets.watched}\`: \`public\` → \`private\``);
    expect(after.filter((body) => body.startsWith('### Remediated'))).toHaveLength(1);
    expect(after.indexOf(changes[0]!)).toBeLessThan(after.findIndex((body) => body.startsWith('### Remediated')));
  });
});

describe('the re-scan of resources beyond machines', () => {
  const rescan = () =>
    vigil.client.workflow.execute('rescanInventory', {
      args: [{ provider: 'aws', scope: `${ACCOUNT}/${REGION}` }],
      taskQueue: vigil.config.temporal.taskQueue,
      workflowId: `test-rescan/resources/${Date.now()}`,
    }) as Promise<RescanSummary>;

  it('finds the public bucket and the public snapshot without an alert, one investigation each; the allowed bucket stays', async () => {
    const summary = await rescan();
    expect(summary).toMatchObject({ violations: 2, started: 2, rechecked: 0, undispatched: 0, problems: [] });
    expect(summary.allowed).toEqual([{ instance: buckets.site, type: 'aws:s3:bucket', reason: 'the public website', expires: '2099-12-31' }]);

    const bucket = await progressWhen(`alert/vigil-rescan/aws:${ACCOUNT}:aws:s3:bucket:${buckets.exports}`, (progress) => progress.firstReportComplete === true);
    const shared = await progressWhen(`alert/vigil-rescan/aws:${ACCOUNT}:aws:ec2:snapshot:${snapshot}`, (progress) => progress.firstReportComplete === true);
    // The investigation reads the bucket again and proves it as an outsider; the snapshot's sharing, read again, is its proof.
    expect(bucket.exposure).toBe('open');
    expect(shared.exposure).toBe('open');

    const issues = (await vigil.tracker.listIssues()).filter((issue) => issue.labels.includes('source:vigil-rescan'));
    expect(issues.map((issue) => issue.title).sort()).toEqual([
      expect.stringMatching(new RegExp(`^\\[critical\\] snapshot .*${snapshot}.* is public`)),
      expect.stringMatching(new RegExp(`^\\[high\\] bucket ${buckets.exports} is public: .*s3:GetObject`)),
    ]);
    const context = (await commentsOf(issues.find((issue) => issue.title.includes(buckets.exports))!.number)).find((body) => body.startsWith('### Affected resources'))!;
    expect(context).toContain(`- bucket \`${buckets.exports}\`, public:`);
    // The snapshot's exposure comment says its sharing was read again and is public: nothing else is asked of it.
    const sharing = (await commentsOf(issues.find((issue) => issue.title.includes(snapshot))!.number)).find((body) => body.startsWith('### Exposure checks'))!;
    expect(sharing).not.toContain('Nothing was probed');
    expect(sharing).toMatch(new RegExp(`read again \\(their sharing, never their data\\), shared with everyone: \\*\\*public\\*\\*:\\n\\n- snapshot \`${snapshot}\`: `));
  });
});
