// Revoking the security-group rules that open a proven endpoint to the internet. A plan is one
// security-group rule (`sgr-…`: one internet-wide range of the permission that opened the endpoint),
// said with the machines that lose it too; the revoke goes by that rule id, and the undo authorises
// the same permission again (a new rule id). Each call is idempotent: a rule already gone is
// `already`, as is a permission already back.
import type { EC2Client, Instance, IpPermission, NetworkInterface, SecurityGroupRule } from '@aws-sdk/client-ec2';
import ipaddr from 'ipaddr.js';
import type { ContextInstance, Exposure, ExposingRule } from '../../lib/context';
import { isInternetWide } from '../../lib/internet';
import type { ExecutionRecord, RemediationAction, SecurityGroupPermission } from '../../lib/response';
import { openingsOf } from '../context/aws/exposure';
import { collectPages } from '../context/aws/pages';
import { plural, withClient } from '../context/aws/resources/reading';
import { isNamed, now, refused, refusing, requestIdOf, type AwsSessions } from './aws-session';
import type { ProposedRemediation, ProposeInput } from './types';

export type RevokeAction = Extract<RemediationAction, { kind: 'aws-revoke-ingress' }>;

/** Machines named in a plan; the rest are counted. */
const LISTED_MACHINES = 10;

const ec2Client = async (sessions: AwsSessions, account: string, region: string) => {
  const { EC2Client } = await import('@aws-sdk/client-ec2');
  return new EC2Client(sessions.configFor(account, region));
};

/** An address in one spelling, so `2001:db8::1` from a probe and from EC2 compare equal. */
const canonical = (address: string) => (ipaddr.isValid(address) ? ipaddr.parse(address).toString() : address);
const familyOf = (addressOrCidr: string) => ipaddr.parse(addressOrCidr.split('/')[0]!).kind();

