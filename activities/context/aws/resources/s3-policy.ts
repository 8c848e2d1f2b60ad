// Whether an S3 bucket is public, judged from what the reader fetched: the bucket policy (by AWS's
// documented meaning of "public"), the bucket ACL, and Block Public Access of the bucket and of the
// account. Pure functions: the reader (./s3) fetches, this judges and words it.
import ipaddr from 'ipaddr.js';

/** One part of a bucket's configuration as read: its value, or the refusal that kept it unread. */
export type Part<T> = { value: T } | { refused: string };

export interface BlockPublicAccess {
  BlockPublicAcls?: boolean;
  IgnorePublicAcls?: boolean;
  BlockPublicPolicy?: boolean;
  RestrictPublicBuckets?: boolean;
}

export interface AclGrant {
  Grantee?: { Type?: string; URI?: string };
  Permission?: string;
}

export interface BucketConfiguration {
  /** The policy document; undefined when the bucket has none. */
  policy: Part<string | undefined>;
  /** AWS's own verdict on the policy (GetBucketPolicyStatus), when it gives one: it wins over ours. */
  policyIsPublic?: boolean;
  acl: Part<AclGrant[]>;
  /** Block Public Access of the bucket and of the account; undefined when not configured. */
  bucketBlock: Part<BlockPublicAccess | undefined>;
  accountBlock: Part<BlockPublicAccess | undefined>;
}

export interface BucketVerdict {
  /** Undefined when what could not be read decides it. */
  public: boolean | undefined;
  reasons: string[];
  facts: { policy: string; acl: string; 'block public access': string };
}

/**
 * Condition keys that, pinned to fixed values, keep a statement granted to everyone from being
 * public (AWS's list, with the organisation and principal keys that also pin who asks).
 */
const narrowingKeys = new Set(
  [
    'aws:SourceIp',
    'aws:SourceVpc',
    'aws:SourceVpce',
    'aws:SourceArn',
    'aws:SourceAccount',
    'aws:SourceOwner',
    'aws:SourceOrgID',
    'aws:SourceOrgPaths',
    'aws:PrincipalOrgID',
    'aws:PrincipalOrgPaths',
    'aws:PrincipalAccount',
    'aws:PrincipalArn',
    'aws:userid',
    's3:DataAccessPointArn',
    's3:DataAccessPointAccount',
    's3:x-amz-server-side-encryption-aws-kms-key-id',
  ].map((key) => key.toLowerCase()),
);

/** Operators that let a request through only when the key matches one of the values. */
const matchingOperators = new Set(['stringequals', 'stringequalsignorecase', 'stringlike', 'arnequals', 'arnlike', 'ipaddress']);

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/**
 * A fixed value: no wildcard and no policy variable. `aws:userid` may also be `<role id>:*` (any
 * session of one role), which AWS counts as fixed.
 */
function fixed(key: string, value: unknown): boolean {
  if (typeof value !== 'string' || value === '') return false;
  if (key === 'aws:userid' && /^[A-Z0-9]+:\*$/.test(value)) return true;
  return !/[*?]|\$\{/.test(value);
}

/** A source range narrower than the internet in AWS's terms: /8 or narrower for IPv4, /32 or narrower for IPv6. */
function narrowRange(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const [address, bits] = value.includes('/') ? ipaddr.parseCIDR(value) : [ipaddr.parse(value), 128];
    return bits >= (address.kind() === 'ipv4' ? 8 : 32);
  } catch {
    return false;
  }
}

/**
 * The condition keys that pin who may ask. `…IfExists` and `ForAllValues:` pass a request that lacks
 * the key (an anonymous one lacks most), and negated operators admit everyone else: none of them pins.
 */
function pinningKeys(condition: unknown): string[] {
  if (!condition || typeof condition !== 'object') return [];
  const keys: string[] = [];
  for (const [operatorName, block] of Object.entries(condition as Record<string, unknown>)) {
    const operator = operatorName.toLowerCase().replace(/^foranyvalue:/, '');
    if (!matchingOperators.has(operator) || !block || typeof block !== 'object') continue;
    for (const [keyName, values] of Object.entries(block as Record<string, unknown>)) {
      const key = keyName.toLowerCase();
      if (!narrowingKeys.has(key)) continue;
      const list = asList(values);
      if (list.length === 0) continue;
      const pins = key === 'aws:sourceip' ? operator === 'ipaddress' && list.every(narrowRange) : operator !== 'ipaddress' && list.every((value) => fixed(key, value));
      if (pins) keys.push(keyName);
    }
  }
  return keys;
}

