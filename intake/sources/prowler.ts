// Prowler's JSON-OCSF output: a JSON array of OCSF Detection Findings (class_uid 2004), one per
// check and resource, PASS and FAIL alike (a single finding object is accepted too). A failed check
// is an alert; a passed one is the resolution of that check's failure on that resource (same uid, so
// same fingerprint). Field meanings follow Prowler's OCSF writer (prowler/lib/outputs/ocsf/ocsf.py).
import {
  emptyActors,
  emptyNetwork,
  type CloudRef,
  type NetworkFacts,
  type ParsedAlert,
  type PortRange,
  type ResourceRef,
  type Severity,
} from '../../lib/alert';
import { UnrecognizedPayloadError, type SourceAdapter } from './types';
import { asArray, internetRange, isRecord, ipOrUndefined, numeric, ownEntry, severityFromWord, str, uniq } from './util';
import { parsePortSpec, uniqPorts } from '../../lib/ports';
import { publicGcpResource, publicResourceFromArn } from './public-resources';

const DETECTION_FINDING_CLASS = 2004;
/** OCSF `status_id` 3: the finding matched Prowler's mutelist, an exception the operator accepted. */
const SUPPRESSED_STATUS_ID = 3;

type Finding = Record<string, unknown>;
/** One of a finding's `resources[]`. */
type Resource = Record<string, unknown>;

const record = (value: unknown): Record<string, unknown> => (isRecord(value) ? value : {});

function isDetectionFinding(value: unknown): value is Finding {
  return isRecord(value) && numeric(value.class_uid) === DETECTION_FINDING_CLASS && isRecord(value.finding_info);
}

/** Other tools write OCSF Detection Findings too; only Prowler's are this source's. */
function isProwlerFinding(value: unknown): value is Finding {
  if (!isDetectionFinding(value)) return false;
  const product = record(record(value.metadata).product);
  return [product.name, product.uid, product.vendor_name].some((field) => str(field)?.toLowerCase() === 'prowler');
}

/** The findings of the payload, or undefined when it is not Prowler output. */
function prowlerFindings(payload: unknown): Finding[] | undefined {
  if (isProwlerFinding(payload)) return [payload];
  if (!Array.isArray(payload)) return undefined;
  if (payload.length === 0) return [];
  // A report is findings only; elements that are not findings are skipped rather than losing the
  // failed checks beside them, but at least one must be Prowler's.
  if (!payload.some(isProwlerFinding)) return undefined;
  return payload.filter(isDetectionFinding);
}

// --- Severity -------------------------------------------------------------------------------

/** OCSF severity_id: 1 informational … 5 critical, 6 fatal (0 unknown and 99 other fall back). */
const severityById: Record<number, Severity> = {
  1: 'informational',
  2: 'low',
  3: 'medium',
  4: 'high',
  5: 'critical',
  6: 'critical',
};

function findingSeverity(finding: Finding): Severity {
  const byId = severityById[numeric(finding.severity_id) ?? 0];
  if (byId) return byId;
  const word = str(finding.severity)?.toLowerCase();
  return word === 'fatal' ? 'critical' : (severityFromWord(word) ?? 'medium');
}

// --- Exposure checks ------------------------------------------------------------------------

/** AWS checks about ingress from the internet (their FAIL is an exposure), with ports in their ids. */
const awsExposureChecks = [
  /^ec2_securitygroup_allow_ingress_from_internet_to_/,
  /^ec2_networkacl_allow_ingress_/,
  /^ec2_instance_port_[a-z0-9_]+_exposed_to_internet$/,
];

/** Ports of `ec2_instance_port_<service>_exposed_to_internet`, from each check's `check_ports`. */
const instanceCheckPorts: Record<string, number[]> = {
  cassandra: [7000, 7001, 7199, 9042, 9160],
  cifs: [139, 445],
  elasticsearch_kibana: [9200, 9300, 5601],
  ftp: [20, 21],
  kafka: [9092],
  kerberos: [88, 464, 749, 750],
  ldap: [389, 636],
  memcached: [11211],
  mongodb: [27017, 27018],
  mysql: [3306],
  oracle: [1521, 2483, 2484],
  postgresql: [5432],
  rdp: [3389],
  redis: [6379],
  sqlserver: [1433, 1434],
  ssh: [22],
  telnet: [23],
};

