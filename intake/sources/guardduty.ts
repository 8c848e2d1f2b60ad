// Amazon GuardDuty findings: the EventBridge "GuardDuty Finding" event, a bare finding as the
// GuardDuty JSON API writes it (camelCase), and the AWS SDK / CLI GetFindings form (PascalCase,
// single or `{"Findings": [...]}`). GuardDuty findings imported into Security Hub are ASFF and belong
// to the `securityhub` source, not here.
import { type Actors, type NetworkFacts, type ParsedAlert, type PortRange, type ResourceRef, type Severity } from '../../lib/alert';
import { UnrecognizedPayloadError, type SourceAdapter } from './types';
import { asArray, ipOrUndefined, isRecord, numeric, str, uniq } from './util';
import { portRange, uniqPorts } from '../../lib/ports';

type Json = Record<string, unknown>;

const EXPECTED =
  'expected a GuardDuty finding: an EventBridge "GuardDuty Finding" event (source aws.guardduty), ' +
  'a finding with id, type, numeric severity and a GuardDuty arn, or {"Findings": [...]} of such findings';

/**
 * One field of a GuardDuty object in either spelling. The JSON API and EventBridge write camelCase
 * (`instanceDetails`), the AWS SDKs and CLI PascalCase (`InstanceDetails`) for the same data, so
 * reading both spellings lets one extractor serve every form without copying the payload.
 */
function field(value: unknown, key: string): unknown {
  if (!isRecord(value)) return undefined;
  return value[key] ?? value[key.charAt(0).toUpperCase() + key.slice(1)];
}

/** `at(finding, 'service', 'action', 'actionType')`: a nested field, undefined when any step is missing. */
function at(value: unknown, ...keys: string[]): unknown {
  return keys.reduce<unknown>((current, key) => field(current, key), value);
}

/**
 * GuardDuty's documented bands: 1.0–3.9 low, 4.0–6.9 medium, 7.0–8.9 high, 9.0–10.0 critical.
 * Thresholds (not ranges) so that values between the bands' written edges (3.95) still land.
 */
export function guardDutySeverity(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score >= 1) return 'low';
  return 'informational';
}

/** A finding, in either spelling, recognisable as GuardDuty's (an ASFF finding is not: it has ProductArn). */
function isGuardDutyFinding(value: unknown): value is Json {
  if (!isRecord(value) || 'ProductArn' in value) return false;
  if (!str(field(value, 'id')) || !str(field(value, 'type'))) return false;
  if (numeric(field(value, 'severity')) === undefined) return false;
  const arn = str(field(value, 'arn')) ?? '';
  return /^arn:aws[\w-]*:guardduty:/.test(arn) || at(value, 'service', 'serviceName') === 'guardduty';
}

function isEventBridgeEvent(value: unknown): value is Json {
  return isRecord(value) && value.source === 'aws.guardduty' && value['detail-type'] === 'GuardDuty Finding';
}

/** `{"Findings": [...]}` (SDK, CLI) or `{"findings": [...]}` (raw API) with at least one finding. */
function findingList(value: unknown): unknown[] | undefined {
  if (!isRecord(value) || isEventBridgeEvent(value)) return undefined;
  const list = field(value, 'findings');
  return Array.isArray(list) ? list : undefined;
}

interface Located {
  finding: Json;
  /** The EventBridge event around the finding, for account, region and time when the finding lacks them. */
  event?: Json;
}

/** The findings of a payload, or an UnrecognizedPayloadError saying what was expected. */
function locateFindings(payload: unknown): Located[] {
  if (isEventBridgeEvent(payload)) {
    if (!isGuardDutyFinding(payload.detail)) {
      throw new UnrecognizedPayloadError(`GuardDuty Finding event without a usable finding in detail; ${EXPECTED}`);
    }
    return [{ finding: payload.detail, event: payload }];
  }
  if (isGuardDutyFinding(payload)) return [{ finding: payload }];
  const list = findingList(payload);
  if (list) {
    // One bad entry makes the whole payload unparsed rather than silently dropping it.
    const bad = list.findIndex((entry) => !isGuardDutyFinding(entry));
    if (bad >= 0) throw new UnrecognizedPayloadError(`Findings[${bad}] is not a GuardDuty finding; ${EXPECTED}`);
    return (list as Json[]).map((finding) => ({ finding }));
  }
  throw new UnrecognizedPayloadError(`not a GuardDuty finding; ${EXPECTED}`);
}

/** The action's details, e.g. `service.action.networkConnectionAction`, whichever kind it is. */
function actionDetails(finding: Json): Json[] {
  const action = at(finding, 'service', 'action');
  if (!isRecord(action)) return [];
  return Object.entries(action)
    .filter(([key, value]) => /Action$/i.test(key) && isRecord(value))
    .map(([, value]) => value as Json);
}

/** remoteIpDetails of every action, including each port probe's. */
function remoteIpDetails(finding: Json): unknown[] {
  return actionDetails(finding).flatMap((details) => [
    field(details, 'remoteIpDetails'),
    ...asArray(field(details, 'portProbeDetails')).map((probe) => field(probe, 'remoteIpDetails')),
  ]);
}

