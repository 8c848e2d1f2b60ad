// The S3 bucket judgement: bucket policies by AWS's meaning of "public" (principals, conditions that
// pin who asks, wildcards and policy variables), ACL grants to the global groups, and Block Public
// Access of the bucket and of the account neutralising them (or, unread, leaving the verdict open).
import { describe, expect, it } from 'vitest';
import { judgeAcl, judgeBucket, judgePolicy, type BucketConfiguration } from '../../../activities/context/aws/resources/s3-policy';

const bucket = 'arn:aws:s3:::shop';
const policy = (...Statement: Record<string, unknown>[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const allowAll = (extra: Record<string, unknown> = {}) => ({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${bucket}/*`, ...extra });
const isPublic = (...statements: Record<string, unknown>[]) => judgePolicy(policy(...statements)).public;

describe('bucket policy', () => {
  it('is public when an Allow statement names everyone, however it is spelled', () => {
    expect(isPublic(allowAll())).toBe(true);
    expect(isPublic(allowAll({ Principal: { AWS: '*' } }))).toBe(true);
    expect(isPublic(allowAll({ Principal: { AWS: ['arn:aws:iam::111122223333:root', '*'] } }))).toBe(true);
    expect(isPublic(allowAll({ Principal: { AWS: 'arn:aws:iam::*:root' } }))).toBe(true);
    // Everyone but one principal is everyone.
    expect(isPublic({ Effect: 'Allow', NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 's3:*', Resource: bucket })).toBe(true);
    // A statement alone, not in a list.
    expect(judgePolicy(JSON.stringify({ Statement: allowAll() })).public).toBe(true);
  });

  it('is not public for fixed principals, Deny statements, or no statement at all', () => {
    expect(isPublic(allowAll({ Principal: { AWS: 'arn:aws:iam::111122223333:role/app' } }))).toBe(false);
    expect(isPublic(allowAll({ Principal: { Service: 'cloudfront.amazonaws.com' } }))).toBe(false);
    expect(isPublic(allowAll({ Effect: 'Deny' }))).toBe(false);
    expect(isPublic()).toBe(false);
    expect(judgePolicy('not json').public).toBe(false);
  });

  it('is not public when a condition pins a fixed network, endpoint, account, organisation or principal', () => {
    for (const Condition of [
      { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '198.51.100.7'] } },
      { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
      { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } },
      { StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } },
      { StringEquals: { 'aws:sourcevpc': ['vpc-111', 'vpc-222'] } },
      { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } },
      { StringEquals: { 'aws:PrincipalAccount': '111122223333' } },
      { StringEquals: { 'aws:SourceAccount': '111122223333' } },
      { ArnEquals: { 'aws:SourceArn': 'arn:aws:cloudfront::111122223333:distribution/E1' } },
      { StringLike: { 'aws:userid': 'AROAEXAMPLEID:*' } },
      { 'ForAnyValue:StringEquals': { 'aws:PrincipalOrgPaths': 'o-abc123/r-ab12/ou-ab12-11111111/' } },
      // One pinning condition is enough: conditions are all required.
      { Bool: { 'aws:SecureTransport': 'true' }, StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } },
    ]) {
      expect(isPublic(allowAll({ Condition })), JSON.stringify(Condition)).toBe(false);
    }
  });

  it('stays public when the condition pins nothing: wide ranges, wildcards, variables, negations, IfExists, other keys', () => {
    for (const Condition of [
      { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } },
      { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '0.0.0.0/1'] } },
      { IpAddress: { 'aws:SourceIp': '::/0' } },
      { IpAddress: { 'aws:SourceIp': 'not an address' } },
      { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } },
      { StringNotEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } },
      { StringLike: { 'aws:SourceVpce': 'vpce-*' } },
      { StringEquals: { 'aws:SourceAccount': '${aws:PrincipalAccount}' } },
      { StringEqualsIfExists: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } },
      { 'ForAllValues:StringEquals': { 'aws:PrincipalOrgID': 'o-abc123' } },
      { Null: { 'aws:SourceVpce': 'false' } },
      { Bool: { 'aws:SecureTransport': 'true' } },
      { StringEquals: { 's3:prefix': 'public/' } },
      { StringEquals: { 'aws:SourceVpce': [] } },
    ]) {
      expect(isPublic(allowAll({ Condition })), JSON.stringify(Condition)).toBe(true);
    }
  });

  it('says what each statement granted to everyone allows, and what pins the others', () => {
    const judged = judgePolicy(
      policy(
        allowAll(),
        allowAll({ Sid: 'again' }),
        allowAll({ Action: ['s3:ListBucket', 's3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:GetObjectAcl'] }),
        allowAll({ Action: '*' }),
        allowAll({ Action: undefined, NotAction: 's3:DeleteObject' }),
        allowAll({ Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } } }),
      ),
    );
    expect(judged).toEqual({
      public: true,
      grants: [
        'allows s3:GetObject to everyone',
        'allows s3:ListBucket, s3:GetObject, s3:PutObject and 2 more to everyone',
        'allows every action to everyone',
        'allows every action but s3:DeleteObject to everyone',
      ],
      narrowed: ['allows s3:GetObject to everyone only on aws:SourceVpce'],
    });
  });
});

describe('bucket ACL', () => {
  const group = (name: string) => ({ Type: 'Group', URI: `http://acs.amazonaws.com/groups/global/${name}` });
  it('names grants to everyone and to any AWS account, nothing else', () => {
    expect(
      judgeAcl([
        { Grantee: { Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' },
        { Grantee: group('AllUsers'), Permission: 'READ' },
        { Grantee: group('AllUsers'), Permission: 'WRITE' },
        { Grantee: group('AuthenticatedUsers'), Permission: 'READ_ACP' },
        { Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/s3/LogDelivery' }, Permission: 'WRITE' },
      ]),
    ).toEqual(['grants READ, WRITE to everyone (AllUsers)', 'grants READ_ACP to any AWS account (AuthenticatedUsers)']);
    expect(judgeAcl([{ Grantee: { Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }])).toEqual([]);
  });
});

describe('bucket verdict', () => {
  const publicAcl = [{ Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' }];
  const config = (overrides: Partial<BucketConfiguration>): BucketConfiguration => ({
    policy: { value: undefined },
    acl: { value: [] },
    bucketBlock: { value: undefined },
    accountBlock: { value: undefined },
    ...overrides,
  });
  const publicPolicy = { value: policy(allowAll()) };

  it('is public by its policy or its ACL, saying which', () => {
    expect(judgeBucket(config({ policy: publicPolicy }))).toEqual({
      public: true,
      reasons: ['the bucket policy allows s3:GetObject to everyone'],
      facts: { policy: 'public', acl: 'private', 'block public access': 'bucket: off; account: off' },
    });
    expect(judgeBucket(config({ acl: { value: publicAcl } }))).toMatchObject({ public: true, reasons: ['the bucket ACL grants READ to everyone (AllUsers)'], facts: { policy: 'none', acl: 'public' } });
  });

  it('is private when Block Public Access neutralises what is public: RestrictPublicBuckets the policy, IgnorePublicAcls the ACL', () => {
    expect(judgeBucket(config({ policy: publicPolicy, bucketBlock: { value: { RestrictPublicBuckets: true } } }))).toEqual({
      public: false,
      reasons: ['the bucket policy allows s3:GetObject to everyone, but Block Public Access (bucket) restricts it to the account and AWS services', 'the bucket ACL grants nothing to everyone'],
      facts: { policy: 'public', acl: 'private', 'block public access': 'bucket: RestrictPublicBuckets; account: off' },
    });
    const all = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
    expect(judgeBucket(config({ policy: publicPolicy, acl: { value: publicAcl }, accountBlock: { value: all } }))).toMatchObject({
      public: false,
      reasons: [
        'the bucket policy allows s3:GetObject to everyone, but Block Public Access (account) restricts it to the account and AWS services',
        'the bucket ACL grants READ to everyone (AllUsers), but Block Public Access (account) ignores public ACLs',
      ],
      facts: { 'block public access': 'bucket: off; account: all on' },
    });
    // The flags that only refuse new public settings leave those in place in force.
    expect(judgeBucket(config({ policy: publicPolicy, acl: { value: publicAcl }, bucketBlock: { value: { BlockPublicPolicy: true, BlockPublicAcls: true } } })).public).toBe(true);
    // Ignoring ACLs does not touch the policy, nor restricting buckets the ACL.
    expect(judgeBucket(config({ policy: publicPolicy, accountBlock: { value: { IgnorePublicAcls: true } } })).public).toBe(true);
    expect(judgeBucket(config({ acl: { value: publicAcl }, accountBlock: { value: { RestrictPublicBuckets: true } } })).public).toBe(true);
  });

  it('takes AWS’s verdict on the policy over its own reading', () => {
    expect(judgeBucket(config({ policy: publicPolicy, policyIsPublic: false }))).toMatchObject({ public: false, reasons: ['AWS judges the bucket policy not public', 'the bucket ACL grants nothing to everyone'] });
    const pinned = { value: policy(allowAll({ Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } } })) };
    expect(judgeBucket(config({ policy: pinned }))).toMatchObject({ public: false, reasons: ['the bucket policy allows s3:GetObject to everyone only on aws:SourceVpce', 'the bucket ACL grants nothing to everyone'] });
    expect(judgeBucket(config({ policy: pinned, policyIsPublic: true }))).toMatchObject({ public: true, reasons: ['AWS judges the bucket policy public'] });
  });

  it('leaves the verdict open when an unread part decides it, and closes it when what was read suffices', () => {
    expect(judgeBucket(config({ policy: { refused: 'AccessDenied' } }))).toEqual({
      public: undefined,
      reasons: ['the bucket policy could not be read (AccessDenied)', 'the bucket ACL grants nothing to everyone'],
      facts: { policy: 'unknown (AccessDenied)', acl: 'private', 'block public access': 'bucket: off; account: off' },
    });
    expect(judgeBucket(config({ policy: publicPolicy, accountBlock: { refused: 'AccessDenied' } }))).toMatchObject({
      public: undefined,
      reasons: ['the bucket policy allows s3:GetObject to everyone; whether Block Public Access restricts it is unknown (AccessDenied)', 'the bucket ACL grants nothing to everyone'],
    });
    // A public ACL nothing ignores is public whatever the unread policy says.
    expect(judgeBucket(config({ policy: { refused: 'AccessDenied' }, acl: { value: publicAcl } })).public).toBe(true);
    // Everything neutralised by the account is private whatever the bucket's unread parts say.
    const neutral = { value: { IgnorePublicAcls: true, RestrictPublicBuckets: true } };
    expect(judgeBucket(config({ policy: { refused: 'AccessDenied' }, acl: { refused: 'AccessDenied' }, accountBlock: neutral })).public).toBe(false);
    // Nothing public and the Block Public Access unread: private all the same.
    expect(judgeBucket(config({ bucketBlock: { refused: 'AccessDenied' } })).public).toBe(false);
    // AWS's verdict stands in for a policy that could not be read.
    expect(judgeBucket(config({ policy: { refused: 'AccessDenied' }, policyIsPublic: false })).public).toBe(false);
  });
});
