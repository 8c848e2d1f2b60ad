// Resource context: which machines an alert is about, which of their addresses are public, and
// which rule opens which port to the internet. Inventory providers produce it; the workflow keeps it
// (so it must stay plain, serialisable data) and the probes take their targets from it.
import type { PortRange } from './alert';
import type { Finding } from './finding';

/** A rule that lets traffic in (a security-group permission, a firewall, a static declaration). */
export interface ExposingRule {
  /** Provider id, unique within one context: `sg-0abc…/ingress/3`, `projects/p/global/firewalls/x`. */
  id: string;
  /**
   * What a person calls it: the group name with its id and the permission (`web (sg-0abc…) tcp 22`),
   * or the firewall's name (`default-allow-ssh`; its numeric id is in `aliases`). Part of each
   * inventory finding a watch compares, so its shape must not change.
   */
  name: string;
  /** Other ids of the same rule that alerts use instead of `id` (a GCP firewall's numeric id), shown beside its name. */
  aliases?: string[];
  /** `tcp`, `udp`, `icmp`, `all`, or the provider's own protocol name. */
  protocol: string;
  /** Inclusive ranges; "all ports" is `0-65535`. */
  ports: PortRange[];
  /** Source ranges, and references that are not ranges (`sg-123`, `pl-abc`) as the provider names them. */
  sources: string[];
}

export interface ContextInstance {
  /** `aws`, `gcp`, `static`, ... */
  provider: string;
  /**
   * What it is, in alerts' vocabulary (`ResourceRef.type`): `aws:ec2:instance`,
   * `aws:ec2:network-interface`, `gcp:compute:instance`. Set by the provider, which alone knows.
   */
  type: string;
  /** Provider id: `i-0abc…`, `projects/p/zones/z/instances/name`, a static name. */
  id: string;
  /**
   * Other ids of the same machine that alerts and settings use instead of `id` (a GCP instance's
   * numeric id): a `rescan.allow` entry may name it by one of them.
   */
  aliases?: string[];
  name?: string;
  /** AWS account id, GCP project id, or a static inventory's owner. */
  account?: string;
  region?: string;
  publicAddresses: string[];
  privateAddresses: string[];
  dnsNames: string[];
  /** Tags (AWS), labels and network tags (GCP, as `tag:<name>` keys). */
  tags: Record<string, string>;
}

/** One public address × port range that a rule opens to the internet. */
export interface Exposure {
  /** `ContextInstance.id` of the machine the address belongs to. */
  instance: string;
  address: string;
  protocol: string;
  ports: PortRange;
  /** `ExposingRule.id` of the rule that opens it. */
  rule: string;
}

/** Context that could not be read, said in the issue rather than left out silently. */
export interface ContextProblem {
  provider: string;
  /** What was being read: an account and region, a GCP scope, a file. */
  scope: string;
  /** Why, in words: `access denied (AccessDenied)`, `account 1234 is not configured`. */
  reason: string;
}

export interface ResourceContext {
  /** The providers that were asked (none when no inventory is configured). */
  consulted: string[];
  instances: ContextInstance[];
  rules: ExposingRule[];
  exposures: Exposure[];
  problems: ContextProblem[];
}

/** What one provider answers; the registry records which providers were consulted. */
export type ProviderContext = Omit<ResourceContext, 'consulted'>;

export function emptyContext(): ResourceContext {
  return { consulted: [], instances: [], rules: [], exposures: [], problems: [] };
}

/** One context from several providers' answers; the same instance, rule or exposure counts once. */
export function mergeContexts(contexts: readonly (ProviderContext & { consulted?: string[] })[]): ResourceContext {
  const unique = <T>(items: T[], key: (item: T) => string) => [...new Map(items.map((item) => [key(item), item])).values()];
  return {
    consulted: [...new Set(contexts.flatMap((c) => c.consulted ?? []))],
    instances: unique(contexts.flatMap((c) => c.instances), (i) => `${i.provider}\u0000${i.id}`),
    rules: unique(contexts.flatMap((c) => c.rules), (r) => r.id),
    exposures: unique(
      contexts.flatMap((c) => c.exposures),
      (e) => [e.instance, e.address, e.protocol, e.ports.from, e.ports.to, e.rule].join('\u0000'),
    ),
    problems: unique(contexts.flatMap((c) => c.problems), (p) => `${p.provider}\u0000${p.scope}\u0000${p.reason}`),
  };
}

/**
 * The inventory's side of an exposure as findings, compared run to run like the probes' findings:
 * a rule revoked is a change on the issue even when nothing could be probed.
 */
export function inventoryFindings(context: ResourceContext): Finding[] {
  const rules = new Map(context.rules.map((rule) => [rule.id, rule]));
  return context.exposures.map(({ instance, address, protocol, ports, rule }) => {
    const range = ports.from === ports.to ? String(ports.from) : `${ports.from}-${ports.to}`;
    return {
      key: `inventory/${address}/${protocol}/${range}`,
      check: 'inventory',
      target: `${address} ${protocol}/${range}`,
      status: 'exposed',
      fields: { instance, rule: rules.get(rule)?.name ?? rule },
    };
  });
}
