// AWS Security Hub findings in the AWS Security Finding Format (ASFF): the EventBridge
// "Security Hub Findings - Imported" (or "- Custom Action") event, a bare finding, and the
// GetFindings answer `{"Findings": [...]}`. This includes findings other products (GuardDuty,
// Inspector, Prowler…) imported into Security Hub: once in ASFF they are Security Hub's to parse.
import { EVERY_RESOURCE, type Actors, type NetworkFacts, type ParsedAlert, type PortRange, type ResourceRef, type Severity } from '../../lib/alert';
import { UnrecognizedPayloadError, type SourceAdapter } from './types';
import { asArray, ipOrUndefined, isInternetRange, isRecord, ownEntry, severityFromWord, str, uniq, numeric } from './util';
import { portRange, uniqPorts } from '../../lib/ports';
import { isPublicResourceCheck } from './prowler';
import { publicResourceFromArn } from './public-resources';

type Json = Record<string, unknown>;

const EXPECTED =
  'expected a Security Hub finding in ASFF (with Id, ProductArn and SchemaVersion): an EventBridge ' +
  '"Security Hub Findings - Imported" event, a bare finding, or {"Findings": [...]} of such findings';

/** The EventBridge detail types whose `detail.findings` are ASFF findings. */
const EVENT_TYPES = new Set(['Security Hub Findings - Imported', 'Security Hub Findings - Custom Action']);

/** `at(finding, 'Severity', 'Label')`: a nested field, undefined when any step is missing. */
function at(value: unknown, ...keys: string[]): unknown {
  return keys.reduce<unknown>((current, key) => (isRecord(current) ? current[key] : undefined), value);
}

function upper(value: unknown): string | undefined {
  return str(value)?.toUpperCase();
}

function isAsffFinding(value: unknown): value is Json {
  return isRecord(value) && !!str(value.Id) && !!str(value.ProductArn) && !!str(value.SchemaVersion);
}

function isEventBridgeEvent(value: unknown): value is Json {
  // str(), not String(): an object in detail-type ({"toString": 1}) cannot be made a string and would throw.
  return isRecord(value) && value.source === 'aws.securityhub' && EVENT_TYPES.has(str(value['detail-type']) ?? '');
}

interface Located {
  finding: Json;
  /** The EventBridge event around the finding, for account, region and time when the finding lacks them. */
  event?: Json;
}

/** Every entry must be ASFF: one bad entry makes the payload unparsed rather than silently dropped. */
function allAsff(list: unknown[], where: string, event?: Json): Located[] {
  const bad = list.findIndex((entry) => !isAsffFinding(entry));
  if (bad >= 0) throw new UnrecognizedPayloadError(`${where}[${bad}] is not an ASFF finding; ${EXPECTED}`);
  return (list as Json[]).map((finding) => ({ finding, ...(event ? { event } : {}) }));
}

/** The findings of a payload, or an UnrecognizedPayloadError saying what was expected. */
function locateFindings(payload: unknown): Located[] {
  if (isEventBridgeEvent(payload)) {
    const findings = at(payload, 'detail', 'findings');
    if (!Array.isArray(findings) && !isRecord(findings)) {
      throw new UnrecognizedPayloadError(`Security Hub event without detail.findings; ${EXPECTED}`);
    }
    return allAsff(asArray(findings), 'detail.findings', payload);
  }
  if (isAsffFinding(payload)) return [{ finding: payload }];
  if (isRecord(payload) && Array.isArray(payload.Findings)) return allAsff(payload.Findings, 'Findings');
  throw new UnrecognizedPayloadError(`not a Security Hub finding; ${EXPECTED}`);
}

/**
 * Security Hub's own word that the finding is over, naming each field that says so: the check
 * passed (`Compliance.Status` PASSED), the finding was resolved (`Workflow.Status` RESOLVED, or the
 * deprecated `WorkflowState` RESOLVED when there is no `Workflow`), or its product archived it
 * (`RecordState` ARCHIVED, as when the resource is gone). NEW, NOTIFIED, FAILED, WARNING and the
 * rest are still open.
 */
