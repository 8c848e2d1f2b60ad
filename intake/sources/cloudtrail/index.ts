// The CloudTrail source: AWS API activity as CloudTrail records it, delivered as an EventBridge
// event, a single record, a whole log file (`{"Records": [...]}`, as written to S3) or a JSON array
// of records. A single event was routed to Vigil on purpose, so it is always an alert; in a log file
// or an array only the records a rule matches are: a built-in rule (see ./rules) or a configured
// Sigma rule (../sigma.ts).
import type { ParsedAlert } from '../../../lib/alert';
import type { SigmaRule } from '../../sigma';
import { judgedDetections, judgedSeverity, judgeEvent, sigmaFingerprint, sigmaLines, type Judgement } from '../sigma';
import { UnrecognizedPayloadError, type ParseTally, type SourceAdapter } from '../types';
import { ipOrUndefined, isRecord, sha256, str, uniq } from '../util';
import {
  accountOf,
  at,
  eventName,
  insightAttributions,
  isInsight,
  principalName,
  regionOf,
  short,
  type CloudTrailRecord,
} from './record';
import { cloudTrailRules } from './rules';
import { alsoMatchedLines, enabledRules, ruleLine, type RuleMatch } from '../rules';
import { recordResources } from './resources';
import { thingFingerprint, type CloudTrailRule } from './rules/common';

export { cloudTrailRules, type CloudTrailRecord, type CloudTrailRule, type RuleMatch };

export interface CloudTrailSourceOptions {
  /** Ids of built-in rules to switch off (see `cloudTrailRules`); an unknown id is an error. */
  disabledRules?: string[];
  /** Sigma rules (`detections.sigma`); those for other log sources are left alone. */
  sigma?: readonly SigmaRule[];
}

const EXPECTED =
  'expected an EventBridge "AWS API Call via CloudTrail" (or Console Sign In / Insight) event, a CloudTrail record ' +
  '(eventVersion, eventSource, eventName, eventID), a log file {"Records": [records]} or a JSON array of records';

/** EventBridge detail-types CloudTrail sends ("AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail", ...). */
const CLOUDTRAIL_DETAIL_TYPE = /^AWS .+ via CloudTrail$/;

/**
 * A CloudTrail record: an event from an AWS service endpoint, or an Insights event. S3 and SQS
 * notifications also come as `{"Records": [...]}` with eventVersion and eventName, but their
 * eventSource is `aws:s3` / `aws:sqs`, so the `.amazonaws.com` endpoint tells them apart.
 */
export function isCloudTrailRecord(value: unknown): value is CloudTrailRecord {
  if (!isRecord(value) || str(value.eventVersion) === undefined) return false;
  if (isInsight(value)) return isRecord(value.insightDetails);
  const source = str(value.eventSource);
  return (
    eventName(value) !== undefined &&
    source !== undefined &&
    source.endsWith('.amazonaws.com') &&
    (str(value.eventID) !== undefined || str(value.eventTime) !== undefined)
  );
}

interface Delivery {
  records: CloudTrailRecord[];
  /** One event sent on its own: always an alert, matched by a rule or not. */
  single: boolean;
  /** The EventBridge envelope's account and region, used only when the record lacks them. */
  fallback: { account?: string; region?: string };
}

/** The records in a payload, or why it is not a CloudTrail payload. */
function readPayload(payload: unknown): Delivery | string {
  if (Array.isArray(payload)) {
    // Elements that are not records are skipped: they are no CloudTrail event to report.
    const records = payload.filter(isCloudTrailRecord);
    return records.length > 0 ? { records, single: false, fallback: {} } : 'an array without CloudTrail records';
  }
  if (!isRecord(payload)) return `a JSON ${payload === null ? 'null' : typeof payload}`;
  if ('detail-type' in payload) return readEventBridge(payload);
  if ('Records' in payload) {
    if (!Array.isArray(payload.Records)) return '"Records" is not a list';
    const records = payload.Records.filter(isCloudTrailRecord);
    // An empty log file is a valid file with nothing in it.
    if (records.length === 0 && payload.Records.length > 0) {
      return 'a "Records" list without CloudTrail records (an S3 or SQS notification?)';
    }
    return { records, single: false, fallback: {} };
  }
  if (isCloudTrailRecord(payload)) return { records: [payload], single: true, fallback: {} };
  return 'an object that is neither a CloudTrail record nor a log file';
}

function readEventBridge(envelope: Record<string, unknown>): Delivery | string {
  const detailType = str(envelope['detail-type']);
  if (!detailType || !CLOUDTRAIL_DETAIL_TYPE.test(detailType)) {
    const shown = JSON.stringify(short(detailType ?? `(${typeof envelope['detail-type']})`));
    return `an EventBridge event of detail-type ${shown}, not a CloudTrail one`;
  }
  if (!isCloudTrailRecord(envelope.detail)) return `an EventBridge "${detailType}" event whose detail is not a CloudTrail record`;
  return {
    records: [envelope.detail],
    single: true,
    fallback: { account: str(envelope.account), region: str(envelope.region) },
  };
}

