// Google Security Command Center findings. SCC sends a notification per finding change through
// Pub/Sub: a push envelope whose base64 `data` is {"notificationConfigName", "finding", "resource"}.
// The bare notification and a bare finding (as exported or listed, sometimes with `resource`
// nested inside the finding) are accepted too. Every field may come in camelCase or snake_case.
import { BlockList, isIP } from 'node:net';
import {
  emptyNetwork,
  type Actors,
  type CloudRef,
  type NetworkFacts,
  type ParsedAlert,
  type PortRange,
  type ResourceRef,
  type Severity,
} from '../../lib/alert';
import { decodePubSubPush, isPubSubPushEnvelope, unwrapPubSub } from './pubsub';
import { UnrecognizedPayloadError, type SourceAdapter } from './types';
import { asArray, ipOrUndefined, isRecord, severityFromWord, str, uniq } from './util';
import { parsePortSpec, portRange, uniqPorts } from '../../lib/ports';
import { publicGcpResource } from './public-resources';

type Fields = Record<string, unknown>;

const record = (value: unknown): Fields => (isRecord(value) ? value : {});
const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** A field by its camelCase name, or its snake_case twin. */
function field(fields: Fields, camelName: string): unknown {
  return fields[camelName] ?? fields[snakeCase(camelName)];
}

const text = (fields: Fields, camelName: string): string | undefined => str(field(fields, camelName));

/** An RFC 3339 timestamp, or undefined (a number or a word is no time). */
const timestamp = (value: unknown): string | undefined =>
  typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? value : undefined;

// --- Recognising a finding --------------------------------------------------------------------

/** organizations/O/sources/S/findings/F (v2 adds locations/L/; projects and folders own some). */
const FINDING_NAME = /^(?:organizations|folders|projects)\/[^/]+\/sources\/[^/]+\/(?:locations\/[^/]+\/)?findings\/[^/]+$/;

function isFinding(value: unknown): value is Fields {
  return isRecord(value) && FINDING_NAME.test(str(value.name) ?? '') && str(value.category) !== undefined;
}

interface Notification {
  finding: Fields;
  /** The notification's `resource`, merged over one nested in the finding. */
  resource: Fields;
}

/** The finding of a notification (bare or in a push envelope) or of a bare finding. */
function notificationOf(payload: unknown): Notification | undefined {
  const body = unwrapPubSub(payload);
  if (!isRecord(body)) return undefined;
  const finding = isFinding(body.finding) ? body.finding : isFinding(body) ? body : undefined;
  if (!finding) return undefined;
  const outer = finding === body ? {} : record(body.resource);
  return { finding, resource: { ...record(finding.resource), ...outer } };
}

// --- Severity, kind ---------------------------------------------------------------------------

/**
 * CRITICAL/HIGH/MEDIUM/LOW. Findings written before SCC had `severity` say it in their source
 * properties: Event Threat Detection's `detectionPriority` (HIGH), Security Health Analytics'
 * `SeverityLevel` (High). SEVERITY_UNSPECIFIED or none at all is medium.
 */
function findingSeverity(finding: Fields, properties: Fields): Severity {
  return (
    severityFromWord(text(finding, 'severity')) ??
    severityFromWord(properties.detectionPriority) ??
    severityFromWord(properties.SeverityLevel) ??
    'medium'
  );
}

/** Security Health Analytics categories about reachability from the internet. */
const exposureCategories = new Set([
  'OPEN_FIREWALL',
  'PUBLIC_IP_ADDRESS',
  'PUBLIC_SQL_INSTANCE',
  'SQL_PUBLIC_IP',
  // A resource itself public: a bucket readable by allUsers or allAuthenticatedUsers (a log bucket
  // too), a disk image anyone may use. The inventory reads its IAM policy; the exposure checks prove it.
  'PUBLIC_BUCKET_ACL',
  'PUBLIC_LOG_BUCKET',
  'PUBLIC_COMPUTE_IMAGE',
]);
const isExposureCategory = (category: string): boolean =>
  exposureCategories.has(category) || /^OPEN_[A-Z0-9_]+_PORT$/.test(category);

/**
 * Threat findings (Event, Container and VM Threat Detection) have findingClass THREAT; older ones
 * have no class, but their categories read "Tactic: Technique" ("C2: Bad IP").
 */