function resolutionOf(finding: Json): string | undefined {
  const workflow = upper(at(finding, 'Workflow', 'Status'));
  const said = [
    upper(at(finding, 'Compliance', 'Status')) === 'PASSED' ? 'Compliance.Status PASSED' : undefined,
    workflow === 'RESOLVED' ? 'Workflow.Status RESOLVED' : undefined,
    workflow === undefined && upper(finding.WorkflowState) === 'RESOLVED' ? 'WorkflowState RESOLVED' : undefined,
    upper(finding.RecordState) === 'ARCHIVED' ? 'RecordState ARCHIVED' : undefined,
  ].filter((words): words is string => words !== undefined);
  return said.length > 0 ? `Security Hub ${said.join(', ')}` : undefined;
}

/**
 * Nothing to investigate: suppressed by an operator and not over by the source's word (a suppressed
 * finding that passes or is archived still tells an open investigation that it is over).
 */
function isSkipped(finding: Json): boolean {
  return upper(at(finding, 'Workflow', 'Status')) === 'SUPPRESSED' && resolutionOf(finding) === undefined;
}

/** Security Hub's normalized score bands: 0 informational, 1–39 low, 40–69 medium, 70–89 high, 90–100 critical. */
export function normalizedSeverity(score: number): Severity {
  if (score >= 90) return 'critical';
  if (score >= 70) return 'high';
  if (score >= 40) return 'medium';
  if (score >= 1) return 'low';
  return 'informational';
}

/**
 * The label when there is one (it is what the console shows); else the 0–100 normalized score;
 * else the deprecated Product score, read on the same 0–100 scale (as Security Hub itself did for
 * products that used it). A finding with no severity at all is treated as medium: worth a look.
 */
function asffSeverity(finding: Json): Severity {
  const severity = finding.Severity;
  const normalized = numeric(at(severity, 'Normalized'));
  const product = numeric(at(severity, 'Product'));
  return (
    severityFromWord(at(severity, 'Label')) ??
    severityFromWord(at(finding, 'FindingProviderFields', 'Severity', 'Label')) ??
    (normalized !== undefined ? normalizedSeverity(normalized) : undefined) ??
    (product !== undefined ? normalizedSeverity(product) : undefined) ??
    severityFromWord(at(severity, 'Original')) ??
    'medium'
  );
}

/**
 * The control or rule a finding reports on: the consolidated SecurityControlId, the standard's
 * ControlId (FSBP) or RuleId (CIS 1.2), else the control at the end of a standards GeneratorId
 * (`security-control/EC2.13`, `…/v/1.0.0/EC2.2`, `…/v/1.2.0/rule/4.2`). Other products' generators
 * (a GuardDuty detector ARN) name no control.
 */
function controlId(finding: Json): string | undefined {
  const generator = /(?:^security-control|\/v\/[\d.]+(?:\/rule)?)\/([^/]+)$/.exec(str(finding.GeneratorId) ?? '');
  return (
    str(at(finding, 'Compliance', 'SecurityControlId')) ??
    str(at(finding, 'ProductFields', 'ControlId')) ??
    str(at(finding, 'ProductFields', 'RuleId')) ??
    generator?.[1]
  );
}

const single = (port: number): PortRange => ({ from: port, to: port });

/**
 * Controls that fail when a security group or network ACL admits traffic from the internet, with
 * the ports each one checks when it checks fixed ones. EC2.2 (default security group allows traffic)
 * and EC2.18/EC2.19 (unauthorized or high-risk ports) name no fixed port.
 */
const EXPOSURE_CONTROLS: Record<string, PortRange[]> = {
  'EC2.2': [],
  'EC2.13': [single(22)],
  'EC2.14': [single(3389)],
  'EC2.18': [],
  'EC2.19': [],
  'EC2.21': [single(22), single(3389)],
  'EC2.53': [single(22), single(3389)],
  'EC2.54': [single(22), single(3389)],
  'PCI.EC2.2': [],
  'PCI.EC2.5': [single(22)],
};

/**
 * Controls that fail when a resource itself is public (not through a security group): a bucket
 * readable or writable by anyone or without Block Public Access, a database, cluster or domain with a
 * public endpoint, a snapshot anyone may restore, a function policy anyone may invoke. Their FAILED
 * finding is an exposure of the resource it names; the inventory reads what makes it public and the
 * exposure checks prove it. S3.1, S3.19, EC2.1 and PCI.S3.6 are checked per account or access point,
 * so the exposure names the account (the re-scan then finds the public resources in it).
 */
