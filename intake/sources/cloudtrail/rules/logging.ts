// Logging rules: CloudTrail trails, VPC flow logs, GuardDuty detectors and AWS Config recorders
// switched off or changed, which hides what follows, and failed attempts at it (someone tried, and
// was refused: worth knowing even though nothing changed).
import type { ResourceRef } from '../../../../lib/alert';
import { isRecord, str, uniq } from '../../util';
import { at, eventName, short, type CloudTrailRecord } from '../record';
import { is, succeeded, thingFingerprint, type CloudTrailRule, type RuleMatch } from './common';

/** EC2 nests a list a level or two: deeper than this is not a list of its, and is not followed. */
const EC2_LIST_DEPTH = 8;

/** Strings from an EC2 scalar or list, unwrapping `{"content": ...}` (DeleteFlowLogs writes that). */
function ec2Strings(value: unknown, depth = 0): string[] {
  if (depth > EC2_LIST_DEPTH) return [];
  if (Array.isArray(value)) return value.flatMap((item) => ec2Strings(item, depth + 1));
  if (isRecord(value)) return 'content' in value ? ec2Strings(value.content, depth + 1) : [];
  const text = str(value);
  return text === undefined ? [] : [text];
}

/** A trail's own name, from a name or an ARN (`arn:aws:cloudtrail:<region>:<account>:trail/<name>`). */
function trailName(value: string): string {
  return value.includes(':trail/') ? value.slice(value.lastIndexOf(':trail/') + ':trail/'.length) : value;
}

/** The thing a logging call is about, shared by the rule of the change and the rule of its failure. */
interface Target {
  /** Its name or ids as a title shows them (`org-trail`, `fl-0e17aa62a21d4bbfe`). */
  name: string;
  resources: ResourceRef[];
  fingerprint?: string;
}

function trailTarget(record: CloudTrailRecord): Target {
  const given = str(at(record, 'requestParameters', 'name')) ?? str(at(record, 'requestParameters', 'trailName'));
  const name = given ? trailName(given) : undefined;
  return {
    name: short(name ?? 'unknown'),
    resources: given ? [{ type: 'aws:cloudtrail:trail', id: given, ...(name !== given ? { name } : {}) }] : [],
    fingerprint: name ? thingFingerprint(record, `trail/${name}`) : undefined,
  };
}

function flowLogsTarget(record: CloudTrailRecord): Target {
  const params = record.requestParameters;
  const ids = uniq([...ec2Strings(at(params, 'DeleteFlowLogsRequest', 'FlowLogId')), ...ec2Strings(at(params, 'flowLogIds'))]).sort();
  return {
    name: short(ids.join(', ') || 'ids not recorded'),
    resources: ids.map((id) => ({ type: 'aws:ec2:flow-log', id })),
    fingerprint: ids.length > 0 ? thingFingerprint(record, ids.join(',')) : undefined,
  };
}

function detectorTarget(record: CloudTrailRecord): Target {
  const id = str(at(record, 'requestParameters', 'detectorId'));
  return {
    name: short(id ?? 'unknown'),
    resources: id ? [{ type: 'aws:guardduty:detector', id }] : [],
    fingerprint: id ? thingFingerprint(record, `guardduty-detector/${id}`) : undefined,
  };
}

function recorderTarget(record: CloudTrailRecord): Target {
  const name = str(at(record, 'requestParameters', 'configurationRecorderName'));
  return {
    name: short(name ?? 'unknown'),
    resources: name ? [{ type: 'aws:config:configuration-recorder', id: name }] : [],
    fingerprint: name ? thingFingerprint(record, `config-recorder/${name}`) : undefined,
  };
}

const matchOf = (target: Target, title: string): RuleMatch => ({
  title,
  resources: target.resources,
  ...(target.fingerprint ? { fingerprint: target.fingerprint } : {}),
});

const cloudTrailStopped: CloudTrailRule = {
  id: 'cloudtrail-logging-stopped',
  description: 'StopLogging or DeleteTrail: a CloudTrail trail stops recording',
  kind: 'resource',
  severity: 'high',
  match(record) {
    if (!is(record, 'StopLogging', 'DeleteTrail') || !succeeded(record)) return undefined;
    const trail = trailTarget(record);
    return matchOf(trail, eventName(record) === 'DeleteTrail' ? `CloudTrail trail ${trail.name} deleted` : `CloudTrail logging stopped on trail ${trail.name}`);
  },
};

