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

  it('keeps the readable objects of a message one of whose records is bad, and calls it malformed only when none is left', () => {
    const bad = { eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'trail' }, object: { key: 'k' } } };
    const body = JSON.stringify({ Records: [s3Record('ObjectCreated:Put', 'a.json.gz'), bad, s3Record('ObjectCreated:Put', 'b.json.gz'), { eventName: 'ObjectCreated:Put' }] });
    expect(parseNotification(body)).toEqual({
      objects: [expect.objectContaining({ key: 'a.json.gz' }), expect.objectContaining({ key: 'b.json.gz' })],
      ignored: 0,
      unreadable: ['an S3 event record without bucket name, object key or ETag', 'an S3 event record without s3.bucket and s3.object'],
    });
    expect(parseNotification(JSON.stringify({ Records: [bad, bad, s3Record('ObjectRemoved:Delete', 'x')] }))).toEqual({
      malformed: '2 S3 event records, none readable: an S3 event record without bucket name, object key or ETag',
    });
  });

  // CloudTrail's documented layout: [prefix/]AWSLogs/[o-<org id>/]<account>/CloudTrail|CloudTrail-Insight/<region>/yyyy/mm/dd/<file>.
  const account = '111122223333';
  const logFile = (kind: string, region = 'us-east-1') => `${account}_${kind}_${region}_20261130T1230Z_Mu0KsOhtH1ar15ZZ.json.gz`;

  it('reads CloudTrail log and Insights files, of an account or an organisation trail, under any prefix', () => {
    expect(isTrailLogFile(`AWSLogs/${account}/CloudTrail/us-east-1/2026/11/30/${logFile('CloudTrail')}`)).toBe(true);
    expect(isTrailLogFile(`AWSLogs/o-aa111bb222/${account}/CloudTrail/us-gov-west-1/2026/11/30/${logFile('CloudTrail', 'us-gov-west-1')}`)).toBe(true);
    expect(isTrailLogFile(`prefix/AWSLogs/${account}/CloudTrail-Insight/us-east-1/2026/11/30/${logFile('CloudTrail-Insight')}`)).toBe(true);
    // The common trail prefix `CloudTrail`, and a prefix of several segments.
    expect(isTrailLogFile(`CloudTrail/AWSLogs/o-aa111bb222/${account}/CloudTrail/us-east-1/2026/11/30/${logFile('CloudTrail')}`)).toBe(true);
    expect(isTrailLogFile(`security/CloudTrail/AWSLogs/${account}/CloudTrail/eu-west-1/2026/11/30/${logFile('CloudTrail', 'eu-west-1')}`)).toBe(true);
  });

  it('leaves digests, AWS Config files and whatever else shares the bucket, even under a `CloudTrail` prefix', () => {
    const digest = `${account}_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20261130T1230Z.json.gz`;
    expect(isTrailLogFile(`AWSLogs/${account}/CloudTrail-Digest/us-east-1/2026/11/30/${digest}`)).toBe(false);
    expect(isTrailLogFile(`CloudTrail/AWSLogs/o-aa111bb222/${account}/CloudTrail-Digest/us-east-1/2026/11/30/${digest}`)).toBe(false);
    expect(isTrailLogFile(`CloudTrail/AWSLogs/${account}/Config/us-east-1/2026/11/30/ConfigHistory/${account}_Config_us-east-1_ConfigHistory_AWS::S3::Bucket_20261130T1230Z_20261130T1300Z_1.json.gz`)).toBe(false);
    expect(isTrailLogFile(`CloudTrail/AWSLogs/${account}/Config/ConfigWritabilityCheckFile`)).toBe(false);
    expect(isTrailLogFile(`CloudTrail/AWSLogs/${account}/CloudTrail/us-east-1/2026/11/30/`)).toBe(false);
    // The layout must be whole: the file named for its own account, kind and region, gzip JSON.
    expect(isTrailLogFile(`AWSLogs/${account}/CloudTrail/us-east-1/2026/11/30/${logFile('CloudTrail', 'eu-west-1')}`)).toBe(false);
    expect(isTrailLogFile(`AWSLogs/${account}/CloudTrail/us-east-1/2026/11/30/${logFile('CloudTrail').replace('.json.gz', '.json')}`)).toBe(false);
    expect(isTrailLogFile(`AWSLogs/${account}/CloudTrail/us-east-1/2026/11/${logFile('CloudTrail')}`)).toBe(false);
    expect(isTrailLogFile(`AWSLogs/${account}/CloudTrail/us-east-1/2026/11/30/notes/${logFile('CloudTrail')}`)).toBe(false);
  });
});