function isThreat(finding: Fields, category: string): boolean {
  const findingClass = text(finding, 'findingClass')?.toUpperCase();
  if (findingClass) return findingClass === 'THREAT';
  return category.includes(': ');
}

// --- Exposure facts -------------------------------------------------------------------------

/** Ports of the OPEN_*_PORT categories as Security Health Analytics documents them (fallback). */
const categoryPorts: Record<string, (number | [number, number])[]> = {
  OPEN_SSH_PORT: [22],
  OPEN_RDP_PORT: [3389],
  OPEN_TELNET_PORT: [23],
  OPEN_FTP_PORT: [21],
  OPEN_SMTP_PORT: [25],
  OPEN_DNS_PORT: [53],
  OPEN_HTTP_PORT: [80],
  OPEN_POP3_PORT: [110],
  OPEN_NETBIOS_PORT: [[137, 139]],
  OPEN_LDAP_PORT: [389, 636],
  OPEN_DIRECTORY_SERVICES_PORT: [445],
  OPEN_ORACLEDB_PORT: [1521, 2483, 2484],
  OPEN_MYSQL_PORT: [3306],
  OPEN_POSTGRESQL_PORT: [5432],
  OPEN_REDIS_PORT: [6379],
  OPEN_CISCOSECURE_WEBSM_PORT: [9090],
  OPEN_ELASTICSEARCH_PORT: [9200, 9300],
  OPEN_MEMCACHED_PORT: [11211],
  OPEN_MONGODB_PORT: [[27017, 27019]],
  OPEN_CASSANDRA_PORT: [[7000, 7001], 7199, 8888, 9042, 9160, [61620, 61621]],
};

