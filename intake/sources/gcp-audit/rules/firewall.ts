// Firewall rules: Compute Engine firewall rules inserted, patched or updated to allow ingress from
// the internet. For Compute Engine the request is logged on the operation's first entry only
// (`operation.first`), and the last entry repeats just the request's `@type`.
import type { PortRange } from '../../../../lib/alert';
import { parsePortSpec, uniqPorts } from '../../../../lib/ports';
import type { RuleMatch } from '../../rules';
import { UnrecognizedPayloadError } from '../../types';
import { asArray, isInternetRange, str, uniq } from '../../util';
import { methodOf, projectOf, record, requestOf, resourceNameOf, succeeded, type AuditEntry } from '../entry';
import type { GcpAuditRule } from './common';

/** v1.compute.firewalls.insert, beta.compute.firewalls.patch, v1.compute.firewalls.update, … */
const FIREWALL_CHANGE = /^(?:(?:v1|beta|alpha)\.)?compute\.firewalls\.(insert|patch|update)$/;

// --- What the request opens ---------------------------------------------------------------------

interface AllowedRule {
  protocol: string;
  ports: PortRange[];
}

const ALL_PORTS: PortRange = { from: 0, to: 65535 };
/** Protocols given by number in a request, as the API accepts them. */
const protocolNumbers: Record<string, string> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '132': 'sctp' };

/** `alloweds` in audit logs (`allowed` in the API): [{IPProtocol, ports?}]; no ports is every port. */
function allowedRules(request: Record<string, unknown>): AllowedRule[] {
  return asArray(request.alloweds ?? request.allowed)
    .map(record)
    .flatMap((rule): AllowedRule[] => {
      const raw = str(rule.IPProtocol ?? rule.ipProtocol)?.toLowerCase();
      if (!raw) return [];
      const protocol = protocolNumbers[raw] ?? raw;
      const listed = asArray(rule.ports);
      const ports = listed.flatMap((spec) => {
        const range = typeof spec === 'string' || typeof spec === 'number' ? parsePortSpec(String(spec)) : undefined;
        return range ? [range] : [];
      });
      // Only a rule that lists no ports opens them all; unreadable ports are not "every port".
      const portless = ['icmp', 'ipv6-icmp', 'esp', 'ah'].includes(protocol);
      return [{ protocol, ports: listed.length > 0 || portless ? ports : [ALL_PORTS] }];
    });
}

interface Opening {
  /** Internet-wide source ranges the rule now allows. */
  ranges: string[];
  /** True when the request gave no source at all, so GCP applies its default 0.0.0.0/0. */
  implicit: boolean;
  rules: AllowedRule[];
}

/**
 * What a firewall change opens to the internet, or undefined when it opens nothing: not a firewall
 * change, a failed call, a disabled, EGRESS or deny rule, sources that are not internet-wide, or an
 * entry without the request (the operation's last entry). An insert or update (a full replacement)
 * with no sourceRanges, sourceTags or sourceServiceAccounts gets GCP's default source 0.0.0.0/0; a
 * patch without sourceRanges keeps the rule's ranges, which the entry does not show, so it opens
 * nothing that can be told.
 */
function internetOpening(entry: AuditEntry): Opening | undefined {
  const verb = FIREWALL_CHANGE.exec(methodOf(entry) ?? '')?.[1];
  if (!verb || !succeeded(entry)) return undefined;
  const request = requestOf(entry);
  if (request.disabled === true || str(request.direction)?.toUpperCase() === 'EGRESS') return undefined;
  const rules = allowedRules(request);
  if (rules.length === 0) return undefined;
  const sourceRanges = uniq(asArray(request.sourceRanges).map(str));
  const otherSources = [request.sourceTags, request.sourceServiceAccounts, request.sourceSecureTags].some(
    (sources) => asArray(sources).length > 0,
  );
  if (sourceRanges.length === 0 && !otherSources && verb !== 'patch') {
    return { ranges: ['0.0.0.0/0'], implicit: true, rules };
  }
  const ranges = sourceRanges.filter(isInternetRange);
  return ranges.length > 0 ? { ranges, implicit: false, rules } : undefined;
}

// --- The match --------------------------------------------------------------------------------

/** Admin ports whose exposure to everyone is the classic way in. */
const ADMIN_PORTS = [22, 3389];

