// GCP VPC firewall evaluation: which instances each internet-wide allow rule opens, on which ports,
// once the rules that GCP applies first (a lower priority number; deny before allow at a tie) and
// that deny the same traffic are taken away. Traffic no rule allows meets GCP's implied deny-all
// ingress, so only allow rules ever expose. Pure: fed Cloud Asset resources (the API's own data),
// so the inventory and a re-scan judge the same data the same way.
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import type { PortRange } from '../../../lib/alert';
import type { ContextInstance, ContextProblem, Exposure, ExposingRule, ProviderContext } from '../../../lib/context';
import { isInternetWide } from '../../../lib/internet';
import { mergePorts, parsePortSpec } from '../../../lib/ports';

export const FIREWALL_ASSET_TYPE = 'compute.googleapis.com/Firewall';
export const INSTANCE_ASSET_TYPE = 'compute.googleapis.com/Instance';

/** A Cloud Asset resource: its full name (`//compute.googleapis.com/projects/…`), type and data. */
export interface GcpAsset {
  name: string;
  assetType: string;
  /** `resource.data`: the Compute API's own representation, as plain JSON. */
  data: unknown;
}

const ALL_PORTS: PortRange = { from: 0, to: 65535 };

/** Lists the API leaves out (or an older export writes as null) read as empty. */
const list = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((items) => items ?? []);
const text = z.string().nullish();
// The Compute API's `id`: a uint64 written as a string, the number SCC names a firewall or an
// instance by. One of another shape (a number that lost its last digits in a double) is left out
// rather than failing the asset: the asset is judged all the same, only not found by that id.
const numericId = z.string().regex(/^\d+$/).nullish().catch(undefined);

const permissionSchema = z.looseObject({ IPProtocol: z.string(), ports: list(z.string()) });

const firewallSchema = z.looseObject({
  id: numericId,
  direction: z.string().nullish(),
  disabled: z.boolean().nullish(),
  priority: z.number().nullish(),
  network: text,
  sourceRanges: list(z.string()),
  sourceTags: list(z.string()),
  sourceServiceAccounts: list(z.string()),
  destinationRanges: list(z.string()),
  targetTags: list(z.string()),
  targetServiceAccounts: list(z.string()),
  allowed: list(permissionSchema),
  denied: list(permissionSchema),
});

// The current API writes natIP / networkIP / serviceAccounts; older Cloud Asset exports (and the
// fixtures taken from them) wrote externalIp / ipAddress / serviceAccount. Both are read.
const accessConfigSchema = z.looseObject({ natIP: text, externalIp: text, publicPtrDomainName: text });
const ipv6AccessConfigSchema = z.looseObject({ externalIpv6: text, publicPtrDomainName: text });
const networkInterfaceSchema = z.looseObject({
  network: text,
  networkIP: text,
  ipAddress: text,
  ipv6Address: text,
  accessConfigs: list(accessConfigSchema),
  ipv6AccessConfigs: list(ipv6AccessConfigSchema),
});
const serviceAccountSchema = z.looseObject({ email: text });
const instanceSchema = z.looseObject({
  id: numericId,
  status: text,
  networkInterfaces: list(networkInterfaceSchema),
  tags: z.looseObject({ items: list(z.string()) }).nullish(),
  labels: z.record(z.string(), z.string()).nullish(),
  serviceAccounts: list(serviceAccountSchema),
  serviceAccount: list(serviceAccountSchema),
});

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

interface Permission {
  protocol: string;
  ports: PortRange[];
}

interface Firewall {
  /** `projects/p/global/firewalls/name`, from the asset's name. */
  id: string;
  name: string;
  /** The Compute API's numeric id, when the data holds one. */
  numericId?: string;
  network: string;
  ingress: boolean;
  disabled: boolean;
  priority: number;
  sourceRanges: string[];
  sourceCidrs: Cidr[];
  internetCidrs: Cidr[];
  destinationCidrs: Cidr[];
  sourceReferences: string[];
  targetTags: string[];
  targetServiceAccounts: string[];
  allowed: Permission[];
  denied: Permission[];
}

interface PublicAddress {
  address: string;
  /** The address as a one-address range, parsed once for every rule that looks at it. */
  host: Cidr;
}

