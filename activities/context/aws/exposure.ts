// What EC2 security groups open to the internet on the public addresses of network interfaces.
// Pure, over plain shapes that mirror what EC2 returns (the SDK's own objects fit them), so the
// rules can be checked exhaustively without an API.
import ipaddr from 'ipaddr.js';
import type { PortRange } from '../../../lib/alert';
import type { ExposingRule, Exposure } from '../../../lib/context';
import { isInternetWide } from '../../../lib/internet';

export interface IpPermission {
  /** `-1` (all), `tcp`, `udp`, `icmp`, `icmpv6`, or a protocol number. */
  IpProtocol?: string;
  /** A port for TCP/UDP, the ICMP type for ICMP; `-1` or absent means all. */
  FromPort?: number;
  /** A port for TCP/UDP, the ICMP code for ICMP; `-1` or absent means all. */
  ToPort?: number;
  IpRanges?: { CidrIp?: string }[];
  Ipv6Ranges?: { CidrIpv6?: string }[];
  UserIdGroupPairs?: { GroupId?: string; GroupName?: string }[];
  PrefixListIds?: { PrefixListId?: string }[];
}

export interface SecurityGroup {
  GroupId?: string;
  GroupName?: string;
  IpPermissions?: IpPermission[];
}

interface PublicAssociation {
  PublicIp?: string;
  PublicDnsName?: string;
}

export interface NetworkInterface {
  NetworkInterfaceId?: string;
  Attachment?: { InstanceId?: string };
  Groups?: { GroupId?: string }[];
  /** The public IPv4 address of the primary private address (auto-assigned or Elastic IP). */
  Association?: PublicAssociation;
  PrivateIpAddress?: string;
  PrivateDnsName?: string;
  /** Every private address, each with its own public IPv4 address when it has one. */
  PrivateIpAddresses?: { PrivateIpAddress?: string; PrivateDnsName?: string; Association?: PublicAssociation }[];
  Ipv6Addresses?: { Ipv6Address?: string }[];
}

/** Entries (CIDR ranges) of the prefix lists that could be read; a list missing here could not be. */
export type PrefixListEntries = ReadonlyMap<string, readonly string[]>;

export interface InterfaceAddresses {
  publicAddresses: string[];
  privateAddresses: string[];
  dnsNames: string[];
}

const allPorts: PortRange = { from: 0, to: 65535 };
const protocolNames: Record<string, string> = { '-1': 'all', '1': 'icmp', '6': 'tcp', '17': 'udp', '58': 'icmpv6' };
const globalUnicastV6 = ipaddr.parseCIDR('2000::/3');

const unique = (items: (string | undefined)[]) => [...new Set(items.filter((item): item is string => Boolean(item)))];
const familyOf = (cidr: string) => ipaddr.parseCIDR(cidr)[0].kind();

/** The instance an interface is attached to, otherwise the interface itself (load balancers, endpoints...). */
export function interfaceOwner(eni: NetworkInterface): string {
  return eni.Attachment?.InstanceId ?? eni.NetworkInterfaceId ?? 'unknown';
}

/**
 * Public IPv4 addresses are the ones EC2 associates (it hands out nothing else there); an IPv6
 * address is public when it is global unicast, since EC2 gives no separate association for IPv6.
 */
export function interfaceAddresses(
  eni: Pick<NetworkInterface, 'Association' | 'PrivateIpAddress' | 'PrivateDnsName' | 'PrivateIpAddresses' | 'Ipv6Addresses'>,
): InterfaceAddresses {
  const v6 = unique((eni.Ipv6Addresses ?? []).map((a) => a.Ipv6Address)).filter((address) => ipaddr.IPv6.isValid(address));
  const isGlobal = (address: string) => ipaddr.IPv6.parse(address).match(globalUnicastV6);
  const privates = eni.PrivateIpAddresses ?? [];
  return {
    publicAddresses: [
      ...unique([eni.Association?.PublicIp, ...privates.map((p) => p.Association?.PublicIp)]).filter((address) => ipaddr.IPv4.isValid(address)),
      ...v6.filter(isGlobal),
    ],
    privateAddresses: [...unique([eni.PrivateIpAddress, ...privates.map((p) => p.PrivateIpAddress)]), ...v6.filter((address) => !isGlobal(address))],
    dnsNames: unique([eni.Association?.PublicDnsName, eni.PrivateDnsName, ...privates.flatMap((p) => [p.Association?.PublicDnsName, p.PrivateDnsName])]),
  };
}

/** A permission as a rule, with the address families it lets the internet reach. */
export interface Opening {
  rule: ExposingRule;
  ports: PortRange;
  internet: { ipv4: boolean; ipv6: boolean };
}

const bound = (value: number | undefined) => (value === undefined || value === -1 ? 'all' : String(value));