const PUBLIC_RESOURCE_CONTROLS = new Set([
  'S3.1',
  'S3.2',
  'S3.3',
  'S3.8',
  'S3.19',
  'RDS.1',
  'RDS.2',
  'Redshift.1',
  'ES.2',
  'Opensearch.2',
  'EC2.1',
  'Lambda.1',
  'PCI.S3.1',
  'PCI.S3.2',
  'PCI.S3.6',
  'PCI.RDS.1',
  'PCI.RDS.2',
  'PCI.Redshift.1',
  'PCI.EC2.1',
  'PCI.Lambda.1',
]);

/**
 * Account-level controls about one type of resource: their finding names the account, so the
 * exposure also names every resource of that type there (`*`), and the inventory answers with the
 * public ones.
 */
const ACCOUNT_WIDE_CONTROLS: Record<string, string> = {
  'EC2.1': 'aws:ec2:snapshot',
  'PCI.EC2.1': 'aws:ec2:snapshot',
  'S3.1': 'aws:s3:bucket',
  'PCI.S3.6': 'aws:s3:bucket',
};

/**
 * Prowler's own findings imported into Security Hub (GeneratorId `prowler-<check id>`): the public
 * resource checks the Prowler source maps are exposures here too.
 */
function isProwlerPublicCheck(finding: Json): boolean {
  const check = /^prowler-([a-z0-9_]+)$/.exec(str(finding.GeneratorId) ?? '')?.[1];
  return check !== undefined && isPublicResourceCheck(check);
}

/** CIS v1.2.0 rule numbers; other CIS versions reuse 4.x for unrelated checks, so the version matters. */
const CIS_1_2_EXPOSURE_RULES: Record<string, PortRange[]> = {
  '4.1': [single(22)],
  '4.2': [single(3389)],
  '4.3': [],
};

function isCis12(finding: Json): boolean {
  const where = [finding.GeneratorId, at(finding, 'ProductFields', 'StandardsGuideArn'), at(finding, 'ProductFields', 'StandardsArn')];
  return where.some((text) => /cis-aws-foundations-benchmark\/v\/1\.2\.0/.test(str(text) ?? ''));
}

/**
 * A check of a security group or network ACL open to the internet, by its wording, for products and
 * standard versions the tables above do not know (CIS 3.0 "5.2 Ensure no security groups allow
 * ingress from 0.0.0.0/0 to remote server administration ports", Prowler, Config rules).
 */
function readsLikeIngressControl(title: string): boolean {
  return (
    /security group|network acl|\bnacl\b/i.test(title) &&
    /ingress|inbound|incoming/i.test(title) &&
    /0\.0\.0\.0\/0|::\/0|unrestricted|internet/i.test(title)
  );
}

/** GuardDuty's "unprotected port is being probed", as imported into Security Hub. */
function isUnprotectedPortProbe(finding: Json): boolean {
  return asArray(finding.Types).some((type) => /PortProbe\w*UnprotectedPort/i.test(str(type) ?? ''));
}

interface Exposure {
  /** Ports the check itself is about, used when the finding carries no port of its own. */
  controlPorts: PortRange[];
}

function exposureOf(finding: Json): Exposure | undefined {
  const id = controlId(finding);
  // Own entries only: a control id from the payload (`constructor`) must not find Object's.
  const control = ownEntry(EXPOSURE_CONTROLS, id);
  if (control) return { controlPorts: control };
  const cisRule = isCis12(finding) ? ownEntry(CIS_1_2_EXPOSURE_RULES, id) : undefined;
  if (cisRule) return { controlPorts: cisRule };
  if (isUnprotectedPortProbe(finding)) return { controlPorts: [] };
  if ((id !== undefined && PUBLIC_RESOURCE_CONTROLS.has(id)) || isProwlerPublicCheck(finding)) return { controlPorts: [] };
  if (readsLikeIngressControl(str(finding.Title) ?? '')) return { controlPorts: [] };
  return undefined;
}

/**
 * Ports written in text, only where the word "port" introduces them ("to port 3389", "port 22 or
 * port 3389", "ports 22, 3389"), so that addresses like 0.0.0.0/0 or control numbers never count.
 * "Remote server administration ports" is how AWS words 22 and 3389 (EC2.53, CIS 5.2).
 */
