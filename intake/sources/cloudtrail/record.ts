// Reading a CloudTrail record: the readers both the adapter (./index.ts) and the rules (./rules) need.
import { asArray, isRecord, str, uniq } from '../util';

/** One CloudTrail record (an API call, a console sign-in, a service event or an Insights event). */
export type CloudTrailRecord = Record<string, unknown>;

/** The value at a path of object keys, or undefined as soon as a step is not an object. */
export function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

export function eventName(record: CloudTrailRecord): string | undefined {
  return str(record.eventName);
}

export function accountOf(record: CloudTrailRecord): string | undefined {
  return str(record.recipientAccountId) ?? str(at(record, 'userIdentity', 'accountId'));
}

export function regionOf(record: CloudTrailRecord): string | undefined {
  return str(record.awsRegion);
}

/** A short human name of the caller for titles: the user name or the last part of the ARN. */
export function principalName(record: CloudTrailRecord): string {
  const identity = record.userIdentity;
  const arn = str(at(identity, 'arn'));
  return (
    str(at(identity, 'userName')) ??
    (arn ? arn.split(/[/:]/).at(-1) : undefined) ??
    str(at(identity, 'invokedBy')) ??
    str(at(identity, 'type')) ??
    'unknown principal'
  );
}

/** Keeps titles readable whatever a record carries (anonymised or hostile values). */
export function short(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** An Insights event: not a call but CloudTrail's note of unusual call or error rates. */
export function isInsight(record: CloudTrailRecord): boolean {
  return str(record.eventType) === 'AwsCloudTrailInsight';
}

/** Values CloudTrail attributes an Insight to (`userIdentityArn`, `userAgent`, `errorCode`). */
export function insightAttributions(record: CloudTrailRecord, attribute: string): string[] {
  return uniq(
    asArray(at(record, 'insightDetails', 'insightContext', 'attributions'))
      .filter((entry) => str(at(entry, 'attribute')) === attribute)
      .flatMap((entry) => asArray(at(entry, 'insight')).map((value) => str(at(value, 'value'))))
      // CloudTrail writes "null" for "no error code".
      .filter((value) => value !== 'null'),
  );
}
