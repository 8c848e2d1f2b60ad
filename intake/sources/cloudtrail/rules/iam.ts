// IAM rules: new users, access keys, console passwords and administrator rights granted.
import type { ResourceRef } from '../../../../lib/alert';
import { asArray, isRecord, str } from '../../util';
import { at, eventName, short, type CloudTrailRecord } from '../record';
import { is, succeeded, type CloudTrailRule } from './common';

function iamTarget(record: CloudTrailRecord, type: 'user' | 'role' | 'group'): ResourceRef | undefined {
  const name = str(at(record, 'requestParameters', `${type}Name`));
  if (!name) return undefined;
  const arn = str(at(record, 'responseElements', type, 'arn'));
  return { type: `aws:iam:${type}`, id: arn ?? name, name };
}

/** An IAM policy document (a JSON string in CloudTrail, sometimes URL-encoded), or undefined. */
function parsePolicy(document: unknown): unknown {
  if (isRecord(document)) return document;
  const text = str(document);
  if (!text) return undefined;
  for (const candidate of [text, safeDecode(text)]) {
    try {
      return JSON.parse(candidate) as unknown;
    } catch {
      // try the next spelling
    }
  }
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Whether a policy allows every action (`"Action": "*"`), which is administrator access. */
function policyAllowsEverything(document: unknown): boolean {
  return asArray(at(parsePolicy(document), 'Statement')).some(
    (statement) =>
      str(at(statement, 'Effect'))?.toLowerCase() === 'allow' &&
      asArray(at(statement, 'Action')).some((action) => action === '*' || action === '*:*'),
  );
}

const attachPolicyEvents = { AttachUserPolicy: 'user', AttachRolePolicy: 'role', AttachGroupPolicy: 'group' } as const;
const putPolicyEvents = { PutUserPolicy: 'user', PutRolePolicy: 'role', PutGroupPolicy: 'group' } as const;

const adminPolicyGranted: CloudTrailRule = {
  id: 'iam-admin-policy-granted',
  description: 'AdministratorAccess attached to, or an inline `"Action": "*"` policy put on, an IAM user, role or group',
  kind: 'actor',
  severity: 'high',
  match(record) {
    const name = eventName(record) ?? '';
    if (!succeeded(record)) return undefined;
    const params = record.requestParameters;
    let type: 'user' | 'role' | 'group' | undefined;
    let grant: string | undefined;
    if (Object.hasOwn(attachPolicyEvents, name)) {
      const policyArn = str(at(params, 'policyArn'));
      if (!policyArn || !/(^|\/)AdministratorAccess$/.test(policyArn)) return undefined;
      type = attachPolicyEvents[name as keyof typeof attachPolicyEvents];
      grant = `Policy attached: ${policyArn}`;
    } else if (Object.hasOwn(putPolicyEvents, name)) {
      if (!policyAllowsEverything(at(params, 'policyDocument'))) return undefined;
      type = putPolicyEvents[name as keyof typeof putPolicyEvents];
      grant = `Inline policy ${str(at(params, 'policyName')) ?? '(unnamed)'} allows "Action": "*"`;
    } else {
      return undefined;
    }
    const target = iamTarget(record, type);
    return {
      title: `Administrator access granted to IAM ${type} ${short(target?.name ?? 'unknown')}`,
      resources: target ? [target] : [],
      details: [grant],
    };
  },
};

const userCreated: CloudTrailRule = {
  id: 'iam-user-created',
  description: 'CreateUser: a new IAM user',
  kind: 'actor',
  severity: 'medium',
  match(record) {
    if (!is(record, 'CreateUser') || !succeeded(record)) return undefined;
    const user = iamTarget(record, 'user');
    return { title: `IAM user ${short(user?.name ?? 'unknown')} created`, resources: user ? [user] : [] };
  },
};

const accessKeyCreated: CloudTrailRule = {
  id: 'iam-access-key-created',
  description: 'CreateAccessKey: new long-lived credentials for an IAM user',
  kind: 'actor',
  severity: 'medium',
  match(record) {
    if (!is(record, 'CreateAccessKey') || !succeeded(record)) return undefined;
    // Without a userName the caller made a key for itself.
    const userName =
      str(at(record, 'requestParameters', 'userName')) ??
      str(at(record, 'responseElements', 'accessKey', 'userName')) ??
      str(at(record, 'userIdentity', 'userName'));
    const keyId = str(at(record, 'responseElements', 'accessKey', 'accessKeyId'));
    return {
      title: `Access key created for IAM user ${short(userName ?? 'unknown')}`,
      resources: [
        ...(userName ? [{ type: 'aws:iam:user', id: userName, name: userName }] : []),
        ...(keyId ? [{ type: 'aws:iam:access-key', id: keyId }] : []),
      ],
    };
  },
};

const loginProfileChanged: CloudTrailRule = {
  id: 'iam-login-profile-changed',
  description: 'CreateLoginProfile / UpdateLoginProfile: an IAM user gets or changes a console password',
  kind: 'actor',
  severity: 'medium',
  match(record) {
    if (!is(record, 'CreateLoginProfile', 'UpdateLoginProfile') || !succeeded(record)) return undefined;
    const userName = str(at(record, 'requestParameters', 'userName')) ?? str(at(record, 'userIdentity', 'userName'));
    const verb = eventName(record) === 'CreateLoginProfile' ? 'set' : 'changed';
    return {
      title: `Console password ${verb} for IAM user ${short(userName ?? 'unknown')}`,
      resources: userName ? [{ type: 'aws:iam:user', id: userName, name: userName }] : [],
    };
  },
};

export const iamRules: readonly CloudTrailRule[] = [adminPolicyGranted, userCreated, accessKeyCreated, loginProfileChanged];
