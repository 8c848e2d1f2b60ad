// S3 buckets the account owns, and whether anyone on the internet can reach them: the bucket policy
// (judged by AWS's meaning of "public", AWS's own verdict winning when it gives one), the bucket ACL,
// and Block Public Access of the bucket and of the account (./s3-policy judges). Buckets are not
// regional: the inventory reads them once per account, and each is proved at its own region's endpoint.
import type { S3Client } from '@aws-sdk/client-s3';
import type { ResourceRef } from '../../../../lib/alert';
import type { PublicResource } from '../../../../lib/context';
import { mapConcurrent } from '../../../../lib/concurrency';
import { refusalName } from '../errors';
import { collectPages } from '../pages';
import { partitionOf, withClient } from './reading';
import { judgeBucket, type AclGrant, type BlockPublicAccess, type Part } from './s3-policy';
import type { AwsRegionSession, AwsResourceReader } from './types';

const S3_BUCKET = 'aws:s3:bucket';

/** Buckets read at once: five or six calls each. */
const BUCKET_CONCURRENCY = 8;

/**
 * Buckets per ListBuckets page. Giving a page size also makes AWS answer each bucket's region (no
 * GetBucketLocation then); moto cuts the list at it without a continuation token, so it is the
 * largest AWS takes rather than `session.pageSize`.
 */
const BUCKETS_PER_PAGE = 10_000;

/** `name` from `name` or an ARN (`arn:aws:s3:::name`, `arn:aws:s3:::name/key`). */
const bucketOf = (id: string): string => (id.startsWith('arn:') ? (id.slice(id.indexOf(':::') + 3).split('/')[0] ?? '') : id);

/** GetBucketLocation's answer as a region: none is us-east-1, `EU` the old name of eu-west-1. */
const locationRegion = (constraint: string | undefined) => (!constraint ? 'us-east-1' : constraint === 'EU' ? 'eu-west-1' : constraint);

/** Where an outsider lists the bucket: its region's S3 endpoint, or the configured one (moto), path-style. */
function baseUrl(session: AwsRegionSession, region: string | undefined): string {
  if (session.clientConfig.endpoint) return session.clientConfig.endpoint.replace(/\/+$/, '');
  if (!region) return 'https://s3.amazonaws.com';
  return `https://s3.${region}.amazonaws.com${partitionOf(region) === 'aws-cn' ? '.cn' : ''}`;
}

const errorName = (err: unknown) => (err instanceof Error ? err.name : '');

/**
 * A read whose refusal is the part's answer (a bucket policy may deny Vigil's role): `absent` names
 * the error meaning "not configured" (NoSuchBucketPolicy). Refusals are also kept in `refusals`.
 */
async function readPart<T>(refusals: unknown[], read: () => Promise<T>, absent?: string): Promise<Part<T | undefined>> {
  try {
    return { value: await read() };
  } catch (err) {
    if (absent && errorName(err) === absent) return { value: undefined };
    const refusal = refusalName(err);
    if (!refusal) throw err;
    refusals.push(err);
    return { refused: refusal };
  }
}

/** A bucket as read, and the refusals that left its verdict open (none when it is known). */
interface ReadBucket {
  resource: PublicResource;
  undecidedBy: unknown[];
}

