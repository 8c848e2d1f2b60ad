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

/** The kinds of resource beyond machines that can be public, each with its own way of proving it. */
export const resourceClasses = ['storage', 'database', 'load-balancer', 'snapshot', 'serverless'] as const;
export type ResourceClass = (typeof resourceClasses)[number];

/**
 * How an outsider would show a resource public, strictly within the probe scope. The inventory
 * builds them; the exposure checks carry them out (activities/probe/proofs). A snapshot or image
 * has none: its sharing attribute, read again by the inventory, is the proof.
 */
export type ResourceProof =
  /** TCP and the service checks on a database's or load balancer's public name or address (web listeners also get a screenshot). */
  | { kind: 'endpoint'; host: string; ports: number[] }
  /** An unauthenticated HEAD, then GET, of a function URL or API stage (`https://…/`). */
  | { kind: 'url'; url: string }
  /**
   * An anonymous list of the bucket and an anonymous metadata read (HEAD) of one object it lists,
   * never its content, at the provider's endpoint (`baseUrl`, path-style: `<baseUrl>/<bucket>`).
   */
  | { kind: 'bucket'; provider: 'aws' | 'gcp'; bucket: string; baseUrl: string };

/**
 * A bucket, database, load balancer, snapshot or image, or serverless entry point, as its inventory
 * read it, public or not: an alert about it, and its watch, see it turn private.
 */
export interface PublicResource {
  provider: string;
  class: ResourceClass;
  /** In alerts' vocabulary (`ResourceRef.type`): `aws:s3:bucket`, `aws:rds:db-instance`, `gcp:storage:bucket`… */
  type: string;
  /** The id alerts use most: a bucket's name, `snap-…`, `ami-…`, an ARN, a GCP full resource name. */
  id: string;
  /** Other ids of the same resource (its ARN beside its name, a numeric id). */
  aliases?: string[];
  name?: string;
  /** AWS account id or GCP project id. */
  account?: string;
  region?: string;
  /** Whether its configuration lets anyone on the internet (or an account outside the organisation) reach it. */
  public: boolean;
  /**
   * Why, one short sentence each, in the provider's terms (`the bucket policy allows s3:GetObject to
   * everyone`, `shared with account 444455556666, outside the organisation`); why not when private
   * (`Block Public Access (account) blocks public policies`). Compared run to run by the watch.
   */
  reasons: string[];
  /** A few facts shown beside it (engine, endpoint, listeners, shared with): stable values only. */
  facts: Record<string, string>;
  /** What the exposure checks try from outside; empty when it is private. */
  proofs: ResourceProof[];
  tags: Record<string, string>;
}

export interface ResourceContext {
  /** The providers that were asked (none when no inventory is configured). */
  consulted: string[];
  instances: ContextInstance[];
  rules: ExposingRule[];
  exposures: Exposure[];
  /** Buckets, databases, load balancers, snapshots and serverless entry points (absent in contexts recorded before they were read). */
  resources?: PublicResource[];
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
    resources: unique(contexts.flatMap((c) => c.resources ?? []), (r) => `${r.provider}\u0000${r.type}\u0000${r.id}`),
    problems: unique(contexts.flatMap((c) => c.problems), (p) => `${p.provider}\u0000${p.scope}\u0000${p.reason}`),
  };
}

/**
 * The inventory's side of an exposure as findings, compared run to run like the probes' findings:
 * a rule revoked is a change on the issue even when nothing could be probed.
 */
export function inventoryFindings(context: ResourceContext): Finding[] {
  const rules = new Map(context.rules.map((rule) => [rule.id, rule]));
  const exposures = context.exposures.map(({ instance, address, protocol, ports, rule }): Finding => {
    const range = ports.from === ports.to ? String(ports.from) : `${ports.from}-${ports.to}`;
    return {
      key: `inventory/${address}/${protocol}/${range}`,
      check: 'inventory',
      target: `${address} ${protocol}/${range}`,
      status: 'exposed',
      fields: { instance, rule: rules.get(rule)?.name ?? rule },
    };
  });
  // Every resource read, public or not: one turning private is a change on the issue, not a silence.
  const resources = (context.resources ?? []).map(
    (resource): Finding => ({
      key: `inventory/${resource.type}/${resource.id}`,
      check: 'inventory',
      target: resource.name && resource.name !== resource.id ? `${resource.name} (${resource.id})` : resource.id,
      status: resource.public ? 'public' : 'private',
      fields: { class: resource.class, why: resource.reasons.join('; ') },
    }),
  );
  return [...exposures, ...resources];
}

/**
 * A look at which the inventory could not read everything: the earlier inventory findings it has
 * no answer for are kept as they were, since unread is not gone (a lost permission is no remediation).
 */
export function keepUnread(before: readonly Finding[], now: readonly Finding[]): Finding[] {
  const seen = new Set(now.map((finding) => finding.key));
  return [...now, ...before.filter((finding) => finding.check === 'inventory' && !seen.has(finding.key))];
}

/** The `check` of the findings proofs make (activities/probe/proofs): each is named by its proof's kind. */
export const PROOF_CHECKS: ReadonlySet<string> = new Set<Exclude<ResourceProof['kind'], 'endpoint'>>(['bucket', 'url']);

/** A finding about a bucket, database, snapshot or entry point: the inventory's verdict or an outsider's proof. */
export const isResourceFinding = (finding: Finding): boolean =>
  (finding.check === 'inventory' && typeof finding.fields.class === 'string') || PROOF_CHECKS.has(finding.check);

/** Whether the context holds anything the internet reaches: an exposed machine or a public resource. */
export const publiclyExposed = (context: ResourceContext): boolean => context.exposures.length > 0 || (context.resources ?? []).some((resource) => resource.public);
