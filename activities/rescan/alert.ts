// A re-scan violation as an alert in Vigil's generic schema: the body the re-scan archives and the
// `vigil-rescan` source parses back, so the sweeper and replay treat it like any delivery.
import { createHash } from 'node:crypto';
import type { PortRange, Severity } from '../../lib/alert';
import type { ContextInstance, PublicResource, ResourceClass } from '../../lib/context';
import { resourceLabel, resourceNoun } from '../../lib/render/resources';

/**
 * A machine exposing sensitive ports, or a public resource beyond machines. Carried in the re-scan
 * workflow's history between its two activities: the machine's shape is the one recorded before
 * resources were scanned, and must stay readable.
 */
export type RescanViolation = MachineViolation | ResourceViolation;

/** What an alert needs to know about one machine that exposes sensitive ports. */
export interface MachineViolation {
  /** The machine, with the resource type its inventory gave it. */
  instance: Pick<ContextInstance, 'id' | 'type' | 'name'>;
  account?: string;
  region?: string;
  /** The addresses through which the sensitive ports are reachable. */
  publicAddresses: string[];
  /** The sensitive ports exposed, per protocol (`tcp`, `udp`, `all`). */
  ports: { protocol: string; ports: PortRange[] }[];
  /** The internet-wide source ranges of the rules that open them. */
  cidrs: string[];
  rules: { id: string; name: string }[];
}

/** What an alert needs to know about one public bucket, database, load balancer, snapshot or serverless entry point. */
export interface ResourceViolation {
  resource: Pick<PublicResource, 'type' | 'id' | 'name' | 'class'>;
  account?: string;
  region?: string;
  /** Why it is public, in the provider's terms. */
  reasons: string[];
  /** The addresses and ports of its endpoints, where the inventory gave addresses rather than names. */
  publicAddresses: string[];
  ports: number[];
}

export const isResourceViolation = (violation: RescanViolation): violation is ResourceViolation => 'resource' in violation;

/** Remote desktops and databases: exposing one of these makes the alert critical. */
const CRITICAL_PORTS = new Set([3389, 5900, 1433, 1521, 3306, 5432, 5984, 6379, 9042, 9200, 9300, 11211, 27017]);
/** The generic schema's bound on a title. */
const TITLE_LIMIT = 512;
/** Ports named in a title before the rest are counted. */
const PORTS_IN_TITLE = 8;

const rangeText = ({ from, to }: PortRange) => (from === to ? `${from}` : `${from}-${to}`);

/** The generic schema's bound on an alert's id. */
const ID_LIMIT = 512;

/**
 * One identity per resource: every scan of it reaches the same investigation. A machine's is
 * `<provider>:<account>:<id>`, as it always was (running investigations keep theirs); a resource's
 * names its type too (`aws:123456789012:aws:s3:bucket:logs`), since a bucket and a database may
 * share a name. One too long for the schema keeps its start and a hash of the whole.
 */
function rescanFingerprint(provider: string, violation: RescanViolation): string {
  const account = violation.account ?? '-';
  const fingerprint = isResourceViolation(violation) ? `${provider}:${account}:${violation.resource.type}:${violation.resource.id}` : `${provider}:${account}:${violation.instance.id}`;
  if (fingerprint.length <= ID_LIMIT) return fingerprint;
  return `${fingerprint.slice(0, ID_LIMIT - 65)}~${createHash('sha256').update(fingerprint).digest('hex')}`;
}

function severityOf(violation: MachineViolation): Severity {
  const critical = violation.ports.some(({ ports }) => ports.some(({ from, to }) => [...CRITICAL_PORTS].some((port) => port >= from && port <= to)));
  return critical ? 'critical' : 'high';
}

/**
 * A resource's name as the schema takes it (trimmed, 1 to 512 characters), or none: a name tag of
 * blanks or a long one would otherwise make the archived alert unreadable by its own source.
 */
const schemaName = (name: string | undefined) => {
  const trimmed = name?.trim().slice(0, 512).trim();
  return trimmed ? { name: trimmed } : {};
};

