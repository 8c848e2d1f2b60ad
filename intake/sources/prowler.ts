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
import { asArray, isInternetRange, isRecord, ipOrUndefined, numeric, severityFromWord, str, uniq } from './util';

const DETECTION_FINDING_CLASS = 2004;
/** OCSF `status_id` 3: the finding matched Prowler's mutelist, an exception the operator accepted. */
const SUPPRESSED_STATUS_ID = 3;

type Finding = Record<string, unknown>;

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

/** Checks about ingress from the internet (their FAIL is an exposure). */
const exposureChecks = [
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
  const known = instance ? instanceCheckPorts[instance[1]!] : undefined;
  return known ? { ports: known.map(single), protocol: 'tcp' } : { ports: [] };
}

/**
 * Internet-wide ranges in the resource's own rules, as Prowler copies them into `data.metadata`:
 * security group `ingress_rules[].IpRanges[].CidrIp` / `Ipv6Ranges[].CidrIpv6`, and network ACL
 * `entries[]` (ingress allow entries' `CidrBlock` / `Ipv6CidrBlock`). Narrower ranges are not what
 * these checks flag, so they are left out.
 */
function internetRangesOf(resource: Record<string, unknown>): string[] {
  const metadata = record(record(resource.data).metadata);
  const ranges: unknown[] = [];
  for (const rule of asArray(metadata.ingress_rules).map(record)) {
    ranges.push(...asArray(rule.IpRanges).map((range) => record(range).CidrIp));
    ranges.push(...asArray(rule.Ipv6Ranges).map((range) => record(range).CidrIpv6));
  }
  for (const entry of asArray(metadata.entries).map(record)) {
    if (entry.Egress === true || str(entry.RuleAction)?.toLowerCase() !== 'allow') continue;
    ranges.push(entry.CidrBlock, entry.Ipv6CidrBlock);
  }
  return uniq(ranges.map(str)).filter(isInternetRange);
}

// --- Resources ------------------------------------------------------------------------------

/** Prowler's ResourceType (Security Hub names for AWS) → Vigil's vocabulary, where it is obvious. */
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
};

function resourceType(provider: string, type: string | undefined, uid: string): string {
  // Account-level checks name the account's root ARN with the type "Other".
  if (/^arn:aws[a-z-]*:iam::[^:]*:root$/.test(uid)) return 'aws:account';
  const known = type ? resourceTypes[type] : undefined;
  return known ?? `${provider}:prowler:${type ?? 'Other'}`;
}

function resourcesOf(finding: Finding, provider: string): ResourceRef[] {
  return asArray(finding.resources)
    .map(record)
    .flatMap((resource): ResourceRef[] => {
      const uid = str(resource.uid) ?? str(resource.name);
      if (!uid) return [];
      const name = str(resource.name);
      return [{ type: resourceType(provider, str(resource.type), uid), id: uid, ...(name && name !== uid ? { name } : {}) }];
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

function cloudOf(finding: Finding, provider: string): CloudRef {
  const cloud = record(finding.cloud);
  const account = str(record(cloud.account).uid);
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

/** Network facts of an exposure check: ports its id names, ranges and addresses its resources hold. */
function exposureNetwork(finding: Finding, checkId: string): NetworkFacts {
  const { ports, protocol } = portsFromCheckId(checkId);
  const resources = asArray(finding.resources).map(record);
  return {
    // An instance check's resource data is the instance, with its public address.
    ips: uniq(resources.map((resource) => ipOrUndefined(record(record(resource.data).metadata).public_ip))),
    cidrs: uniq(resources.flatMap(internetRangesOf)),
    ports,
    ...(protocol ? { protocol } : {}),
  };
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
  const cloud = cloudOf(finding, str(record(finding.cloud).provider)?.toLowerCase() ?? 'aws');
  const checkId = str(record(finding.metadata).event_code);
  const resources = resourcesOf(finding, cloud.provider);
  const exposure = checkId !== undefined && exposureChecks.some((pattern) => pattern.test(checkId));
  const target = resources[0]?.name ?? resources[0]?.id;
  const title = str(info.title) ?? checkId ?? 'Prowler check';
  return {
    kind: exposure ? 'exposure' : 'resource',
    // Prowler's uid is prowler-<provider>-<check>-<account>-<region>-<resource>: stable across scans,
    // and the same for the PASS and the FAIL of one check on one resource.
    fingerprint:
      str(info.uid) ?? ['prowler', cloud.provider, checkId, cloud.account, cloud.region, resources[0]?.id].filter(Boolean).join(':'),
    // Newer check titles state the passing condition, so the title says whether the check failed.
    title: `Prowler ${resolution ? 'PASS' : 'FAIL'}: ${title}${target ? ` (${target})` : ''}`,
    severity: findingSeverity(finding),
    occurredAt: occurredAt(finding),
    description: describe(finding, checkId),
    cloud,
    resources,
    network: exposure && checkId ? exposureNetwork(finding, checkId) : emptyNetwork(),
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
    return findings.filter((finding) => isFailed(finding) || isPassed(finding)).map(toAlert);
  },
};
