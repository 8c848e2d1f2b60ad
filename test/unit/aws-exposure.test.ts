// What security groups open to the internet: worked examples, then properties over random groups.
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import {
  calculateExposures,
  interfaceAddresses,
  type IpPermission,
  type NetworkInterface,
  type PrefixListEntries,
  type SecurityGroup,
} from '../../activities/context/aws/exposure';
import type { Exposure } from '../../lib/context';

const noLists: PrefixListEntries = new Map();
const web: SecurityGroup = {
  GroupId: 'sg-web',
  GroupName: 'web',
  IpPermissions: [
    { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
    { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-lb' }] },
    { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: '203.0.113.0/24' }] },
  ],
};
const eni = (extra: Partial<NetworkInterface> = {}): NetworkInterface => ({
  NetworkInterfaceId: 'eni-1',
  Attachment: { InstanceId: 'i-1' },
  Groups: [{ GroupId: 'sg-web' }],
  Association: { PublicIp: '198.51.100.10', PublicDnsName: 'ec2-198-51-100-10.compute-1.amazonaws.com' },
  PrivateIpAddress: '10.0.0.5',
  PrivateDnsName: 'ip-10-0-0-5.ec2.internal',
  Ipv6Addresses: [{ Ipv6Address: '2600:1f18::5' }, { Ipv6Address: 'fd00::5' }],
  ...extra,
});
const brief = (exposures: Exposure[]) => exposures.map((e) => `${e.instance} ${e.address} ${e.protocol}/${e.ports.from}-${e.ports.to} ${e.rule}`).sort();