function ruleSelector(protocol: string, permission: IpPermission): { ports: PortRange; idPart: string; label: string } {
  const { FromPort: from, ToPort: to } = permission;
  if (protocol === 'tcp' || protocol === 'udp') {
    const ports = from === undefined || to === undefined || from < 0 || to < 0 ? allPorts : { from, to };
    const whole = ports.from === allPorts.from && ports.to === allPorts.to;
    const label = whole ? `${protocol} all ports` : ports.from === ports.to ? `${protocol} ${ports.from}` : `${protocol} ${ports.from}-${ports.to}`;
    return { ports, idPart: `${ports.from}-${ports.to}`, label };
  }
  if (protocol === 'all') return { ports: allPorts, idPart: '0-65535', label: 'all traffic' };
  // ICMP and port-less protocols (ESP, GRE...) open the whole protocol: its "ports" are all of them,
  // and the ICMP type and code stay in the id and the name.
  const icmp = protocol === 'icmp' || protocol === 'icmpv6';
  const detail = icmp && bound(from) !== 'all' ? ` type ${from}${bound(to) !== 'all' ? ` code ${to}` : ''}` : '';
  return { ports: allPorts, idPart: `${bound(from)}-${bound(to)}`, label: icmp ? `${protocol}${detail}` : `protocol ${protocol}` };
}

function openingOf(group: SecurityGroup & { GroupId: string }, permission: IpPermission, prefixLists: PrefixListEntries): Opening {
  const raw = (permission.IpProtocol ?? '-1').toLowerCase();
  const protocol = protocolNames[raw] ?? raw;
  const { ports, idPart, label } = ruleSelector(protocol, permission);
  const ranges = unique([...(permission.IpRanges ?? []).map((r) => r.CidrIp), ...(permission.Ipv6Ranges ?? []).map((r) => r.CidrIpv6)]);
  const groupRefs = unique((permission.UserIdGroupPairs ?? []).map((pair) => pair.GroupId ?? pair.GroupName));
  const lists = unique((permission.PrefixListIds ?? []).map((p) => p.PrefixListId));
  const unreadable = lists.filter((id) => !prefixLists.has(id));
  // Readable lists are listed with their entries, so anyone judging `sources` sees the same ranges.
  const listSources = lists.flatMap((id) => {
    const entries = prefixLists.get(id);
    return entries ? [id, ...entries] : [`${id} (entries unreadable)`];
  });
  const internetRanges = [...ranges, ...lists.flatMap((id) => prefixLists.get(id) ?? [])].filter(isInternetWide);
  // A list that could not be read may hold anything: counted as the internet, for both families.
  const opensTo = (family: 'ipv4' | 'ipv6') => unreadable.length > 0 || internetRanges.some((cidr) => familyOf(cidr) === family);
  const groupLabel = group.GroupName ? `${group.GroupName} (${group.GroupId})` : group.GroupId;
  return {
    rule: {
      id: `${group.GroupId}/ingress/${protocol}/${idPart}`,
      name: `${groupLabel} ${label}`,
      protocol,
      ports: [ports],
      sources: unique([...ranges, ...groupRefs, ...listSources]),
    },
    ports,
    internet: { ipv4: opensTo('ipv4'), ipv6: opensTo('ipv6') },
  };
}

/** Each ingress permission of the group as a rule (databases' and load balancers' groups are judged by it too). */
export function openingsOf(group: SecurityGroup, prefixLists: PrefixListEntries): Opening[] {
  const { GroupId } = group;
  if (!GroupId) return [];
  return (group.IpPermissions ?? []).map((permission) => openingOf({ ...group, GroupId }, permission, prefixLists));
}

/** Every ingress rule of the groups, and each public address × rule that lets the internet in. */
export function calculateExposures(input: {
  groups: readonly SecurityGroup[];
  interfaces: readonly NetworkInterface[];
  prefixLists: PrefixListEntries;
}): { rules: ExposingRule[]; exposures: Exposure[] } {
  const openings = new Map(input.groups.map((group) => [group.GroupId, openingsOf(group, input.prefixLists)]));
  const exposures: Exposure[] = [];
  for (const eni of input.interfaces) {
    const instance = interfaceOwner(eni);
    const { publicAddresses } = interfaceAddresses(eni);
    for (const groupId of unique((eni.Groups ?? []).map((g) => g.GroupId))) {
      for (const { rule, ports, internet } of openings.get(groupId) ?? []) {
        for (const address of publicAddresses) {
          if (!internet[ipaddr.parse(address).kind()]) continue;
          exposures.push({ instance, address, protocol: rule.protocol, ports, rule: rule.id });
        }
      }
    }
  }
  return { rules: [...openings.values()].flat().map((opening) => opening.rule), exposures };
}
