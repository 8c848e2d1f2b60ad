// Cloud Audit Logs of Compute Engine firewall changes that open a rule to the internet, from a log
// sink's Pub/Sub push (base64 `data` is one LogEntry) or as a bare LogEntry (or a list of them, as
// `gcloud logging read --format=json` prints). A LogEntry's `protoPayload` is an AuditLog; for
// Compute Engine the request is logged on the operation's first entry only (`operation.first`),
// and the last entry repeats just the request's `@type`.
import type { Actors, ParsedAlert, PortRange, ResourceRef, Severity } from '../../lib/alert';
import { isPubSubPushEnvelope, unwrapPubSub } from './pubsub';
import { UnrecognizedPayloadError, type SourceAdapter } from './types';
import { asArray, ipOrUndefined, isInternetRange, isRecord, numeric, str, uniq } from './util';
import { parsePortSpec, uniqPorts } from '../../lib/ports';

type Fields = Record<string, unknown>;

const AUDIT_LOG_TYPE = 'type.googleapis.com/google.cloud.audit.AuditLog';
/** v1.compute.firewalls.insert, beta.compute.firewalls.patch, v1.compute.firewalls.update, … */
const FIREWALL_CHANGE = /^(?:(?:v1|beta|alpha)\.)?compute\.firewalls\.(insert|patch|update)$/;

const record = (value: unknown): Fields => (isRecord(value) ? value : {});
/** An RFC 3339 timestamp, or undefined (a number or a word is no time). */
const timestamp = (value: unknown): string | undefined =>
  typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? value : undefined;

function isAuditLogEntry(value: unknown): value is Fields {
  return isRecord(value) && record(value.protoPayload)['@type'] === AUDIT_LOG_TYPE;
}

const methodOf = (entry: Fields): string | undefined => str(record(entry.protoPayload).methodName);
const isFirewallChange = (entry: Fields): boolean => FIREWALL_CHANGE.test(methodOf(entry) ?? '');

/** The audit log entries of the payload (bare, listed or in a push envelope), or undefined. */
function auditEntries(payload: unknown): Fields[] | undefined {
  const body = unwrapPubSub(payload);
  if (isAuditLogEntry(body)) return [body];
  if (Array.isArray(body) && body.length > 0 && body.every(isAuditLogEntry)) return body;
  return undefined;
}

const EXPECTED =
  'this source turns Compute Engine firewall changes into alerts: Cloud Audit Log entries (protoPayload "@type" ' +
  `"${AUDIT_LOG_TYPE}") whose methodName is v1|beta.compute.firewalls.insert, .patch or .update and whose request ` +
  'allows INGRESS from 0.0.0.0/0 or ::/0; send them bare or as the Pub/Sub push of a log sink';

// --- What the request opens ---------------------------------------------------------------------

interface AllowedRule {
  protocol: string;
  ports: PortRange[];
}

const ALL_PORTS: PortRange = { from: 0, to: 65535 };
/** Protocols given by number in a request, as the API accepts them. */
const protocolNumbers: Record<string, string> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '132': 'sctp' };