describe('security-group exposure (examples)', () => {
  it('opens IPv4 sources to IPv4 addresses and IPv6 sources to IPv6 ones; group references and narrow ranges open nothing', () => {
    const { rules, exposures } = calculateExposures({ groups: [web], interfaces: [eni()], prefixLists: noLists });
    expect(rules).toEqual([
      { id: 'sg-web/ingress/tcp/22-22', name: 'web (sg-web) tcp 22', protocol: 'tcp', ports: [{ from: 22, to: 22 }], sources: ['0.0.0.0/0'] },
      { id: 'sg-web/ingress/tcp/443-443', name: 'web (sg-web) tcp 443', protocol: 'tcp', ports: [{ from: 443, to: 443 }], sources: ['::/0'] },
      { id: 'sg-web/ingress/all/0-65535', name: 'web (sg-web) all traffic', protocol: 'all', ports: [{ from: 0, to: 65535 }], sources: ['sg-lb'] },
      { id: 'sg-web/ingress/tcp/5432-5432', name: 'web (sg-web) tcp 5432', protocol: 'tcp', ports: [{ from: 5432, to: 5432 }], sources: ['203.0.113.0/24'] },
    ]);
    expect(brief(exposures)).toEqual([
      'i-1 198.51.100.10 tcp/22-22 sg-web/ingress/tcp/22-22',
      'i-1 2600:1f18::5 tcp/443-443 sg-web/ingress/tcp/443-443',
    ]);
  });

  it('names protocols and port ranges as EC2 means them', () => {
    const group: SecurityGroup = {
      GroupId: 'sg-x',
      IpPermissions: [
        { IpProtocol: '6', FromPort: 8000, ToPort: 8080, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'udp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'icmp', FromPort: 8, ToPort: -1, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'icmpv6', FromPort: -1, ToPort: -1, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
        { IpProtocol: '50', IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
    };
    const { rules } = calculateExposures({ groups: [group], interfaces: [], prefixLists: noLists });
    expect(rules.map((rule) => [rule.id, rule.name, rule.protocol, rule.ports])).toEqual([
      ['sg-x/ingress/tcp/8000-8080', 'sg-x tcp 8000-8080', 'tcp', [{ from: 8000, to: 8080 }]],
      ['sg-x/ingress/udp/0-65535', 'sg-x udp all ports', 'udp', [{ from: 0, to: 65535 }]],
      ['sg-x/ingress/icmp/8-all', 'sg-x icmp type 8', 'icmp', [{ from: 0, to: 65535 }]],
      ['sg-x/ingress/icmpv6/all-all', 'sg-x icmpv6', 'icmpv6', [{ from: 0, to: 65535 }]],
      ['sg-x/ingress/50/all-all', 'sg-x protocol 50', '50', [{ from: 0, to: 65535 }]],
    ]);
  });

  it('reads prefix lists conservatively: an unreadable list may be the internet, for both families', () => {
    const group: SecurityGroup = {
      GroupId: 'sg-pl',
      GroupName: 'pl',
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, PrefixListIds: [{ PrefixListId: 'pl-open' }] },
        { IpProtocol: 'tcp', FromPort: 81, ToPort: 81, PrefixListIds: [{ PrefixListId: 'pl-office' }] },
        { IpProtocol: 'tcp', FromPort: 82, ToPort: 82, PrefixListIds: [{ PrefixListId: 'pl-secret' }] },
      ],
    };
    const prefixLists = new Map([
      ['pl-open', ['0.0.0.0/0']],
      ['pl-office', ['203.0.113.0/24', '2001:db8:1::/48']],
    ]);
    const { rules, exposures } = calculateExposures({ groups: [group], interfaces: [eni({ Groups: [{ GroupId: 'sg-pl' }] })], prefixLists });
    expect(rules.map((rule) => rule.sources)).toEqual([['pl-open', '0.0.0.0/0'], ['pl-office', '203.0.113.0/24', '2001:db8:1::/48'], ['pl-secret (entries unreadable)']]);
    expect(brief(exposures)).toEqual([
      'i-1 198.51.100.10 tcp/80-80 sg-pl/ingress/tcp/80-80',
      'i-1 198.51.100.10 tcp/82-82 sg-pl/ingress/tcp/82-82',
      'i-1 2600:1f18::5 tcp/82-82 sg-pl/ingress/tcp/82-82',
    ]);
  });

  it('finds public addresses on secondary private addresses, and stands an unattached interface for itself', () => {
    const lb = eni({
      NetworkInterfaceId: 'eni-lb',
      Attachment: undefined,
      Association: undefined,
      Ipv6Addresses: undefined,
      PrivateIpAddresses: [
        { PrivateIpAddress: '10.0.0.5', PrivateDnsName: 'ip-10-0-0-5.ec2.internal' },
        { PrivateIpAddress: '10.0.0.6', Association: { PublicIp: '198.51.100.11', PublicDnsName: 'ec2-198-51-100-11.compute-1.amazonaws.com' } },
      ],
    });
    expect(interfaceAddresses(lb)).toEqual({
      publicAddresses: ['198.51.100.11'],
      privateAddresses: ['10.0.0.5', '10.0.0.6'],
      dnsNames: ['ip-10-0-0-5.ec2.internal', 'ec2-198-51-100-11.compute-1.amazonaws.com'],
    });
    expect(brief(calculateExposures({ groups: [web], interfaces: [lb], prefixLists: noLists }).exposures)).toEqual([
      'eni-lb 198.51.100.11 tcp/22-22 sg-web/ingress/tcp/22-22',
    ]);
    expect(interfaceAddresses(eni())).toMatchObject({ publicAddresses: ['198.51.100.10', '2600:1f18::5'], privateAddresses: ['10.0.0.5', 'fd00::5'] });
  });
});

// Random groups and interfaces. Sources mix internet-wide, narrow and private ranges of both
// families; prefix lists are readable (with such entries) or not.
const v4Sources = ['0.0.0.0/0', '0.0.0.0/1', '52.0.0.0/8', '10.0.0.0/8', '203.0.113.0/24', '198.51.100.7/32', '127.0.0.0/8'];
const v6Sources = ['::/0', '2000::/3', '2600::/16', '2600:1f18::/40', 'fd00::/8', 'fe80::/10'];
const listIds = ['pl-a', 'pl-b', 'pl-c'];
const groupIds = ['sg-1', 'sg-2', 'sg-3'];

const portBound = fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.constant(-1), fc.constant(undefined));
const ported = (protocol: string | undefined) => ['tcp', 'udp', '6', '17'].includes(protocol ?? '');
const permission: fc.Arbitrary<IpPermission> = fc
  .record({
    IpProtocol: fc.constantFrom('-1', 'tcp', 'udp', 'icmp', '6', '17', '50'),
    bounds: fc.tuple(portBound, portBound),
    IpRanges: fc.subarray(v4Sources).map((cidrs) => cidrs.map((CidrIp) => ({ CidrIp }))),
    Ipv6Ranges: fc.subarray(v6Sources).map((cidrs) => cidrs.map((CidrIpv6) => ({ CidrIpv6 }))),
    UserIdGroupPairs: fc.subarray(groupIds).map((ids) => ids.map((GroupId) => ({ GroupId }))),
    PrefixListIds: fc.subarray(listIds).map((ids) => ids.map((PrefixListId) => ({ PrefixListId }))),
  })
  .map(({ bounds: [a, b], ...rest }): IpPermission => {
    // As EC2 keeps them: TCP/UDP with a range, ICMP with a type and code (-1 for all), others without.
    if (ported(rest.IpProtocol)) {
      if (a === undefined || b === undefined || a < 0 || b < 0) return { ...rest, FromPort: -1, ToPort: -1 };
      return { ...rest, FromPort: Math.min(a, b), ToPort: Math.max(a, b) };
    }
    if (rest.IpProtocol === 'icmp') return { ...rest, FromPort: a ?? -1, ToPort: b ?? -1 };
    return rest;
  });