export function portsInText(text: string): PortRange[] {
  const ports: (PortRange | undefined)[] = [];
  const list = /\bports?\s+(\d{1,5}(?:\s*-\s*\d{1,5})?(?:\s*(?:,|\bor\b|\band\b)\s*(?:port\s+)?\d{1,5}(?:\s*-\s*\d{1,5})?)*)/gi;
  for (const match of text.matchAll(list)) {
    for (const [, from, to] of (match[1] ?? '').matchAll(/(\d{1,5})(?:\s*-\s*(\d{1,5}))?/g)) ports.push(portRange(from, to ?? from));
  }
  if (/remote server administration ports/i.test(text)) ports.push(single(22), single(3389));
  return uniqPorts(ports);
}

/** ProductFields that hold nothing but a port or range under a key naming a port. */
function portsInProductFields(finding: Json): PortRange[] {
  const fields = isRecord(finding.ProductFields) ? Object.entries(finding.ProductFields) : [];
  return uniqPorts(
    fields
      .filter(([key]) => /port/i.test(key.split('/').pop() ?? ''))
      .map(([, value]) => /^\s*(\d{1,5})(?:\s*-\s*(\d{1,5}))?\s*$/.exec(str(value) ?? ''))
      .map((match) => (match ? portRange(match[1], match[2] ?? match[1]) : undefined)),
  );
}

const PROTOCOLS: Record<string, string> = { '-1': 'all', '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6' };

function protocolName(value: unknown): string | undefined {
  const text = str(value)?.toLowerCase();
  return text === undefined ? undefined : (ownEntry(PROTOCOLS, text) ?? text);
}

/** One rule of the finding's own resource details that admits traffic from the whole internet. */
interface InternetRule {
  cidr: string;
  ports?: PortRange;
  protocol?: string;
}

/** Ports a rule covers: all of them for protocol -1 ("all traffic"), none for ICMP. */
function rulePorts(protocol: string | undefined, from: unknown, to: unknown): PortRange | undefined {
  if (protocol === 'all') return { from: 0, to: 65535 };
  if (protocol === 'icmp' || protocol === 'icmpv6') return undefined;
  return portRange(from, to);
}

function securityGroupRules(details: unknown): InternetRule[] {
  return asArray(at(details, 'IpPermissions')).flatMap((permission) => {
    const protocol = protocolName(at(permission, 'IpProtocol'));
    const ports = rulePorts(protocol, at(permission, 'FromPort'), at(permission, 'ToPort'));
    const cidrs = [
      ...asArray(at(permission, 'IpRanges')).map((range) => str(at(range, 'CidrIp'))),
      ...asArray(at(permission, 'Ipv6Ranges')).map((range) => str(at(range, 'CidrIpv6'))),
    ];
    return uniq(cidrs)
      .filter(isInternetRange)
      .map((cidr) => ({ cidr, ports, protocol }));
  });
}

function networkAclRules(details: unknown): InternetRule[] {
  return asArray(at(details, 'Entries')).flatMap((entry) => {
    if (at(entry, 'Egress') === true || upper(at(entry, 'RuleAction')) !== 'ALLOW') return [];
    const protocol = protocolName(at(entry, 'Protocol'));
    const ports = rulePorts(protocol, at(entry, 'PortRange', 'From'), at(entry, 'PortRange', 'To'));
    return uniq([str(at(entry, 'CidrBlock')), str(at(entry, 'Ipv6CidrBlock'))])
      .filter(isInternetRange)
      .map((cidr) => ({ cidr, ports, protocol }));
  });
}

function internetRules(finding: Json): InternetRule[] {
  return asArray(finding.Resources).flatMap((resource) => [
    ...securityGroupRules(at(resource, 'Details', 'AwsEc2SecurityGroup')),
    ...networkAclRules(at(resource, 'Details', 'AwsEc2NetworkAcl')),
  ]);
}

const overlaps = (a: PortRange, b: PortRange) => a.from <= b.to && b.from <= a.to;

/**
 * Which ports are exposed, most specific source first: the finding's Network section; the ports
 * its title or ProductFields name; the ports the control checks; and only then its resource's own
 * internet-open rules (EC2.18/EC2.19 name no port). CIDRs come from those rules, when they cover the
 * chosen ports: a control's wording ("0.0.0.0/0 or ::/0") says what it checks, not what is open.
 */
