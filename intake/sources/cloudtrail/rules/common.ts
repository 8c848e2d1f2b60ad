// The CloudTrail rule type, and the helpers more than one rule family needs (./index.ts lists the
// families). What a rule is, and how a record is judged, is shared with GCP audit logs: ../../rules.ts.
import { asArray, isRecord, str } from '../../util';
import { accountOf, at, eventName, regionOf, type CloudTrailRecord } from '../record';
import type { Rule, RuleMatch } from '../../rules';

/** A CloudTrail rule: the shared rule shape (../../rules.ts) over one CloudTrail record. */
export type CloudTrailRule = Rule<CloudTrailRecord>;

export type { RuleMatch };

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
