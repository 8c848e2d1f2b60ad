// Public-access rules: API calls whose request makes a bucket, database or function reachable by
// anyone (snapshots and AMIs are in ./sharing.ts). Each reads the request, not only the event name: a
// PutBucketPolicy that grants one account, or a function URL that requires IAM, makes nothing public.
// The alert names the resource with its canonical type, and its fingerprint is the resource's, so
// that repeated calls about one bucket or function make one issue.
import type { ResourceRef } from '../../../../lib/alert';
import { asArray, isRecord, str, uniq } from '../../util';
import { publicResourceFromArn } from '../../public-resources';
import { at, eventName, short, type CloudTrailRecord } from '../record';
import { succeeded, thingFingerprint, type CloudTrailRule, type RuleMatch } from './common';

/** A match about one resource made public, fingerprinted by the resource. */
function publicMatch(record: CloudTrailRecord, resource: ResourceRef, title: string, details: string[]): RuleMatch {
  return { title, resources: [resource], fingerprint: thingFingerprint(record, `${resource.type}/${resource.id}`), details };
}

// --- S3 ------------------------------------------------------------------------------------------

/**
 * Condition keys that, with a fixed value, limit a statement to known principals or networks, which
 * AWS's rule for "public" counts as not public (Amazon S3 User Guide, "The meaning of public").
 * aws:SourceIp is left out: a range can still be the whole internet.
 */
const LIMITING_CONDITION_KEYS = new Set(
  [
    'aws:SourceArn',
    'aws:SourceVpc',
    'aws:SourceVpce',
    'aws:SourceAccount',
    'aws:SourceOwner',
    'aws:PrincipalAccount',
    'aws:PrincipalArn',
    'aws:PrincipalOrgID',
    'aws:PrincipalOrgPaths',
    'aws:userid',
    's3:DataAccessPointArn',
    's3:DataAccessPointAccount',
  ].map((key) => key.toLowerCase()),
);

