// The built-in CloudTrail rules: which records are worth an investigation, and what each one says.
// A rule looks at one CloudTrail record and either passes or returns what it found (title, the
// resources and network facts). Kind and severity are fixed per rule so the README and the
// configuration can list them; the adapter (./cloudtrail.ts) turns a match into an alert.
import type { AlertKind, PortRange, ResourceRef, Severity } from '../../lib/alert';
import { asArray, internetRange, isRecord, str, uniq } from './util';
import { portRange } from '../../lib/ports';

/** One CloudTrail record (an API call, a console sign-in, a service event or an Insights event). */
export type CloudTrailRecord = Record<string, unknown>;

export interface RuleMatch {
  title: string;
  resources: ResourceRef[];
  /** Only for `exposure` rules: the internet ranges, ports and protocol that were opened. */
  network?: { cidrs: string[]; ports: PortRange[]; protocol?: string };
  /**
   * The fingerprint, when the alert is about a thing rather than about this one event (a security
   * group, a snapshot, an Insights episode), so that repeats collapse into one issue.
   */
  fingerprint?: string;
  /** Extra lines for the description (what exactly was opened, shared or changed). */
  details?: string[];
}

export interface CloudTrailRule {
  /** Stable id, used in configuration (`disabledRules`) and in alert descriptions. */
  id: string;
  description: string;
  kind: Exclude<AlertKind, 'unparsed'>;
  severity: Severity;
  match(record: CloudTrailRecord): RuleMatch | undefined;
}

// ---------------------------------------------------------------------------------------------
// Reading records. CloudTrail writes EC2's XML-born requests with `items` lists, `{}` for empty
// lists and `{"content": ..., "tag": 1}` for some scalars; every reader here tolerates all of it.

/** The value at a path of object keys, or undefined as soon as a step is not an object. */
export function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** An EC2 list: `{"items": [...]}`, a plain list, a single object, or `{}` for none. */
function ec2List(value: unknown): unknown[] {
  return isRecord(value) && 'items' in value ? asArray(value.items) : asArray(value);
}

/** Strings from an EC2 scalar or list, unwrapping `{"content": ...}` (DeleteFlowLogs writes that). */
function ec2Strings(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(ec2Strings);
  if (isRecord(value)) return 'content' in value ? ec2Strings(value.content) : [];
  const text = str(value);
  return text === undefined ? [] : [text];
}

export function eventName(record: CloudTrailRecord): string | undefined {
  return str(record.eventName);
}

export function accountOf(record: CloudTrailRecord): string | undefined {
  return str(record.recipientAccountId) ?? str(at(record, 'userIdentity', 'accountId'));
}

export function regionOf(record: CloudTrailRecord): string | undefined {
  return str(record.awsRegion);
}

/** The caller: its ARN when CloudTrail gives one, else `<type>/<userName>` (or the AWS service). */
export function principalOf(record: CloudTrailRecord): string | undefined {
  const identity = record.userIdentity;
  const arn = str(at(identity, 'arn'));
  if (arn) return arn;
  const type = str(at(identity, 'type'));
  const name = str(at(identity, 'userName')) ?? str(at(identity, 'invokedBy')) ?? str(at(identity, 'principalId'));
  if (type && name) return `${type}/${name}`;
  return name ?? type;
}

/** A short human name of the caller for titles: the user name or the last part of the ARN. */
export function principalName(record: CloudTrailRecord): string {
  const identity = record.userIdentity;
  const arn = str(at(identity, 'arn'));
  return (
    str(at(identity, 'userName')) ??
    (arn ? arn.split(/[/:]/).at(-1) : undefined) ??
    str(at(identity, 'invokedBy')) ??
    str(at(identity, 'type')) ??
    'unknown principal'
  );
}

/** Did the call take effect? An error code, or EC2's `_return: false`, means nothing changed. */
export function succeeded(record: CloudTrailRecord): boolean {
  return str(record.errorCode) === undefined && at(record, 'responseElements', '_return') !== false;
}