const ALL_PORTS: PortRange = { from: 0, to: 65535 };
const single = (port: number): PortRange => ({ from: port, to: port });

interface CheckPorts {
  ports: PortRange[];
  protocol?: string;
}

/**
 * The ports a check id names, only where the id states them: `…_tcp_port_22`,
 * `…_tcp_port_mongodb_27017_27018` (each trailing number is one port), `…_all_ports` and the
 * network ACL `…_any_port` (every port, any protocol). `…_any_port` of security groups means
 * "some port", so it names none.
 */
function portsFromCheckId(checkId: string): CheckPorts {
  if (checkId === 'ec2_securitygroup_allow_ingress_from_internet_to_all_ports' || checkId === 'ec2_networkacl_allow_ingress_any_port') {
    return { ports: [ALL_PORTS], protocol: 'all' };
  }
  const tcpPorts = /_tcp_port_((?:[a-z]+_)*)(\d+(?:_\d+)*)$/.exec(checkId);
  if (tcpPorts) {
    const ports = tcpPorts[2]!.split('_').map(Number).filter((port) => port <= 65535);
    return { ports: ports.map(single), protocol: 'tcp' };
  }
  const instance = /^ec2_instance_port_([a-z0-9_]+)_exposed_to_internet$/.exec(checkId);
  const known = ownEntry(instanceCheckPorts, instance?.[1]);
  return known ? { ports: known.map(single), protocol: 'tcp' } : { ports: [] };
}

const tcp = (...ports: number[]): CheckPorts => ({ ports: ports.map(single), protocol: 'tcp' });
const metadataOf = (resource: Resource): Record<string, unknown> => record(record(resource.data).metadata);
const validPort = (port: number | undefined): port is number => port !== undefined && Number.isInteger(port) && port > 0 && port <= 65535;

/**
 * A control-plane component's port: `--secure-port` in its pod's command when set there, else the
 * component's default. The command is a list of arguments, or one string of them.
 */
function securePort(resources: Resource[], fallback: number): CheckPorts {
  const args = resources
    .flatMap((resource) => Object.values(record(metadataOf(resource).containers)))
    .flatMap((container) => asArray(record(container).command))
    .flatMap((command) => (str(command) ?? '').split(/\s+/));
  const set = args.map((arg) => /^--secure-port=(\d{1,5})$/.exec(arg)?.[1]).find(Boolean);
  const port = numeric(set);
  return tcp(validPort(port) ? port : fallback);
}

/** The kubelet's read-only port: `readOnlyPort` of the kubelet configuration, else its default 10255. */
function kubeletReadOnlyPort(resources: Resource[]): CheckPorts {
  const port = numeric(record(metadataOf(resources[0] ?? {}).kubelet_args).readOnlyPort);
  return tcp(validPort(port) ? port : 10255);
}

/** Cloud SQL's port by engine (`version` is the databaseVersion: MYSQL_8_0, POSTGRES_15, SQLSERVER_2019_STANDARD). */
function cloudSqlPorts(resources: Resource[]): CheckPorts {
  const version = str(metadataOf(resources[0] ?? {}).version)?.toUpperCase() ?? '';
  if (version.startsWith('MYSQL')) return tcp(3306);
  if (version.startsWith('POSTGRES')) return tcp(5432);
  if (version.startsWith('SQLSERVER')) return tcp(1433);
  return { ports: [], protocol: 'tcp' };
}

/** One inbound allow rule of an Azure network security group whose source is the whole internet. */
interface AzureInternetRule {
  cidr: string;
  /** tcp, udp, or all (`*`). */
  protocol: string;
  ports?: PortRange;
}

/**
 * Azure security rules (`security_rules[]` of the group, as Prowler copies it) that allow inbound
 * traffic from what Prowler's checks call the internet: the `Internet` tag, `*`, or a /0 range.
 */
function azureInternetRules(resource: Resource): AzureInternetRule[] {
  return asArray(metadataOf(resource).security_rules)
    .map(record)
    .flatMap((rule): AzureInternetRule[] => {
      if (str(rule.access)?.toLowerCase() !== 'allow' || str(rule.direction)?.toLowerCase() !== 'inbound') return [];
      const source = str(rule.source_address_prefix)?.trim() ?? '';
      const cidr = ['internet', '*', 'any'].includes(source.toLowerCase()) ? '0.0.0.0/0' : internetRange(source);
      if (!cidr) return [];
      const protocol = str(rule.protocol)?.toLowerCase() ?? '';
      const range = str(rule.destination_port_range)?.trim() ?? '';
      const ports = range === '*' ? ALL_PORTS : parsePortSpec(range);
      return [{ cidr, protocol: protocol === '*' ? 'all' : protocol, ...(ports ? { ports } : {}) }];
    });
}