/** A policy document as CloudTrail logs it: parsed JSON, or the JSON text. */
function policyDocument(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

/** `"*"` or `{"AWS": "*"}` (also in a list): anyone. */
function isAnyone(principal: unknown): boolean {
  if (str(principal) === '*') return true;
  return isRecord(principal) && asArray(principal.AWS).some((entry) => str(entry) === '*');
}

function limitedByCondition(condition: unknown): boolean {
  if (!isRecord(condition)) return false;
  return Object.values(condition).some((operands) => isRecord(operands) && Object.keys(operands).some((key) => LIMITING_CONDITION_KEYS.has(key.toLowerCase())));
}

/** The actions of the statements that allow anyone, unlimited by a condition; none when the policy is not public. */
function publicPolicyActions(document: unknown): string[] {
  return asArray(at(document, 'Statement')).flatMap((statement) => {
    if (str(at(statement, 'Effect')) !== 'Allow' || !isAnyone(at(statement, 'Principal'))) return [];
    if (limitedByCondition(at(statement, 'Condition'))) return [];
    const actions = asArray(at(statement, 'Action')).map(str);
    return actions.length > 0 ? uniq(actions) : ['(every action)'];
  });
}

const PUBLIC_GROUPS: Record<string, string> = {
  'http://acs.amazonaws.com/groups/global/AllUsers': 'AllUsers (anyone)',
  'http://acs.amazonaws.com/groups/global/AuthenticatedUsers': 'AuthenticatedUsers (any AWS account)',
};
const PUBLIC_CANNED_ACLS = new Set(['public-read', 'public-read-write', 'authenticated-read']);

/** What a PutBucketAcl grants to everyone: grants to the public groups, or a public canned ACL. */
function publicAclGrants(params: unknown): string[] {
  const grants = asArray(at(params, 'AccessControlPolicy', 'AccessControlList', 'Grant')).flatMap((grant) => {
    const group = PUBLIC_GROUPS[str(at(grant, 'Grantee', 'URI')) ?? ''];
    return group ? [`${str(at(grant, 'Permission')) ?? 'a permission'} to ${group}`] : [];
  });
  const canned = asArray(at(params, 'x-amz-acl')).map((value) => str(value)?.toLowerCase());
  return [...grants, ...canned.filter((acl): acl is string => acl !== undefined && PUBLIC_CANNED_ACLS.has(acl)).map((acl) => `canned ACL ${acl}`)];
}

const BLOCK_PUBLIC_ACCESS_FLAGS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'];

/**
 * The Block Public Access settings a call turns off: every one for a Delete, those set false for a
 * Put. Account-level calls (`PutAccountPublicAccessBlock`, through S3 Control) name the account.
 */
function blockPublicAccessOff(record: CloudTrailRecord): { scope: 'bucket' | 'account'; off: string[] } | undefined {
  const name = eventName(record);
  const params = record.requestParameters;
  if (name === 'DeletePublicAccessBlock') return { scope: 'bucket', off: BLOCK_PUBLIC_ACCESS_FLAGS };
  if (name === 'DeleteAccountPublicAccessBlock') return { scope: 'account', off: BLOCK_PUBLIC_ACCESS_FLAGS };
  if (name !== 'PutPublicAccessBlock' && name !== 'PutAccountPublicAccessBlock') return undefined;
  const configuration = at(params, 'PublicAccessBlockConfiguration');
  const off = BLOCK_PUBLIC_ACCESS_FLAGS.filter((flag) => {
    const value = at(configuration, flag);
    return value === false || str(value)?.toLowerCase() === 'false';
  });
  return { scope: name === 'PutPublicAccessBlock' ? 'bucket' : 'account', off };
}

const bucketOf = (record: CloudTrailRecord): ResourceRef | undefined => {
  const bucket = str(at(record.requestParameters, 'bucketName'));
  return bucket ? { type: 'aws:s3:bucket', id: bucket } : undefined;
};

const bucketPolicyPublic: CloudTrailRule = {
  id: 's3-bucket-policy-public',
  description: 'A bucket policy that allows anyone (Principal "*") without a condition limiting it to known accounts or networks',
  kind: 'exposure',
  severity: 'high',
  match(record) {
    if (eventName(record) !== 'PutBucketPolicy' || !succeeded(record)) return undefined;
    const bucket = bucketOf(record);
    const actions = publicPolicyActions(policyDocument(at(record.requestParameters, 'bucketPolicy')));
    if (!bucket || actions.length === 0) return undefined;
    return publicMatch(record, bucket, `S3 bucket ${short(bucket.id)} made public by its bucket policy`, [`Allowed to anyone: ${actions.join(', ')}`]);
  },
};

const bucketAclPublic: CloudTrailRule = {
  id: 's3-bucket-acl-public',
  description: 'A bucket ACL granting AllUsers or AuthenticatedUsers, or a public canned ACL',
  kind: 'exposure',
  severity: 'high',
  match(record) {
    if (eventName(record) !== 'PutBucketAcl' || !succeeded(record)) return undefined;
    const bucket = bucketOf(record);
    const grants = publicAclGrants(record.requestParameters);
    if (!bucket || grants.length === 0) return undefined;
    return publicMatch(record, bucket, `S3 bucket ${short(bucket.id)} made public by its ACL`, [`Granted: ${grants.join('; ')}`]);
  },
};

const blockPublicAccessDisabled: CloudTrailRule = {
  id: 's3-block-public-access-disabled',
  description: 'S3 Block Public Access removed or turned off, for a bucket or the whole account',
  kind: 'exposure',
  severity: 'medium',
  match(record) {
    const change = succeeded(record) ? blockPublicAccessOff(record) : undefined;
    if (!change || change.off.length === 0) return undefined;
    const account = str(at(record.requestParameters, 'accountId')) ?? str(record.recipientAccountId);
    const resource: ResourceRef | undefined = change.scope === 'bucket' ? bucketOf(record) : account ? { type: 'aws:account', id: account } : undefined;
    if (!resource) return undefined;
    const what = change.scope === 'bucket' ? `S3 bucket ${short(resource.id)}` : `account ${short(resource.id)}`;
    return publicMatch(record, resource, `S3 Block Public Access turned off for ${what}`, [`Settings off: ${change.off.join(', ')}`]);
  },
};

// --- RDS -----------------------------------------------------------------------------------------

const dbInstancePublic: CloudTrailRule = {
  id: 'rds-instance-made-public',
  description: 'An RDS DB instance created or modified with PubliclyAccessible true',
  kind: 'exposure',
  severity: 'high',
  match(record) {
    const name = eventName(record);
    if ((name !== 'ModifyDBInstance' && name !== 'CreateDBInstance') || !succeeded(record)) return undefined;
    const params = record.requestParameters;
    const id = str(at(params, 'dBInstanceIdentifier'));
    if (!id || at(params, 'publiclyAccessible') !== true) return undefined;
    return publicMatch(record, { type: 'aws:rds:db-instance', id }, `RDS DB instance ${short(id)} made publicly accessible`, [`${name}: publiclyAccessible true`]);
  },
};

// --- Lambda --------------------------------------------------------------------------------------

/**
 * Lambda names its events with the API version (`AddPermission20150331v2`,
 * `CreateFunctionUrlConfig20211031`): the name without it.
 */
const lambdaEvent = (record: CloudTrailRecord): string | undefined => eventName(record)?.replace(/\d{8}(?:v\d+)?$/, '');

/** The function a request names: by name, by ARN (with or without a version or alias) or `name:alias`. */
function functionOf(record: CloudTrailRecord): ResourceRef | undefined {
  const named = str(at(record.requestParameters, 'functionName'));
  if (!named) return undefined;
  const fromArn = named.startsWith('arn:') ? publicResourceFromArn(named) : undefined;
  if (fromArn) return fromArn;
  // A partial ARN (`123456789012:function:pay`) or a name with a qualifier (`pay:live`).
  const name = /(?:^|:)function:([^:]+)/.exec(named)?.[1] ?? named.split(':')[0];
  return name ? { type: 'aws:lambda:function', id: name } : undefined;
}

const functionUrlPublic: CloudTrailRule = {
  id: 'lambda-function-url-public',
  description: 'A Lambda function URL created or changed with AuthType NONE (callable by anyone without signing)',
  kind: 'exposure',
  severity: 'high',
  match(record) {
    const name = lambdaEvent(record);
    if ((name !== 'CreateFunctionUrlConfig' && name !== 'UpdateFunctionUrlConfig') || !succeeded(record)) return undefined;
    const fn = functionOf(record);
    if (!fn || str(at(record.requestParameters, 'authType'))?.toUpperCase() !== 'NONE') return undefined;
    const url = str(at(record.responseElements, 'functionUrl'));
    return publicMatch(record, fn, `Lambda function ${short(fn.id)} given a public URL (AuthType NONE)`, [
      `${name}: authType NONE${url ? `, URL ${url}` : ''}`,
    ]);
  },
};

const functionPermissionPublic: CloudTrailRule = {
  id: 'lambda-permission-public',
  description: 'A Lambda function policy statement allowing principal "*" without a source account, source ARN or organisation',
  kind: 'exposure',
  severity: 'high',
  match(record) {
    if (lambdaEvent(record) !== 'AddPermission' || !succeeded(record)) return undefined;
    const params = record.requestParameters;
    const fn = functionOf(record);
    if (!fn || str(at(params, 'principal')) !== '*') return undefined;
    if (['sourceAccount', 'sourceArn', 'principalOrgID'].some((key) => str(at(params, key)) !== undefined)) return undefined;
    const action = str(at(params, 'action')) ?? 'an action';
    return publicMatch(record, fn, `Lambda function ${short(fn.id)} made invocable by anyone`, [`Allowed to principal *: ${action}`]);
  },
};

export const publicAccessRules: readonly CloudTrailRule[] = [
  bucketPolicyPublic,
  bucketAclPublic,
  blockPublicAccessDisabled,
  dbInstancePublic,
  functionUrlPublic,
  functionPermissionPublic,
];
