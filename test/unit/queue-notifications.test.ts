// What the queue intake reads from an SQS message (intake/queues/notifications.ts): S3's own event
// notifications, the same wrapped by SNS, EventBridge's "Object Created", S3's test event, and
// which keys are CloudTrail log files.
import { describe, expect, it } from 'vitest';
import { isTrailLogFile, parseNotification } from '../../intake/queues/notifications';

const s3Record = (eventName: string, key: string) => ({
  eventVersion: '2.1',
  eventSource: 'aws:s3',
  eventName,
  s3: { bucket: { name: 'trail' }, object: { key, size: 10, eTag: 'abc', versionId: 'v1' } },
});

describe('S3 event notifications on a queue', () => {
  it('decodes the keys S3 encodes, `+` for a space, and counts events other than creations as ignored', () => {
    const body = JSON.stringify({ Records: [s3Record('ObjectCreated:Put', 'AWSLogs/a+b%2Bc%3A.json.gz'), s3Record('ObjectRemoved:Delete', 'x')] });
    expect(parseNotification(body)).toEqual({ objects: [{ bucket: 'trail', key: 'AWSLogs/a b+c:.json.gz', etag: 'abc', versionId: 'v1', size: 10 }], ignored: 1 });
  });

  it("recognises S3's test event, directly and through SNS", () => {
    const test = { Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-11-30T00:00:00.000Z', Bucket: 'trail' };
    expect(parseNotification(JSON.stringify(test))).toEqual({ test: true });
    expect(parseNotification(JSON.stringify({ Type: 'Notification', Message: JSON.stringify(test) }))).toEqual({ test: true });
  });

  it("takes EventBridge's keys as they are, and ignores its other S3 events", () => {
    const event = (detailType: string) => ({ source: 'aws.s3', 'detail-type': detailType, detail: { bucket: { name: 'trail' }, object: { key: 'a+b.json.gz', etag: 'e', 'version-id': 'v' } } });
    expect(parseNotification(JSON.stringify(event('Object Created')))).toEqual({ objects: [{ bucket: 'trail', key: 'a+b.json.gz', etag: 'e', versionId: 'v' }], ignored: 0 });
    expect(parseNotification(JSON.stringify(event('Object Deleted')))).toEqual({ objects: [], ignored: 1 });
  });

  it('says why a message is not a notification', () => {
    expect(parseNotification('not json')).toEqual({ malformed: 'not JSON' });
    expect(parseNotification(JSON.stringify({ Type: 'Notification', Message: 'text' }))).toEqual({ malformed: "the SNS notification's Message is not JSON" });
    expect(parseNotification(JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'k' } } }] }))).toEqual({
      malformed: 'an S3 event record without bucket name, object key or ETag',
    });
    expect(parseNotification(JSON.stringify({ Records: [s3Record('ObjectCreated:Put', '%E0%A4%A')] }))).toEqual({ malformed: 'an S3 event record whose object key is not URL-encoded' });
    // SNS inside SNS is not something S3 sends.
    expect(parseNotification(JSON.stringify({ Type: 'Notification', Message: JSON.stringify({ Type: 'Notification', Message: '{}' }) }))).toMatchObject({ malformed: expect.any(String) });
  });

  it('reads CloudTrail log and Insights files, not digests or what else shares the bucket', () => {
    expect(isTrailLogFile('AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2026/11/30/f.json.gz')).toBe(true);
    expect(isTrailLogFile('prefix/AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/11/30/f.json.gz')).toBe(true);
    expect(isTrailLogFile('AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/30/f.json.gz')).toBe(false);
    expect(isTrailLogFile('AWSLogs/111122223333/Config/us-east-1/2026/11/30/ConfigHistory/f.json.gz')).toBe(false);
  });
});