const cloudTrailChanged: CloudTrailRule = {
  id: 'cloudtrail-trail-changed',
  // Medium: these are also ordinary configuration, but can narrow what is recorded or where.
  description: 'UpdateTrail or PutEventSelectors: what a trail records, or where it delivers, changed',
  kind: 'resource',
  severity: 'medium',
  match(record) {
    if (!is(record, 'UpdateTrail', 'PutEventSelectors') || !succeeded(record)) return undefined;
    const trail = trailTarget(record);
    return matchOf(trail, `CloudTrail trail ${trail.name} changed (${eventName(record) ?? ''})`);
  },
};

const flowLogsDeleted: CloudTrailRule = {
  id: 'vpc-flow-logs-deleted',
  description: 'DeleteFlowLogs: VPC flow logs stop recording',
  kind: 'resource',
  severity: 'medium',
  match(record) {
    if (!is(record, 'DeleteFlowLogs') || !succeeded(record)) return undefined;
    const flowLogs = flowLogsTarget(record);
    return matchOf(flowLogs, `VPC flow logs deleted: ${flowLogs.name}`);
  },
};

const detectorDeleted: CloudTrailRule = {
  id: 'guardduty-detector-deleted',
  // High, like a trail stopped: GuardDuty stops watching the region altogether.
  description: 'DeleteDetector: GuardDuty stops watching the region',
  kind: 'resource',
  severity: 'high',
  match(record) {
    if (!is(record, 'DeleteDetector') || !succeeded(record)) return undefined;
    const detector = detectorTarget(record);
    return matchOf(detector, `GuardDuty detector ${detector.name} deleted`);
  },
};

const recorderStopped: CloudTrailRule = {
  id: 'config-recorder-stopped',
  // Medium, like flow logs: AWS Config's history of resource changes stops, the account is still logged.
  description: 'StopConfigurationRecorder or DeleteConfigurationRecorder: AWS Config stops recording resource changes',
  kind: 'resource',
  severity: 'medium',
  match(record) {
    if (!is(record, 'StopConfigurationRecorder', 'DeleteConfigurationRecorder') || !succeeded(record)) return undefined;
    const recorder = recorderTarget(record);
    const verb = eventName(record) === 'DeleteConfigurationRecorder' ? 'deleted' : 'stopped';
    return matchOf(recorder, `AWS Config recorder ${recorder.name} ${verb}`);
  },
};

/** Calls that switch logging off or narrow it, with what each is about, for the failed-attempt rule. */
const visibilityCalls: Record<string, { thing: string; target: (record: CloudTrailRecord) => Target }> = {
  StopLogging: { thing: 'CloudTrail trail', target: trailTarget },
  DeleteTrail: { thing: 'CloudTrail trail', target: trailTarget },
  PutEventSelectors: { thing: 'CloudTrail trail', target: trailTarget },
  DeleteFlowLogs: { thing: 'VPC flow logs', target: flowLogsTarget },
  DeleteDetector: { thing: 'GuardDuty detector', target: detectorTarget },
  StopConfigurationRecorder: { thing: 'AWS Config recorder', target: recorderTarget },
  DeleteConfigurationRecorder: { thing: 'AWS Config recorder', target: recorderTarget },
};

const visibilityChangeFailed: CloudTrailRule = {
  id: 'logging-change-failed',
  // Low: nothing changed, but someone tried to go unseen. The description's Error line says why it failed.
  description:
    'A failed StopLogging, DeleteTrail, PutEventSelectors, DeleteFlowLogs, DeleteDetector, StopConfigurationRecorder or DeleteConfigurationRecorder',
  kind: 'resource',
  severity: 'low',
  match(record) {
    const name = eventName(record) ?? '';
    if (succeeded(record) || !Object.hasOwn(visibilityCalls, name)) return undefined;
    const { thing, target } = visibilityCalls[name]!;
    const found = target(record);
    const why = str(record.errorCode) ?? 'error not recorded';
    return matchOf(found, `Failed attempt: ${name} on ${thing} ${found.name} (${short(why)})`);
  },
};

export const loggingRules: readonly CloudTrailRule[] = [
  cloudTrailStopped,
  cloudTrailChanged,
  flowLogsDeleted,
  detectorDeleted,
  recorderStopped,
  visibilityChangeFailed,
];
