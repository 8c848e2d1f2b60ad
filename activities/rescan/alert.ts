// A re-scan violation as an alert in Vigil's generic schema: the body the re-scan archives and the
// `vigil-rescan` source parses back, so the sweeper and replay treat it like any delivery.
import type { PortRange, Severity } from '../../lib/alert';
import type { ContextInstance } from '../../lib/context';

/** What an alert needs to know about one machine that exposes sensitive ports. */
export interface RescanViolation {
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

/** Remote desktops and databases: exposing one of these makes the alert critical. */
const CRITICAL_PORTS = new Set([3389, 5900, 1433, 1521, 3306, 5432, 5984, 6379, 9042, 9200, 9300, 11211, 27017]);
/** The generic schema's bound on a title. */
const TITLE_LIMIT = 512;
/** Ports named in a title before the rest are counted. */
const PORTS_IN_TITLE = 8;

const rangeText = ({ from, to }: PortRange) => (from === to ? `${from}` : `${from}-${to}`);

/** One identity per resource: every scan of it reaches the same investigation. */
function rescanFingerprint(provider: string, violation: Pick<RescanViolation, 'account' | 'instance'>): string {
  return `${provider}:${violation.account ?? '-'}:${violation.instance.id}`;
}

function severityOf(violation: RescanViolation): Severity {
  const critical = violation.ports.some(({ ports }) => ports.some(({ from, to }) => [...CRITICAL_PORTS].some((port) => port >= from && port <= to)));
  return critical ? 'critical' : 'high';
}

function titleOf(violation: RescanViolation): string {
  const { id, name } = violation.instance;
  const ports = violation.ports.flatMap(({ protocol, ports }) => ports.map((range) => `${rangeText(range)}/${protocol}`));
  const named = ports.length > PORTS_IN_TITLE ? `${ports.slice(0, PORTS_IN_TITLE).join(', ')} and ${ports.length - PORTS_IN_TITLE} more` : ports.join(', ');
  const title = `${name ? `${name} (${id})` : id} exposes ${named} to the internet`;
  return title.length > TITLE_LIMIT ? `${title.slice(0, TITLE_LIMIT - 1)}…` : title;
}

/** The alert, as the generic schema's JSON. */
export function rescanAlert(provider: string, scope: string, violation: RescanViolation, scannedAt: string) {
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
    resources: [{ type: violation.instance.type, id: violation.instance.id, ...(violation.instance.name ? { name: violation.instance.name } : {}) }],
    network: {
      ips: violation.publicAddresses,
      cidrs: violation.cidrs,
      ports: [...new Set(violation.ports.flatMap(({ ports }) => ports.map(rangeText)))],
      // The generic schema has one protocol per alert: named only when every port shares it.
      ...(protocols.size === 1 && protocol && ['tcp', 'udp', 'all'].includes(protocol) ? { protocol } : {}),
    },
  };
}