/** `alloweds` in audit logs (`allowed` in the API): [{IPProtocol, ports?}]; no ports is every port. */
function allowedRules(request: Fields): AllowedRule[] {
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
 * What a firewall change opens to the internet, or undefined when it opens nothing: a failed call,
 * a disabled, EGRESS or deny rule, sources that are not internet-wide, or an entry without the
 * request (the operation's last entry). An insert or update (a full replacement) with no
 * sourceRanges, sourceTags or sourceServiceAccounts gets GCP's default source 0.0.0.0/0; a patch
 * without sourceRanges keeps the rule's ranges, which the entry does not show, so it opens nothing
 * that can be told.
 */
function internetOpening(entry: Fields, verb: string): Opening | undefined {
  const audit = record(entry.protoPayload);
  if (numeric(record(audit.status).code ?? 0) !== 0) return undefined;
  const request = record(audit.request);
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

// --- The alert --------------------------------------------------------------------------------

/** Admin ports whose exposure to everyone is the classic way in. */
const ADMIN_PORTS = [22, 3389];

/** High; critical when every port is open or the rule reaches SSH (22) or RDP (3389). */
function severityOf(rules: AllowedRule[]): Severity {
  const ports = rules.flatMap((rule) => (rule.protocol === 'all' ? [ALL_PORTS] : rule.ports));
  const reachesAdmin = ports.some((range) => ADMIN_PORTS.some((port) => range.from <= port && port <= range.to));
  const everyPort = ports.some((range) => range.from === 0 && range.to === 65535);
  return reachesAdmin || everyPort ? 'critical' : 'high';
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

const projectIn = (name: string | undefined): string | undefined => (name ? /(?:^|\/)projects\/([^/]+)/.exec(name)?.[1] : undefined);

function actorsOf(audit: Fields): Actors {
  const metadata = record(audit.requestMetadata);
  return {
    // callerIp is also "gce-internal-ip" or "private" at times: only addresses are actors.
    ips: uniq([ipOrUndefined(metadata.callerIp)]),
    domains: [],
    principals: uniq([str(record(audit.authenticationInfo).principalEmail)]),
    userAgents: uniq([str(metadata.callerSuppliedUserAgent)]),
  };
}

/** A patch leaves out what it does not change, so no targets there does not mean every instance. */
function appliesTo(request: Fields, targets: string[], method: string): string | undefined {
  if (targets.length === 0 && method.endsWith('.patch')) return undefined;
  return (
    `Applies to: ${targets.length > 0 ? targets.join(', ') : 'every instance in the network'}` +
    (str(request.network) ? ` of ${str(request.network)}` : '') +
    (str(request.priority) ? `, priority ${str(request.priority)}` : '') +
    '.'
  );
}

function describe(entry: Fields, method: string, opening: Opening, actors: Actors): string {
  const audit = record(entry.protoPayload);
  const request = record(audit.request);
  const targets = uniq([...asArray(request.targetTags), ...asArray(request.targetServiceAccounts)].map(str));
  const operation = record(entry.operation);
  return [
    `${actors.principals[0] ?? 'An unknown principal'} called ${method} on ${str(audit.resourceName) ?? 'a firewall rule'}.`,
    `Allows ${rulesText(opening.rules)} from ${opening.ranges.join(', ')}` +
      (opening.implicit ? ' (the request names no source, so GCP applies its default source range 0.0.0.0/0).' : '.'),
    appliesTo(request, targets, method),
    str(request.description) && `Rule description: ${str(request.description)}`,
    str(record(audit.requestMetadata).callerIp) && `Caller IP: ${str(record(audit.requestMetadata).callerIp)}`,
    actors.userAgents[0] && `User agent: ${actors.userAgents[0]}`,
    `Log entry: ${str(entry.insertId) ?? '?'}${str(operation.id) ? `, operation ${str(operation.id)}` : ''}`,
  ]
    .filter((line): line is string => Boolean(line))
    .join('\n\n');
}

function toAlert(entry: Fields): ParsedAlert | undefined {
  const method = methodOf(entry)!;
  const opening = internetOpening(entry, FIREWALL_CHANGE.exec(method)![1]!);
  if (!opening) return undefined;
  const audit = record(entry.protoPayload);
  const resourceName = str(audit.resourceName);
  const project = str(record(record(entry.resource).labels).project_id) ?? projectIn(resourceName) ?? projectIn(str(entry.logName));
  const name = (resourceName && /\/firewalls\/([^/]+)$/.exec(resourceName)?.[1]) ?? str(record(audit.request).name);
  if (!name) throw new UnrecognizedPayloadError(`a firewall change (${method}) that names no firewall rule: ${EXPECTED}`);
  const actors = actorsOf(audit);
  const resource: ResourceRef = {
    type: 'gcp:compute:firewall',
    id: `//compute.googleapis.com/${resourceName?.startsWith('projects/') ? resourceName : `projects/${project ?? '-'}/global/firewalls/${name}`}`,
    name,
  };
  const protocols = uniq(opening.rules.map((rule) => rule.protocol));
  return {
    kind: 'exposure',
    // One firewall rule is one issue, however often it is edited.
    fingerprint: `gcp:${project ?? 'unknown-project'}:firewall/${name}`,
    title: `GCP firewall rule ${name} allows ${rulesText(opening.rules)} from ${opening.ranges.join(', ')}`,
    severity: severityOf(opening.rules),
    occurredAt: timestamp(entry.timestamp) ?? timestamp(entry.receiveTimestamp),
    description: describe(entry, method, opening, actors),
    cloud: { provider: 'gcp', ...(project ? { account: project } : {}) },
    resources: [resource],
    network: {
      ips: [],
      cidrs: opening.ranges,
      ports: uniqPorts(opening.rules.flatMap((rule) => rule.ports)),
      ...(protocols.length === 1 ? { protocol: protocols[0] } : {}),
    },
    actors,
  };
}

export const gcpAuditSource: SourceAdapter = {
  name: 'gcp-audit',
  description: 'GCP Cloud Audit Logs of Compute Engine firewall rules opened to the internet (log sink via Pub/Sub, or bare)',

  detect: (payload) => auditEntries(payload)?.some(isFirewallChange) ?? false,

  parse(payload): ParsedAlert[] {
    const entries = auditEntries(payload);
    if (!entries) {
      const envelope = isPubSubPushEnvelope(payload) ? ' (a Pub/Sub push envelope, but its message.data is not an audit log entry)' : '';
      throw new UnrecognizedPayloadError(`not a Cloud Audit Log entry${envelope}: ${EXPECTED}`);
    }
    const changes = entries.filter(isFirewallChange);
    if (changes.length === 0) {
      const methods = uniq(entries.map(methodOf)).join(', ') || 'no methodName';
      throw new UnrecognizedPayloadError(`an audit log entry for ${methods}, not a firewall change: ${EXPECTED}`);
    }
    // Firewall changes that open nothing to the internet are not alerts (none is fine).
    return changes.flatMap((entry) => toAlert(entry) ?? []);
  },
};