function exposureNetwork(finding: Json, exposure: Exposure, local: Side): NetworkFacts {
  const rules = internetRules(finding);
  const probed = asArray(at(finding, 'Action', 'PortProbeAction', 'PortProbeDetails')).map((probe) => {
    const port = at(probe, 'LocalPortDetails', 'Port');
    return portRange(port, port);
  });
  const candidates = [
    uniqPorts([
      portRange(at(finding, 'Network', 'OpenPortRange', 'Begin'), at(finding, 'Network', 'OpenPortRange', 'End')),
      local.port,
      ...probed,
    ]),
    uniqPorts([...portsInText(str(finding.Title) ?? ''), ...portsInProductFields(finding)]),
    exposure.controlPorts,
    uniqPorts(rules.map((rule) => rule.ports)),
  ];
  const ports = candidates.find((list) => list.length > 0) ?? [];
  const matching = rules.filter((rule) => rule.ports && ports.some((port) => overlaps(port, rule.ports!)));
  const protocols = uniq(matching.map((rule) => rule.protocol));
  const protocol = protocolName(at(finding, 'Network', 'Protocol')) ?? (protocols.length === 1 ? protocols[0] : undefined);
  return {
    ips: local.ips,
    cidrs: uniq(matching.map((rule) => rule.cidr)),
    ports,
    ...(protocol ? { protocol } : {}),
  };
}

/** One side of the finding's Network section. */
interface Side {
  ips: string[];
  domains: string[];
  port?: PortRange;
}

/**
 * ASFF's Network names source and destination; which one is ours depends on Direction. Inbound
 * (or unstated, as most products mean it): the source is the remote party. Outbound: the destination is.
 */
function networkSides(finding: Json): { local: Side; remote: Side } {
  const network = finding.Network;
  const side = (prefix: 'Source' | 'Destination'): Side => {
    const port = at(network, `${prefix}Port`);
    return {
      ips: uniq([ipOrUndefined(at(network, `${prefix}IpV4`)), ipOrUndefined(at(network, `${prefix}IpV6`))]),
      domains: uniq([str(at(network, `${prefix}Domain`))]),
      port: portRange(port, port),
    };
  };
  const outbound = upper(at(network, 'Direction')) === 'OUT';
  return outbound
    ? { local: side('Source'), remote: side('Destination') }
    : { local: side('Destination'), remote: side('Source') };
}

/** The details of each `Action.<Kind>Action` (NetworkConnectionAction, AwsApiCallAction, …). */
function actionDetails(finding: Json): Json[] {
  const action = finding.Action;
  if (!isRecord(action)) return [];
  return Object.entries(action)
    .filter(([key, value]) => /Action$/.test(key) && isRecord(value))
    .map(([, value]) => value as Json);
}

/**
 * Who acted. Principals only for findings that describe activity (an Action): for a posture check
 * on an access key (IAM.3, rotate keys) the key's owner is what is checked, not an actor.
 */
function extractActors(finding: Json, remote: Side): Actors {
  const actions = actionDetails(finding);
  const remoteDetails = actions.flatMap((details) => [
    at(details, 'RemoteIpDetails'),
    ...asArray(at(details, 'PortProbeDetails')).map((probe) => at(probe, 'RemoteIpDetails')),
  ]);
  const accessKeys = actions.length === 0 ? [] : asArray(finding.Resources).map((resource) => at(resource, 'Details', 'AwsIamAccessKey'));
  return {
    ips: uniq([
      ...remote.ips,
      ...remoteDetails.flatMap((details) => [ipOrUndefined(at(details, 'IpAddressV4')), ipOrUndefined(at(details, 'IpAddressV6'))]),
    ]),
    domains: uniq([
      ...remote.domains,
      ...actions.flatMap((details) => [str(at(details, 'Domain')), str(at(details, 'DomainDetails', 'Domain'))]),
    ]),
    principals: uniq(accessKeys.flatMap((key) => [str(at(key, 'PrincipalName')), str(at(key, 'UserName'))])),
    userAgents: [],
  };
}