/** A source property that older findings hold as a JSON string. */
function structured(value: unknown): unknown {
  if (typeof value !== 'string' || !/^\s*[[{]/.test(value)) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function portsOf(values: unknown): PortRange[] {
  return asArray(values).flatMap((port): PortRange[] => {
    const range = typeof port === 'number' ? portRange(port, port) : typeof port === 'string' ? parsePortSpec(port) : undefined;
    return range ? [range] : [];
  });
}

interface OpenedPorts {
  ports: PortRange[];
  protocols: string[];
}

/**
 * Ports from `ExternallyAccessibleProtocolsAndPorts` (and the older `Allowed`):
 * [{IPProtocol, ports?}], where no ports means all of them; and from `OpenPorts`: {TCP: [3389]}.
 */
function openedPorts(properties: Fields): OpenedPorts {
  const ports: PortRange[] = [];
  const protocols: string[] = [];
  const rules = [properties.ExternallyAccessibleProtocolsAndPorts, properties.Allowed].flatMap((value) => asArray(structured(value)));
  for (const rule of rules.map(record)) {
    const protocol = str(rule.IPProtocol ?? rule.ipProtocol)?.toLowerCase();
    if (protocol) protocols.push(protocol);
    // Only a rule that lists no ports opens them all; unreadable ports are not "every port".
    const listed = asArray(rule.ports ?? rule.port);
    const everyPort = listed.length === 0 && ['tcp', 'udp', 'sctp', 'all'].includes(protocol ?? '');
    ports.push(...(everyPort ? [{ from: 0, to: 65535 }] : portsOf(listed)));
  }
  for (const [protocol, list] of Object.entries(record(structured(properties.OpenPorts)))) {
    protocols.push(protocol.toLowerCase());
    ports.push(...portsOf(list));
  }
  ports.push(...portsOf(structured(properties.ExternallyAccessiblePorts)));
  return { ports, protocols: uniq(protocols) };
}

/** A CIDR, with a bare address (GCP accepts "203.0.113.7") written as /32 or /128. */
function cidrOrUndefined(value: unknown): string | undefined {
  const [address, prefix, extra] = (str(value)?.trim() ?? '').split('/');
  const version = isIP(address ?? '');
  if (!version || extra !== undefined) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefix === undefined) return `${address}/${max}`;
  return /^\d+$/.test(prefix) && Number(prefix) <= max ? `${address}/${Number(prefix)}` : undefined;
}

function exposureNetwork(category: string, properties: Fields): NetworkFacts {
  const opened = openedPorts(properties);
  const fallback = (categoryPorts[category] ?? []).map((port) =>
    typeof port === 'number' ? { from: port, to: port } : { from: port[0], to: port[1] },
  );
  const ranges = [properties.ExternalSourceRanges, properties.SourceRanges, properties.SourceRange];
  const addresses = ['ExternalIp', 'ExternalIps', 'ExternalIP', 'ExternalIPs', 'ipAddress', 'ipAddresses'];
  return {
    ips: uniq(addresses.flatMap((key) => asArray(structured(properties[key])).map(ipOrUndefined))),
    cidrs: uniq(ranges.flatMap((value) => asArray(structured(value)).map(cidrOrUndefined))),
    ports: uniqPorts(opened.ports.length > 0 ? opened.ports : fallback),
    // One protocol is a fact; TCP and UDP together (OPEN_RDP_PORT) have no single name.
    ...(opened.protocols.length === 1 ? { protocol: opened.protocols[0] } : {}),
  };
}

// --- What happened, in the older source-properties form ---------------------------------------

/**
 * Event Threat Detection findings written before SCC had `access` and `iamBindings` (the
 * `sourceProperties` form) keep what happened in `sourceProperties.properties`: flat
 * (`principalEmail`, `bindingDeltas`, `externalMembers`, `attempts`), or one record deeper under the
 * rule's own name (`sensitiveRoleGrant`, `externalMemberAddedToPolicy`). Both levels are read.
 */
function legacyParts(properties: Fields): Fields[] {
  const legacy = record(structured(properties.properties));
  return [legacy, ...Object.values(legacy).filter(isRecord)];
}

interface Grant {
  /** ADD, REMOVE or ACTION_UNSPECIFIED. */
  action: string;
  role: string;
  member: string;
}

/** The protobuf numbers of IamBinding.Action, as some exports write them. */
const grantActions: Record<string, string> = { '0': 'ACTION_UNSPECIFIED', '1': 'ADD', '2': 'REMOVE' };

/** IAM bindings the finding reports: `iamBindings[]`, or the older `bindingDeltas[]`, each once. */
function grantsOf(finding: Fields, parts: Fields[]): Grant[] {
  const bindings = [
    ...asArray(field(finding, 'iamBindings')),
    ...parts.flatMap((part) => asArray(structured(field(part, 'bindingDeltas')))),
  ].map(record);
  const grants = new Map<string, Grant>();
  for (const binding of bindings) {
    const role = str(binding.role);
    const member = str(binding.member);
    if (!role || !member) continue;
    const said = str(binding.action)?.toUpperCase() ?? 'ACTION_UNSPECIFIED';
    const action = grantActions[said] ?? said;
    grants.set(`${action} ${role} ${member}`, { action, role, member });
  }
  return [...grants.values()];
}

interface Attempts {
  ip: string;
  count: number;
  succeeded: number;
  users: Set<string>;
}

/** A brute force's `attempts[]` ({sourceIp, username, vmName, authResult}), by source address. */
function attemptsOf(parts: Fields[]): Attempts[] {
  const bySource = new Map<string, Attempts>();
  for (const attempt of parts.flatMap((part) => asArray(part.attempts)).map(record)) {
    const ip = ipOrUndefined(field(attempt, 'sourceIp'));
    if (!ip) continue;
    const seen = bySource.get(ip) ?? { ip, count: 0, succeeded: 0, users: new Set<string>() };
    seen.count += 1;
    if (text(attempt, 'authResult')?.toUpperCase() === 'SUCCESS') seen.succeeded += 1;
    const user = text(attempt, 'username');
    if (user) seen.users.add(user);
    bySource.set(ip, seen);
  }
  return [...bySource.values()];
}

/** Who acted, by `principalEmail`, else `principalSubject` (workforce identities, some service agents). */
const principalOf = (fields: Fields): string | undefined => text(fields, 'principalEmail') ?? text(fields, 'principalSubject');

// --- Actors -----------------------------------------------------------------------------------

/** Addresses that are never an outside actor: the private side of a flow is the alerted-on VM. */
const internal = new BlockList();
for (const [network, prefix] of [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16]] as const) {
  internal.addSubnet(network, prefix, 'ipv4');
}
internal.addSubnet('fc00::', 7, 'ipv6');
internal.addSubnet('fe80::', 10, 'ipv6');
internal.addAddress('::1', 'ipv6');

function publicIpOrUndefined(value: unknown): string | undefined {
  const ip = ipOrUndefined(value);
  return ip && !internal.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4') ? ip : undefined;
}

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/i;
const domainOrUndefined = (value: unknown): string | undefined => {
  const domain = str(value)?.trim().replace(/\.$/, '');
  return domain && DOMAIN.test(domain) ? domain : undefined;
};

/**
 * Who acted: the indicators of compromise (`indicator.ipAddresses`, `indicator.domains`), the outside
 * ends of `connections[]`, the caller of `access` and the service accounts it acted through, the
 * members an IAM change granted a role (an anomalous grant's outsider is who to watch), and what older
 * Event Threat Detection findings keep in their source properties (`ipConnection`, `domain`,
 * `principalEmail`, `externalMembers`, the source addresses of a brute force's `attempts`).
 */
function actorsOf(finding: Fields, parts: Fields[], grants: Grant[], attempts: Attempts[]): Actors {
  const indicator = record(finding.indicator);
  const access = record(finding.access);
  const [legacy] = parts as [Fields];
  const connection = record(legacy.ipConnection);
  const connections = asArray(finding.connections).map(record);
  const delegation = asArray(field(access, 'serviceAccountDelegationInfo')).map(record);
  return {
    ips: uniq([
      ...asArray(field(indicator, 'ipAddresses')).map(ipOrUndefined),
      ...connections.flatMap((flow) => [publicIpOrUndefined(field(flow, 'destinationIp')), publicIpOrUndefined(field(flow, 'sourceIp'))]),
      ipOrUndefined(field(access, 'callerIp')),
      publicIpOrUndefined(connection.destIp),
      publicIpOrUndefined(connection.srcIp),
      // A brute force from inside the network is still the attacker's address.
      ...attempts.map((attempt) => attempt.ip),
    ]),
    domains: uniq([...asArray(indicator.domains), ...asArray(legacy.domain)].map(domainOrUndefined)),
    principals: uniq([
      principalOf(access),
      ...delegation.map(principalOf),
      ...parts.map((part) => text(part, 'principalEmail')),
      ...grants.filter((grant) => grant.action === 'ADD').map((grant) => grant.member),
      ...parts.flatMap((part) => asArray(structured(field(part, 'externalMembers')))).map(str),
    ]),
    userAgents: uniq([text(access, 'userAgent')]),
  };
}

// --- Resources, cloud -------------------------------------------------------------------------

const singular = (collection: string): string => collection.replace(/ies$/, 'y').replace(/s$/, '');
const kebabCase = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** Asset type (google.compute.Firewall, or compute.googleapis.com/Firewall) → gcp:compute:firewall. */
function typeFromAssetType(assetType: string): string | undefined {
  if (/^google\.(?:cloud\.resourcemanager|compute)\.Project$|^cloudresourcemanager\.googleapis\.com\/Project$/.test(assetType)) {
    return 'gcp:project';
  }
  const serviceType = /^([a-z0-9-]+)\.googleapis\.com\/([A-Za-z0-9]+)$/.exec(assetType);
  if (serviceType) return `gcp:${serviceType[1]}:${kebabCase(serviceType[2]!)}`;
  const parts = assetType.replace(/^google\./, '').replace(/^cloud\./, '').split('.');
  const kind = parts.pop();
  return kind && parts.length > 0 ? `gcp:${parts.join('.')}:${kebabCase(kind)}` : undefined;
}

/** Full resource name (//compute.googleapis.com/projects/P/global/firewalls/F) → gcp:compute:firewall. */
function typeFromName(name: string): string {
  const match = /^\/\/([a-z0-9-]+)\.googleapis\.com\/(.+)$/.exec(name);
  if (!match) return 'gcp:resource';
  const segments = match[2]!.split('/');
  if (match[1] === 'cloudresourcemanager' && segments.length === 2) return `gcp:${singular(segments[0]!)}`;
  const collection = segments.length >= 2 ? segments[segments.length - 2]! : undefined;
  return `gcp:${match[1]}:${collection ? kebabCase(singular(collection)) : 'resource'}`;
}

/** A name segment of a Compute Engine resource: no slashes, no spaces. */
const NAME_SEGMENT = /^[\w.-]+$/;

/** The resources: the finding's, and the VMs older threat findings name in `legacy` (their properties). */
function resourcesOf(finding: Fields, resource: Fields, legacy: Fields): ResourceRef[] {
  const resources: ResourceRef[] = [];
  const id = text(resource, 'name') ?? text(finding, 'resourceName');
  // A resource that can be public is named as the inventory readers match it (a bucket by its
  // name, a Cloud SQL instance under sqladmin rather than SCC's //cloudsql.googleapis.com/…).
  const canonical = id ? publicGcpResource(id) : undefined;
  if (canonical) {
    const name = text(resource, 'displayName') ?? text(finding, 'assetDisplayName') ?? canonical.name;
    resources.push({ type: canonical.type, id: canonical.id, ...(name && name !== canonical.id ? { name } : {}) });
  } else if (id) {
    const assetType = text(resource, 'type');
    const name = text(resource, 'displayName') ?? text(finding, 'assetDisplayName');
    resources.push({ type: (assetType && typeFromAssetType(assetType)) ?? typeFromName(id), id, ...(name ? { name } : {}) });
  }
  // Older threat findings name the VM involved only in their source properties.
  const instance = /^\/?(projects\/[^/]+\/zones\/[^/]+\/instances\/([^/]+))$/.exec(str(legacy.instanceDetails) ?? '');
  if (instance) {
    const instanceId = `//compute.googleapis.com/${instance[1]}`;
    if (instanceId !== id) resources.push({ type: 'gcp:compute:instance', id: instanceId, name: instance[2]! });
  }
  // A brute force names its VM by project, zone and instance id, and by name in each attempt.
  const vmName = asArray(legacy.attempts).map((attempt) => text(record(attempt), 'vmName')).find(Boolean);
  const vm = [text(legacy, 'projectId'), str(legacy.zone), str(legacy.instanceId) ?? vmName];
  if (vm.every((segment) => segment !== undefined && NAME_SEGMENT.test(segment))) {
    const [project, zone, instanceId] = vm as [string, string, string];
    const vmId = `//compute.googleapis.com/projects/${project}/zones/${zone}/instances/${instanceId}`;
    if (resources.every((ref) => ref.id !== vmId)) resources.push({ type: 'gcp:compute:instance', id: vmId, ...(vmName ? { name: vmName } : {}) });
  }
  return resources;
}

const projectIn = (name: string | undefined): string | undefined => (name ? /(?:^|\/)projects\/([^/]+)/.exec(name)?.[1] : undefined);

/**
 * Project id when given (projectDisplayName is the id; older threat findings say `projectId` or
 * `project_id` in their properties), else what the names hold (id or number).
 */
function accountOf(finding: Fields, resource: Fields, legacy: Fields): string | undefined {
  const metadata = record(field(resource, 'gcpMetadata'));
  return (
    text(resource, 'projectDisplayName') ??
    text(metadata, 'projectDisplayName') ??
    text(legacy, 'projectId') ??
    // Older Security Health Analytics findings (PUBLIC_BUCKET_ACL) say it only in their properties.
    text(record(field(finding, 'sourceProperties')), 'ProjectId') ??
    projectIn(text(resource, 'name') ?? text(finding, 'resourceName')) ??
    projectIn(text(resource, 'project') ?? text(resource, 'projectName') ?? text(metadata, 'project'))
  );
}

/** A region: the resource's location, else the zone or region in a name (us-central1-a → us-central1). */
function regionOf(names: (string | undefined)[], location: string | undefined): string | undefined {
  const zoneOrRegion = /^([a-z]+-[a-z]+\d+)(?:-[a-z])?$/;
  if (location && location.toLowerCase() !== 'global') return zoneOrRegion.exec(location)?.[1] ?? location;
  for (const name of names) {
    const match = /\/(?:zones|regions|locations)\/([a-z]+-[a-z]+\d+)(?:-[a-z])?(?:\/|$)/.exec(name ?? '');
    if (match) return match[1];
  }
  return undefined;
}

function cloudOf(finding: Fields, resource: Fields, legacy: Fields, resources: ResourceRef[]): CloudRef {
  const account = accountOf(finding, resource, legacy);
  const region = regionOf([text(resource, 'name'), text(finding, 'resourceName'), ...resources.map((ref) => ref.id)], text(resource, 'location'));
  return { provider: 'gcp', ...(account ? { account } : {}), ...(region ? { region } : {}) };
}

// --- Time -------------------------------------------------------------------------------------

/**
 * Security Command Center began in 2018: a time before 2000 is an unset protobuf Timestamp (the
 * epoch, 1970-01-01T00:00:00Z) or a placeholder, never when something happened.
 */
const EARLIEST_REAL_TIME = Date.parse('2000-01-01T00:00:00Z');

function realTime(value: unknown): string | undefined {
  const time = timestamp(value);
  const millis = time === undefined ? Number.NaN : Date.parse(time);
  return Number.isFinite(millis) && millis >= EARLIEST_REAL_TIME ? time : undefined;
}

/** A time field as the finding wrote it, for the description ("eventTime 1970-01-01T00:00:00Z"). */
function asWritten(finding: Fields, name: string): string {
  const value = field(finding, name);
  if (value === undefined || value === null) return `no ${name}`;
  return typeof value === 'string' && value.length <= 40 ? `${name} ${value}` : `${name} unreadable`;
}

interface When {
  occurredAt?: string;
  /** Why the time is not the event's own, for the description. */
  note?: string;
}

/**
 * When it happened: `eventTime`; without a real one, when SCC created the finding (`createTime`),
 * saying so; without either, nothing (the issue then shows only when Vigil received it), saying why.
 */
function whenOf(finding: Fields): When {
  const eventTime = realTime(field(finding, 'eventTime'));
  if (eventTime) return { occurredAt: eventTime };
  const createTime = realTime(field(finding, 'createTime'));
  if (createTime) {
    return {
      occurredAt: createTime,
      note:
        `Time: the finding has no event time (${asWritten(finding, 'eventTime')}); ` +
        'the time given is when Security Command Center created the finding (createTime).',
    };
  }
  return {
    note:
      `Time: the finding has no real time (${asWritten(finding, 'eventTime')}, ${asWritten(finding, 'createTime')}); ` +
      'only when it was received is known.',
  };
}

// --- One alert ------------------------------------------------------------------------------

/** The user names a brute force tried, the first few of them: a list of thousands says nothing more. */
const USERS_NAMED = 10;

function usersTried(users: Set<string>): string {
  if (users.size === 0) return '';
  const named = [...users].slice(0, USERS_NAMED);
  return ` (users ${named.join(', ')}${users.size > named.length ? ` and ${users.size - named.length} more` : ''})`;
}

function grantLine({ action, role, member }: Grant): string {
  if (action === 'ADD') return `Granted: ${role} to ${member}`;
  if (action === 'REMOVE') return `Removed: ${role} from ${member}`;
  return `IAM binding: ${role} for ${member}`;
}

/** What happened, one fact per line: who called what, IAM changes, logins, the detection, the time. */
function factsOf(finding: Fields, properties: Fields, parts: Fields[], grants: Grant[], attempts: Attempts[], when: When): string[] {
  const access = record(finding.access);
  const caller = principalOf(access) ?? parts.map((part) => text(part, 'principalEmail')).find(Boolean);
  const callerIp = text(access, 'callerIp');
  const call = [text(access, 'serviceName'), text(access, 'methodName')].filter(Boolean).join(' ');
  const delegation = uniq(asArray(field(access, 'serviceAccountDelegationInfo')).map((link) => principalOf(record(link))));
  const external = uniq(parts.flatMap((part) => asArray(structured(field(part, 'externalMembers')))).map(str));
  const detection = record(properties.detectionCategory);
  const rule = [str(detection.ruleName), str(detection.subRuleName)].filter(Boolean).join(' / ');
  const how = [str(detection.technique) && `technique ${str(detection.technique)}`, str(detection.indicator) && `indicator ${str(detection.indicator)}`]
    .filter(Boolean)
    .join(', ');
  const mitre = record(finding.mitreAttack);
  const tactic = text(mitre, 'primaryTactic');
  const techniques = asArray(field(mitre, 'primaryTechniques')).map(str).filter(Boolean).join(', ');
  return [
    caller || callerIp ? `Caller: ${caller ?? 'unknown'}${callerIp ? ` from ${callerIp}` : ''}` : undefined,
    delegation.length > 0 ? `Delegation chain: ${delegation.join(', ')}` : undefined,
    call ? `Call: ${call}` : undefined,
    ...grants.map(grantLine),
    external.length > 0 ? `External members: ${external.join(', ')}` : undefined,
    ...attempts.map((seen) => `Login attempts from ${seen.ip}: ${seen.count}, ${seen.succeeded} succeeded${usersTried(seen.users)}`),
    rule ? `Detection: ${rule}${how ? ` (${how})` : ''}` : undefined,
    tactic || techniques ? `MITRE ATT&CK: ${[tactic, techniques].filter(Boolean).join(': ')}` : undefined,
    when.note,
  ].filter((line): line is string => line !== undefined);
}

function describe(finding: Fields, properties: Fields, inactive: boolean, facts: string[]): string {
  return [
    inactive
      ? 'State: INACTIVE. Security Command Center no longer detects this (fixed, or the resource is gone): ' +
        'this is a remediation notice for the finding, not a new detection.'
      : undefined,
    text(finding, 'description') ?? str(properties.Explanation),
    str(properties.Recommendation) ?? text(finding, 'nextSteps'),
    facts.join('\n'),
    text(finding, 'mute')?.toUpperCase() === 'MUTED' ? 'The finding is muted in Security Command Center.' : undefined,
    text(finding, 'sourceDisplayName') && `Detected by: ${text(finding, 'sourceDisplayName')}`,
    text(finding, 'externalUri') && `Console: ${text(finding, 'externalUri')}`,
    `Finding: ${str(finding.name)}`,
  ]
    .filter((line): line is string => Boolean(line))
    .join('\n\n');
}

/**
 * SCC's own word that the finding is over: `state` INACTIVE (the scanner no longer sees it, or the
 * resource is gone), with the mute state when the finding is also muted. An ACTIVE finding, muted
 * or not, is not over.
 */
function resolutionOf(finding: Fields): string | undefined {
  if (text(finding, 'state')?.toUpperCase() !== 'INACTIVE') return undefined;
  const mute = text(finding, 'mute')?.toUpperCase();
  return `SCC state INACTIVE${mute === 'MUTED' ? ', mute MUTED' : ''}`;
}

function toAlert({ finding, resource }: Notification): ParsedAlert {
  const category = str(finding.category)!;
  const properties = record(structured(field(finding, 'sourceProperties')));
  const resolution = resolutionOf(finding);
  const inactive = resolution !== undefined;
  const parts = legacyParts(properties);
  const resources = resourcesOf(finding, resource, parts[0]!);
  const grants = grantsOf(finding, parts);
  const attempts = attemptsOf(parts);
  const when = whenOf(finding);
  const exposure = isExposureCategory(category.toUpperCase());
  // Name the machine or rule rather than its project when the finding names both.
  const subject = resources.find((ref) => ref.type !== 'gcp:project') ?? resources[0];
  const target = subject?.name ?? subject?.id.split('/').pop();
  return {
    kind: exposure ? 'exposure' : isThreat(finding, category) ? 'actor' : 'resource',
    // The finding's name is its identity: every notification about it (new, updated, inactive)
    // lands on the same issue.
    fingerprint: str(finding.name)!,
    title: `SCC ${category}${inactive ? ' (inactive)' : ''}${target ? ` on ${target}` : ''}`,
    severity: findingSeverity(finding, properties),
    ...(when.occurredAt ? { occurredAt: when.occurredAt } : {}),
    description: describe(finding, properties, inactive, factsOf(finding, properties, parts, grants, attempts, when)),
    cloud: cloudOf(finding, resource, parts[0]!, resources),
    resources,
    network: exposure ? exposureNetwork(category.toUpperCase(), properties) : emptyNetwork(),
    actors: actorsOf(finding, parts, grants, attempts),
    ...(resolution ? { resolution } : {}),
  };
}

export const sccSource: SourceAdapter = {
  name: 'scc',
  description: 'Google Security Command Center finding notifications (Pub/Sub push, or bare)',

  detect: (payload) => notificationOf(payload) !== undefined,

  parse(payload): ParsedAlert[] {
    const notification = notificationOf(payload);
    if (!notification) {
      const envelope = isPubSubPushEnvelope(payload)
        ? decodePubSubPush(payload) === undefined
          ? ' (this Pub/Sub push envelope has no base64 JSON in message.data)'
          : ' (this Pub/Sub push envelope carries something else)'
        : '';
      throw new UnrecognizedPayloadError(
        'not a Security Command Center finding: expected a Pub/Sub push envelope whose base64 message.data is ' +
          'a notification {"notificationConfigName", "finding", "resource"}, that notification bare, or a bare finding ' +
          `(with "name" organizations/…/sources/…/findings/… and "category")${envelope}`,
      );
    }
    return [toAlert(notification)];
  },
};
