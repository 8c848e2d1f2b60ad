// When an OpenSearch domain's access policy lets anyone on the internet in.
import { describe, expect, it } from 'vitest';
import { openPolicyReason } from '../../../activities/context/aws/resources/db-opensearch-policy';

const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const allow = (principal: unknown, condition?: object) => ({ Effect: 'Allow', Principal: principal, Action: 'es:*', Resource: '*', ...(condition ? { Condition: condition } : {}) });

describe('openPolicyReason', () => {
  it('opens the domain to everyone with no condition, in each way a policy names everyone', () => {
    for (const principal of ['*', { AWS: '*' }, { AWS: ['arn:aws:iam::111111111111:root', '*'] }]) {
      expect(openPolicyReason(policy(allow(principal)))).toBe('the access policy allows everyone');
    }
    // A single statement, not in a list, counts too.
    expect(openPolicyReason(JSON.stringify({ Statement: allow('*') }))).toBe('the access policy allows everyone');
  });

  it('opens it when the only condition is a source range as wide as the internet', () => {
    expect(openPolicyReason(policy(allow('*', { IpAddress: { 'aws:SourceIp': ['0.0.0.0/0', '203.0.113.0/24'] } })))).toBe(
      'the access policy allows everyone from 0.0.0.0/0',
    );
  });

  it('keeps it closed for named principals, narrow ranges, other conditions, denials and unreadable text', () => {
    expect(openPolicyReason(policy(allow({ AWS: 'arn:aws:iam::111111111111:root' })))).toBeUndefined();
    expect(openPolicyReason(policy(allow('*', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } })))).toBeUndefined();
    expect(openPolicyReason(policy(allow('*', { StringEquals: { 'aws:SourceVpce': 'vpce-1' } })))).toBeUndefined();
    expect(openPolicyReason(policy(allow('*', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' }, StringEquals: { 'aws:PrincipalAccount': '111111111111' } })))).toBeUndefined();
    expect(openPolicyReason(policy({ ...allow('*'), Effect: 'Deny' }))).toBeUndefined();
    expect(openPolicyReason('')).toBeUndefined();
    expect(openPolicyReason(undefined)).toBeUndefined();
    expect(openPolicyReason('{not json')).toBeUndefined();
  });
});
