// The re-scan's judgement, pure: which machines of one scope the internet reaches on a sensitive
// port, and which buckets, databases, load balancers, snapshots and serverless entry points are
// public, less those a current allowance (configured in `rescan.allow`, or a risk accepted on an
// issue) lets stay public. Sized for whole accounts (10,000 rules,
// 5,000 instances): one pass over the exposures with a binary search per range, and allowances
// looked up by key rather than scanned.
import type { PortRange } from '../../lib/alert';
import type { RescanSettings } from '../../lib/config';
import type { ContextInstance, Exposure, ProviderContext, PublicResource } from '../../lib/context';
import { mergePorts } from '../../lib/ports';
import type { StoredAcceptance } from '../response/accepted-risk';

export type RescanFinding =
  | {
      instance: ContextInstance;
      /** Its exposures that open at least one sensitive port. */
      exposures: Exposure[];
    }
  /** A public resource beyond machines. */
  | { resource: PublicResource };

export interface AllowedInstance {
  /** The machine's or resource's id. */
  instance: string;
  /** The resource's type, for a resource beyond machines (`aws:s3:bucket`). */
  type?: string;
  reason: string;
  expires: string;
}

export interface RescanEvaluation {
  violations: RescanFinding[];
  allowed: AllowedInstance[];
}

type Allowance = RescanSettings['allow'][number];

/**
 * Risks accepted on issues as allowances by resource id, after the configured ones; their reason
 * says who accepted the risk, on which investigation, and why.
 */
function acceptedAllowances(accepted: readonly StoredAcceptance[]): Allowance[] {
  return accepted.flatMap(({ resources, reason, expires, by, workflowId }) =>
    resources.map(({ id }) => ({ resource: id, reason: `risk accepted by ${by} on the issue of ${workflowId}: ${reason}`, expires })),
  );
}

/** Protocols whose rules open ports; ICMP and the like open none that a sensitive port names. */
const PORTED_PROTOCOLS = new Set(['tcp', 'udp', 'all']);

const sortedPorts = (ports: readonly number[]) => Int32Array.from(new Set(ports)).sort();

/** Index of the first port ≥ `from` in a sorted array (its length when none is). */
function firstAtLeast(sorted: Int32Array, from: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < from) low = middle + 1;
    else high = middle;
  }
  return low;
}

function holdsAny(sorted: Int32Array, range: PortRange): boolean {
  const index = firstAtLeast(sorted, range.from);
  return index < sorted.length && sorted[index]! <= range.to;
}

const opensSensitivePort = (sorted: Int32Array, exposure: Exposure) => PORTED_PROTOCOLS.has(exposure.protocol.toLowerCase()) && holdsAny(sorted, exposure.ports);

/** The sensitive ports the exposures open, per protocol (`tcp`, `udp`, `all`), as merged ranges. */
export function exposedSensitivePorts(exposures: readonly Exposure[], sensitivePorts: readonly number[]): { protocol: string; ports: PortRange[] }[] {
  const sorted = sortedPorts(sensitivePorts);
  const byProtocol = new Map<string, PortRange[]>();
  for (const exposure of exposures) {
    const protocol = exposure.protocol.toLowerCase();
    if (!PORTED_PROTOCOLS.has(protocol)) continue;
    const held = byProtocol.get(protocol) ?? [];
    for (let index = firstAtLeast(sorted, exposure.ports.from); index < sorted.length && sorted[index]! <= exposure.ports.to; index++) {
      held.push({ from: sorted[index]!, to: sorted[index]! });
    }
    byProtocol.set(protocol, held);
  }
  return [...byProtocol]
    .filter(([, ports]) => ports.length > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([protocol, ports]) => ({ protocol, ports: mergePorts(ports) }));
}

