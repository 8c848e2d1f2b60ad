// Principals before any API is asked: which ones an investigation has not checked yet (and what an
// older run carried), what each name says (ARN, assumed role, access key, user name, e-mail), and
// which IAM policy documents make an administrator.
import { describe, expect, it } from 'vitest';
import { principalName } from '../../activities/principals/names';
import { grantsEverything } from '../../activities/principals/policy';
import { emptyActors, type NormalizedAlert } from '../../lib/alert';
import type { InvestigationProgress } from '../../lib/investigation';
import { actorShares, MAX_ACTORS, newActors } from '../../lib/investigation-state';

const alert = (actors: Partial<NormalizedAlert['actors']>, cloud?: NormalizedAlert['cloud']) => ({ actors: { ...emptyActors(), ...actors }, ...(cloud ? { cloud } : {}) }) as NormalizedAlert;
const progress = (checkedActors?: string[]): InvestigationProgress => ({ occurrences: 1, reportedDeliveries: [], suppressed: false, ...(checkedActors ? { checkedActors } : {}) });

describe('new actors', () => {
  it('returns the principals not checked yet, each with the account of the alert that named it', () => {
    const found = newActors(progress(), [
      alert({ ips: ['203.0.113.7'], principals: ['alice', 'arn:aws:iam::111111111111:role/deploy'] }, { provider: 'aws', account: '111111111111' }),
      alert({ principals: ['alice', 'bob@example.com'] }, { provider: 'gcp', account: 'proj' }),
    ]);
    expect(found.principals).toEqual([
      { name: 'alice', provider: 'aws', account: '111111111111' },
      { name: 'arn:aws:iam::111111111111:role/deploy', provider: 'aws', account: '111111111111' },
      { name: 'bob@example.com', provider: 'gcp', account: 'proj' },
    ]);
    expect(found.checked).toEqual(['203.0.113.7', 'alice', 'arn:aws:iam::111111111111:role/deploy', 'bob@example.com']);
  });

  it('leaves out principals a run (this one or an older one, which carried only addresses) already checked', () => {
    const older = progress(['203.0.113.7', 'example.org']);
    const first = newActors(older, [alert({ ips: ['203.0.113.7'], domains: ['example.org'], principals: ['alice'] })]);
    expect(first).toEqual({ ips: [], domains: [], principals: [{ name: 'alice' }], checked: ['203.0.113.7', 'example.org', 'alice'] });
    const again = newActors(progress(first.checked), [alert({ principals: ['alice'] })]);
    expect(again.principals).toEqual([]);
  });
});

describe('actor shares', () => {
  it('takes addresses, domains and principals in turn, so that a long list of one kind leaves the others their turn', () => {
    expect(actorShares({ ips: 40, domains: 0, principals: 3 })).toEqual({ ips: MAX_ACTORS - 3, domains: 0, principals: 3 });
    expect(actorShares({ ips: 40, domains: 40, principals: 40 })).toEqual({ ips: 9, domains: 8, principals: 8 });
    expect(actorShares({ ips: 2, domains: 1, principals: 5 })).toEqual({ ips: 2, domains: 1, principals: 5 });
  });

  it('remembers as checked only the share a check takes: the rest are new again on the next alert', () => {
    const ips = Array.from({ length: 30 }, (_, i) => `203.0.113.${i}`);
    const principals = ['alice', 'bob', 'carol'];
    const first = newActors(progress(), [alert({ ips, principals }, { provider: 'aws', account: '111111111111' })]);
    // Everything goes to the activity, which checks the same shares (actorShares) and counts the rest.
    expect(first.ips).toHaveLength(30);
    expect(first.principals.map(({ name }) => name)).toEqual(principals);
    expect(first.checked).toEqual([...ips.slice(0, MAX_ACTORS - 3), ...principals]);
    const again = newActors(progress(first.checked), [alert({ ips, principals }, { provider: 'aws', account: '111111111111' })]);
    expect(again.ips).toEqual(ips.slice(MAX_ACTORS - 3));
    expect(again.principals).toEqual([]);
    expect(again.checked).toEqual([...ips.slice(0, MAX_ACTORS - 3), ...principals, ...ips.slice(MAX_ACTORS - 3)]);
  });

  it('remembers every actor as checked in runs recorded before the shares, as those runs did', () => {
    const ips = Array.from({ length: 30 }, (_, i) => `203.0.113.${i}`);
    const first = newActors(progress(), [alert({ ips })], false);
    expect(first.checked).toEqual(ips);
  });
});

