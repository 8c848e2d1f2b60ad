// An SQS message body → the S3 objects it announces. S3 sends its event notifications to the queue
// directly, or through an SNS topic (wrapped in SNS's envelope unless raw delivery is on), or through
// EventBridge (an "Object Created" event of its own shape). Only object creations count.

/** An object S3 said was created. */
export interface CreatedObject {
  bucket: string;
  key: string;
  etag: string;
  versionId?: string;
  size?: number;
}

export type Notification =
  /**
   * `ignored`: events of other kinds (removals, restores) the message also held. `unreadable`: why
   * each of its records that announced no object anyone could read was skipped (its siblings are not).
   */
  | { objects: CreatedObject[]; ignored: number; unreadable?: string[] }
  /** S3's `s3:TestEvent`, sent when a notification configuration is saved. */
  | { test: true }
  /** Nothing any retry could read. */
  | { malformed: string };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);
const size = (value: unknown) => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined);

/** S3 URL-encodes the keys of its notifications, with `+` for a space. */
const decodeKey = (key: string) => decodeURIComponent(key.replaceAll('+', ' '));

function created(bucket: unknown, key: string | undefined, etag: unknown, versionId: unknown, bytes: unknown): CreatedObject | undefined {
  const name = text(bucket);
  const tag = text(etag);
  if (!name || !key || !tag) return undefined;
  const version = text(versionId);
  const objectSize = size(bytes);
  return { bucket: name, key, etag: tag, ...(version ? { versionId: version } : {}), ...(objectSize === undefined ? {} : { size: objectSize }) };
}

/** The object a record announces, or why it announces none anyone could read. */
function fromS3Record(record: unknown): CreatedObject | { unreadable: string } | 'ignored' {
  if (!isObject(record) || !isObject(record.s3) || !isObject(record.s3.bucket) || !isObject(record.s3.object)) return { unreadable: 'an S3 event record without s3.bucket and s3.object' };
  if (!text(record.eventName)?.startsWith('ObjectCreated:')) return 'ignored';
  const { bucket, object } = record.s3;
  let key: string | undefined;
  try {
    key = text(object.key) && decodeKey(object.key as string);
  } catch {
    return { unreadable: 'an S3 event record whose object key is not URL-encoded' };
  }
  return created(bucket.name, key, object.eTag, object.versionId, object.size) ?? { unreadable: 'an S3 event record without bucket name, object key or ETag' };
}

// One bad record does not cost its siblings their files: it is skipped and said, and the message is
// malformed only when nothing readable is left in it.
function fromS3Event(records: unknown[]): Notification {
  const objects: CreatedObject[] = [];
  const unreadable: string[] = [];
  let ignored = 0;
  for (const record of records) {
    const found = fromS3Record(record);
    if (found === 'ignored') ignored += 1;
    else if ('unreadable' in found) unreadable.push(found.unreadable);
    else objects.push(found);
  }
  if (unreadable.length === 0) return { objects, ignored };
  if (objects.length === 0) return { malformed: unreadable.length === 1 ? unreadable[0]! : `${unreadable.length} S3 event records, none readable: ${[...new Set(unreadable)].join('; ')}` };
  return { objects, ignored, unreadable };
}

function fromEventBridge(event: Record<string, unknown>): Notification {
  if (event['detail-type'] !== 'Object Created') return { objects: [], ignored: 1 };
  const { detail } = event;
  if (!isObject(detail) || !isObject(detail.bucket) || !isObject(detail.object)) return { malformed: 'an EventBridge S3 event without detail.bucket and detail.object' };
  // EventBridge gives keys as they are, not URL-encoded.
  const found = created(detail.bucket.name, text(detail.object.key), detail.object.etag, detail.object['version-id'], detail.object.size);
  return found ? { objects: [found], ignored: 0 } : { malformed: 'an EventBridge S3 event without bucket name, object key or ETag' };
}

function fromJson(message: unknown, wrapped: boolean): Notification {
  if (!isObject(message)) return { malformed: 'not a JSON object' };
  if (message.Event === 's3:TestEvent') return { test: true };
  if (Array.isArray(message.Records)) return fromS3Event(message.Records);
  if (message.source === 'aws.s3' && 'detail-type' in message) return fromEventBridge(message);
  if (!wrapped && message.Type === 'Notification' && typeof message.Message === 'string') return parse(message.Message, true);
  return { malformed: 'neither an S3 event notification, nor one wrapped by SNS or EventBridge' };
}

function parse(body: string, wrapped: boolean): Notification {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return { malformed: wrapped ? "the SNS notification's Message is not JSON" : 'not JSON' };
  }
  return fromJson(message, wrapped);
}

export const parseNotification = (body: string): Notification => parse(body, false);

/**
 * CloudTrail's documented key of a log file (docs.aws.amazon.com/awscloudtrail/latest/userguide/
 * cloudtrail-find-log-files.html, cloudtrail-log-file-examples.html):
 * `[prefix/]AWSLogs/[o-<org id>/]<account>/CloudTrail|CloudTrail-Insight/<region>/yyyy/mm/dd/
 * <account>_CloudTrail|CloudTrail-Insight_<region>_<yyyymmdd>T<hhmm>Z_<unique>.json.gz`. The unique
 * part (16 characters with no meaning, AWS says) is taken as any. Anchored on the whole layout, not on
 * a `CloudTrail/` segment: a trail's prefix is often `CloudTrail` itself, and digests and AWS Config's
 * files under that prefix would then look like log files.
 */
const TRAIL_LOG_FILE = /(?:^|\/)AWSLogs\/(?:o-[a-z0-9]{10,32}\/)?(\d{12})\/(CloudTrail|CloudTrail-Insight)\/([a-z0-9-]+)\/\d{4}\/\d{2}\/\d{2}\/\1_\2_\3_\d{8}T\d{4}Z_[^/]+\.json\.gz$/;

/** Whether a key is a CloudTrail log file or Insights file; digests and whatever else shares the bucket are not. */
export const isTrailLogFile = (key: string) => TRAIL_LOG_FILE.test(key);