/** A title within the schema's bound. */
const bounded = (title: string) => (title.length > TITLE_LIMIT ? `${title.slice(0, TITLE_LIMIT - 1)}…` : title);

function titleOf(violation: MachineViolation): string {
  const { id, name } = violation.instance;
  const ports = violation.ports.flatMap(({ protocol, ports }) => ports.map((range) => `${rangeText(range)}/${protocol}`));
  const named = ports.length > PORTS_IN_TITLE ? `${ports.slice(0, PORTS_IN_TITLE).join(', ')} and ${ports.length - PORTS_IN_TITLE} more` : ports.join(', ');
  return bounded(`${name ? `${name} (${id})` : id} exposes ${named} to the internet`);
}

/**
 * A database or a snapshot (a disk's or a database's whole content) open to anyone is critical, as
 * Security Hub rates them (RDS.1, RDS.2, EC2.1); a bucket, a load balancer's sensitive port or an
 * open function URL is high.
 */
const CRITICAL_CLASSES: ReadonlySet<ResourceClass> = new Set(['database', 'snapshot']);

function resourceAlert(provider: string, scope: string, violation: ResourceViolation, scannedAt: string) {
  const { resource, reasons } = violation;
  const named = resourceLabel(resource);
  const why = reasons.length > 0 ? `: ${reasons.join('; ')}` : '';
  return {
    id: rescanFingerprint(provider, violation),
    title: bounded(`${resourceNoun(resource)} ${named} is public${why}`),
    severity: CRITICAL_CLASSES.has(resource.class) ? ('critical' as const) : ('high' as const),
    kind: 'exposure' as const,
    occurredAt: scannedAt,
    description:
      `The scheduled re-scan of ${provider} ${scope} found this ${resourceNoun(resource)} public:\n${reasons.map((reason) => `- ${reason}`).join('\n')}\n`.slice(0, 19_000) +
      'Make it private, or allow it in rescan.allow (by resource or tag, with a reason and an expiry).',
    cloud: { provider, ...(violation.account ? { account: violation.account } : {}), ...(violation.region ? { region: violation.region } : {}) },
    resources: [{ type: resource.type, id: resource.id, ...schemaName(resource.name) }],
    // Endpoints answer TCP (a database's, a load balancer's listeners).
    network: { ips: violation.publicAddresses, cidrs: [], ports: violation.ports, ...(violation.ports.length > 0 ? { protocol: 'tcp' as const } : {}) },
  };
}

/** The alert, as the generic schema's JSON. */
export function rescanAlert(provider: string, scope: string, violation: RescanViolation, scannedAt: string) {
  if (isResourceViolation(violation)) return resourceAlert(provider, scope, violation, scannedAt);
  const protocols = new Set(violation.ports.map(({ protocol }) => protocol));
  const [protocol] = protocols;
  const rules = violation.rules.map((rule) => `- ${rule.name} (${rule.id})`).join('\n');
  return {
    id: rescanFingerprint(provider, violation),
    title: titleOf(violation),
    severity: severityOf(violation),
    kind: 'exposure' as const,
    occurredAt: scannedAt,
    description:
      `The scheduled re-scan of ${provider} ${scope} found sensitive ports of this machine open to the internet, through:\n${rules}\n` +
      'Close them, or allow the machine in rescan.allow (by resource or tag, with a reason and an expiry).',
    cloud: { provider, ...(violation.account ? { account: violation.account } : {}), ...(violation.region ? { region: violation.region } : {}) },
    resources: [{ type: violation.instance.type, id: violation.instance.id, ...schemaName(violation.instance.name) }],
    network: {
      ips: violation.publicAddresses,
      cidrs: violation.cidrs,
      ports: [...new Set(violation.ports.flatMap(({ ports }) => ports.map(rangeText)))],
      // The generic schema has one protocol per alert: named only when every port shares it.
      ...(protocols.size === 1 && protocol && ['tcp', 'udp', 'all'].includes(protocol) ? { protocol } : {}),
    },
  };
}