/** Prowler's UDP check fails on any inbound UDP rule from the internet: its ports are those rules'. */
function azureUdpPorts(resources: Resource[]): CheckPorts {
  const rules = resources.flatMap(azureInternetRules).filter((rule) => rule.protocol === 'udp');
  return { ports: uniqPorts(rules.map((rule) => rule.ports)), protocol: 'udp' };
}

/**
 * Exposure checks of the other providers, with the ports each one tests, as its code at
 * prowler-cloud/prowler @ 3e000faa tests them. A Map: a check id from a payload must never find an
 * inherited property.
 */
const exposureChecks = new Map<string, (resources: Resource[]) => CheckPorts>([
  // GCP: an INGRESS firewall rule from 0.0.0.0/0 allowing the port (by tcp, or every protocol).
  ['compute_firewall_ssh_access_from_the_internet_allowed', () => tcp(22)],
  ['compute_firewall_rdp_access_from_the_internet_allowed', () => tcp(3389)],
  // GCP: a Cloud SQL instance that authorizes 0.0.0.0/0, on its engine's port.
  ['cloudsql_instance_public_access', cloudSqlPorts],
  // GCP: a Cloud SQL instance with a public IP at all, on its engine's port.
  ['cloudsql_instance_public_ip', cloudSqlPorts],
  // Azure: a network security group rule allowing inbound traffic from Internet, * or 0.0.0.0/0.
  ['network_ssh_internet_access_restricted', () => tcp(22)],
  ['network_rdp_internet_access_restricted', () => tcp(3389)],
  ['network_http_internet_access_restricted', () => tcp(80)],
  ['network_udp_internet_access_restricted', azureUdpPorts],
  // Azure: an SQL server firewall rule from 0.0.0.0 to 255.255.255.255, on SQL Server's port.
  ['sqlserver_unrestricted_inbound_access', () => tcp(1433)],
  // Kubernetes: control-plane components serving beyond loopback, and the kubelet's unauthenticated
  // read-only port (Prowler files the bind-address checks under internet-exposed).
  ['controllermanager_bind_address', (resources) => securePort(resources, 10257)],
  ['scheduler_bind_address', (resources) => securePort(resources, 10259)],
  ['kubelet_disable_read_only_port', kubeletReadOnlyPort],
]);

/**
 * Checks that fail when a resource itself is public (a bucket, database, load balancer, snapshot or
 * image, function or API), as their code at prowler-cloud/prowler @ 3e000faa judges it. Their FAIL is
 * an exposure of that resource, named as the inventory readers match it (see resourcesOf); no port is
 * named: the reader finds the endpoint. `s3_account_level_public_access_blocks` is about the account.
 */
const publicResourceChecks = new Set([
  's3_bucket_public_access',
  's3_bucket_policy_public_write_access',
  's3_bucket_public_list_acl',
  's3_bucket_public_write_acl',
  's3_bucket_level_public_access_block',
  's3_account_level_public_access_blocks',
  'rds_instance_no_public_access',
  'rds_snapshots_public_access',
  'redshift_cluster_public_access',
  'opensearch_service_domains_not_publicly_accessible',
  'elbv2_internet_facing',
  'elb_internet_facing',
  'ec2_ebs_public_snapshot',
  'ec2_ami_public',
  'awslambda_function_url_public',
  'awslambda_function_not_publicly_accessible',
  'apigateway_restapi_public',
  'apigateway_restapi_authorizers_enabled',
  'apigatewayv2_api_authorizers_enabled',
  'cloudstorage_bucket_public_access',
  'compute_image_not_publicly_shared',
]);

/** Whether a Prowler check's FAIL means a resource is public (Security Hub reads imported Prowler findings by it too). */
export const isPublicResourceCheck = (checkId: string): boolean => publicResourceChecks.has(checkId);

/** The ports an exposure check tests, or undefined when its FAIL is not an exposure. */
function exposureOf(checkId: string | undefined, resources: Resource[]): CheckPorts | undefined {
  if (checkId === undefined) return undefined;
  if (isPublicResourceCheck(checkId)) return { ports: [] };
  if (awsExposureChecks.some((pattern) => pattern.test(checkId))) return portsFromCheckId(checkId);
  return exposureChecks.get(checkId)?.(resources);
}