/** Reads the account's buckets (those named in `names`, or all), judging each; a bucket gone meanwhile is left out. */
async function readBuckets(session: AwsRegionSession, names?: ReadonlySet<string>): Promise<ReadBucket[]> {
  const s3sdk = await import('@aws-sdk/client-s3');
  const endpoint = session.clientConfig.endpoint;
  // Path-style at a configured endpoint (moto has no bucket host names); redirects followed when a
  // bucket's region is not known beforehand.
  const clients = new Map<string, S3Client>();
  const clientIn = (region: string) => {
    let client = clients.get(region);
    if (!client) {
      client = new s3sdk.S3Client({ ...session.clientConfig, region, forcePathStyle: Boolean(endpoint), followRegionRedirects: true });
      clients.set(region, client);
    }
    return client;
  };
  try {
    const home = clientIn(session.region);
    // A refusal here is thrown as is: the inventory makes it this reader's problem.
    const listed = await collectPages(s3sdk.paginateListBuckets({ client: home }, { MaxBuckets: BUCKETS_PER_PAGE }), (page) => page.Buckets);
    const wanted = listed.filter((bucket) => bucket.Name && (!names || names.has(bucket.Name)));
    if (wanted.length === 0) return [];
    const accountRefusals: unknown[] = [];
    const accountBlock = await readPart(accountRefusals, () => accountBlockPublicAccess(session), 'NoSuchPublicAccessBlockConfiguration');

    const read = async ({ Name: name, BucketRegion }: { Name?: string; BucketRegion?: string }): Promise<ReadBucket[]> => {
      const bucket = name!;
      const refusals: unknown[] = [...accountRefusals];
      try {
        const location = BucketRegion ? { value: BucketRegion } : await readPart(refusals, async () => locationRegion((await home.send(new s3sdk.GetBucketLocationCommand({ Bucket: bucket }))).LocationConstraint));
        const region = 'value' in location ? location.value : undefined;
        const client = region ? clientIn(region) : home;
        const [policy, acl, bucketBlock, tags] = await Promise.all([
          readPart(refusals, async () => (await client.send(new s3sdk.GetBucketPolicyCommand({ Bucket: bucket }))).Policy, 'NoSuchBucketPolicy'),
          readPart(refusals, async (): Promise<AclGrant[]> => (await client.send(new s3sdk.GetBucketAclCommand({ Bucket: bucket }))).Grants ?? []),
          readPart(refusals, async (): Promise<BlockPublicAccess | undefined> => (await client.send(new s3sdk.GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration, 'NoSuchPublicAccessBlockConfiguration'),
          // Tags serve re-scan allowances only: unread, they are just absent.
          readPart([], async () => (await client.send(new s3sdk.GetBucketTaggingCommand({ Bucket: bucket }))).TagSet ?? [], 'NoSuchTagSet'),
        ]);
        // AWS's verdict on the policy, unless it has none: when AWS answers (moto leaves it empty), it
        // wins, and it stands in for a policy Vigil may not read.
        const policyIsPublic =
          !('value' in policy && policy.value === undefined)
            ? await readPart([], async () => (await client.send(new s3sdk.GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic, 'NoSuchBucketPolicy')
            : undefined;
        const verdict = judgeBucket({
          policy,
          ...(policyIsPublic && 'value' in policyIsPublic && policyIsPublic.value !== undefined ? { policyIsPublic: policyIsPublic.value } : {}),
          acl: 'value' in acl ? { value: acl.value ?? [] } : acl,
          bucketBlock,
          accountBlock,
        });
        const tagSet = 'value' in tags ? (tags.value ?? []) : [];
        const resource: PublicResource = {
          provider: 'aws',
          class: 'storage',
          type: S3_BUCKET,
          id: bucket,
          aliases: [`arn:${partitionOf(region ?? session.region)}:s3:::${bucket}`],
          account: session.account,
          ...(region ? { region } : {}),
          public: verdict.public === true,
          reasons: verdict.reasons,
          facts: { region: region ?? `unknown (${'refused' in location ? location.refused : 'not answered'})`, ...verdict.facts },
          proofs: verdict.public ? [{ kind: 'bucket', provider: 'aws', bucket, baseUrl: baseUrl(session, region) }] : [],
          tags: Object.fromEntries(tagSet.flatMap(({ Key, Value }) => (Key ? [[Key, Value ?? '']] : []))),
        };
        return [{ resource, undecidedBy: verdict.public === undefined ? refusals : [] }];
      } catch (err) {
        // Deleted between the listing and its reading: it is no longer there to judge.
        if (errorName(err) === 'NoSuchBucket') return [];
        throw err;
      }
    };
    return (await mapConcurrent(wanted, BUCKET_CONCURRENCY, read)).flat();
  } finally {
    for (const client of clients.values()) client.destroy();
  }
}

/**
 * The account's Block Public Access (S3 Control). AWS puts the account id in S3 Control's host name,
 * which an endpoint given as an address (moto's) cannot carry: there the endpoint is used as it is.
 */
async function accountBlockPublicAccess(session: AwsRegionSession): Promise<BlockPublicAccess | undefined> {
  const { S3ControlClient, GetPublicAccessBlockCommand } = await import('@aws-sdk/client-s3-control');
  const { endpoint, ...config } = session.clientConfig;
  return withClient(
    new S3ControlClient({ ...config, ...(endpoint ? { endpointProvider: () => ({ url: new URL(endpoint) }) } : {}) }),
    async (client) => (await client.send(new GetPublicAccessBlockCommand({ AccountId: session.account }))).PublicAccessBlockConfiguration,
  );
}

/**
 * Buckets named by name or ARN, read only when the account's listing holds them (a bucket name is
 * global: an alert cannot have another account's bucket read or proved). A bucket whose verdict
 * turns on a refused read makes the read a refusal, so the issue says it could not be told.
 */
async function collect(session: AwsRegionSession, refs: readonly ResourceRef[]): Promise<PublicResource[]> {
  const names = new Set(refs.filter((ref) => ref.type === S3_BUCKET).map((ref) => bucketOf(ref.id)));
  if (names.size === 0) return [];
  const read = await readBuckets(session, names);
  const undecided = read.find((bucket) => bucket.undecidedBy.length > 0);
  if (undecided) throw undecided.undecidedBy[0];
  return read.map((bucket) => bucket.resource);
}

/**
 * Every bucket of the account, whatever its region (the inventory scans global readers once per
 * account). A bucket whose verdict turns on a refused read is kept as not public, its reasons saying
 * what could not be read: one locked bucket neither hides the others nor becomes a re-scan alert.
 */
async function scan(session: AwsRegionSession): Promise<PublicResource[]> {
  return (await readBuckets(session)).map((bucket) => bucket.resource);
}

export const s3BucketReader: AwsResourceReader = { types: [S3_BUCKET], global: true, collect, scan };