interface NetworkInterface {
  network: string;
  publicAddresses: PublicAddress[];
}

interface Instance {
  context: ContextInstance;
  running: boolean;
  networkTags: string[];
  serviceAccounts: string[];
  interfaces: NetworkInterface[];
}

// Instances in these states have no running network stack: listed, never exposed.
const STOPPED = new Set(['STOPPING', 'STOPPED', 'SUSPENDING', 'SUSPENDED', 'TERMINATED']);

/** Protocol numbers GCP accepts in place of names. */
const PROTOCOL_NAMES: Record<string, string> = { '1': 'icmp', '4': 'ipip', '6': 'tcp', '17': 'udp', '50': 'esp', '51': 'ah', '132': 'sctp' };
const PORTED_PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);
/** What an `all` allow is judged as once a deny names single protocols. */
const ALL_EXPANDED = ['tcp', 'udp', 'sctp', 'icmp'];

/** `projects/p/global/networks/n` from a network URL or path; the firewall's default network otherwise. */
function networkPath(network: string | null | undefined, project: string): string {
  return (network && /projects\/[^/]+\/global\/networks\/[^/]+$/.exec(network)?.[0]) ?? `projects/${project}/global/networks/default`;
}

function parseCidrs(ranges: readonly string[]): Cidr[] {
  return ranges.filter((range) => ipaddr.isValidCIDR(range)).map((range) => ipaddr.parseCIDR(range) as Cidr);
}

function covers([outer, bits]: Cidr, [inner, innerBits]: Cidr): boolean {
  return inner.kind() === outer.kind() && innerBits >= bits && inner.match(outer, bits);
}

function permissionOf(entry: z.infer<typeof permissionSchema>): Permission {
  const protocol = entry.IPProtocol.toLowerCase();
  const named = PROTOCOL_NAMES[protocol] ?? protocol;
  const ports = entry.ports.length === 0 ? [ALL_PORTS] : entry.ports.map(parsePortSpec).filter((range) => range !== undefined);
  return { protocol: named, ports: PORTED_PROTOCOLS.has(named) ? mergePorts(ports) : [ALL_PORTS] };
}

/** The ports of `ranges` that no range of `minus` holds: allow 1-1000 minus 22 is 1-21 and 23-1000. */
export function subtractPorts(ranges: readonly PortRange[], minus: readonly PortRange[]): PortRange[] {
  let remaining = mergePorts(ranges);
  for (const cut of mergePorts(minus)) {
    remaining = remaining.flatMap((range) => {
      if (cut.to < range.from || cut.from > range.to) return [range];
      const pieces: PortRange[] = [];
      if (cut.from > range.from) pieces.push({ from: range.from, to: cut.from - 1 });
      if (cut.to < range.to) pieces.push({ from: cut.to + 1, to: range.to });
      return pieces;
    });
  }
  return remaining;
}

const FIREWALL_NAME = /^\/\/compute\.googleapis\.com\/(projects\/([^/]+)\/global\/firewalls\/([^/]+))$/;
const INSTANCE_NAME = /^\/\/compute\.googleapis\.com\/(projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+))$/;

function readFirewall(asset: GcpAsset): Firewall | ContextProblem {
  const path = FIREWALL_NAME.exec(asset.name);
  const parsed = firewallSchema.safeParse(asset.data);
  if (!path || !parsed.success) return { provider: 'gcp', scope: asset.name, reason: `unreadable firewall data${parsed.error ? `: ${z.prettifyError(parsed.error)}` : ''}` };
  const data = parsed.data;
  return {
    id: path[1]!,
    name: path[3]!,
    ...(data.id ? { numericId: data.id } : {}),
    network: networkPath(data.network, path[2]!),
    ingress: (data.direction ?? 'INGRESS') === 'INGRESS',
    disabled: data.disabled ?? false,
    priority: data.priority ?? 1000,
    sourceRanges: data.sourceRanges,
    sourceCidrs: parseCidrs(data.sourceRanges),
    internetCidrs: parseCidrs(data.sourceRanges.filter(isInternetWide)),
    destinationCidrs: parseCidrs(data.destinationRanges),
    sourceReferences: [...data.sourceTags.map((tag) => `tag:${tag}`), ...data.sourceServiceAccounts],
    targetTags: data.targetTags,
    targetServiceAccounts: data.targetServiceAccounts,
    allowed: data.allowed.map(permissionOf),
    denied: data.denied.map(permissionOf),
  };
}

