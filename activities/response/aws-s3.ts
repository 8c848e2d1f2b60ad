// Turning on S3 Block Public Access for a bucket shown public: the plan, the change (all four
// settings on, the bucket's previous configuration kept for the undo) and its undo (that
// configuration put back, or none when it had none).
import type { PublicAccessBlockConfiguration, S3Client } from '@aws-sdk/client-s3';
import type { ExecutionRecord, RemediationAction } from '../../lib/response';
import { withClient } from '../context/aws/resources/reading';
import { isNamed, now, refused, refusing, requestIdOf, type AwsSessions } from './aws-session';
import type { ProposedRemediation, ProposeInput } from './types';

export type BlockAction = Extract<RemediationAction, { kind: 'aws-s3-block-public-access' }>;

/** A bucket's Block Public Access as recorded for the undo: each setting said, an absent one false as S3 reads it. */
export interface BlockSettings {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

const ALL_ON: BlockSettings = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
const S3_BUCKET = 'aws:s3:bucket';

const settingsOf = (config: PublicAccessBlockConfiguration): BlockSettings => ({
  BlockPublicAcls: config.BlockPublicAcls === true,
  IgnorePublicAcls: config.IgnorePublicAcls === true,
  BlockPublicPolicy: config.BlockPublicPolicy === true,
  RestrictPublicBuckets: config.RestrictPublicBuckets === true,
});
const sameSettings = (a: BlockSettings | null, b: BlockSettings | null) =>
  a === null || b === null ? a === b : (Object.keys(ALL_ON) as (keyof BlockSettings)[]).every((key) => a[key] === b[key]);
const inWords = (settings: BlockSettings) =>
  (Object.keys(settings) as (keyof BlockSettings)[]).map((key) => `${key}=${settings[key]}`).join(' ');

export const blockCall = (action: BlockAction) => `s3:PutPublicAccessBlock Bucket=${action.bucket} ${inWords(ALL_ON)}`;
const restoreCall = (action: BlockAction, before: BlockSettings | null) =>
  before ? `s3:PutPublicAccessBlock Bucket=${action.bucket} ${inWords(before)}` : `s3:DeletePublicAccessBlock Bucket=${action.bucket}`;

export function proposeBucketBlocks(input: ProposeInput): ProposedRemediation[] {
  const proven = new Set(input.proven);
  return (input.context.resources ?? []).flatMap((resource): ProposedRemediation[] => {
    const account = resource.account ?? input.alert.cloud?.account;
    // The bucket's own region when the inventory read it; S3 redirects a call made elsewhere.
    const region = resource.region ?? input.alert.cloud?.region ?? 'us-east-1';
    if (resource.provider !== 'aws' || resource.type !== S3_BUCKET || !proven.has(resource.id) || !account) return [];
    const action: BlockAction = { kind: 'aws-s3-block-public-access', account, region, bucket: resource.id };
    const why = resource.reasons.length > 0 ? ` (public because ${resource.reasons.join('; ')})` : '';
    return [
      {
        title: `Turn on Block Public Access for bucket ${resource.id}`,
        action,
        apiCall: blockCall(action),
        serves: [
          `Every anonymous reader of ${resource.id} loses access${why}.`,
          'Other AWS accounts that a public bucket policy lets in lose it too (RestrictPublicBuckets); access granted to principals of this account, and through access points without a public policy, stays.',
        ],
        expected: `${resource.id} no longer readable from the internet: public ACLs ignored and public policies refused`,
        undo: `s3:PutPublicAccessBlock with the bucket's previous configuration, or s3:DeletePublicAccessBlock when it had none`,
      },
    ];
  });
}

async function s3Client(sessions: AwsSessions, action: BlockAction): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  const config = sessions.configFor(action.account, action.region);
  // Path-style at a configured endpoint (moto has no bucket host names); a bucket elsewhere than its recorded region is followed.
  return new S3Client({ ...config, forcePathStyle: Boolean(config.endpoint), followRegionRedirects: true });
}

/** The bucket's Block Public Access now: null when it has none. Bucket calls name the owner, so another account's bucket of that name is refused. */
async function currentBlock(client: S3Client, action: BlockAction): Promise<BlockSettings | null> {
  const { GetPublicAccessBlockCommand } = await import('@aws-sdk/client-s3');
  try {
    const { PublicAccessBlockConfiguration } = await client.send(new GetPublicAccessBlockCommand({ Bucket: action.bucket, ExpectedBucketOwner: action.account }));
    return PublicAccessBlockConfiguration ? settingsOf(PublicAccessBlockConfiguration) : null;
  } catch (err) {
    if (isNamed(err, 'NoSuchPublicAccessBlockConfiguration')) return null;
    throw err;
  }
}

/** Puts `settings` on the bucket, or deletes its configuration when null. */
async function putBlock(client: S3Client, action: BlockAction, settings: BlockSettings | null): Promise<string[]> {
  const { PutPublicAccessBlockCommand, DeletePublicAccessBlockCommand } = await import('@aws-sdk/client-s3');
  const owned = { Bucket: action.bucket, ExpectedBucketOwner: action.account };
  const output = settings
    ? await client.send(new PutPublicAccessBlockCommand({ ...owned, PublicAccessBlockConfiguration: settings }))
    : await client.send(new DeletePublicAccessBlockCommand(owned));
  return requestIdOf(output);
}

export function blockPublicAccess(sessions: AwsSessions, action: BlockAction, dryRun: boolean): Promise<ExecutionRecord> {
  const apiCall = blockCall(action);
  return refusing(sessions, action, 's3:PutPublicAccessBlock', `bucket ${action.bucket}`, async () =>
    withClient(await s3Client(sessions, action), async (client): Promise<ExecutionRecord> => {
      const before = await currentBlock(client, action);
      if (dryRun) return { outcome: 'dry-run', apiCall, requestIds: [], at: now() };
      if (before && sameSettings(before, ALL_ON)) return { outcome: 'already', apiCall, requestIds: [], before, at: now() };
      return { outcome: 'changed', apiCall, requestIds: await putBlock(client, action, ALL_ON), before, at: now() };
    }),
  );
}

const isSettings = (value: unknown): value is BlockSettings =>
  typeof value === 'object' && value !== null && (Object.keys(ALL_ON) as (keyof BlockSettings)[]).every((key) => typeof (value as Record<string, unknown>)[key] === 'boolean');

export function restoreBlock(sessions: AwsSessions, action: BlockAction, execution: ExecutionRecord, dryRun: boolean): Promise<ExecutionRecord> {
  const before = execution.before === null ? null : isSettings(execution.before) ? settingsOf(execution.before) : undefined;
  if (before === undefined && !dryRun) {
    return Promise.reject(refused(`the execution of ${execution.apiCall} recorded no previous configuration of bucket ${action.bucket} (outcome ${execution.outcome}): nothing to put back`));
  }
  const apiCall = restoreCall(action, before ?? null);
  return refusing(sessions, action, apiCall.split(' ')[0]!, `bucket ${action.bucket}`, async () =>
    withClient(await s3Client(sessions, action), async (client): Promise<ExecutionRecord> => {
      const current = await currentBlock(client, action);
      if (dryRun || before === undefined) return { outcome: 'dry-run', apiCall, requestIds: [], at: now() };
      if (sameSettings(current, before)) return { outcome: 'already', apiCall, requestIds: [], at: now() };
      return { outcome: 'changed', apiCall, requestIds: await putBlock(client, action, before), before: current, at: now() };
    }),
  );
}