const RESOURCE_TYPES: Record<string, string> = {
  AwsEc2SecurityGroup: 'aws:ec2:security-group',
  AwsEc2Instance: 'aws:ec2:instance',
  AwsEc2NetworkAcl: 'aws:ec2:network-acl',
  AwsAccount: 'aws:account',
  AwsIamUser: 'aws:iam:user',
  AwsIamRole: 'aws:iam:role',
  AwsIamAccessKey: 'aws:iam:access-key',
  AwsS3Bucket: 'aws:s3:bucket',
  AwsCloudTrailTrail: 'aws:cloudtrail:trail',
  // Resources that can be public; their ids are read from the ARN (publicResourceFromArn).
  AwsRdsDbInstance: 'aws:rds:db-instance',
  AwsRdsDbCluster: 'aws:rds:db-cluster',
  AwsRdsDbSnapshot: 'aws:rds:db-snapshot',
  AwsRdsDbClusterSnapshot: 'aws:rds:db-cluster-snapshot',
  AwsRedshiftCluster: 'aws:redshift:cluster',
  AwsOpenSearchServiceDomain: 'aws:opensearch:domain',
  AwsElasticsearchDomain: 'aws:opensearch:domain',
  AwsElbv2LoadBalancer: 'aws:elbv2:load-balancer',
  AwsElbLoadBalancer: 'aws:elb:load-balancer',
  AwsEc2Snapshot: 'aws:ec2:snapshot',
  AwsEc2Image: 'aws:ec2:image',
  AwsLambdaFunction: 'aws:lambda:function',
  AwsApiGatewayRestApi: 'aws:apigateway:rest-api',
  AwsApiGatewayStage: 'aws:apigateway:rest-api',
  AwsApiGatewayV2Api: 'aws:apigateway:http-api',
  AwsApiGatewayV2Stage: 'aws:apigateway:http-api',
};

/**
 * The provider's own id inside an ASFF resource Id, for the kinds Vigil names by it elsewhere
 * (sg-…, i-…, acl-…, the account number, the bucket name, the access key id). Others keep the ARN.
 */
const NATIVE_IDS: Record<string, RegExp> = {
  'aws:ec2:security-group': /:security-group\/(sg-[\w-]+)$/,
  'aws:ec2:instance': /:instance\/(i-[\w-]+)$/,
  'aws:ec2:network-acl': /:network-acl\/(acl-[\w-]+)$/,
  'aws:account': /^AWS::::Account:(\d{12})$/i,
  'aws:s3:bucket': /^arn:aws[\w-]*:s3:::([^/]+)$/,
  'aws:iam:access-key': /^AWS::IAM::AccessKey:(\S+)$/i,
};

/**
 * A human name: a security group's GroupName, a load balancer's name (an ALB or NLB is named by
 * ARN, and its name is how people and the readers also know it), else the Name tag.
 */
function resourceName(resource: unknown): string | undefined {
  return (
    str(at(resource, 'Details', 'AwsEc2SecurityGroup', 'GroupName')) ??
    str(at(resource, 'Details', 'AwsElbv2LoadBalancer', 'LoadBalancerName')) ??
    str(at(resource, 'Tags', 'Name'))
  );
}

/**
 * One resource as Vigil names it. A resource that can be public is named as the inventory readers
 * match it, from its ARN (`arn:aws:rds:…:db:orders` → aws:rds:db-instance `orders`), whatever ASFF
 * type a product gave it; the others by their ASFF type and native id.
 */
function resourceRef(resource: unknown): ResourceRef | undefined {
  const asffType = str(at(resource, 'Type'));
  const rawId = str(at(resource, 'Id'));
  if (!asffType || !rawId) return undefined;
  const known = ownEntry(RESOURCE_TYPES, asffType);
  const canonical = publicResourceFromArn(rawId);
  const type = canonical?.type ?? known ?? `aws:asff:${asffType}`;
  const id = canonical?.id ?? ownEntry(NATIVE_IDS, type)?.exec(rawId)?.[1] ?? rawId;
  const name = canonical?.name ?? resourceName(resource);
  return name && name !== id ? { type, id, name } : { type, id };
}

function extractResources(finding: Json): ResourceRef[] {
  const refs = asArray(finding.Resources).map(resourceRef);
  const seen = new Set<string>();
  return refs.filter((ref): ref is ResourceRef => {
    if (!ref || seen.has(`${ref.type} ${ref.id}`)) return false;
    seen.add(`${ref.type} ${ref.id}`);
    return true;
  });
}

/**
 * Why the check has its status, one line per reason: `Compliance.StatusReasons[]` (ReasonCode and
 * Description: for a failed control the one field that says what failed, for a WARNING why it could
 * not be checked).
 */
function statusReasons(finding: Json): string[] {
  return asArray(at(finding, 'Compliance', 'StatusReasons')).flatMap((reason) => {
    const code = str(at(reason, 'ReasonCode'));
    const description = str(at(reason, 'Description'));
    if (!code && !description) return [];
    return [`Reason: ${[code, description].filter(Boolean).join(': ')}`];
  });
}