function readInstance(asset: GcpAsset): Instance | ContextProblem {
  const path = INSTANCE_NAME.exec(asset.name);
  const parsed = instanceSchema.safeParse(asset.data);
  if (!path || !parsed.success) return { provider: 'gcp', scope: asset.name, reason: `unreadable instance data${parsed.error ? `: ${z.prettifyError(parsed.error)}` : ''}` };
  const data = parsed.data;
  const [, id, project, zone, name] = path as unknown as [string, string, string, string, string];
  const interfaces = data.networkInterfaces.map((nic) => ({
    network: networkPath(nic.network, project),
    publicAddresses: [...nic.accessConfigs.map((config) => config.natIP ?? config.externalIp), ...nic.ipv6AccessConfigs.map((config) => config.externalIpv6)]
      .filter((address): address is string => !!address && ipaddr.isValid(address))
      .map((address) => {
        const parsed = ipaddr.parse(address);
        return { address, host: [parsed, parsed.kind() === 'ipv4' ? 32 : 128] as Cidr };
      }),
  }));
  const networkTags = data.tags?.items ?? [];
  const dnsNames = data.networkInterfaces.flatMap((nic) => [...nic.accessConfigs, ...nic.ipv6AccessConfigs].map((config) => config.publicPtrDomainName));
  return {
    context: {
      provider: 'gcp',
      type: 'gcp:compute:instance',
      id,
      ...(data.id ? { aliases: [data.id] } : {}),
      name,
      account: project,
      region: zone,
      publicAddresses: [...new Set(interfaces.flatMap((nic) => nic.publicAddresses.map(({ address }) => address)))],
      privateAddresses: [...new Set(data.networkInterfaces.flatMap((nic) => [nic.networkIP ?? nic.ipAddress, nic.ipv6Address]).filter((address): address is string => !!address))],
      dnsNames: [...new Set(dnsNames.filter((dnsName): dnsName is string => !!dnsName))],
      tags: { ...Object.fromEntries(networkTags.map((tag) => [`tag:${tag}`, ''])), ...(data.labels ?? {}) },
    },
    running: !STOPPED.has(data.status ?? 'RUNNING'),
    networkTags,
    serviceAccounts: [...data.serviceAccounts, ...data.serviceAccount].map((account) => account.email).filter((email): email is string => !!email),
    interfaces,
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** Target service accounts, else target tags, else every instance of the network. */
function targets(rule: Firewall, instance: Instance): boolean {
  if (rule.targetServiceAccounts.length > 0) return instance.serviceAccounts.some((email) => rule.targetServiceAccounts.includes(email));
  if (rule.targetTags.length > 0) return instance.networkTags.some((tag) => rule.targetTags.includes(tag));
  return true;
}

function reachesAddress(rule: Firewall, address: Cidr): boolean {
  return rule.destinationCidrs.length === 0 || rule.destinationCidrs.some((range) => covers(range, address));
}

/** The protocols and ports `denies` leave open of one allowed permission. */
function remainingOpen(permission: Permission, denies: readonly Permission[]): Permission[] {
  if (denies.some((deny) => deny.protocol === 'all')) return [];
  if (permission.protocol === 'all') {
    if (denies.length === 0) return [permission];
    return ALL_EXPANDED.flatMap((protocol) => remainingOpen({ protocol, ports: [ALL_PORTS] }, denies));
  }
  const denied = denies.filter((deny) => deny.protocol === permission.protocol).flatMap((deny) => deny.ports);
  const ports = subtractPorts(permission.ports, denied);
  return ports.length > 0 ? [{ protocol: permission.protocol, ports }] : [];
}

function exposingRule(rule: Firewall): ExposingRule {
  const protocols = [...new Set(rule.allowed.map((permission) => permission.protocol))];
  return {
    id: rule.id,
    // The plain name: it is part of each inventory finding a watch compares (lib/context.ts), so a
    // name that changed shape would report a change on every watched issue. The id is shown beside it.
    name: rule.name,
    ...(rule.numericId ? { aliases: [rule.numericId] } : {}),
    protocol: protocols.includes('all') ? 'all' : protocols.join(','),
    ports: mergePorts(rule.allowed.flatMap((permission) => permission.ports)),
    sources: [...rule.sourceRanges, ...rule.sourceReferences],
  };
}

/**
 * What the firewalls among `assets` expose of the instances among them: every instance (running or
 * not), every enabled ingress allow rule with an internet-wide source range, and each public
 * address × protocol × port range such a rule still opens once the deny rules GCP applies before
 * it are taken away. A deny counts when its source ranges hold all of the allow rule's
 * internet-wide ranges of the address's family; a deny from a narrower source leaves the rest of
 * the internet in, so it is (on the safe side) taken to close nothing. Assets whose data cannot be
 * read are problems.
 */
export function evaluateGcpFirewalls(assets: readonly GcpAsset[]): ProviderContext {
  const problems: ContextProblem[] = [];
  const firewalls: Firewall[] = [];
  const instances: Instance[] = [];
  for (const asset of assets) {
    if (asset.assetType === FIREWALL_ASSET_TYPE || asset.assetType === INSTANCE_ASSET_TYPE) {
      const read = asset.assetType === FIREWALL_ASSET_TYPE ? readFirewall(asset) : readInstance(asset);
      if ('reason' in read) problems.push(read);
      else if ('context' in read) instances.push(read);
      else firewalls.push(read);
    }
  }

  const active = firewalls.filter((rule) => rule.ingress && !rule.disabled);
  const exposing = active.filter((rule) => rule.allowed.length > 0 && rule.internetCidrs.length > 0);
  // Deny rules by network, lowest priority number first, so each allow looks only at those before it.
  const deniesByNetwork = groupBy(
    active.filter((rule) => rule.denied.length > 0).sort((a, b) => a.priority - b.priority),
    (rule) => rule.network,
  );
  // Each running interface with the deny rules that target it, worked out once rather than per allow.
  const interfacesByNetwork = groupBy(
    instances
      .filter((instance) => instance.running)
      .flatMap((instance) => instance.interfaces.map((nic) => ({ instance, nic, denies: (deniesByNetwork.get(nic.network) ?? []).filter((deny) => targets(deny, instance)) }))),
    ({ nic }) => nic.network,
  );

  const exposures: Exposure[] = [];
  for (const rule of exposing) {
    // Whether a deny's sources hold this rule's internet-wide ones, per address family: the same for every instance.
    const holdsSources = { ipv4: new Map<Firewall, boolean>(), ipv6: new Map<Firewall, boolean>() };
    // What stays open behind a given set of denies: instances alike in tags share it.
    const openBehind = new Map<string, Permission[]>();
    for (const { instance, nic, denies } of interfacesByNetwork.get(rule.network) ?? []) {
      if (!targets(rule, instance)) continue;
      for (const { address, host } of nic.publicAddresses) {
        const family = host[0].kind();
        const sources = rule.internetCidrs.filter(([range]) => range.kind() === family);
        if (sources.length === 0 || !reachesAddress(rule, host)) continue;
        const closing: Firewall[] = [];
        for (const deny of denies) {
          if (deny.priority > rule.priority) break;
          let holds = holdsSources[family].get(deny);
          if (holds === undefined) {
            holds = sources.every((source) => deny.sourceCidrs.some((range) => covers(range, source)));
            holdsSources[family].set(deny, holds);
          }
          if (holds && reachesAddress(deny, host)) closing.push(deny);
        }
        const key = closing.map((deny) => deny.id).join(' ');
        let open = openBehind.get(key);
        if (!open) {
          const denied = closing.flatMap((deny) => deny.denied);
          open = rule.allowed.flatMap((permission) => remainingOpen(permission, denied));
          openBehind.set(key, open);
        }
        for (const permission of open) {
          for (const ports of permission.ports) exposures.push({ instance: instance.context.id, address, protocol: permission.protocol, ports, rule: rule.id });
        }
      }
    }
  }

  return { instances: instances.map((instance) => instance.context), rules: exposing.map(exposingRule), exposures, problems };
}