// ---------------------------------------------------------------------------------------------
// Record → alert.

type Judged = Judgement<CloudTrailRecord>;

/** Text written as it is, among the values still to write in `canonicalJson`. */
class Verbatim {
  constructor(readonly text: string) {}
}

/**
 * JSON with sorted keys, so a record hashes the same whatever order its keys arrived in. Written from
 * a stack of its own rather than by recursion: a record nested 50,000 deep (which intake admits, up to
 * intake/json-shape.ts's bound) would overflow the call stack, and the whole log file would become one
 * unparsed alert saying "Maximum call stack size exceeded". The text is the same as a recursive
 * writer's, so fingerprints do not change.
 */
function canonicalJson(root: unknown): string {
  const parts: string[] = [];
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (value instanceof Verbatim) {
      parts.push(value.text);
    } else if (Array.isArray(value)) {
      parts.push('[');
      pending.push(new Verbatim(']'));
      for (let n = value.length - 1; n >= 0; n--) pending.push(value[n], ...(n > 0 ? [new Verbatim(',')] : []));
    } else if (isRecord(value)) {
      parts.push('{');
      pending.push(new Verbatim('}'));
      const keys = Object.keys(value).sort();
      for (let n = keys.length - 1; n >= 0; n--) pending.push(value[keys[n]!], new Verbatim(`${n > 0 ? ',' : ''}${JSON.stringify(keys[n])}:`));
    } else {
      parts.push(JSON.stringify(value) ?? 'null');
    }
  }
  return parts.join('');
}

/** One event's identity: its eventID (a GUID), or the record's hash when it has none. */
function eventFingerprint(record: CloudTrailRecord): string {
  const id = str(record.eventID);
  return id ? `cloudtrail:event:${id}` : `cloudtrail:record:sha256:${sha256(canonicalJson(record))}`;
}

function occurredAt(record: CloudTrailRecord): string | undefined {
  const time = str(record.eventTime);
  return time && !Number.isNaN(Date.parse(time)) ? time : undefined;
}

function defaultTitle(record: CloudTrailRecord): string {
  if (isInsight(record)) return 'CloudTrail Insights event';
  return `CloudTrail ${short(eventName(record) ?? 'event')} by ${short(principalName(record))}`;
}

/** The caller: its ARN when CloudTrail gives one, else `<type>/<userName>` (or the AWS service). */
function principalOf(record: CloudTrailRecord): string | undefined {
  const identity = record.userIdentity;
  const arn = str(at(identity, 'arn'));
  if (arn) return arn;
  const type = str(at(identity, 'type'));
  const name = str(at(identity, 'userName')) ?? str(at(identity, 'invokedBy')) ?? str(at(identity, 'principalId'));
  if (type && name) return `${type}/${name}`;
  return name ?? type;
}

function describe(record: CloudTrailRecord, judged: Judged | undefined, cloud: ParsedAlert['cloud']): string {
  const verdict = judged?.verdict;
  const error = [str(record.errorCode), str(record.errorMessage)].filter(Boolean).join(': ');
  const event = isInsight(record)
    ? `CloudTrail Insights event for ${str(at(record, 'insightDetails', 'eventName')) ?? 'an unknown API'}`
    : `${eventName(record) ?? 'unknown event'} (${str(record.eventSource) ?? 'unknown source'})`;
  const lines = [
    `Event: ${event} at ${str(record.eventTime) ?? 'unknown time'}`,
    verdict ? ruleLine(verdict) : judged ? 'Rule: no built-in rule matched' : 'Rule: none matched (sent as a single event, so reported at low severity)',
    ...(judged ? sigmaLines(judged) : []),
    `Principal: ${principalOf(record) ?? 'not recorded'}`,
    // The raw value: a service name ("ec2.amazonaws.com", "AWS Internal") says who called too.
    `Source IP: ${str(record.sourceIPAddress) ?? 'not recorded'}`,
    `Account: ${cloud?.account ?? 'unknown'} · Region: ${cloud?.region ?? 'unknown'}`,
    ...(error ? [`Error: ${error}`] : []),
    ...(str(record.userAgent) ? [`User agent: ${str(record.userAgent)}`] : []),
    `Event ID: ${str(record.eventID) ?? 'not recorded'}`,
    ...(verdict?.match.details ?? []),
    ...(verdict ? alsoMatchedLines(verdict) : []),
  ];
  return lines.join('\n');
}

