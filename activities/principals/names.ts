// What a principal's name says, before any API is asked: an AWS user, role or access key (with its
// account when the name carries it), an e-mail for GCP, or something no inventory can look up.
// Pure: routes each principal to its reader, and is unit-tested.
import type { PrincipalRef } from '../../lib/intel';

export type AwsPrincipalName =
  | { type: 'user'; account: string; name: string; seenAs?: string }
  | { type: 'role'; account: string; name: string; seenAs?: string }
  | { type: 'access-key'; id: string };

export type PrincipalName =
  | { provider: 'aws'; principal: AwsPrincipalName }
  | { provider: 'gcp'; email: string; domain: string; serviceAccount: boolean }
  | { provider: 'none'; reason: string };

const ARN = /^arn:aws[\w-]*:(iam|sts)::(\d{12}):(.+)$/;
const ACCESS_KEY = /^(AKIA|ASIA)[A-Z0-9]{16}$/;
/** IAM user names: letters, digits and `+=,.@_-`, at most 64. */
const IAM_USER_NAME = /^[\w+=,.@-]{1,64}$/;
const EMAIL = /^[^@\s]+@([a-z0-9-]+(\.[a-z0-9-]+)+)$/i;
/** IAM policy members name their kind (`user:`, `serviceAccount:`); the rest of them is the e-mail. */
const MEMBER_PREFIX = /^(user|serviceAccount|group):/;

const lastSegment = (path: string) => path.slice(path.lastIndexOf('/') + 1);

function fromArn(service: string, account: string, resource: string): PrincipalName {
  if (service === 'iam' && resource.startsWith('user/')) return { provider: 'aws', principal: { type: 'user', account, name: lastSegment(resource) } };
  if (service === 'iam' && resource.startsWith('role/')) return { provider: 'aws', principal: { type: 'role', account, name: lastSegment(resource) } };
  const assumed = /^assumed-role\/([^/]+)\/(.+)$/.exec(resource);
  if (service === 'sts' && assumed) return { provider: 'aws', principal: { type: 'role', account, name: assumed[1]!, seenAs: assumed[2]! } };
  if (resource === 'root') return { provider: 'none', reason: `the root user of account ${account}: not an IAM user; its MFA and keys show in the account's credential report` };
  if (resource.startsWith('federated-user/')) return { provider: 'none', reason: `a federated user session of account ${account}: not an IAM identity` };
  return { provider: 'none', reason: 'an ARN of no IAM user or role' };
}

export function principalName({ name, provider, account }: PrincipalRef): PrincipalName {
  const arn = ARN.exec(name);
  if (arn) return fromArn(arn[1]!, arn[2]!, arn[3]!);
  if (ACCESS_KEY.test(name)) return { provider: 'aws', principal: { type: 'access-key', id: name } };
  // CloudTrail names an identity without an ARN as `<type>/<name>`.
  const iamUser = /^IAMUser\/(.+)$/.exec(name);
  const awsAccount = provider === 'aws' && account && /^\d{12}$/.test(account) ? account : undefined;
  if (iamUser && awsAccount) return { provider: 'aws', principal: { type: 'user', account: awsAccount, name: iamUser[1]! } };
  // A bare name in an AWS alert is an IAM user name (GuardDuty's `userName`); it may look like an e-mail.
  if (awsAccount && IAM_USER_NAME.test(name)) return { provider: 'aws', principal: { type: 'user', account: awsAccount, name } };
  const email = EMAIL.exec(name.replace(MEMBER_PREFIX, ''));
  if (email) {
    const domain = email[1]!.toLowerCase();
    return { provider: 'gcp', email: name.replace(MEMBER_PREFIX, ''), domain, serviceAccount: domain.endsWith('.gserviceaccount.com') };
  }
  if (/^(AIDA|AROA|AIPA|ANPA|AGPA)[A-Z0-9]+(:.*)?$/.test(name)) return { provider: 'none', reason: 'an IAM unique id: IAM cannot be asked by it' };
  if (provider === 'aws' && !awsAccount && IAM_USER_NAME.test(name)) return { provider: 'none', reason: 'a user name from an alert that names no AWS account' };
  return { provider: 'none', reason: 'not a name any inventory knows (an ARN, an access key id, a user name or an e-mail)' };
}