const overlaps = (a: PortRange, b: PortRange): boolean => a.from <= b.to && b.from <= a.to;

/**
 * Whether a GCP firewall rule's `allowed_rules` ([{IPProtocol, ports?}]) admit one of the check's
 * ports, as Prowler's firewall checks read them: protocol `all`, or tcp with no ports or a port or
 * range covering it. A rule's source ranges matter only then.
 */
function gcpAllows(metadata: Record<string, unknown>, check: CheckPorts): boolean {
  return asArray(metadata.allowed_rules)
    .map(record)
    .some((rule) => {
      const protocol = str(rule.IPProtocol)?.toLowerCase();
      if (protocol === 'all') return true;
      if (protocol !== (check.protocol ?? 'tcp')) return false;
      const listed = asArray(rule.ports);
      if (listed.length === 0) return true;
      const ranges = listed.map((port) => parsePortSpec(str(port) ?? ''));
      return ranges.some((range) => range !== undefined && check.ports.some((port) => overlaps(port, range)));
    });
}

/**
 * Internet-wide ranges in the resource's own rules, as Prowler copies them into `data.metadata`:
 * AWS security group `ingress_rules[].IpRanges[].CidrIp` / `Ipv6Ranges[].CidrIpv6` and network ACL
 * `entries[]` (ingress allow entries' `CidrBlock` / `Ipv6CidrBlock`); a GCP firewall's
 * `source_ranges` when it allows the check's port, and a Cloud SQL instance's `authorized_networks[].value`; the Azure security rules
 * of the check's protocol and ports, and an Azure SQL server's 0.0.0.0–255.255.255.255 firewall rule.
 * Narrower ranges are not what these checks flag, so they are left out.
 */
function internetRangesOf(resource: Resource, check: CheckPorts): string[] {
  const metadata = metadataOf(resource);
  const ranges: unknown[] = [];
  if (str(metadata.direction)?.toUpperCase() !== 'EGRESS' && gcpAllows(metadata, check)) ranges.push(...asArray(metadata.source_ranges));
  ranges.push(...asArray(metadata.authorized_networks).map((network) => record(network).value));
  const everyAddress = asArray(metadata.firewall_rules)
    .map(record)
    .some((rule) => str(rule.start_ip_address) === '0.0.0.0' && str(rule.end_ip_address) === '255.255.255.255');
  if (everyAddress) ranges.push('0.0.0.0/0');
  for (const rule of azureInternetRules(resource)) {
    const protocolMatches = check.protocol === 'udp' ? rule.protocol === 'udp' : rule.protocol === 'tcp' || rule.protocol === 'all';
    const portsMatch = check.protocol === 'udp' || check.ports.some((port) => rule.ports !== undefined && overlaps(port, rule.ports));
    if (protocolMatches && portsMatch) ranges.push(rule.cidr);
  }
  for (const rule of asArray(metadata.ingress_rules).map(record)) {
    ranges.push(...asArray(rule.IpRanges).map((range) => record(range).CidrIp));
    ranges.push(...asArray(rule.Ipv6Ranges).map((range) => record(range).CidrIpv6));
  }
  for (const entry of asArray(metadata.entries).map(record)) {
    if (entry.Egress === true || str(entry.RuleAction)?.toLowerCase() !== 'allow') continue;
    ranges.push(entry.CidrBlock, entry.Ipv6CidrBlock);
  }
  return uniq(ranges.map(internetRange));
}

// --- Resources ------------------------------------------------------------------------------

/**
 * Prowler's ResourceType (Security Hub names for AWS, Cloud Asset Inventory names for GCP, ARM types
 * for Azure) → Vigil's vocabulary, where it is obvious. Looked up without case: Prowler's Azure
 * metadata writes ARM types in lower case, its older output in ARM's own casing.
 */
