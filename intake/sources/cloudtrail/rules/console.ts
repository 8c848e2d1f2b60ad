// Console rules: console sign-ins (failed, without MFA, or plain) and any use of the root user.
import type { ResourceRef } from '../../../../lib/alert';
import { str } from '../../util';
import { accountOf, at, eventName, principalName, short, type CloudTrailRecord } from '../record';
import { is, type CloudTrailRule } from './common';

function isConsoleLogin(record: CloudTrailRecord): boolean {
  return is(record, 'ConsoleLogin') && str(record.eventSource) === 'signin.amazonaws.com';
}

function loginOutcome(record: CloudTrailRecord): 'success' | 'failure' | undefined {
  const outcome = str(at(record, 'responseElements', 'ConsoleLogin'))?.toLowerCase();
  if (outcome === 'success' || outcome === 'failure') return outcome;
  return str(record.errorMessage) || str(record.errorCode) ? 'failure' : undefined;
}

function identityType(record: CloudTrailRecord): string | undefined {
  return str(at(record, 'userIdentity', 'type'));
}

/** The signed-in identity as a resource: the IAM user, or the account for root. */
function signedInResources(record: CloudTrailRecord): ResourceRef[] {
  const type = identityType(record);
  const account = accountOf(record);
  if (type === 'Root' && account) return [{ type: 'aws:account', id: account }];
  const user = str(at(record, 'userIdentity', 'userName'));
  if (type === 'IAMUser' && user) {
    return [{ type: 'aws:iam:user', id: str(at(record, 'userIdentity', 'arn')) ?? user, name: user }];
  }
  return [];
}

function loginDetails(record: CloudTrailRecord): string[] {
  const mfa = str(at(record, 'additionalEventData', 'MFAUsed'));
  const to = str(at(record, 'additionalEventData', 'LoginTo'));
  return [`MFA used: ${mfa ?? 'not recorded'}`, ...(to ? [`Login to: ${to}`] : [])];
}

const consoleLoginWithoutMfa: CloudTrailRule = {
  id: 'console-login-without-mfa',
  description: 'Successful console sign-in by an IAM user or root without MFA',
  kind: 'actor',
  severity: 'medium',
  match(record) {
    // Federated (SAML, Identity Center) sign-ins always say MFAUsed "No": MFA happens at the
    // identity provider, so only IAM users and root are judged on it.
    const type = identityType(record);
    if (!isConsoleLogin(record) || loginOutcome(record) !== 'success' || (type !== 'IAMUser' && type !== 'Root')) return undefined;
    if (str(at(record, 'additionalEventData', 'MFAUsed'))?.toLowerCase() !== 'no') return undefined;
    return {
      title: `Console sign-in without MFA by ${short(principalName(record))}`,
      resources: signedInResources(record),
      details: loginDetails(record),
    };
  },
};

const consoleLoginFailed: CloudTrailRule = {
  id: 'console-login-failed',
  description: 'Failed console sign-in',
  kind: 'actor',
  severity: 'low',
  match(record) {
    if (!isConsoleLogin(record) || loginOutcome(record) !== 'failure') return undefined;
    const reason = str(record.errorMessage) ?? str(record.errorCode);
    return {
      title: `Failed console sign-in for ${short(principalName(record))}`,
      resources: signedInResources(record),
      details: [...(reason ? [`Failure: ${reason}`] : []), ...loginDetails(record)],
    };
  },
};

const consoleLogin: CloudTrailRule = {
  id: 'console-login',
  description: 'Successful console sign-in with MFA, or federated',
  kind: 'actor',
  severity: 'low',
  match(record) {
    if (!isConsoleLogin(record) || loginOutcome(record) !== 'success') return undefined;
    return {
      title: `Console sign-in by ${short(principalName(record))}`,
      resources: signedInResources(record),
      details: loginDetails(record),
    };
  },
};

const rootAccountUse: CloudTrailRule = {
  id: 'root-account-use',
  description: 'Any call or sign-in made with the root user, except those AWS makes itself',
  kind: 'actor',
  severity: 'high',
  match(record) {
    if (identityType(record) !== 'Root') return undefined;
    // AWS acts as root on its own (invokedBy a service, service events): not someone's use.
    if (str(at(record, 'userIdentity', 'invokedBy')) || str(record.eventType) === 'AwsServiceEvent') return undefined;
    // A failed password is an attempt, not use; console-login-failed reports it.
    if (isConsoleLogin(record) && loginOutcome(record) !== 'success') return undefined;
    const account = accountOf(record);
    const withoutMfa = str(at(record, 'additionalEventData', 'MFAUsed'))?.toLowerCase() === 'no';
    return {
      title: isConsoleLogin(record)
        ? `Root user signed in to the console${withoutMfa ? ' without MFA' : ''}`
        : `Root user used: ${short(eventName(record) ?? 'unknown event')}`,
      resources: account ? [{ type: 'aws:account', id: account }] : [],
      details: isConsoleLogin(record) ? loginDetails(record) : [],
    };
  },
};

export const consoleRules: readonly CloudTrailRule[] = [rootAccountUse, consoleLoginWithoutMfa, consoleLoginFailed, consoleLogin];
