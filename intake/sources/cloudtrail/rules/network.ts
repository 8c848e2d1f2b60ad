// Network rules: security groups and network ACLs opened to the internet, with the ranges and ports.
import type { PortRange } from '../../../../lib/alert';
import { portRange } from '../../../../lib/ports';
import { asArray, internetRange, str, uniq } from '../../util';
import { at, short, type CloudTrailRecord } from '../record';
import { ec2List, is, succeeded, thingFingerprint, type CloudTrailRule, type RuleMatch } from './common';

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
function describeOpening(entry: { protocol?: string; ports: PortRange[] }): string {
  if (entry.protocol === 'all') return 'all traffic';
  const ports = entry.ports.map((range) =>
    range.from === 0 && range.to === 65535 ? 'all ports' : range.from === range.to ? `${range.from}` : `${range.from}-${range.to}`,
  );
  return [entry.protocol ?? 'protocol unknown', ports.join(', ')].filter(Boolean).join(' ');
}

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

export const networkRules: readonly CloudTrailRule[] = [securityGroupOpen, securityGroupRuleModified, networkAclOpen];