const resourceTypes: Record<string, string> = {
  AwsEc2SecurityGroup: 'aws:ec2:security-group',
  AwsEc2Instance: 'aws:ec2:instance',
  AwsEc2NetworkAcl: 'aws:ec2:network-acl',
  AwsEc2Snapshot: 'aws:ec2:snapshot',
  AwsEc2Image: 'aws:ec2:image',
  AwsEc2Volume: 'aws:ec2:volume',
  AwsEc2Vpc: 'aws:ec2:vpc',
  AwsEc2Subnet: 'aws:ec2:subnet',
  AwsEc2Eip: 'aws:ec2:eip',
  AwsIamUser: 'aws:iam:user',
  AwsIamRole: 'aws:iam:role',
  AwsIamGroup: 'aws:iam:group',
  AwsIamPolicy: 'aws:iam:policy',
  AwsIamAccessKey: 'aws:iam:access-key',
  AwsS3Bucket: 'aws:s3:bucket',
  AwsCloudTrailTrail: 'aws:cloudtrail:trail',
  AwsAccount: 'aws:account',
  // Prowler's GCP checks use Cloud Asset Inventory type names.
  'compute.googleapis.com/Instance': 'gcp:compute:instance',
  'compute.googleapis.com/Firewall': 'gcp:compute:firewall',
  'cloudresourcemanager.googleapis.com/Project': 'gcp:project',
  'sqladmin.googleapis.com/Instance': 'gcp:sql:instance',
  // Older Prowler versions name GCP firewall rules so (examples/output/example_output_gcp.ocsf.json).
  FirewallRule: 'gcp:compute:firewall',
  'Microsoft.Network/networkSecurityGroups': 'azure:network:network-security-group',
  'Microsoft.Sql/servers': 'azure:sql:server',
};
const resourceTypesByLowerCase = new Map(Object.entries(resourceTypes).map(([type, vigilType]) => [type.toLowerCase(), vigilType]));

function resourceType(provider: string, type: string | undefined, uid: string): string {
  // Account-level checks name the account's root ARN with the type "Other", or (S3 Block Public
  // Access of the account) the account's S3 settings, `arn:aws:s3:<region>:<account>:account`.
  if (/^arn:aws[a-z-]*:(?:iam::[^:]*:root|s3:[^:]*:\d{12}:account)$/.test(uid)) return 'aws:account';
  const known = type ? resourceTypesByLowerCase.get(type.toLowerCase()) : undefined;
  return known ?? `${provider}:prowler:${type ?? 'Other'}`;
}

/**
 * A GCP resource that can be public, named as the inventory readers match it: a bucket by its name,
 * a Cloud SQL instance or disk image by its full resource name in the scanned project (Prowler
 * gives the bare name, and an image's numeric id as uid).
 */
function gcpPublicResource(type: string | undefined, name: string | undefined, project: string | undefined): ResourceRef | undefined {
  if (!name) return undefined;
  if (type === 'storage.googleapis.com/Bucket') return publicGcpResource(`//storage.googleapis.com/${name}`);
  if (!project) return undefined;
  if (type === 'sqladmin.googleapis.com/Instance') return publicGcpResource(`//sqladmin.googleapis.com/projects/${project}/instances/${name}`);
  if (type === 'compute.googleapis.com/Image') return publicGcpResource(`//compute.googleapis.com/projects/${project}/global/images/${name}`);
  return undefined;
}

function resourcesOf(finding: Finding, cloud: CloudRef): ResourceRef[] {
  return asArray(finding.resources)
    .map(record)
    .flatMap((resource): ResourceRef[] => {
      const uid = str(resource.uid) ?? str(resource.name);
      if (!uid) return [];
      const name = str(resource.name);
      // AWS resources that can be public by their ARN (the AMI check types its resource "Other",
      // the EBS snapshot check "AwsEc2Volume"); GCP ones by type, name and project.
      const canonical =
        cloud.provider === 'aws' ? publicResourceFromArn(uid) : cloud.provider === 'gcp' ? gcpPublicResource(str(resource.type), name, cloud.account) : undefined;
      if (canonical) {
        const alias = canonical.name ?? (name && name !== canonical.id ? name : undefined);
        return [{ type: canonical.type, id: canonical.id, ...(alias ? { name: alias } : {}) }];
      }
      return [{ type: resourceType(cloud.provider, str(resource.type), uid), id: uid, ...(name && name !== uid ? { name } : {}) }];
    });
}

// --- One finding ----------------------------------------------------------------------------

/**
 * Prowler writes `time` in epoch seconds (OCSF says milliseconds; both are read); its `time_dt`
 * has no zone (it is local time), so it is only the last resort.
 */