/** EC2 merges permissions with the same protocol and ports: one each. */
const permissionKey = (p: IpPermission) => {
  const protocol = ({ '6': 'tcp', '17': 'udp' } as Record<string, string>)[p.IpProtocol!] ?? p.IpProtocol;
  const ports = ported(protocol) && p.FromPort! < 0 ? '0/65535' : `${p.FromPort}/${p.ToPort}`;
  return `${protocol}/${ports}`;
};
const permissions = fc.uniqueArray(permission, { maxLength: 5, selector: permissionKey });
const groups = fc.tuple(...groupIds.map((GroupId) => permissions.map((IpPermissions): SecurityGroup => ({ GroupId, GroupName: GroupId, IpPermissions }))));
const prefixLists: fc.Arbitrary<PrefixListEntries> = fc
  .tuple(...listIds.map((id) => fc.option(fc.subarray([...v4Sources, ...v6Sources]).map((entries) => [id, entries] as const), { nil: undefined })))
  .map((lists) => new Map(lists.filter((list) => list !== undefined)));
const v6Address = fc.oneof(fc.ipV6(), fc.constantFrom('2600:1f18::5', 'fe80::1', 'fd00::5'));
const interfaces = fc.uniqueArray(
  fc.record({
    NetworkInterfaceId: fc.constantFrom('eni-1', 'eni-2', 'eni-3'),
    Groups: fc.subarray(groupIds).map((ids) => ids.map((GroupId) => ({ GroupId }))),
    Association: fc.option(fc.ipV4().map((PublicIp) => ({ PublicIp })), { nil: undefined }),
    Ipv6Addresses: fc.array(v6Address.map((Ipv6Address) => ({ Ipv6Address })), { maxLength: 2 }),
  }),
  { maxLength: 3, selector: (eni) => eni.NetworkInterfaceId },
);
const scenario = fc.record({ groups, interfaces, prefixLists });

/** The pool's sources that let in the internet, spelled out rather than computed. */
const internetWide = new Set(['0.0.0.0/0', '0.0.0.0/1', '52.0.0.0/8', '::/0', '2000::/3', '2600::/16']);

/** Independent statement of the rule: is `address` reachable from the internet on `port`? */
function shouldBeOpen(s: { groups: SecurityGroup[]; prefixLists: PrefixListEntries }, eniGroups: string[], address: string, port: number): boolean {
  const family = ipaddr.parse(address).kind();
  return s.groups
    .filter((group) => eniGroups.includes(group.GroupId!))
    .flatMap((group) => group.IpPermissions ?? [])
    .some((p) => {
      if (ported(p.IpProtocol) && p.FromPort! >= 0 && !(p.FromPort! <= port && port <= p.ToPort!)) return false;
      const lists = (p.PrefixListIds ?? []).map((pl) => s.prefixLists.get(pl.PrefixListId!));
      if (lists.some((entries) => entries === undefined)) return true;
      const cidrs = [...(p.IpRanges ?? []).map((r) => r.CidrIp!), ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6!), ...lists.flatMap((entries) => entries ?? [])];
      return cidrs.some((cidr) => internetWide.has(cidr) && ipaddr.parseCIDR(cidr)[0].kind() === family);
    });
}

/** Associated IPv4 addresses are public; IPv6 ones when global unicast (first three bits 001). */
const isPublic = (address: string) => ipaddr.IPv4.isValid(address) || ipaddr.IPv6.parse(address).parts[0]! >> 13 === 1;
const keys = (exposures: Exposure[]) => new Set(exposures.map((e) => `${e.instance} ${e.address} ${e.protocol} ${e.ports.from}-${e.ports.to} ${e.rule}`));