function is(record: CloudTrailRecord, ...names: string[]): boolean {
  const name = eventName(record);
  return name !== undefined && names.includes(name);
}

/** Keeps titles readable whatever a record carries (anonymised or hostile values). */
export function short(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `aws:<account>:<region>:<id>`: the identity of a regional thing, so its repeats collapse. */
function thingFingerprint(record: CloudTrailRecord, id: string): string {
  return `aws:${accountOf(record) ?? 'unknown'}:${regionOf(record) ?? 'unknown'}:${id}`;
}

// ---------------------------------------------------------------------------------------------
// Network ranges and ports.

const ALL_PORTS: PortRange = { from: 0, to: 65535 };

const protocolNumbers: Record<string, string> = { '-1': 'all', '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6' };

/** `tcp`, `udp`, `icmp`, `icmpv6`, `all`, or the record's own protocol name or number. */
function protocolName(value: unknown): string | undefined {
  const text = str(value)?.trim().toLowerCase();
  if (text === undefined) return undefined;
  return protocolNumbers[text] ?? text;
}

/** Ports a rule opens: every port for protocol `all`, the range for TCP and UDP; ICMP and others have none. */
function portsFor(protocol: string | undefined, from: unknown, to: unknown): PortRange[] {
  if (protocol === 'all') return [ALL_PORTS];
  if (protocol !== undefined && protocol !== 'tcp' && protocol !== 'udp') return [];
  if (from === undefined && to === undefined) return [ALL_PORTS];
  const range = portRange(from, to);
  return range ? [range] : [];
}

interface Opening {
  protocol?: string;
  ports: PortRange[];
  /** The internet ranges among the rule's sources (private ranges are dropped). */
  cidrs: string[];
  /** Those ranges as the record spells them (`208.236.235.254/0` in an anonymised sample). */
  written: string[];
}

function opening(protocol: unknown, from: unknown, to: unknown, sources: unknown[]): Opening {
  const name = protocolName(protocol);
  const internet = sources.filter((source) => internetRange(source) !== undefined);
  return {
    protocol: name,
    ports: portsFor(name, from, to),
    cidrs: uniq(internet.map(internetRange)),
    written: uniq(internet.map((source) => str(source)?.trim())),
  };
}

/** Merges openings into network facts; one protocol when they agree, `all` when any is. */
function networkFacts(openings: Opening[]): NonNullable<RuleMatch['network']> {
  const protocols = uniq(openings.map((entry) => entry.protocol));
  const ports = new Map(openings.flatMap((entry) => entry.ports).map((range) => [`${range.from}-${range.to}`, range]));
  return {
    cidrs: uniq(openings.flatMap((entry) => entry.cidrs)),
    ports: [...ports.values()].sort((a, b) => a.from - b.from || a.to - b.to),
    protocol: protocols.length === 1 ? protocols[0] : protocols.includes('all') ? 'all' : undefined,
  };
}

/** `tcp 22`, `tcp 8000-8100`, `all traffic`, `icmp`. */
export function describeOpening(entry: { protocol?: string; ports: PortRange[] }): string {
  if (entry.protocol === 'all') return 'all traffic';
  const ports = entry.ports.map((range) =>
    range.from === 0 && range.to === 65535 ? 'all ports' : range.from === range.to ? `${range.from}` : `${range.from}-${range.to}`,
  );
  return [entry.protocol ?? 'protocol unknown', ports.join(', ')].filter(Boolean).join(' ');
}

// ---------------------------------------------------------------------------------------------
// Security groups and network ACLs opened to the internet.

/** Ingress permissions of AuthorizeSecurityGroupIngress, in both request shapes CloudTrail uses. */
function securityGroupOpenings(record: CloudTrailRecord): Opening[] {
  const params = record.requestParameters;
  const nested = ec2List(at(params, 'ipPermissions')).map((permission) =>
    opening(at(permission, 'ipProtocol'), at(permission, 'fromPort'), at(permission, 'toPort'), [
      ...ec2List(at(permission, 'ipRanges')).map((range) => at(range, 'cidrIp')),
      ...ec2List(at(permission, 'ipv6Ranges')).map((range) => at(range, 'cidrIpv6')),
    ]),
  );
  // The older flat shape: one permission written straight into requestParameters.
  const flatSources = [at(params, 'cidrIp'), at(params, 'cidrIpv6')].filter((cidr) => cidr !== undefined);
  const flat =
    flatSources.length > 0
      ? [opening(at(params, 'ipProtocol'), at(params, 'fromPort'), at(params, 'toPort'), flatSources)]
      : [];
  const requested = [...nested, ...flat];
  if (requested.length > 0) return requested;
  // Nothing readable in the request: the response lists the rules EC2 actually added.
  return ec2List(at(record, 'responseElements', 'securityGroupRuleSet'))
    .filter((rule) => at(rule, 'isEgress') !== true)
    .map((rule) =>
      opening(at(rule, 'ipProtocol'), at(rule, 'fromPort'), at(rule, 'toPort'), [at(rule, 'cidrIpv4'), at(rule, 'cidrIpv6')]),
    );
}

/** The new rules of ModifySecurityGroupRules (`ModifySecurityGroupRulesRequest.SecurityGroupRule`). */
function modifiedRuleOpenings(record: CloudTrailRecord): Opening[] {
  const request = at(record, 'requestParameters', 'ModifySecurityGroupRulesRequest');
  return asArray(at(request, 'SecurityGroupRule')).map((update) => {
    const rule = at(update, 'SecurityGroupRule');
    return opening(at(rule, 'IpProtocol'), at(rule, 'FromPort'), at(rule, 'ToPort'), [at(rule, 'CidrIpv4'), at(rule, 'CidrIpv6')]);
  });
}

function securityGroupMatch(
  record: CloudTrailRecord,
  group: { id?: string; name?: string },
  openings: Opening[],
  title: (label: string, opened: string) => string,
): RuleMatch | undefined {
  const open = openings.filter((entry) => entry.cidrs.length > 0);
  if (open.length === 0) return undefined;
  const network = networkFacts(open);
  // Groups of the default VPC may be named instead of given by id.
  const key = group.id ?? (group.name ? `security-group/${group.name}` : undefined);
  const id = group.id ?? group.name;
  return {
    title: title(short(id ?? 'unknown'), open.map(describeOpening).join('; ')),
    resources: id ? [{ type: 'aws:ec2:security-group', id, ...(group.name ? { name: group.name } : {}) }] : [],
    network,
    fingerprint: key ? thingFingerprint(record, key) : undefined,
    details: open.map((entry) => `Opened: ${describeOpening(entry)} from ${entry.written.join(', ')}`),
  };
}

const securityGroupOpen: CloudTrailRule = {
  id: 'security-group-open-to-internet',
  description: 'AuthorizeSecurityGroupIngress allowing 0.0.0.0/0 or ::/0, on any port',
  kind: 'exposure',
  severity: 'high',
  match(record) {
    if (!is(record, 'AuthorizeSecurityGroupIngress') || !succeeded(record)) return undefined;
    const params = record.requestParameters;
    const group = { id: str(at(params, 'groupId')), name: str(at(params, 'groupName')) };
    return securityGroupMatch(
      record,
      group,
      securityGroupOpenings(record),
      (label, opened) => `Security group ${label} opened to the internet (${opened})`,
    );
  },
};

const securityGroupRuleModified: CloudTrailRule = {
  id: 'security-group-rule-modified-to-internet',
  // Medium: the request does not say whether the modified rule is ingress or egress, and egress
  // rules to 0.0.0.0/0 are normal.
  description: 'ModifySecurityGroupRules setting a rule to 0.0.0.0/0 or ::/0 (ingress or egress: the record does not say)',
  kind: 'exposure',
  severity: 'medium',
  match(record) {
    if (!is(record, 'ModifySecurityGroupRules') || !succeeded(record)) return undefined;
    const groupId = str(at(record, 'requestParameters', 'ModifySecurityGroupRulesRequest', 'GroupId'));
    return securityGroupMatch(
      record,
      { id: groupId },
      modifiedRuleOpenings(record),
      (label, opened) => `Security group ${label}: a rule now allows the internet (${opened})`,
    );
  },
};

const networkAclOpen: CloudTrailRule = {
  id: 'network-acl-open-to-internet',
  // Medium: a network ACL only allows what security groups then also allow, and the default ACL
  // allows everything.
  description: 'CreateNetworkAclEntry / ReplaceNetworkAclEntry allowing inbound traffic from 0.0.0.0/0 or ::/0',
  kind: 'exposure',
  severity: 'medium',
  match(record) {
    if (!is(record, 'CreateNetworkAclEntry', 'ReplaceNetworkAclEntry') || !succeeded(record)) return undefined;
    const params = record.requestParameters;
    const egress = at(params, 'egress');
    if (str(at(params, 'ruleAction'))?.toLowerCase() !== 'allow' || egress === true || egress === 'true') return undefined;
    const entry = opening(at(params, 'aclProtocol'), at(params, 'portRange', 'from'), at(params, 'portRange', 'to'), [
      at(params, 'cidrBlock'),
      at(params, 'ipv6CidrBlock'),
    ]);
    if (entry.cidrs.length === 0) return undefined;
    const aclId = str(at(params, 'networkAclId'));
    const ruleNumber = str(at(params, 'ruleNumber'));
    return {
      title: `Network ACL ${short(aclId ?? 'unknown')} allows inbound ${describeOpening(entry)} from the internet`,
      resources: aclId ? [{ type: 'aws:ec2:network-acl', id: aclId }] : [],
      network: networkFacts([entry]),
      fingerprint: aclId ? thingFingerprint(record, aclId) : undefined,
      details: [`Entry ${ruleNumber ?? '?'}: allow ${describeOpening(entry)} from ${entry.written.join(', ')}`],
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Sign-ins and the root account.

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

// ---------------------------------------------------------------------------------------------
// Logging switched off or changed.

/** A trail's own name, from a name or an ARN (`arn:aws:cloudtrail:<region>:<account>:trail/<name>`). */
function trailName(value: string): string {
  return value.includes(':trail/') ? value.slice(value.lastIndexOf(':trail/') + ':trail/'.length) : value;
}

function trailMatch(record: CloudTrailRecord, title: (name: string) => string): RuleMatch {
  const given = str(at(record, 'requestParameters', 'name')) ?? str(at(record, 'requestParameters', 'trailName'));
  const name = given ? trailName(given) : undefined;
  return {
    title: title(short(name ?? 'unknown')),
    resources: given ? [{ type: 'aws:cloudtrail:trail', id: given, ...(name !== given ? { name } : {}) }] : [],
    fingerprint: name ? thingFingerprint(record, `trail/${name}`) : undefined,
  };
}

const cloudTrailStopped: CloudTrailRule = {
  id: 'cloudtrail-logging-stopped',
  description: 'StopLogging or DeleteTrail: a CloudTrail trail stops recording',
  kind: 'resource',
  severity: 'high',
  match(record) {
    if (!is(record, 'StopLogging', 'DeleteTrail') || !succeeded(record)) return undefined;
    return trailMatch(record, (name) =>
      eventName(record) === 'DeleteTrail' ? `CloudTrail trail ${name} deleted` : `CloudTrail logging stopped on trail ${name}`,
    );
  },
};

const cloudTrailChanged: CloudTrailRule = {
  id: 'cloudtrail-trail-changed',
  // Medium: these are also ordinary configuration, but can narrow what is recorded or where.
  description: 'UpdateTrail or PutEventSelectors: what a trail records, or where it delivers, changed',
  kind: 'resource',
  severity: 'medium',
  match(record) {
    if (!is(record, 'UpdateTrail', 'PutEventSelectors') || !succeeded(record)) return undefined;
    const event = eventName(record) ?? '';
    return trailMatch(record, (name) => `CloudTrail trail ${name} changed (${event})`);
  },
};

const flowLogsDeleted: CloudTrailRule = {
  id: 'vpc-flow-logs-deleted',
  description: 'DeleteFlowLogs: VPC flow logs stop recording',
  kind: 'resource',
  severity: 'medium',
  match(record) {
    if (!is(record, 'DeleteFlowLogs') || !succeeded(record)) return undefined;
    const params = record.requestParameters;
    const ids = uniq([
      ...ec2Strings(at(params, 'DeleteFlowLogsRequest', 'FlowLogId')),
      ...ec2Strings(at(params, 'flowLogIds')),
    ]).sort();
    return {
      title: `VPC flow logs deleted: ${short(ids.join(', ') || 'ids not recorded')}`,
      resources: ids.map((id) => ({ type: 'aws:ec2:flow-log', id })),
      fingerprint: ids.length > 0 ? thingFingerprint(record, ids.join(',')) : undefined,
    };
  },
};

// ---------------------------------------------------------------------------------------------
// IAM: new users, keys, passwords and administrator rights.

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
export function policyAllowsEverything(document: unknown): boolean {
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

// ---------------------------------------------------------------------------------------------
// Snapshots and images made public or shared.

interface Sharing {
  resource: ResourceRef;
  /** The thing's part of the fingerprint. */
  key: string;
  label: string;
  /** Groups (`all` = public) and account ids permission was added for. */
  groups: string[];
  accounts: string[];
}

/** Items added to an EC2 permission attribute (`createVolumePermission`, `launchPermission`). */
function ec2AddedPermissions(permission: unknown): { groups: string[]; accounts: string[] } {
  const items = ec2List(at(permission, 'add'));
  return {
    groups: uniq(items.map((item) => str(at(item, 'group'))?.toLowerCase())),
    accounts: uniq(items.map((item) => str(at(item, 'userId')))),
  };
}

function sharing(record: CloudTrailRecord): Sharing | undefined {
  const params = record.requestParameters;
  const name = eventName(record);
  if (name === 'ModifySnapshotAttribute' || name === 'ModifyImageAttribute') {
    const snapshot = name === 'ModifySnapshotAttribute';
    const id = str(at(params, snapshot ? 'snapshotId' : 'imageId'));
    if (!id) return undefined;
    const added = ec2AddedPermissions(at(params, snapshot ? 'createVolumePermission' : 'launchPermission'));
    const type = snapshot ? 'aws:ec2:snapshot' : 'aws:ec2:image';
    return { resource: { type, id }, key: id, label: `${snapshot ? 'EBS snapshot' : 'AMI'} ${short(id)}`, ...added };
  }
  if (name === 'ModifyDBSnapshotAttribute' || name === 'ModifyDBClusterSnapshotAttribute') {
    const cluster = name === 'ModifyDBClusterSnapshotAttribute';
    const id = str(at(params, cluster ? 'dBClusterSnapshotIdentifier' : 'dBSnapshotIdentifier'));
    if (!id || str(at(params, 'attributeName'))?.toLowerCase() !== 'restore') return undefined;
    const values = asArray(at(params, 'valuesToAdd')).map((value) => str(value));
    const kind = cluster ? 'cluster-snapshot' : 'snapshot';
    return {
      resource: { type: `aws:rds:${kind}`, id },
      key: `rds-${kind}/${id}`,
      label: `RDS ${cluster ? 'cluster snapshot' : 'snapshot'} ${short(id)}`,
      groups: uniq(values.filter((value) => value?.toLowerCase() === 'all').map(() => 'all')),
      accounts: uniq(values.filter((value) => value?.toLowerCase() !== 'all')),
    };
  }
  return undefined;
}

const madePublic: CloudTrailRule = {
  id: 'snapshot-or-image-made-public',
  description: 'EBS snapshot, AMI or RDS snapshot shared with everyone (`all`)',
  kind: 'resource',
  severity: 'high',
  match(record) {
    const shared = succeeded(record) ? sharing(record) : undefined;
    if (!shared?.groups.includes('all')) return undefined;
    return {
      title: `${shared.label} made public`,
      resources: [shared.resource],
      fingerprint: thingFingerprint(record, shared.key),
      details: [`Permission added for: all${shared.accounts.length > 0 ? `, ${shared.accounts.join(', ')}` : ''}`],
    };
  },
};

const sharedWithAccount: CloudTrailRule = {
  id: 'snapshot-or-image-shared',
  description: 'EBS snapshot, AMI or RDS snapshot shared with another AWS account',
  kind: 'resource',
  severity: 'medium',
  match(record) {
    const shared = succeeded(record) ? sharing(record) : undefined;
    const owner = accountOf(record);
    const others = shared?.accounts.filter((account) => account !== owner) ?? [];
    if (!shared || others.length === 0) return undefined;
    return {
      title: `${shared.label} shared with account ${short(others.join(', '))}`,
      resources: [shared.resource, ...others.map((account) => ({ type: 'aws:account', id: account }))],
      fingerprint: thingFingerprint(record, shared.key),
      details: [`Permission added for: ${others.join(', ')}`],
    };
  },
};

// ---------------------------------------------------------------------------------------------
// CloudTrail Insights: unusual API call or error rates.

const insightTypes: Record<string, string> = {
  ApiCallRateInsight: 'API call rate',
  ApiErrorRateInsight: 'API error rate',
};

export function isInsight(record: CloudTrailRecord): boolean {
  return str(record.eventType) === 'AwsCloudTrailInsight';
}

/** Values CloudTrail attributes an Insight to (`userIdentityArn`, `userAgent`, `errorCode`). */
export function insightAttributions(record: CloudTrailRecord, attribute: string): string[] {
  return uniq(
    asArray(at(record, 'insightDetails', 'insightContext', 'attributions'))
      .filter((entry) => str(at(entry, 'attribute')) === attribute)
      .flatMap((entry) => asArray(at(entry, 'insight')).map((value) => str(at(value, 'value'))))
      // CloudTrail writes "null" for "no error code".
      .filter((value) => value !== 'null'),
  );
}

const insight: CloudTrailRule = {
  id: 'cloudtrail-insight',
  description: 'CloudTrail Insights event (Start or End of unusual API call or error rates)',
  kind: 'actor',
  severity: 'medium',
  match(record) {
    if (!isInsight(record)) return undefined;
    const details = record.insightDetails;
    const state = str(at(details, 'state'));
    const type = str(at(details, 'insightType'));
    const service = str(at(details, 'eventSource'))?.replace(/\.amazonaws\.com$/, '');
    const api = [service, str(at(details, 'eventName'))].filter(Boolean).join(':') || 'unknown API';
    const what = (type && insightTypes[type]) ?? type ?? 'activity';
    const statistics = at(details, 'insightContext', 'statistics');
    const average = (of: string) => str(at(statistics, of, 'average')) ?? '?';
    const shared = str(record.sharedEventID);
    return {
      title: `CloudTrail Insight ${state === 'End' ? 'ended' : 'started'}: unusual ${what} of ${short(api)}`,
      resources: [],
      fingerprint: shared ? `cloudtrail:insight:${shared}` : undefined,
      details: [
        `State: ${state ?? 'not recorded'}`,
        `Average per minute: ${average('baseline')} usually, ${average('insight')} during the insight`,
        ...insightAttributions(record, 'userIdentityArn').map((arn) => `Caller behind it: ${arn}`),
        ...insightAttributions(record, 'errorCode').map((code) => `Error code: ${code}`),
      ],
    };
  },
};

/** Every built-in rule. When several match one record, the most severe wins (then list order). */
export const cloudTrailRules: readonly CloudTrailRule[] = [
  securityGroupOpen,
  securityGroupRuleModified,
  networkAclOpen,
  rootAccountUse,
  consoleLoginWithoutMfa,
  consoleLoginFailed,
  consoleLogin,
  cloudTrailStopped,
  cloudTrailChanged,
  flowLogsDeleted,
  adminPolicyGranted,
  userCreated,
  accessKeyCreated,
  loginProfileChanged,
  madePublic,
  sharedWithAccount,
  insight,
];