function occurredAt(finding: Finding): string | undefined {
  for (const raw of [finding.time, record(finding.finding_info).created_time]) {
    const value = numeric(raw) ?? NaN;
    if (!Number.isFinite(value) || value <= 0) continue;
    const date = new Date(value > 1e11 ? value : value * 1000);
    if (!Number.isNaN(date.getTime())) return date.toISOString();
  }
  const local = str(finding.time_dt);
  return local && /^\d{4}-\d{2}-\d{2}T/.test(local) ? local : undefined;
}

/**
 * The provider: `cloud.provider`; Kubernetes findings have no `cloud`, and say `unmapped.provider`
 * (newer Prowler) or only the OCSF "container" profile instead of "cloud" (older Prowler).
 */
function providerOf(finding: Finding): string {
  const metadata = record(finding.metadata);
  const said = str(record(finding.cloud).provider) ?? str(record(finding.unmapped).provider);
  if (said) return said.toLowerCase();
  return asArray(metadata.profiles).some((profile) => str(profile) === 'container') ? 'kubernetes' : 'aws';
}

function cloudOf(finding: Finding, provider: string): CloudRef {
  const cloud = record(finding.cloud);
  // Kubernetes findings name their cluster only as unmapped.provider_uid.
  const account = str(record(cloud.account).uid) ?? str(record(finding.unmapped).provider_uid);
  const region = str(cloud.region) ?? str(record(asArray(finding.resources)[0]).region);
  return { provider, ...(account ? { account } : {}), ...(region ? { region } : {}) };
}

function describe(finding: Finding, checkId: string | undefined): string {
  // A PASS says what passed and nothing more: a report holds thousands, and they only end failures.
  if (isPassed(finding)) {
    return [str(finding.status_detail) ?? str(finding.message), checkId && `Prowler check: ${checkId}`].filter(Boolean).join('\n\n');
  }
  const info = record(finding.finding_info);
  const remediation = record(finding.remediation);
  const references = asArray(remediation.references).map(str).filter((ref): ref is string => ref !== undefined);
  return [
    str(finding.status_detail) ?? str(finding.message),
    str(info.desc),
    str(finding.risk_details) && `Risk: ${str(finding.risk_details)}`,
    str(remediation.desc) && `Remediation: ${str(remediation.desc)}`,
    references.length > 0 ? `References: ${references.join(' ')}` : undefined,
    checkId && `Prowler check: ${checkId}`,
  ]
    .filter((line): line is string => Boolean(line))
    .join('\n\n');
}

/**
 * Addresses of the exposed machine in its resource data: an EC2 instance's `public_ip`, a Cloud SQL
 * instance's PRIMARY (public) address, the node address of a Kubernetes pod on the host network
 * (control-plane components listen there).
 */
function addressesOf(resource: Resource): (string | undefined)[] {
  const metadata = metadataOf(resource);
  const sqlAddresses = asArray(metadata.ip_addresses)
    .map(record)
    .filter((address) => str(address.type)?.toUpperCase() === 'PRIMARY')
    .map((address) => ipOrUndefined(address.ipAddress ?? address.ip_address));
  const hostNetwork = metadata.host_network === true || str(metadata.host_network)?.toLowerCase() === 'true';
  return [ipOrUndefined(metadata.public_ip), ...sqlAddresses, hostNetwork ? ipOrUndefined(metadata.host_ip) : undefined];
}

/** Network facts of an exposure check: the ports it tests, ranges and addresses its resources hold. */
function exposureNetwork(finding: Finding, check: CheckPorts): NetworkFacts {
  const resources = asArray(finding.resources).map(record);
  return {
    ips: uniq(resources.flatMap(addressesOf)),
    cidrs: uniq(resources.flatMap((resource) => internetRangesOf(resource, check))),
    ports: check.ports,
    ...(check.protocol ? { protocol: check.protocol } : {}),
  };
}

/**
 * Prowler's uid is prowler-<provider>-<check>-<account>-<region>-<resource name>, so a real one
 * names its check. One that does not is no identity: the literal `<finding_uid>` of Prowler's
 * anonymised examples, or an empty or constant uid some pipeline wrote, is shared by findings of
 * different checks and resources.
 */
function isGenuineUid(uid: string | undefined, checkId: string | undefined): uid is string {
  if (uid === undefined || /^\s*<[^<>]*>\s*$/.test(uid)) return false;
  return checkId === undefined || uid.includes(checkId);
}

