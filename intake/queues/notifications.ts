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
  /** `ignored`: events of other kinds (removals, restores) the message also held. */
  | { objects: CreatedObject[]; ignored: number }
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

function fromS3Event(records: unknown[]): Notification {
  const objects: CreatedObject[] = [];
  let ignored = 0;
  for (const record of records) {
    if (!isObject(record) || !isObject(record.s3) || !isObject(record.s3.bucket) || !isObject(record.s3.object)) return { malformed: 'an S3 event record without s3.bucket and s3.object' };
    if (!text(record.eventName)?.startsWith('ObjectCreated:')) {
      ignored += 1;
      continue;
    }
    const { bucket, object } = record.s3;
    let key: string | undefined;
    try {
      key = text(object.key) && decodeKey(object.key as string);
    } catch {
      return { malformed: 'an S3 event record whose object key is not URL-encoded' };
    }
    const found = created(bucket.name, key, object.eTag, object.versionId, object.size);
    if (!found) return { malformed: 'an S3 event record without bucket name, object key or ETag' };
    objects.push(found);
  }
  return { objects, ignored };
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
 * Whether a key is a CloudTrail log file (`…/CloudTrail/…` or `…/CloudTrail-Insight/…`, as CloudTrail
 * names them under `AWSLogs/`). Digest files (`…/CloudTrail-Digest/…`) and whatever else shares the
 * bucket (AWS Config's files, a trail's own test objects) are not.
 */
export const isTrailLogFile = (key: string) => /(^|\/)(CloudTrail|CloudTrail-Insight)\//.test(key);