describe('principal names', () => {
  const aws = { provider: 'aws', account: '111111111111' };
  it.each([
    ['arn:aws:iam::222222222222:user/ops/alice', {}, { provider: 'aws', principal: { type: 'user', account: '222222222222', name: 'alice' } }],
    ['arn:aws:iam::222222222222:role/service-role/deploy', {}, { provider: 'aws', principal: { type: 'role', account: '222222222222', name: 'deploy' } }],
    ['arn:aws:sts::222222222222:assumed-role/Admin/alice@corp', {}, { provider: 'aws', principal: { type: 'role', account: '222222222222', name: 'Admin', seenAs: 'alice@corp' } }],
    ['AKIAIOSFODNN7EXAMPLE', {}, { provider: 'aws', principal: { type: 'access-key', id: 'AKIAIOSFODNN7EXAMPLE' } }],
    ['IAMUser/bob', aws, { provider: 'aws', principal: { type: 'user', account: '111111111111', name: 'bob' } }],
    ['bob', aws, { provider: 'aws', principal: { type: 'user', account: '111111111111', name: 'bob' } }],
    ['sa@proj.iam.gserviceaccount.com', {}, { provider: 'gcp', email: 'sa@proj.iam.gserviceaccount.com', domain: 'proj.iam.gserviceaccount.com', serviceAccount: true }],
    ['serviceAccount:sa@proj.iam.gserviceaccount.com', { provider: 'gcp' }, { provider: 'gcp', email: 'sa@proj.iam.gserviceaccount.com', domain: 'proj.iam.gserviceaccount.com', serviceAccount: true }],
    ['user:Eve@Gmail.com', { provider: 'gcp' }, { provider: 'gcp', email: 'Eve@Gmail.com', domain: 'gmail.com', serviceAccount: false }],
  ])('%s', (name, cloud, expected) => {
    expect(principalName({ name, ...cloud })).toEqual(expected);
  });

  it.each([
    ['arn:aws:iam::222222222222:root', /root user of account 222222222222/],
    ['bob', /names no AWS account/],
    ['AIDAJQABLZS4A3QDU576Q', /unique id/],
    ['system:serviceaccount:kube-system:default', /not a name any inventory knows/],
  ])('%s cannot be looked up, and says why', (name, reason) => {
    const found = principalName({ name, provider: 'aws' });
    expect(found.provider).toBe('none');
    expect(found.provider === 'none' && found.reason).toMatch(reason);
  });
});

describe('administrator policies', () => {
  const document = (statement: unknown) => encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: statement }));
  it('finds * on *, as one statement or in a list, URL-encoded as IAM hands it over or not', () => {
    expect(grantsEverything(document({ Effect: 'Allow', Action: '*', Resource: '*' }))).toBe(true);
    expect(grantsEverything(document([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }, { Effect: 'Allow', Action: ['*:*'], Resource: ['*'] }]))).toBe(true);
    expect(grantsEverything(JSON.stringify({ Statement: { Effect: 'Allow', Action: '*', Resource: '*' } }))).toBe(true);
  });

  it('does not take narrower or denying policies, or unreadable text, for administrators', () => {
    expect(grantsEverything(document({ Effect: 'Allow', Action: 's3:*', Resource: '*' }))).toBe(false);
    expect(grantsEverything(document({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::bucket/*' }))).toBe(false);
    expect(grantsEverything(document({ Effect: 'Deny', Action: '*', Resource: '*' }))).toBe(false);
    expect(grantsEverything('%E0%A4%A')).toBe(false);
    expect(grantsEverything(undefined)).toBe(false);
  });
});