/**
 * A genuine uid as it is, so that issues opened before keep merging; otherwise what the uid would
 * have said: provider, check, account, region (a Kubernetes namespace) and resource. Either way the
 * PASS and the FAIL of one check on one resource share it.
 */
function fingerprintOf(finding: Finding, checkId: string | undefined, cloud: CloudRef, resources: ResourceRef[]): string {
  const uid = str(record(finding.finding_info).uid);
  if (isGenuineUid(uid, checkId)) return uid;
  const namespace = str(record(asArray(finding.resources)[0]).namespace);
  return ['prowler', cloud.provider, checkId, cloud.account, cloud.region ?? namespace, resources[0]?.id].filter(Boolean).join(':');
}

/**
 * Prowler's own word that a failure is over: the same check on the same resource now PASSes, with
 * Prowler's status detail ("Security group … does not have SSH port 22 open to the Internet.").
 */
function resolutionOf(finding: Finding): string | undefined {
  if (!isPassed(finding)) return undefined;
  const detail = str(finding.status_detail) ?? str(finding.message);
  return `Prowler status_code PASS${detail ? `: ${detail}` : ''}`;
}

function toAlert(finding: Finding): ParsedAlert {
  const resolution = resolutionOf(finding);
  const info = record(finding.finding_info);
  const cloud = cloudOf(finding, providerOf(finding));
  const checkId = str(record(finding.metadata).event_code);
  const resources = resourcesOf(finding, cloud);
  const exposure = exposureOf(checkId, asArray(finding.resources).map(record));
  const target = resources[0]?.name ?? resources[0]?.id;
  const title = str(info.title) ?? checkId ?? 'Prowler check';
  return {
    kind: exposure ? 'exposure' : 'resource',
    // Stable across scans, and the same for the PASS and the FAIL of one check on one resource.
    fingerprint: fingerprintOf(finding, checkId, cloud, resources),
    // Newer check titles state the passing condition, so the title says whether the check failed.
    title: `Prowler ${resolution ? 'PASS' : 'FAIL'}: ${title}${target ? ` (${target})` : ''}`,
    severity: findingSeverity(finding),
    occurredAt: occurredAt(finding),
    description: describe(finding, checkId),
    cloud,
    resources,
    network: exposure ? exposureNetwork(finding, exposure) : emptyNetwork(),
    actors: emptyActors(),
    ...(resolution ? { resolution } : {}),
  };
}

function isFailed(finding: Finding): boolean {
  if (str(finding.status_code)?.toUpperCase() !== 'FAIL') return false;
  // A muted FAIL is an exception the operator already accepted in Prowler's mutelist.
  return numeric(finding.status_id) !== SUPPRESSED_STATUS_ID && str(finding.status)?.toLowerCase() !== 'suppressed';
}

/** A passed check, muted or not: whatever the mutelist says, the check no longer fails. */
function isPassed(finding: Finding): boolean {
  return str(finding.status_code)?.toUpperCase() === 'PASS';
}

export const prowlerSource: SourceAdapter = {
  name: 'prowler',
  description: 'Prowler scan output in JSON-OCSF (Detection Findings); each FAIL is an alert, each PASS resolves one',

  detect: (payload) => {
    const findings = prowlerFindings(payload);
    return findings !== undefined && findings.length > 0;
  },

  parse(payload): ParsedAlert[] {
    const findings = prowlerFindings(payload);
    if (!findings) {
      throw new UnrecognizedPayloadError(
        'not Prowler JSON-OCSF output: expected a JSON array of OCSF Detection Findings (class_uid 2004, ' +
          'metadata.product.name "Prowler", with finding_info), or one such finding',
      );
    }
    // MANUAL findings and muted FAILs are neither; a report's PASSes are resolutions, one per check
    // and resource, for whichever of them an investigation is open.
    const alerts = findings.filter((finding) => isFailed(finding) || isPassed(finding)).map(toAlert);
    // A report judges each check on each resource once. A PASS with the identity of one of the
    // report's own FAILs is another resource that the ids cannot tell apart (the anonymised examples
    // name every firewall `<uid>`): the report itself says the failure goes on, so it resolves nothing.
    const failing = new Set(alerts.filter((alert) => !alert.resolution).map((alert) => alert.fingerprint));
    return alerts.filter((alert) => !alert.resolution || !failing.has(alert.fingerprint));
  },
};