describe('security-group exposure (properties)', () => {
  it('exposes a public address on a port iff an attached permission covers the port with an internet-wide source of its family', () => {
    fc.assert(
      fc.property(scenario, fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 1, maxLength: 5 }), (s, randomPorts) => {
        const { exposures } = calculateExposures(s);
        const boundaries = s.groups.flatMap((g) => (g.IpPermissions ?? []).flatMap((p) => [p.FromPort, p.ToPort])).filter((n): n is number => n !== undefined && n >= 0);
        for (const eni of s.interfaces) {
          const eniGroups = (eni.Groups ?? []).map((g) => g.GroupId!);
          const addresses = [eni.Association?.PublicIp, ...eni.Ipv6Addresses.map((a) => a.Ipv6Address)].filter((a): a is string => a !== undefined);
          for (const address of addresses) {
            for (const port of [...randomPorts, ...boundaries, 0, 65535]) {
              const exposed = exposures.some((e) => e.instance === eni.NetworkInterfaceId && ipaddr.parse(e.address).toString() === ipaddr.parse(address).toString() && e.ports.from <= port && port <= e.ports.to);
              expect(exposed, `${address}:${port}`).toBe(isPublic(address) && shouldBeOpen(s, eniGroups, address, port));
            }
          }
        }
      }),
    );
  });

  it('lets "all" protocols in on every port', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.constantFrom('-1', '50', 'icmp'), (address, IpProtocol) => {
        const group = { GroupId: 'sg-1', IpPermissions: [{ IpProtocol, FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] };
        const { exposures } = calculateExposures({ groups: [group], interfaces: [{ NetworkInterfaceId: 'eni-1', Groups: [{ GroupId: 'sg-1' }], Association: { PublicIp: address } }], prefixLists: noLists });
        expect(exposures.map((e) => e.ports)).toEqual([{ from: 0, to: 65535 }]);
      }),
    );
  });

  it('never exposes through group references, whatever the groups', () => {
    const onlyReferences = scenario.map((s) => ({
      ...s,
      groups: s.groups.map((g) => ({ ...g, IpPermissions: g.IpPermissions?.map((p) => ({ ...p, IpRanges: [], Ipv6Ranges: [], PrefixListIds: [] })) })),
    }));
    fc.assert(
      fc.property(onlyReferences, (s) => {
        const { rules, exposures } = calculateExposures(s);
        expect(exposures).toEqual([]);
        for (const rule of rules) expect(rule.sources.every((source) => groupIds.includes(source))).toBe(true);
      }),
    );
  });

  it('never adds an exposure when sources are narrowed or unreadable lists become readable', () => {
    const narrowed = scenario.chain((s) =>
      fc
        .tuple(
          fc.constant(s),
          fc.func(fc.boolean()),
          fc.subarray([...v4Sources.filter((c) => c.endsWith('/24') || c.endsWith('/32')), 'fd00::/8']),
        )
        .map(([full, keep, narrowEntries]) => {
          const groups = full.groups.map((g) => ({
            ...g,
            IpPermissions: g.IpPermissions?.map((p) => ({
              ...p,
              IpRanges: p.IpRanges?.filter((r) => keep(r.CidrIp)),
              Ipv6Ranges: p.Ipv6Ranges?.filter((r) => keep(r.CidrIpv6)),
            })),
          }));
          const lists = new Map(listIds.map((id) => [id, full.prefixLists.get(id)?.filter((entry) => keep(entry)) ?? narrowEntries]));
          return { full, narrow: { ...full, groups, prefixLists: lists } };
        }),
    );
    fc.assert(
      fc.property(narrowed, ({ full, narrow }) => {
        const wide = keys(calculateExposures(full).exposures);
        for (const key of keys(calculateExposures(narrow).exposures)) expect(wide.has(key), key).toBe(true);
      }),
    );
  });

  it('gives every rule an id that is unique and does not depend on the order of permissions', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const ids = calculateExposures(s).rules.map((rule) => rule.id);
        expect(new Set(ids).size).toBe(ids.length);
        const reversed = s.groups.map((g) => ({ ...g, IpPermissions: [...(g.IpPermissions ?? [])].reverse() }));
        expect(calculateExposures({ ...s, groups: reversed }).rules.map((rule) => rule.id).sort()).toEqual([...ids].sort());
      }),
    );
  });
});