/** `127.0.0.5:22`, `[2001:db8::1]:443`. */
function endpointOf(text: string): { address: string; port: number } | undefined {
  const match = /^\[(.+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  return match ? { address: canonical(match[1]!), port: Number(match[2]) } : undefined;
}

/** The group a context rule belongs to, for EC2 security-group rules (`sg-0abc/ingress/tcp/22-22`). */
const groupOf = (ruleId: string) => /^(sg-[0-9a-z]+)\/ingress\//.exec(ruleId)?.[1];

/** The group's name, from the rule's (`web (sg-0abc) tcp 22`). */
function groupLabel(rule: ExposingRule | undefined, groupId: string): string {
  const at = rule?.name.indexOf(` (${groupId})`) ?? -1;
  return at > 0 ? `${groupId} (${rule!.name.slice(0, at)})` : groupId;
}

/** The context rule (./context/aws/exposure) an EC2 security-group rule is part of: same group, protocol and ports. */
function contextRuleOf(groupId: string, rule: SecurityGroupRule): string | undefined {
  const permission: IpPermission = { IpProtocol: rule.IpProtocol, FromPort: rule.FromPort, ToPort: rule.ToPort };
  return openingsOf({ GroupId: groupId, IpPermissions: [permission] }, new Map())[0]?.rule.id;
}

const cidrOf = (permission: SecurityGroupPermission) => permission.cidrIpv4 ?? permission.cidrIpv6 ?? permission.prefixListId ?? '';

/** `tcp/22`, `udp/8000-8100`, `all traffic`, `icmp`. */
function trafficOf({ protocol, fromPort, toPort }: SecurityGroupPermission): string {
  if (protocol === '-1') return 'all traffic';
  const bounded = fromPort !== undefined && fromPort >= 0 && toPort !== undefined && toPort >= 0;
  if (protocol !== 'tcp' && protocol !== 'udp') return bounded ? `${protocol} ${fromPort}/${toPort}` : protocol;
  if (!bounded || (fromPort === 0 && toPort === 65535)) return `${protocol} (all ports)`;
  return fromPort === toPort ? `${protocol}/${fromPort}` : `${protocol}/${fromPort}-${toPort}`;
}

/** A permission in words, its description quoted. */
export const describePermission = (permission: SecurityGroupPermission) =>
  `${trafficOf(permission)} from ${cidrOf(permission)}${permission.description ? `, description "${permission.description}"` : ''}`;

function permissionOf(rule: SecurityGroupRule): SecurityGroupPermission {
  return {
    protocol: rule.IpProtocol ?? '-1',
    ...(rule.FromPort !== undefined ? { fromPort: rule.FromPort } : {}),
    ...(rule.ToPort !== undefined ? { toPort: rule.ToPort } : {}),
    ...(rule.CidrIpv4 ? { cidrIpv4: rule.CidrIpv4 } : {}),
    ...(rule.CidrIpv6 ? { cidrIpv6: rule.CidrIpv6 } : {}),
    ...(rule.PrefixListId ? { prefixListId: rule.PrefixListId } : {}),
    ...(rule.Description ? { description: rule.Description } : {}),
  };
}

/** Whether a rule still lets in what the plan revokes (its description may have changed: access has not). */
function sameAccess(planned: SecurityGroupPermission, rule: SecurityGroupRule): boolean {
  const current = permissionOf(rule);
  const port = (value: number | undefined) => value ?? -1;
  return (
    current.protocol.toLowerCase() === planned.protocol.toLowerCase() &&
    (planned.protocol === '-1' || (port(current.fromPort) === port(planned.fromPort) && port(current.toPort) === port(planned.toPort))) &&
    cidrOf(current) === cidrOf(planned)
  );
}

/** Whether two permissions let in the same traffic (descriptions aside). */
const sameAccessAs = (a: SecurityGroupPermission, b: SecurityGroupPermission) =>
  a.protocol.toLowerCase() === b.protocol.toLowerCase() && (a.fromPort ?? -1) === (b.fromPort ?? -1) && (a.toPort ?? -1) === (b.toPort ?? -1) && cidrOf(a) === cidrOf(b);

function ipPermissionOf(permission: SecurityGroupPermission): IpPermission {
  const Description = permission.description;
  return {
    IpProtocol: permission.protocol,
    ...(permission.fromPort !== undefined ? { FromPort: permission.fromPort } : {}),
    ...(permission.toPort !== undefined ? { ToPort: permission.toPort } : {}),
    ...(permission.cidrIpv4 ? { IpRanges: [{ CidrIp: permission.cidrIpv4, ...(Description ? { Description } : {}) }] } : {}),
    ...(permission.cidrIpv6 ? { Ipv6Ranges: [{ CidrIpv6: permission.cidrIpv6, ...(Description ? { Description } : {}) }] } : {}),
    ...(permission.prefixListId ? { PrefixListIds: [{ PrefixListId: permission.prefixListId, ...(Description ? { Description } : {}) }] } : {}),
  };
}

export const revokeCall = (action: RevokeAction) => `ec2:RevokeSecurityGroupIngress GroupId=${action.groupId} SecurityGroupRuleIds=${action.ruleId}`;
export const authorizeCall = (action: RevokeAction) => `ec2:AuthorizeSecurityGroupIngress GroupId=${action.groupId} IpPermissions=[${describePermission(action.permission)}]`;

/** A group whose internet-wide rules opened an endpoint that answered. */
interface ProvenGroup {
  account: string;
  region: string;
  groupId: string;
  label: string;
  /** The context rules (protocol and ports) of the group that opened the answering endpoints. */
  rules: Set<string>;
  /** The machines whose endpoints answered. */
  exposed: Set<string>;
}

/** The groups to read: those of the proven exposures, by account, region and id. */
function provenGroups(input: ProposeInput): ProvenGroup[] {
  const answered = input.answered.flatMap((text) => endpointOf(text) ?? []);
  const instances = new Map(input.context.instances.filter((instance) => instance.provider === 'aws').map((instance) => [instance.id, instance]));
  const rules = new Map(input.context.rules.map((rule) => [rule.id, rule]));
  const groups = new Map<string, ProvenGroup>();
  for (const exposure of input.context.exposures) {
    const groupId = groupOf(exposure.rule);
    const rule = rules.get(exposure.rule);
    if (!groupId || !rule?.sources.some(isInternetWide)) continue;
    const address = canonical(exposure.address);
    if (!answered.some((endpoint) => endpoint.address === address && endpoint.port >= exposure.ports.from && endpoint.port <= exposure.ports.to)) continue;
    const instance = instances.get(exposure.instance);
    const account = instance?.account ?? input.alert.cloud?.account;
    const region = instance?.region ?? input.alert.cloud?.region;
    if (!account || !region) continue;
    const key = `${account}/${region}/${groupId}`;
    const group = groups.get(key) ?? { account, region, groupId, label: groupLabel(rule, groupId), rules: new Set(), exposed: new Set() };
    group.rules.add(exposure.rule);
    group.exposed.add(exposure.instance);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** A machine as a person knows it: `i-0abc (web-1)`, or an interface with what it serves. */
const instanceLabel = (instance: Instance) => {
  const name = instance.Tags?.find((tag) => tag.Key === 'Name')?.Value;
  return name ? `${instance.InstanceId} (${name})` : (instance.InstanceId ?? 'an instance');
};
const interfaceLabel = (eni: NetworkInterface) => {
  const what = [eni.InterfaceType, eni.Description].filter(Boolean).join(': ');
  return what ? `${eni.NetworkInterfaceId} (${what})` : (eni.NetworkInterfaceId ?? 'a network interface');
};
const listed = (labels: string[]) =>
  labels.length > LISTED_MACHINES ? `${labels.slice(0, LISTED_MACHINES).join(', ')} and ${labels.length - LISTED_MACHINES} more` : labels.join(', ');

/** What the group holds: its rules, the instances carrying it and the interfaces no instance holds (load balancers, endpoints…). */
async function readGroup(sessions: AwsSessions, group: ProvenGroup) {
  const where = { account: group.account, region: group.region };
  const sdk = await import('@aws-sdk/client-ec2');
  return withClient(await ec2Client(sessions, group.account, group.region), async (client) => {
    const paging = { client };
    const byGroup = (name: string) => [{ Name: name, Values: [group.groupId] }];
    const [rules, instances, interfaces] = await Promise.all([
      refusing(sessions, where, 'ec2:DescribeSecurityGroupRules', group.groupId, () =>
        collectPages(sdk.paginateDescribeSecurityGroupRules(paging, { Filters: byGroup('group-id') }), (page) => page.SecurityGroupRules),
      ),
      refusing(sessions, where, 'ec2:DescribeInstances', group.groupId, () =>
        collectPages(sdk.paginateDescribeInstances(paging, { Filters: byGroup('instance.group-id') }), (page) => page.Reservations?.flatMap((r) => r.Instances ?? [])),
      ),
      refusing(sessions, where, 'ec2:DescribeNetworkInterfaces', group.groupId, () =>
        collectPages(sdk.paginateDescribeNetworkInterfaces(paging, { Filters: byGroup('group-id') }), (page) => page.NetworkInterfaces),
      ),
    ]);
    return { rules, instances, interfaces: interfaces.filter((eni) => !eni.Attachment?.InstanceId) };
  });
}

/** What else loses the permission: every other machine behind the group, said before anyone approves. */
function servesOf(group: ProvenGroup, permission: SecurityGroupPermission, behind: Awaited<ReturnType<typeof readGroup>>, known: Map<string, ContextInstance>): string[] {
  const others = [
    ...behind.instances.filter((instance) => !group.exposed.has(instance.InstanceId ?? '')).map(instanceLabel),
    ...behind.interfaces.filter((eni) => !group.exposed.has(eni.NetworkInterfaceId ?? '')).map(interfaceLabel),
  ];
  const exposed = [...group.exposed].map((id) => {
    const name = known.get(id)?.name;
    return name ? `${id} (${name})` : id;
  });
  const lost = `${trafficOf(permission)} from ${cidrOf(permission)}`;
  if (others.length === 0) return [`Nothing else is behind ${group.label}: only ${exposed.join(', ')}, whose endpoint answered.`];
  return [`${plural(others.length, 'other machine')} behind ${group.label} also lose${others.length === 1 ? 's' : ''} ${lost}: ${listed(others)}.`];
}

/** What should follow: the addresses no longer reachable through it, and any other rule that still opens them. */
function expectedOf(input: ProposeInput, contextRule: string, permission: SecurityGroupPermission): string {
  const cidr = cidrOf(permission);
  const through = input.context.exposures.filter((exposure) => exposure.rule === contextRule && familyOf(exposure.address) === familyOf(cidr));
  const addresses = [...new Set(through.map((exposure) => exposure.address))];
  const still = (exposure: Exposure) =>
    input.context.exposures.filter(
      (other) => other.rule !== contextRule && other.address === exposure.address && other.ports.from <= exposure.ports.to && exposure.ports.from <= other.ports.to,
    );
  const names = new Map(input.context.rules.map((rule) => [rule.id, rule.name]));
  const others = [...new Set(through.flatMap(still).map((other) => names.get(other.rule) ?? other.rule))];
  const closed =
    addresses.length > 0
      ? `${trafficOf(permission)} on ${addresses.join(', ')} no longer reachable from ${cidr} through this rule`
      : `${trafficOf(permission)} no longer admitted from ${cidr}`;
  return others.length > 0 ? `${closed}; still open through ${others.join(', ')}` : closed;
}

export async function proposeRevokes(sessions: AwsSessions, input: ProposeInput): Promise<ProposedRemediation[]> {
  const known = new Map(input.context.instances.map((instance) => [instance.id, instance]));
  const plans = await Promise.all(
    provenGroups(input).map(async (group) => {
      const behind = await readGroup(sessions, group);
      return behind.rules.flatMap((rule): ProposedRemediation[] => {
        const cidr = rule.CidrIpv4 ?? rule.CidrIpv6;
        const contextRule = contextRuleOf(group.groupId, rule);
        if (rule.IsEgress || !rule.SecurityGroupRuleId || !cidr || !isInternetWide(cidr) || !contextRule || !group.rules.has(contextRule)) return [];
        const permission = permissionOf(rule);
        const action: RevokeAction = { kind: 'aws-revoke-ingress', account: group.account, region: group.region, groupId: group.groupId, ruleId: rule.SecurityGroupRuleId, permission };
        return [
          {
            title: `Revoke ${trafficOf(permission)} from ${cidr} on ${group.label}`,
            action,
            apiCall: revokeCall(action),
            serves: servesOf(group, permission, behind, known),
            expected: expectedOf(input, contextRule, permission),
            undo: `${authorizeCall(action)}: the same permission back, under a new rule id`,
          },
        ];
      });
    }),
  );
  return plans.flat();
}

/** The rule as it is now, or undefined when it is gone (a filter, not an id: a missing id is no error). */
async function currentRule(client: EC2Client, action: RevokeAction): Promise<SecurityGroupRule | undefined> {
  const { DescribeSecurityGroupRulesCommand } = await import('@aws-sdk/client-ec2');
  const { SecurityGroupRules = [] } = await client.send(
    new DescribeSecurityGroupRulesCommand({
      Filters: [
        { Name: 'group-id', Values: [action.groupId] },
        { Name: 'security-group-rule-id', Values: [action.ruleId] },
      ],
    }),
  );
  return SecurityGroupRules.find((rule) => rule.SecurityGroupRuleId === action.ruleId);
}

/** EC2's own dry run: the call is checked (the role may make it) and not made; its request id is the proof. */
async function checkedOnly(send: () => Promise<unknown>): Promise<string[]> {
  try {
    await send();
  } catch (err) {
    if (isNamed(err, 'DryRunOperation')) return requestIdOf(err as { $metadata?: { requestId?: string } });
    throw err;
  }
  throw new Error('EC2 carried out a call sent as a dry run');
}

export async function revokeIngress(sessions: AwsSessions, action: RevokeAction, dryRun: boolean): Promise<ExecutionRecord> {
  const sdk = await import('@aws-sdk/client-ec2');
  const apiCall = revokeCall(action);
  const where = { account: action.account, region: action.region };
  return withClient(await ec2Client(sessions, action.account, action.region), async (client) => {
    const current = await refusing(sessions, where, 'ec2:DescribeSecurityGroupRules', action.groupId, () => currentRule(client, action));
    // A rule changed since the plan (ModifySecurityGroupRules keeps its id) is no longer what was approved.
    if (current && !sameAccess(action.permission, current)) {
      throw refused(`${action.ruleId} on ${action.groupId} is no longer ${describePermission(action.permission)} but ${describePermission(permissionOf(current))}: not revoked; a new plan is needed`);
    }
    const revoke = (DryRun: boolean) => client.send(new sdk.RevokeSecurityGroupIngressCommand({ GroupId: action.groupId, SecurityGroupRuleIds: [action.ruleId], ...(DryRun ? { DryRun } : {}) }));
    return refusing(sessions, where, 'ec2:RevokeSecurityGroupIngress', `${action.ruleId} of ${action.groupId}`, async (): Promise<ExecutionRecord> => {
      if (dryRun) {
        return { outcome: 'dry-run', apiCall, requestIds: await checkedOnly(() => revoke(true)), at: now() };
      }
      const before = current ? { before: permissionOf(current) } : {};
      try {
        const output = await revoke(false);
        // AWS lists what it revoked; a rule it did not is gone already (a retry whose first answer was lost).
        const revoked = output.RevokedSecurityGroupRules;
        const gone = revoked !== undefined && !revoked.some((rule) => rule.SecurityGroupRuleId === action.ruleId);
        return { outcome: gone ? 'already' : 'changed', apiCall, requestIds: requestIdOf(output), ...before, at: now() };
      } catch (err) {
        // AWS says the rule id is unknown; moto, that the permission is not there: gone either way.
        if (isNamed(err, 'InvalidSecurityGroupRuleId.NotFound', 'InvalidPermission.NotFound')) {
          return { outcome: 'already', apiCall, requestIds: requestIdOf(err as { $metadata?: { requestId?: string } }), ...before, at: now() };
        }
        throw err;
      }
    });
  });
}

/** The rule that now lets the permission in (after an undo, under a new id). */
async function matchingRule(client: EC2Client, action: RevokeAction): Promise<SecurityGroupRule | undefined> {
  const sdk = await import('@aws-sdk/client-ec2');
  const rules = await collectPages(sdk.paginateDescribeSecurityGroupRules({ client }, { Filters: [{ Name: 'group-id', Values: [action.groupId] }] }), (page) => page.SecurityGroupRules);
  return rules.find((rule) => !rule.IsEgress && sameAccess(action.permission, rule));
}

/** A permission as an execution recorded it (`before`): its protocol and exactly one source. */
function isPermission(value: unknown): value is SecurityGroupPermission {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  const sources = [candidate.cidrIpv4, candidate.cidrIpv6, candidate.prefixListId].filter((source) => typeof source === 'string');
  return typeof candidate.protocol === 'string' && sources.length === 1;
}

/**
 * Authorises back what the revoke removed: the rule as the execution found it (`before`; its
 * description may have changed since the plan, its access may not), else as the plan named it.
 */
export async function restoreIngress(sessions: AwsSessions, planned: RevokeAction, execution: ExecutionRecord | undefined, dryRun: boolean): Promise<ExecutionRecord> {
  const action = isPermission(execution?.before) && sameAccessAs(planned.permission, execution.before) ? { ...planned, permission: execution.before } : planned;
  const sdk = await import('@aws-sdk/client-ec2');
  const apiCall = authorizeCall(action);
  const where = { account: action.account, region: action.region };
  return withClient(await ec2Client(sessions, action.account, action.region), (client) =>
    refusing(sessions, where, 'ec2:AuthorizeSecurityGroupIngress', action.groupId, async (): Promise<ExecutionRecord> => {
      const authorize = (DryRun: boolean) =>
        client.send(new sdk.AuthorizeSecurityGroupIngressCommand({ GroupId: action.groupId, IpPermissions: [ipPermissionOf(action.permission)], ...(DryRun ? { DryRun } : {}) }));
      if (dryRun) {
        return { outcome: 'dry-run', apiCall, requestIds: await checkedOnly(() => authorize(true)), at: now() };
      }
      try {
        const output = await authorize(false);
        const restored = output.SecurityGroupRules?.[0]?.SecurityGroupRuleId;
        return { outcome: 'changed', apiCall, requestIds: requestIdOf(output), ...(restored ? { restoredRuleId: restored } : {}), at: now() };
      } catch (err) {
        // Back already (a retry whose first answer was lost, or a person put it back): say under which id.
        if (!isNamed(err, 'InvalidPermission.Duplicate')) throw err;
        const restored = (await matchingRule(client, action))?.SecurityGroupRuleId;
        return { outcome: 'already', apiCall, requestIds: requestIdOf(err as { $metadata?: { requestId?: string } }), ...(restored ? { restoredRuleId: restored } : {}), at: now() };
      }
    }),
  );
}