/** Who acted: remote addresses, domains, principals and user agents the finding names. */
function extractActors(finding: Json): Actors {
  const actions = actionDetails(finding);
  const remote = remoteIpDetails(finding);
  const kubernetesUser = at(finding, 'resource', 'kubernetesDetails', 'kubernetesUserDetails');
  return {
    ips: uniq([
      ...remote.flatMap((details) => [ipOrUndefined(field(details, 'ipAddressV4')), ipOrUndefined(field(details, 'ipAddressV6'))]),
      // Kubernetes API calls list the caller's addresses separately as well.
      ...actions.flatMap((details) => asArray(field(details, 'sourceIps')).map(ipOrUndefined)),
    ]),
    domains: uniq(
      actions.flatMap((details) => [str(field(details, 'domain')), str(at(details, 'domainDetails', 'domain'))]),
    ),
    principals: uniq([
      str(at(finding, 'resource', 'accessKeyDetails', 'userName')),
      str(at(finding, 'resource', 'accessKeyDetails', 'principalId')),
      str(field(kubernetesUser, 'username')),
      ...actions.flatMap((details) => asArray(field(details, 'loginAttributes')).map((login) => str(field(login, 'user')))),
    ]),
    userAgents: uniq([
      ...actions.map((details) => str(field(details, 'userAgent'))),
      str(at(additionalInfo(finding), 'userAgent', 'fullUserAgent')),
    ]),
  };
}

/** `service.additionalInfo`: an object in EventBridge events, `{Value: "<json>", Type}` in SDK output. */
function additionalInfo(finding: Json): Json {
  const info = at(finding, 'service', 'additionalInfo');
  if (!isRecord(info)) return {};
  const encoded = field(info, 'value');
  if (typeof encoded === 'string') {
    try {
      const decoded: unknown = JSON.parse(encoded);
      return isRecord(decoded) ? decoded : {};
    } catch {
      return {};
    }
  }
  return info;
}

function isSample(finding: Json): boolean {
  const sample = field(additionalInfo(finding), 'sample');
  return sample === true || sample === 'true';
}

function networkInterfaces(finding: Json): unknown[] {
  return asArray(at(finding, 'resource', 'instanceDetails', 'networkInterfaces'));
}

/** The Name tag of an instance, when it has one. */
function nameTag(tags: unknown): string | undefined {
  const tag = asArray(tags).find((entry) => field(entry, 'key') === 'Name');
  return str(field(tag, 'value'));
}

/** The IAM resource behind the credentials: a user, or a role for assumed-role sessions. */
function iamIdentity(accessKey: unknown): ResourceRef | undefined {
  const userName = str(field(accessKey, 'userName'));
  if (!userName) return undefined;
  const userType = str(field(accessKey, 'userType'));
  if (userType === 'IAMUser') return { type: 'aws:iam:user', id: userName };
  if (userType === 'AssumedRole' || userType === 'Role') return { type: 'aws:iam:role', id: userName };
  return undefined;
}

/** Every AWS resource the finding names: instance, its security groups, credentials, buckets, clusters… */
function extractResources(finding: Json): ResourceRef[] {
  const resource = field(finding, 'resource');
  const resources: (ResourceRef | undefined)[] = [];
  const instance = field(resource, 'instanceDetails');
  const instanceId = str(field(instance, 'instanceId'));
  if (instanceId) resources.push(withName({ type: 'aws:ec2:instance', id: instanceId }, nameTag(field(instance, 'tags'))));
  for (const networkInterface of networkInterfaces(finding)) {
    for (const group of asArray(field(networkInterface, 'securityGroups'))) {
      const groupId = str(field(group, 'groupId'));
      if (groupId) resources.push(withName({ type: 'aws:ec2:security-group', id: groupId }, str(field(group, 'groupName'))));
    }
  }
  const accessKey = field(resource, 'accessKeyDetails');
  const accessKeyId = str(field(accessKey, 'accessKeyId'));
  if (accessKeyId) resources.push({ type: 'aws:iam:access-key', id: accessKeyId });
  resources.push(iamIdentity(accessKey));
  for (const bucket of asArray(field(resource, 's3BucketDetails'))) {
    const id = str(field(bucket, 'name')) ?? str(field(bucket, 'arn'));
    if (id) resources.push({ type: 'aws:s3:bucket', id });
  }
  const named = (type: string, details: unknown, ...keys: string[]) => {
    const id = keys.map((key) => str(field(details, key))).find(Boolean);
    if (id) resources.push({ type, id });
  };
  named('aws:eks:cluster', field(resource, 'eksClusterDetails'), 'name', 'arn');
  named('aws:ecs:cluster', field(resource, 'ecsClusterDetails'), 'name', 'arn');
  named('aws:rds:db-instance', field(resource, 'rdsDbInstanceDetails'), 'dbInstanceIdentifier', 'dbInstanceArn');
  named('aws:lambda:function', field(resource, 'lambdaDetails'), 'functionArn', 'functionName');
  // The same security group on two interfaces is one resource.
  const seen = new Set<string>();
  return resources.filter((ref): ref is ResourceRef => {
    if (!ref || seen.has(`${ref.type} ${ref.id}`)) return false;
    seen.add(`${ref.type} ${ref.id}`);
    return true;
  });
}