/** Whether a principal names everyone: `*`, or any value holding a wildcard (`{"AWS": "*"}`). */
function everyone(principal: unknown): boolean {
  if (principal === '*') return true;
  if (!principal || typeof principal !== 'object') return false;
  return Object.values(principal as Record<string, unknown>).some((values) => asList(values).some((value) => typeof value === 'string' && value.includes('*')));
}

/** Actions named in words, a few at most: `s3:GetObject`, `s3:GetObject, s3:ListBucket and 3 more`. */
function actionWords(statement: Record<string, unknown>): string {
  const name = (values: unknown[]) => {
    const shown = values.filter((value): value is string => typeof value === 'string').map((value) => value.slice(0, 60));
    return shown.length <= 3 ? shown.join(', ') : `${shown.slice(0, 3).join(', ')} and ${shown.length - 3} more`;
  };
  if (statement.NotAction !== undefined) return `every action but ${name(asList(statement.NotAction))}`;
  const actions = asList(statement.Action);
  return actions.includes('*') ? 'every action' : name(actions) || 'no action';
}

export interface PolicyJudgement {
  public: boolean;
  /** What a statement granted to everyone allows (`allows s3:GetObject to everyone`), each once. */
  grants: string[];
  /** Statements granted to everyone but pinned by a condition, with the keys that pin them. */
  narrowed: string[];
}

/**
 * A bucket policy is public when an Allow statement grants to everyone (a `*` principal, or any
 * principal but some with `NotPrincipal`) without a condition pinning a fixed source network, VPC,
 * endpoint, account, organisation or principal. Deny statements never make a policy public.
 */
export function judgePolicy(document: string): PolicyJudgement {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    // AWS stores only valid policies; an unreadable one is judged by AWS's verdict alone.
    return { public: false, grants: [], narrowed: [] };
  }
  const statements = asList((parsed as { Statement?: unknown } | null)?.Statement).filter((s): s is Record<string, unknown> => !!s && typeof s === 'object');
  const grants = new Set<string>();
  const narrowed = new Set<string>();
  for (const statement of statements) {
    if (statement.Effect !== 'Allow') continue;
    if (statement.NotPrincipal === undefined && !everyone(statement.Principal)) continue;
    const pins = pinningKeys(statement.Condition);
    const actions = actionWords(statement);
    if (pins.length > 0) narrowed.add(`allows ${actions} to everyone only on ${[...new Set(pins)].join(', ')}`);
    else grants.add(`allows ${actions} to everyone`);
  }
  return { public: grants.size > 0, grants: [...grants], narrowed: [...narrowed] };
}

const groups: Record<string, string> = {
  'http://acs.amazonaws.com/groups/global/AllUsers': 'everyone (AllUsers)',
  'http://acs.amazonaws.com/groups/global/AuthenticatedUsers': 'any AWS account (AuthenticatedUsers)',
};

/** What the ACL grants to everyone or to any AWS account: `grants READ to everyone (AllUsers)`, each group once. */
export function judgeAcl(grants: readonly AclGrant[]): string[] {
  const byGroup = new Map<string, Set<string>>();
  for (const { Grantee, Permission } of grants) {
    const group = Grantee?.Type === 'Group' && Grantee.URI ? groups[Grantee.URI] : undefined;
    if (!group) continue;
    const permissions = byGroup.get(group) ?? new Set<string>();
    permissions.add(Permission ?? 'some permission');
    byGroup.set(group, permissions);
  }
  return [...byGroup].map(([group, permissions]) => `grants ${[...permissions].join(', ')} to ${group}`);
}

const blockFlags = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

/** `all on`, `off`, or the flags that are on. */
function blockSummary(part: Part<BlockPublicAccess | undefined>): string {
  if ('refused' in part) return `unknown (${part.refused})`;
  const on = blockFlags.filter((flag) => part.value?.[flag]);
  return on.length === blockFlags.length ? 'all on' : on.length === 0 ? 'off' : on.join(', ');
}