/** Current allowances by resource id (or alias) and by tag; of several that match, the first configured. */
function allowanceIndex(allow: readonly Allowance[], today: string): (resource: Pick<ContextInstance, 'id' | 'aliases' | 'tags'>) => Allowance | undefined {
  const byResource = new Map<string, number>();
  // Tag key → value → allowance; the key ends at the first `=` (as the configuration reads it).
  const byTag = new Map<string, Map<string, number>>();
  allow.forEach((allowance, index) => {
    // Dates are YYYY-MM-DD, so text order is time order; the expiry day itself still allows.
    if (allowance.expires < today) return;
    if (allowance.resource !== undefined && !byResource.has(allowance.resource)) byResource.set(allowance.resource, index);
    if (allowance.tag !== undefined) {
      const split = allowance.tag.indexOf('=');
      const key = allowance.tag.slice(0, split);
      const values = byTag.get(key) ?? new Map<string, number>();
      if (!values.has(allowance.tag.slice(split + 1))) values.set(allowance.tag.slice(split + 1), index);
      byTag.set(key, values);
    }
  });
  return (instance) => {
    let first: number | undefined;
    // By its id or another id of the same machine or resource (a GCP instance's numeric id, as the
    // console shows it; a load balancer's name beside its ARN).
    for (const id of [instance.id, ...(instance.aliases ?? [])]) {
      const index = byResource.get(id);
      if (index !== undefined && (first === undefined || index < first)) first = index;
    }
    for (const [key, value] of Object.entries(instance.tags)) {
      const index = byTag.get(key)?.get(value);
      if (index !== undefined && (first === undefined || index < first)) first = index;
    }
    return first === undefined ? undefined : allow[first];
  };
}

/** A machine named by an exposure but missing from the instances (gone between two reads). */
function unlistedInstance(id: string, exposures: readonly Exposure[]): ContextInstance {
  return { provider: 'unknown', type: 'unknown', id, publicAddresses: [...new Set(exposures.map((e) => e.address))], privateAddresses: [], dnsNames: [], tags: {} };
}

export function evaluateRescan(
  context: ProviderContext,
  settings: Pick<RescanSettings, 'sensitivePorts' | 'allow'>,
  today: string,
  accepted: readonly StoredAcceptance[] = [],
): RescanEvaluation {
  const sorted = sortedPorts(settings.sensitivePorts);
  const offending = new Map<string, Exposure[]>();
  for (const exposure of context.exposures) {
    if (!opensSensitivePort(sorted, exposure)) continue;
    const list = offending.get(exposure.instance);
    if (list) list.push(exposure);
    else offending.set(exposure.instance, [exposure]);
  }

  const allowanceFor = allowanceIndex([...settings.allow, ...acceptedAllowances(accepted)], today);
  const listed = new Map(context.instances.map((instance) => [instance.id, instance]));
  const result: RescanEvaluation = { violations: [], allowed: [] };
  for (const [id, exposures] of offending) {
    const instance = listed.get(id) ?? unlistedInstance(id, exposures);
    const allowance = allowanceFor(instance);
    if (allowance) result.allowed.push({ instance: id, reason: allowance.reason, expires: allowance.expires });
    else result.violations.push({ instance, exposures });
  }
  for (const resource of context.resources ?? []) {
    if (!resource.public || !reachesSensitively(resource, sorted)) continue;
    const allowance = allowanceFor(resource);
    if (allowance) result.allowed.push({ instance: resource.id, type: resource.type, reason: allowance.reason, expires: allowance.expires });
    else result.violations.push({ resource });
  }
  return result;
}

/**
 * Whether a public resource is a violation. A load balancer is public by design: like a machine, it
 * is one only when a listener opens a sensitive port (or its ports are unknown). Every other class
 * (a bucket, a database, a shared snapshot or image, an open function URL) is one by being public.
 */
function reachesSensitively(resource: PublicResource, sorted: Int32Array): boolean {
  if (resource.class !== 'load-balancer') return true;
  const ports = resource.proofs.flatMap((proof) => (proof.kind === 'endpoint' ? proof.ports : []));
  return ports.length === 0 || ports.some((port) => holdsAny(sorted, { from: port, to: port }));
}
