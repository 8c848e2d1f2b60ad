// Logging rules: CloudTrail trails and VPC flow logs switched off or changed, which hides what follows.
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

function trailMatch(record: CloudTrailRecord, title: (name: string) => string): RuleMatch {
  const given = str(at(record, 'requestParameters', 'name')) ?? str(at(record, 'requestParameters', 'trailName'));
  const name = given ? trailName(given) : undefined;
  return {
    title: title(short(name ?? 'unknown')),
    resources: given ? [{ type: 'aws:cloudtrail:trail', id: given, ...(name !== given ? { name } : {}) }] : [],
    fingerprint: name ? thingFingerprint(record, `trail/${name}`) : undefined,
  };
}

const cloudTrailStopped: CloudTrailRule = {
  id: 'cloudtrail-logging-stopped',
  description: 'StopLogging or DeleteTrail: a CloudTrail trail stops recording',
  kind: 'resource',
  severity: 'high',
  match(record) {
    if (!is(record, 'StopLogging', 'DeleteTrail') || !succeeded(record)) return undefined;
    return trailMatch(record, (name) =>
      eventName(record) === 'DeleteTrail' ? `CloudTrail trail ${name} deleted` : `CloudTrail logging stopped on trail ${name}`,
    );
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
    const event = eventName(record) ?? '';
    return trailMatch(record, (name) => `CloudTrail trail ${name} changed (${event})`);
  },
};

const flowLogsDeleted: CloudTrailRule = {
  id: 'vpc-flow-logs-deleted',
  description: 'DeleteFlowLogs: VPC flow logs stop recording',
  kind: 'resource',
  severity: 'medium',
  match(record) {
    if (!is(record, 'DeleteFlowLogs') || !succeeded(record)) return undefined;
    const params = record.requestParameters;
    const ids = uniq([
      ...ec2Strings(at(params, 'DeleteFlowLogsRequest', 'FlowLogId')),
      ...ec2Strings(at(params, 'flowLogIds')),
    ]).sort();
    return {
      title: `VPC flow logs deleted: ${short(ids.join(', ') || 'ids not recorded')}`,
      resources: ids.map((id) => ({ type: 'aws:ec2:flow-log', id })),
      fingerprint: ids.length > 0 ? thingFingerprint(record, ids.join(',')) : undefined,
    };
  },
};

export const loggingRules: readonly CloudTrailRule[] = [cloudTrailStopped, cloudTrailChanged, flowLogsDeleted];