/** Whether a Block Public Access flag is on (bucket or account), and where; undefined when an unread setting could hold it. */
function blockFlag(config: BucketConfiguration, flag: (typeof blockFlags)[number]): { on: boolean | undefined; where: string; refused?: string } {
  const where = [
    ...('value' in config.accountBlock && config.accountBlock.value?.[flag] ? ['account'] : []),
    ...('value' in config.bucketBlock && config.bucketBlock.value?.[flag] ? ['bucket'] : []),
  ];
  if (where.length > 0) return { on: true, where: where.join(' and ') };
  const unread = [config.accountBlock, config.bucketBlock].find((part): part is { refused: string } => 'refused' in part);
  return unread ? { on: undefined, where: '', refused: unread.refused } : { on: false, where: '' };
}

/**
 * The bucket's verdict: public when its policy is public and Block Public Access (bucket or account)
 * does not restrict public buckets, or its ACL is public and Block Public Access does not ignore
 * public ACLs. BlockPublicPolicy and BlockPublicAcls only refuse new public settings: they leave those
 * already in place in force. Undefined when a part that could not be read decides it.
 */
export function judgeBucket(config: BucketConfiguration): BucketVerdict {
  const sentences = { public: [] as string[], private: [] as string[], unknown: [] as string[] };
  const restrict = blockFlag(config, 'RestrictPublicBuckets');
  const ignore = blockFlag(config, 'IgnorePublicAcls');

  // AWS's verdict (GetBucketPolicyStatus) wins when it gives one; our reading of the document names why.
  const judged = 'value' in config.policy && config.policy.value !== undefined ? judgePolicy(config.policy.value) : undefined;
  let policyPublic: boolean | undefined;
  let policyFact: string;
  if ('value' in config.policy && config.policy.value === undefined) {
    policyPublic = false;
    policyFact = 'none';
    sentences.private.push('the bucket has no policy');
  } else {
    policyPublic = config.policyIsPublic ?? judged?.public;
    policyFact = policyPublic === undefined && 'refused' in config.policy ? `unknown (${config.policy.refused})` : policyPublic ? 'public' : 'not public';
    if (policyPublic === undefined && 'refused' in config.policy) sentences.unknown.push(`the bucket policy could not be read (${config.policy.refused})`);
    else if (policyPublic === false) {
      sentences.private.push(
        judged?.narrowed.length && !judged.public ? `the bucket policy ${judged.narrowed.join('; ')}` : judged && !judged.public ? 'the bucket policy grants nothing to everyone' : 'AWS judges the bucket policy not public',
      );
    }
  }
  if (policyPublic) {
    const what = judged?.grants.length ? `the bucket policy ${judged.grants.join('; ')}` : 'AWS judges the bucket policy public';
    if (restrict.on) sentences.private.push(`${what}, but Block Public Access (${restrict.where}) restricts it to the account and AWS services`);
    else if (restrict.on === false) sentences.public.push(what);
    else sentences.unknown.push(`${what}; whether Block Public Access restricts it is unknown (${restrict.refused})`);
  }

  let aclPublic: boolean | undefined;
  let aclFact: string;
  if ('refused' in config.acl) {
    aclFact = `unknown (${config.acl.refused})`;
    sentences.unknown.push(`the bucket ACL could not be read (${config.acl.refused})`);
  } else {
    const grants = judgeAcl(config.acl.value);
    aclPublic = grants.length > 0;
    aclFact = aclPublic ? 'public' : 'private';
    const what = `the bucket ACL ${grants.join('; ')}`;
    if (!aclPublic) sentences.private.push('the bucket ACL grants nothing to everyone');
    else if (ignore.on) sentences.private.push(`${what}, but Block Public Access (${ignore.where}) ignores public ACLs`);
    else if (ignore.on === false) sentences.public.push(what);
    else sentences.unknown.push(`${what}; whether Block Public Access ignores it is unknown (${ignore.refused})`);
  }

  const effective = (isPublic: boolean | undefined, neutralised: boolean | undefined) =>
    isPublic === false || neutralised === true ? false : isPublic === true && neutralised === false ? true : undefined;
  const byPolicy = effective(policyPublic, restrict.on);
  const byAcl = effective(aclPublic, ignore.on);
  const verdict = byPolicy === true || byAcl === true ? true : byPolicy === false && byAcl === false ? false : undefined;
  const reasons = verdict === true ? sentences.public : [...sentences.unknown, ...sentences.private];
  return {
    public: verdict,
    reasons,
    facts: { policy: policyFact, acl: aclFact, 'block public access': `bucket: ${blockSummary(config.bucketBlock)}; account: ${blockSummary(config.accountBlock)}` },
  };
}