/**
 * The finding's description, then what places it: control, product, types, compliance and why,
 * remediation (what to do, and where it is explained; older findings keep the address only in
 * ProductFields.RecommendationUrl).
 */
function describe(finding: Json): string {
  const control = controlId(finding);
  const product = str(finding.ProductName) ?? str(at(finding, 'ProductFields', 'aws/securityhub/ProductName'));
  const company = str(finding.CompanyName) ?? str(at(finding, 'ProductFields', 'aws/securityhub/CompanyName'));
  const types = asArray(finding.Types).map(str).filter(Boolean).join('; ');
  const compliance = str(at(finding, 'Compliance', 'Status'));
  const recommendation = str(at(finding, 'Remediation', 'Recommendation', 'Text'));
  const remediationUrl = str(at(finding, 'Remediation', 'Recommendation', 'Url')) ?? str(at(finding, 'ProductFields', 'RecommendationUrl'));
  const lines = [
    str(finding.Description),
    '',
    control ? `Control: ${control}` : undefined,
    product ? `Product: ${product}${company ? ` (${company})` : ''}` : `Product: ${str(finding.ProductArn)}`,
    types ? `Types: ${types}` : undefined,
    compliance ? `Compliance: ${compliance}` : undefined,
    ...statusReasons(finding),
    recommendation ? `Remediation: ${recommendation}` : undefined,
    remediationUrl ? `Remediation URL: ${remediationUrl}` : undefined,
    finding.Sample === true ? 'This is a sample finding: no real activity occurred.' : undefined,
  ];
  return lines.filter((line) => line !== undefined).join('\n').trim();
}

function toAlert({ finding, event }: Located): ParsedAlert {
  const resolution = resolutionOf(finding);
  const { local, remote } = networkSides(finding);
  const exposure = exposureOf(finding);
  const actors = extractActors(finding, remote);
  const kind = exposure ? 'exposure' : actors.ips.length > 0 || actors.domains.length > 0 ? 'actor' : 'resource';
  // Outside exposures, the local port is a fact about the machine only when the traffic came in.
  const inbound = upper(at(finding, 'Network', 'Direction')) === 'IN';
  const network: NetworkFacts = exposure
    ? exposureNetwork(finding, exposure, local)
    : { ips: local.ips, cidrs: [], ports: inbound && local.port ? [local.port] : [], ...networkProtocol(finding) };
  const account = str(finding.AwsAccountId) ?? str(event?.account);
  const region = str(finding.Region) ?? asArray(finding.Resources).map((resource) => str(at(resource, 'Region'))).find(Boolean) ?? str(event?.region);
  return {
    kind,
    // locateFindings only passes findings with an Id.
    fingerprint: str(finding.Id)!,
    title: str(finding.Title) ?? controlId(finding) ?? str(finding.Id)!,
    severity: asffSeverity(finding),
    occurredAt: str(finding.LastObservedAt) ?? str(finding.UpdatedAt) ?? str(finding.CreatedAt) ?? str(event?.time),
    description: describe(finding),
    cloud: { provider: 'aws', ...(account ? { account } : {}), ...(region ? { region } : {}) },
    resources: [...extractResources(finding), ...accountWide(finding)],
    network,
    actors,
    ...(resolution ? { resolution } : {}),
  };
}

/** Every resource of the type an account-level control judges, as one reference. */
function accountWide(finding: Json): ResourceRef[] {
  const control = controlId(finding);
  const type = control === undefined ? undefined : ownEntry(ACCOUNT_WIDE_CONTROLS, control);
  return type ? [{ type, id: EVERY_RESOURCE, name: `every ${type.split(':').at(-1)} of the account` }] : [];
}

function networkProtocol(finding: Json): { protocol?: string } {
  const protocol = protocolName(at(finding, 'Network', 'Protocol'));
  return protocol ? { protocol } : {};
}

export const securityHubSource: SourceAdapter = {
  name: 'securityhub',
  description: 'AWS Security Hub findings in ASFF (EventBridge "Security Hub Findings - Imported" events, GetFindings output)',

  detect(payload) {
    if (isEventBridgeEvent(payload) || isAsffFinding(payload)) return true;
    const list = isRecord(payload) ? payload.Findings : undefined;
    return Array.isArray(list) && list.length > 0 && list.every(isAsffFinding);
  },

  parse(payload): ParsedAlert[] {
    return locateFindings(payload)
      .filter(({ finding }) => !isSkipped(finding))
      .map(toAlert);
  },
};