/** Every port, or SSH (22) or RDP (3389). */
function reachesAdminPorts(rules: AllowedRule[]): boolean {
  const ports = rules.flatMap((rule) => (rule.protocol === 'all' ? [ALL_PORTS] : rule.ports));
  const reachesAdmin = ports.some((range) => ADMIN_PORTS.some((port) => range.from <= port && port <= range.to));
  const everyPort = ports.some((range) => range.from === 0 && range.to === 65535);
  return reachesAdmin || everyPort;
}

function rulesText(rules: AllowedRule[]): string {
  return rules
    .map(({ protocol, ports }) => {
      if (protocol === 'all') return 'all protocols and ports';
      const list = ports.map((range) => (range.from === range.to ? `${range.from}` : `${range.from}-${range.to}`));
      return list.length > 0 ? `${protocol}:${list.join(',')}` : protocol;
    })
    .join(', ');
}

/** A patch leaves out what it does not change, so no targets there does not mean every instance. */
function appliesTo(request: Record<string, unknown>, targets: string[], method: string): string | undefined {
  if (targets.length === 0 && method.endsWith('.patch')) return undefined;
  return (
    `Applies to: ${targets.length > 0 ? targets.join(', ') : 'every instance in the network'}` +
    (str(request.network) ? ` of ${str(request.network)}` : '') +
    (str(request.priority) ? `, priority ${str(request.priority)}` : '') +
    '.'
  );
}

function openingMatch(entry: AuditEntry, opening: Opening): RuleMatch {
  const method = methodOf(entry)!;
  const resourceName = resourceNameOf(entry);
  const request = requestOf(entry);
  const project = projectOf(entry);
  const name = (resourceName && /\/firewalls\/([^/]+)$/.exec(resourceName)?.[1]) ?? str(request.name);
  if (!name) {
    // A firewall change that names no rule cannot be followed up: refused, as it always was.
    throw new UnrecognizedPayloadError(
      `a firewall change (${method}) that names no firewall rule: expected protoPayload.resourceName ` +
        '(projects/P/global/firewalls/NAME) or protoPayload.request.name',
    );
  }
  const targets = uniq([...asArray(request.targetTags), ...asArray(request.targetServiceAccounts)].map(str));
  const protocols = uniq(opening.rules.map((rule) => rule.protocol));
  const opened = `${rulesText(opening.rules)} from ${opening.ranges.join(', ')}`;
  return {
    title: `GCP firewall rule ${name} allows ${opened}`,
    resources: [
      {
        type: 'gcp:compute:firewall',
        id: `//compute.googleapis.com/${resourceName?.startsWith('projects/') ? resourceName : `projects/${project ?? '-'}/global/firewalls/${name}`}`,
        name,
      },
    ],
    network: {
      cidrs: opening.ranges,
      ports: uniqPorts(opening.rules.flatMap((rule) => rule.ports)),
      ...(protocols.length === 1 ? { protocol: protocols[0] } : {}),
    },
    // One firewall rule is one issue, however often it is edited.
    fingerprint: `gcp:${project ?? 'unknown-project'}:firewall/${name}`,
    details: [
      `Allows ${opened}` +
        (opening.implicit ? ' (the request names no source, so GCP applies its default source range 0.0.0.0/0).' : '.'),
      appliesTo(request, targets, method),
      str(request.description) && `Rule description: ${str(request.description)}`,
    ].filter((line): line is string => Boolean(line)),
  };
}

const openToInternet: GcpAuditRule = {
  id: 'firewall-open-to-internet',
  description: 'A Compute Engine firewall rule inserted, patched or updated to allow ingress from 0.0.0.0/0 or ::/0',
  kind: 'exposure',
  severity: 'high',
  match(entry) {
    const opening = internetOpening(entry);
    return opening ? openingMatch(entry, opening) : undefined;
  },
};

const adminOpenToInternet: GcpAuditRule = {
  id: 'firewall-admin-open-to-internet',
  description: 'A Compute Engine firewall rule allowing every port, SSH (22) or RDP (3389) from 0.0.0.0/0 or ::/0',
  kind: 'exposure',
  severity: 'critical',
  match(entry) {
    const opening = internetOpening(entry);
    return opening && reachesAdminPorts(opening.rules) ? openingMatch(entry, opening) : undefined;
  },
};

export const firewallRules: readonly GcpAuditRule[] = [adminOpenToInternet, openToInternet];