function withName(ref: ResourceRef, name: string | undefined): ResourceRef {
  return name ? { ...ref, name } : ref;
}

/** Port probes on an unprotected port: the instance answers on that port from the internet. */
function isUnprotectedPortProbe(type: string): boolean {
  return /PortProbe\w*UnprotectedPort/i.test(type);
}

function probedPorts(finding: Json): PortRange[] {
  const probes = asArray(at(finding, 'service', 'action', 'portProbeAction', 'portProbeDetails'));
  const ports = probes.map((probe) => {
    const port = at(probe, 'localPortDetails', 'port');
    return portRange(port, port);
  });
  return uniqPorts(ports);
}

/**
 * Facts about the alerted-on machine: its public addresses, and the ports the finding concerns —
 * the probed ports of a port probe, or the local port of an inbound connection (SSH brute force on 22).
 * Private addresses are left out: nothing outside the VPC can reach them.
 */
function extractNetwork(finding: Json, exposure: boolean): NetworkFacts {
  const ips = uniq(
    networkInterfaces(finding).flatMap((networkInterface) => [
      ipOrUndefined(field(networkInterface, 'publicIp')),
      ...asArray(field(networkInterface, 'ipv6Addresses')).map(ipOrUndefined),
    ]),
  );
  if (exposure) return { ips, cidrs: [], ports: probedPorts(finding) };
  const connection = at(finding, 'service', 'action', 'networkConnectionAction');
  if (str(field(connection, 'connectionDirection'))?.toUpperCase() === 'INBOUND') {
    const port = at(connection, 'localPortDetails', 'port');
    const protocol = str(field(connection, 'protocol'))?.toLowerCase();
    return { ips, cidrs: [], ports: uniqPorts([portRange(port, port)]), ...(protocol ? { protocol } : {}) };
  }
  return { ips, cidrs: [], ports: [] };
}

/** The finding's own description, then what a reader needs to place it: type, count, sample or not. */
function describe(finding: Json, type: string): string {
  const count = numeric(at(finding, 'service', 'count'));
  // TARGET: the resource was acted on; ACTOR: the resource itself did it (remote addresses are then its peers).
  const role = str(at(finding, 'service', 'resourceRole'));
  const lines = [
    str(field(finding, 'description')),
    '',
    `GuardDuty finding type: ${type}`,
    count !== undefined ? `Count: ${count}` : undefined,
    role ? `Resource role: ${role}` : undefined,
    isSample(finding) ? 'This is a sample finding (CreateSampleFindings): no real activity occurred.' : undefined,
  ];
  return lines.filter((line) => line !== undefined).join('\n').trim();
}

/**
 * GuardDuty's own word that a finding is over: `service.archived` true (`Service.Archived` in the
 * SDK form), set when someone archives it after dealing with it, or a suppression rule does.
 */
function resolutionOf(finding: Json): string | undefined {
  const archived = at(finding, 'service', 'archived');
  return archived === true || str(archived)?.toLowerCase() === 'true' ? 'GuardDuty service.archived true' : undefined;
}

function toAlert({ finding, event }: Located): ParsedAlert {
  const resolution = resolutionOf(finding);
  // locateFindings only passes findings with an id, a type and a numeric severity.
  const id = str(field(finding, 'id'))!;
  const type = str(field(finding, 'type'))!;
  const score = numeric(field(finding, 'severity'))!;
  const exposure = isUnprotectedPortProbe(type);
  const actors = extractActors(finding);
  const kind = exposure ? 'exposure' : actors.ips.length > 0 || actors.domains.length > 0 ? 'actor' : 'resource';
  const account = str(field(finding, 'accountId')) ?? str(event?.account);
  const region = str(field(finding, 'region')) ?? str(event?.region);
  return {
    kind,
    fingerprint: id,
    // Sample findings look real; the title says they are not, so nobody is paged for one.
    title: `${isSample(finding) ? '[sample] ' : ''}${str(field(finding, 'title')) ?? type}`,
    severity: guardDutySeverity(score),
    occurredAt: str(field(finding, 'updatedAt')) ?? str(field(finding, 'createdAt')) ?? str(event?.time),
    description: describe(finding, type),
    cloud: { provider: 'aws', ...(account ? { account } : {}), ...(region ? { region } : {}) },
    resources: extractResources(finding),
    network: extractNetwork(finding, exposure),
    actors,
    ...(resolution ? { resolution } : {}),
  };
}

export const guardDutySource: SourceAdapter = {
  name: 'guardduty',
  description: 'Amazon GuardDuty findings (EventBridge "GuardDuty Finding" events, API or SDK GetFindings output)',

  detect(payload) {
    if (isEventBridgeEvent(payload) || isGuardDutyFinding(payload)) return true;
    const list = findingList(payload);
    return list !== undefined && list.length > 0 && list.every(isGuardDutyFinding);
  },

  parse(payload): ParsedAlert[] {
    return locateFindings(payload).map(toAlert);
  },
};
