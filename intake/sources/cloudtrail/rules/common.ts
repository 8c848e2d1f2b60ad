// What a rule is, and the helpers more than one rule family needs (./index.ts lists the families).
import type { AlertKind, PortRange, ResourceRef, Severity } from '../../../../lib/alert';
import { asArray, isRecord, str } from '../../util';
import { accountOf, at, eventName, regionOf, type CloudTrailRecord } from '../record';

export interface RuleMatch {
  title: string;
  resources: ResourceRef[];
  /** Only for `exposure` rules: the internet ranges, ports and protocol that were opened. */
  network?: { cidrs: string[]; ports: PortRange[]; protocol?: string };
  /**
   * The fingerprint, when the alert is about a thing rather than about this one event (a security
   * group, a snapshot, an Insights episode), so that repeats collapse into one issue.
   */
  fingerprint?: string;
  /** Extra lines for the description (what exactly was opened, shared or changed). */
  details?: string[];
  /** The record ends what an earlier one started (an Insights episode's end): see `ParsedAlert.resolution`. */
  resolution?: string;
}

/**
 * A rule looks at one record and either passes or says what it found. Kind and severity are fixed
 * per rule so that the manual and the configuration can list them.
 */
export interface CloudTrailRule {
  /** Stable id, used in configuration (`disabledRules`) and in alert descriptions. */
  id: string;
  description: string;
  kind: Exclude<AlertKind, 'unparsed'>;
  severity: Severity;
  match(record: CloudTrailRecord): RuleMatch | undefined;
}

/**
 * An EC2 list: `{"items": [...]}`, a plain list, a single object, or `{}` for none (CloudTrail
 * writes EC2's XML-born requests that way).
 */
export function ec2List(value: unknown): unknown[] {
  return isRecord(value) && 'items' in value ? asArray(value.items) : asArray(value);
}

/** Did the call take effect? An error code, or EC2's `_return: false`, means nothing changed. */
export function succeeded(record: CloudTrailRecord): boolean {
  return str(record.errorCode) === undefined && at(record, 'responseElements', '_return') !== false;
}

/** Is the record one of these API calls? */
export function is(record: CloudTrailRecord, ...names: string[]): boolean {
  const name = eventName(record);
  return name !== undefined && names.includes(name);
}

/** `aws:<account>:<region>:<id>`: the identity of a regional thing, so its repeats collapse. */
export function thingFingerprint(record: CloudTrailRecord, id: string): string {
  return `aws:${accountOf(record) ?? 'unknown'}:${regionOf(record) ?? 'unknown'}:${id}`;
}