function actorsOf(record: CloudTrailRecord): ParsedAlert['actors'] {
  if (isInsight(record)) {
    // An Insights event has no caller of its own; CloudTrail names the top contributors instead.
    return {
      ips: [],
      domains: [],
      principals: insightAttributions(record, 'userIdentityArn'),
      userAgents: insightAttributions(record, 'userAgent'),
    };
  }
  return {
    ips: uniq([ipOrUndefined(record.sourceIPAddress)]),
    domains: [],
    principals: uniq([principalOf(record)]),
    userAgents: uniq([str(record.userAgent)]),
  };
}

/**
 * What only Sigma rules found: titled by the most severe rule, about the resources the record names
 * (else its caller), so that the rule's repeats about one thing make one issue.
 */
function sigmaFacts(record: CloudTrailRecord, rule: SigmaRule) {
  const resources = recordResources(record);
  const thing = resources[0]?.id ?? principalOf(record);
  // An ARN's resource part names the thing for a title (`arn:aws:s3:::bucket` → `bucket`,
  // `…:function:pay:live` → `function:pay:live`); other ids are names already.
  const id = resources[0]?.id;
  const about = id ? ` on ${short(id.startsWith('arn:') ? id.split(':').slice(5).join(':') || id : id)}` : '';
  return {
    resources,
    title: `${rule.title}: ${short(eventName(record) ?? 'event')}${about} by ${short(principalName(record))}`,
    fingerprint: thing ? sigmaFingerprint(rule, thingFingerprint(record, thing)) : eventFingerprint(record),
  };
}

function toAlert(record: CloudTrailRecord, judged: Judged | undefined, fallback: Delivery['fallback']): ParsedAlert {
  const account = accountOf(record) ?? fallback.account;
  const region = regionOf(record) ?? fallback.region;
  const cloud = { provider: 'aws', ...(account ? { account } : {}), ...(region ? { region } : {}) };
  const verdict = judged?.verdict;
  const network = verdict?.match.network;
  const bySigma = !verdict && judged?.sigma[0] ? sigmaFacts(record, judged.sigma[0]) : undefined;
  return {
    kind: verdict?.rule.kind ?? 'actor',
    fingerprint: verdict?.match.fingerprint ?? bySigma?.fingerprint ?? eventFingerprint(record),
    title: verdict?.match.title ?? bySigma?.title ?? defaultTitle(record),
    severity: judged ? judgedSeverity(judged, 'low') : 'low',
    occurredAt: occurredAt(record),
    description: describe(record, judged, cloud),
    cloud,
    resources: verdict?.match.resources ?? bySigma?.resources ?? [],
    network: {
      ips: [],
      cidrs: network?.cidrs ?? [],
      ports: network?.ports ?? [],
      ...(network?.protocol ? { protocol: network.protocol } : {}),
    },
    actors: actorsOf(record),
    ...(verdict?.match.resolution ? { resolution: verdict.match.resolution } : {}),
    ...(judged ? { detections: judgedDetections(judged) } : {}),
  };
}

function parseWith(rules: readonly CloudTrailRule[], sigma: readonly SigmaRule[], payload: unknown, tally?: ParseTally): ParsedAlert[] {
  const delivery = readPayload(payload);
  if (typeof delivery === 'string') throw new UnrecognizedPayloadError(`not a CloudTrail payload: got ${delivery}; ${EXPECTED}`);
  return delivery.records.flatMap((record) => {
    const judged = judgeEvent(record, rules, sigma, 'aws-cloudtrail');
    if (!judged && !delivery.single && tally) tally.unmatched += 1;
    return judged || delivery.single ? [toAlert(record, judged, delivery.fallback)] : [];
  });
}

/** The records of a CloudTrail payload (an event, a record, a log file, a list), or undefined when it is none. */
export function cloudTrailRecords(payload: unknown): CloudTrailRecord[] | undefined {
  const delivery = readPayload(payload);
  return typeof delivery === 'string' ? undefined : delivery.records;
}

/** An empty log file (`{"Records": []}`, which trails do write) is CloudTrail's too: no alert, not an unparsed one. */
function detect(payload: unknown): boolean {
  return typeof readPayload(payload) !== 'string';
}

/** A CloudTrail adapter with some built-in rules switched off (configuration). */
export function createCloudTrailSource(options: CloudTrailSourceOptions = {}): SourceAdapter {
  const rules = enabledRules(cloudTrailRules, options.disabledRules, 'CloudTrail');
  const sigma = options.sigma ?? [];
  return {
    name: 'cloudtrail',
    description: 'AWS CloudTrail: EventBridge events, single records, log files and arrays of records',
    detect,
    parse: (payload, tally) => parseWith(rules, sigma, payload, tally),
  };
}

/** The default CloudTrail adapter: every built-in rule on. */
export const cloudTrailSource: SourceAdapter = createCloudTrailSource();
