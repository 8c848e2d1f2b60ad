// CloudTrail log files read straight from their trail bucket (intake/queues/s3-sqs.ts), against moto's
// S3 and SQS with the bucket's real event notifications to the queue: a gzip log file put in the bucket
// becomes an issue with no HTTP call to intake, archived as a reference to the object; the message is
// deleted only once every alert is dispatched; a redelivery dispatches nothing twice; digest files,
// S3's test event, SNS- and EventBridge-wrapped notifications, a message of several objects (one of its
// records bad), files that can never be read, and files past a bound a setting sets, which stay on
// the queue until its redrive policy takes them.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObjectStore } from '../../activities/archive/objects';
import { createLocalArchive } from '../../activities/archive/local';
import type { ArchiveRecordMeta } from '../../activities/archive/types';
import { startMoto, type Moto } from '../helpers/moto';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');
const fixture = async (name: string) => JSON.parse(await readFile(path.join(fixtures, name), 'utf8'));
const region = 'us-east-1';
const trailPrefix = 'AWSLogs/o-exampleorg/111122223333';

let moto: Moto;
let s3: S3Client;
let sqs: SQSClient;
const vigils: TestVigil[] = [];
const proxies: http.Server[] = [];

beforeAll(async () => {
  moto = await startMoto();
  // Vigil's clients take their credentials from the SDK's default chain, as in production.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey });
  s3 = new S3Client({ region, endpoint: moto.endpoint, forcePathStyle: true, credentials: moto.credentials });
  sqs = new SQSClient({ region, endpoint: moto.endpoint, credentials: moto.credentials });
});
afterAll(async () => {
  for (const vigil of vigils) await vigil.stop();
  for (const proxy of proxies) proxy.close();
  s3?.destroy();
  sqs?.destroy();
  await moto?.stop();
});

const queueArn = async (queueUrl: string) =>
  (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;

/**
 * A trail bucket whose object creations S3 announces to a queue of its own (or to none); with
 * `maxReceiveCount`, the queue has a dead-letter queue, as the docs advise.
 */
async function trailBucket(name: string, { notify = true, maxReceiveCount }: { notify?: boolean; maxReceiveCount?: number } = {}) {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  const { QueueUrl: deadLetterUrl } = maxReceiveCount ? await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dead` })) : {};
  const { QueueUrl: queueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}-events`,
      ...(deadLetterUrl ? { Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArn(deadLetterUrl), maxReceiveCount }) } } : {}),
    }),
  );
  if (notify) {
    const Attributes = { QueueArn: await queueArn(queueUrl!) };
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: name,
        NotificationConfiguration: { QueueConfigurations: [{ QueueArn: Attributes!.QueueArn, Events: ['s3:ObjectCreated:*'] }] },
      }),
    );
  }
  return { bucket: name, queueUrl: queueUrl!, deadLetterUrl };
}

/** A gzip log file as CloudTrail writes it; its ETag as S3 gives it. */
async function putLogFile(bucket: string, key: string, records: unknown[]) {
  const body = gzipSync(JSON.stringify({ Records: records }));
  const { ETag } = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json', ContentEncoding: 'gzip' }));
  return { key, etag: ETag!.replaceAll('"', ''), size: body.length };
}

const logKey = (name: string) => `${trailPrefix}/CloudTrail/${region}/2026/11/30/111122223333_CloudTrail_${region}_20261130T1230Z_${name}.json.gz`;

/** The notification S3 sends for new objects (docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html). */
const s3Event = (bucket: string, ...objects: { key: string; etag: string; size?: number }[]) => ({
  Records: objects.map((object) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: region,
      eventTime: new Date().toISOString(),
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:AROAEXAMPLE:regionalDeliverySession' },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { 'x-amz-request-id': 'C3D13FE58DE4C810', 'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'vigil-trail',
        bucket: { name: bucket, ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: `arn:aws:s3:::${bucket}` },
        object: { key: encodeURIComponent(object.key).replaceAll('%2F', '/').replaceAll('%20', '+'), size: object.size, eTag: object.etag, sequencer: '0055AED6DCD90281E5' },
      },
  })),
});

const send = (queueUrl: string, body: unknown) => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));

/** Messages on the queue, visible or being worked on. */
async function messagesOn(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

const drained = (queueUrl: string) => eventually(async () => ((await messagesOn(queueUrl)) === 0 ? true : undefined), 60_000);

/** Moves the dead-letter queue's messages back to the queue, as `aws sqs start-message-move-task` does. */
async function redrive(deadLetterUrl: string, queueUrl: string, count: number) {
  let moved = 0;
  await eventually(async () => {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const message of Messages) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message.Body! }));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: deadLetterUrl, ReceiptHandle: message.ReceiptHandle! }));
      moved += 1;
    }
    return moved >= count ? true : undefined;
  }, 60_000);
}

/**
 * A loopback proxy in front of moto that keeps the visibility extensions (SQS's
 * ChangeMessageVisibility) going through it: the heartbeat seen as it is sent, whatever the timing.
 */
async function extensionsSeen() {
  const extensions: { QueueUrl: string; ReceiptHandle: string; VisibilityTimeout: number }[] = [];
  const proxy = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      if (request.headers['x-amz-target'] === 'AmazonSQS.ChangeMessageVisibility') extensions.push(JSON.parse(body.toString('utf8')));
      const upstream = http.request(new URL(request.url!, moto.endpoint), { method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(response);
      });
      upstream.on('error', (err) => response.destroy(err));
      upstream.end(body);
    });
  });
  proxies.push(proxy);
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  return { endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, extensions };
}

async function startVigil(queueUrl: string, options: { queue?: Record<string, unknown>; intake?: Record<string, unknown>; intakeTemporalAddress?: string } = {}) {
  const vigil = await startTestVigil({
    sigma: [path.join(fixtures, 'sigma', 'sigmahq-cloud')],
    intakeTemporalAddress: options.intakeTemporalAddress,
    intake: {
      ...options.intake,
      queues: [{ kind: 's3-sqs', queueUrl, region, endpoint: moto.endpoint, forcePathStyle: true, waitSeconds: 1, visibilitySeconds: 30, ...options.queue }],
    },
  });
  vigils.push(vigil);
  return vigil;
}

const archiveOf = (vigil: TestVigil) => createLocalArchive(path.join(vigil.config.dataDir, 'archive'), createObjectStore().read);

async function records(vigil: TestVigil): Promise<ArchiveRecordMeta[]> {
  const found = [];
  for await (const meta of archiveOf(vigil).list({ since: new Date(Date.now() - 86_400_000), until: new Date(Date.now() + 60_000) })) found.push(meta);
  return found;
}

const recordOf = (vigil: TestVigil, key: string) => eventually(async () => (await records(vigil)).find((meta) => meta.object?.key === key));

async function issueOf(vigil: TestVigil, workflowId: string) {
  return eventually(async () => {
    const issue = (await vigil.tracker.listIssues()).find((candidate) => candidate.workflowId === workflowId);
    const read = issue && (await vigil.tracker.readIssue(issue.number));
    return read && read.comments.length > 0 ? read : undefined;
  }, 60_000);
}

async function signalsTo(vigil: TestVigil, workflowId: string) {
  const { events } = await vigil.client.workflow.getHandle(workflowId).fetchHistory();
  return (events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes);
}

/** Waits until the workflow has taken in its `count`-th signal (a workflow task completed after it). */
async function signalTakenIn(vigil: TestVigil, workflowId: string, count: number) {
  await eventually(async () => {
    const events = (await vigil.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const signals = events.filter((event) => event.workflowExecutionSignaledEventAttributes);
    const last = signals[count - 1];
    return last && events.some((event) => event.workflowTaskCompletedEventAttributes && Number(event.eventId) > Number(last.eventId)) ? true : undefined;
  }, 60_000);
}

describe('CloudTrail from S3 through SQS', () => {
  it('turns a log file put in the trail bucket into an issue, keeps a reference instead of a copy, and dispatches a redelivery nothing twice', async () => {
    const { bucket, queueUrl } = await trailBucket('org-trail');
    const vigil = await startVigil(queueUrl);
    // A real log file and a real StopLogging record, as one file of an organisation trail.
    const logFile = await fixture('cloudtrail/1230Z_ZtUNbBkwAu98FPZb.json');
    const [stop] = await fixture('cloudtrail/aws.defense-evasion.cloudtrail-stop.json');
    // A digest file first: ignored, its message deleted.
    await putLogFile(bucket, `${trailPrefix}/CloudTrail-Digest/${region}/2026/11/30/111122223333_CloudTrail-Digest_${region}_trail_${region}_20261130T1230Z.json.gz`, []);
    const object = await putLogFile(bucket, logKey('stop'), [...logFile.Records, stop]);

    const record = await recordOf(vigil, object.key);
    expect(record.object).toEqual({ bucket, key: object.key, etag: object.etag, region, endpoint: moto.endpoint, forcePathStyle: true });
    // The object is the original: nothing copied into the archive.
    await expect(readFile(path.join(vigil.config.dataDir, 'archive', `${record.id}.raw`))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await archiveOf(vigil).read(record.id)).body).toEqual(gzipSync(JSON.stringify({ Records: [...logFile.Records, stop] })));

    const dispatched = await eventually(async () => {
      const meta = await archiveOf(vigil).findMeta(record.id);
      return meta?.dispatchedAt ? meta : undefined;
    }, 60_000);
    const stopped = dispatched.dispatchedTo.find((workflowId) => workflowId.replace('alert/cloudtrail/', '').includes('trail/'))!;
    const issue = await issueOf(vigil, stopped);
    expect(issue.comments[0]!.body).toContain('Built-in rule `StopLogging or DeleteTrail: a CloudTrail trail stops recording`');
    expect(issue.comments[0]!.body).toContain('Sigma rule `AWS CloudTrail Important Change`');
    // S3's test event, the digest's and the log file's messages: all deleted, the last once dispatched.
    await drained(queueUrl);
    expect((await records(vigil)).map((meta) => meta.object?.key)).toEqual([object.key]);

    // The first report done, the issue as it stands.
    await eventually(async () => ((await queryProgress(vigil.client, stopped))?.firstReportComplete ? true : undefined), 60_000);
    const reported = (await vigil.tracker.readIssue(issue.number))!.comments;

    // The same notification again, as SQS redelivers it: the record is dispatched, nothing is.
    const signals = (await signalsTo(vigil, stopped)).length;
    await send(queueUrl, s3Event(bucket, object));
    await drained(queueUrl);
    expect(await signalsTo(vigil, stopped)).toHaveLength(signals);

    // Redelivered once the record is gone (as on a later day, another record): dispatched again, and
    // the investigation counts the occurrence once, with no comment more.
    await rm(path.join(vigil.config.dataDir, 'archive', `${record.id}.meta.json`));
    await send(queueUrl, s3Event(bucket, object));
    await drained(queueUrl);
    await signalTakenIn(vigil, stopped, signals + 1);
    const progress = await queryProgress(vigil.client, stopped);
    expect(progress?.occurrences).toBe(1);
    expect(progress?.reportedDeliveries).toEqual([expect.stringMatching(new RegExp(`^${record.sha256}#`))]);
    expect((await vigil.client.workflow.getHandle(stopped).describe()).raw.pendingActivities ?? []).toEqual([]);
    expect((await vigil.tracker.readIssue(issue.number))!.comments).toEqual(reported);
  });

  it('leaves the message while Temporal is away, hidden as long as its file is worked on, and it comes back and is delivered', async () => {
    const { bucket, queueUrl } = await trailBucket('away-trail');
    const [stop] = await fixture('cloudtrail/aws.defense-evasion.cloudtrail-delete.json');
    // One message at a time, hidden for a second at a time, and dispatches that take seconds to give
    // up; SQS and S3 reached through a proxy that sees each visibility extension.
    const seen = await extensionsSeen();
    const away = await startVigil(queueUrl, {
      intakeTemporalAddress: `127.0.0.1:${await getPort()}`,
      intake: { dispatchTimeoutMs: 6000 },
      queue: { concurrency: 1, visibilitySeconds: 1, endpoint: seen.endpoint },
    });
    const object = await putLogFile(bucket, logKey('away'), [stop]);
    const record = await recordOf(away, object.key);
    // While its alert waits for Temporal, the heartbeat extends the message's visibility by another
    // second (its first beat comes before the dispatch's deadline, however loaded the machine), which
    // keeps the message hidden: seen as sent, so no stall of the machine can make this fail.
    const extended = await eventually(async () => (seen.extensions.length > 0 ? seen.extensions : undefined), 60_000);
    expect(extended[0]).toEqual({ QueueUrl: queueUrl, ReceiptHandle: expect.any(String), VisibilityTimeout: 1 });
    expect((await archiveOf(away).findMeta(record.id))?.dispatchedAt).toBeUndefined();
    // Stopped with the file still in flight: not dispatched, so not deleted.
    await away.stop();
    vigils.splice(vigils.indexOf(away), 1);
    expect(await messagesOn(queueUrl)).toBe(1);

    const back = await startVigil(queueUrl);
    const delivered = await eventually(async () => (await records(back)).find((meta) => meta.object?.key === object.key && meta.dispatchedAt), 60_000);
    await issueOf(back, delivered.dispatchedTo[0]!);
    await drained(queueUrl);
  });

  it('reads notifications wrapped by SNS and EventBridge and keys S3 encodes, and deletes those that can never be read', async () => {
    const { bucket, queueUrl } = await trailBucket('more-trail');
    const { bucket: quiet } = await trailBucket('quiet-trail', { notify: false });
    const vigil = await startVigil(queueUrl);
    const login = await fixture('cloudtrail/aws.initial-access.console-login-without-mfa.json');
    const admin = await fixture('cloudtrail/aws.persistence.iam-create-admin-user.json');
    const snsWrapped = await putLogFile(quiet, logKey('sns'), login);
    const eventBridged = await putLogFile(quiet, logKey('eventbridge'), admin);
    await send(queueUrl, {
      Type: 'Notification',
      MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
      TopicArn: `arn:aws:sns:${region}:111122223333:trail-events`,
      Subject: 'Amazon S3 Notification',
      Message: JSON.stringify(s3Event(quiet, snsWrapped)),
      Timestamp: new Date().toISOString(),
      SignatureVersion: '1',
      Signature: 'EXAMPLE',
      SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
      UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
    });
    await send(queueUrl, {
      version: '0',
      id: '17793124-05d4-b198-2fde-7ededc63b103',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '111122223333',
      time: new Date().toISOString(),
      region,
      resources: [`arn:aws:s3:::${quiet}`],
      detail: {
        version: '0',
        bucket: { name: quiet },
        object: { key: eventBridged.key, size: eventBridged.size, etag: eventBridged.etag, sequencer: '00617F08299329D189' },
        'request-id': 'N4N7GDK58NMKJ12R',
        requester: '111122223333',
        reason: 'PutObject',
      },
    });
    // A key with a space and a plus, which S3's notification encodes (`+` for the space).
    const spaced = await putLogFile(bucket, logKey('a space+plus'), [(await fixture('cloudtrail/aws.defense-evasion.cloudtrail-event-selectors.json'))[0]]);
    // One message announcing two files, and a record naming no object among them: both files read.
    const [first, second] = [await putLogFile(quiet, logKey('first'), [...login, ...admin]), await putLogFile(quiet, logKey('second'), [...admin, ...login])];
    const bad = { eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: quiet }, object: { key: logKey('no-etag') } } };
    await send(queueUrl, { Records: [s3Event(quiet, first).Records[0], bad, s3Event(quiet, second).Records[0]] });
    // A file that is not gzip, one that is gone, one replaced since its notification (its ETag no
    // longer matches: 412), and a message that is no notification at all.
    const broken = logKey('broken');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: broken, Body: 'not a log file' }));
    await send(queueUrl, s3Event(quiet, { key: logKey('never-written'), etag: '0123456789abcdef0123456789abcdef', size: 100 }));
    const replaced = await putLogFile(quiet, logKey('replaced'), login);
    await putLogFile(quiet, replaced.key, admin);
    await send(queueUrl, s3Event(quiet, replaced));
    await send(queueUrl, { hello: 'world' });

    await drained(queueUrl);
    const archived = await records(vigil);
    const byKey = new Map(archived.map((meta) => [meta.object!.key, meta]));
    expect([...byKey.keys()].sort()).toEqual([broken, spaced.key, snsWrapped.key, eventBridged.key, first.key, second.key].sort());
    for (const key of [spaced.key, snsWrapped.key, eventBridged.key, first.key, second.key]) {
      const meta = byKey.get(key)!;
      expect(meta.dispatchedAt).toBeDefined();
      await issueOf(vigil, meta.dispatchedTo[0]!);
    }
    expect(byKey.get(snsWrapped.key)!.object).toMatchObject({ bucket: quiet, etag: snsWrapped.etag });
    // Said for what it is, quoting none of the file.
    expect(byKey.get(broken)).toMatchObject({ rejected: 'malformed JSON: neither gzip nor JSON text' });
    expect(byKey.get(broken)!.dispatchedAt).toBeUndefined();
  });

  it('leaves on the queue the files past a bound a setting sets, until the redrive policy takes them, and delivers them once it is raised', async () => {
    const { bucket, queueUrl, deadLetterUrl } = await trailBucket('bounded-trail', { maxReceiveCount: 2 });
    const [stop] = await fixture('cloudtrail/aws.defense-evasion.cloudtrail-stop.json');
    const bounded = await startVigil(queueUrl, { intake: { maxInflatedBytes: 1024, sources: { cloudtrail: { maxBodyBytes: 1024 } } }, queue: { visibilitySeconds: 1 } });
    // Larger than maxBodyBytes as S3 announces it, and again announced without its size (S3's
    // Content-Length tells).
    const large = await putLogFile(bucket, logKey('large'), [{ ...stop, requestParameters: { padding: randomBytes(1500).toString('base64') } }]);
    expect(large.size).toBeGreaterThan(1024);
    await send(queueUrl, s3Event(bucket, { key: large.key, etag: large.etag }));
    // Within maxBodyBytes, inflating past maxInflatedBytes.
    const inflating = await putLogFile(bucket, logKey('inflating'), [stop, stop]);
    expect(inflating.size).toBeLessThanOrEqual(1024);

    // Each message came back, was left again, and went to the dead-letter queue: none deleted.
    await eventually(async () => ((await messagesOn(deadLetterUrl!)) === 3 && (await messagesOn(queueUrl)) === 0 ? true : undefined), 60_000);
    // The large file was never archived; the inflating one was, rejected with the bound it crossed.
    const archived = await records(bounded);
    expect(archived.map((meta) => meta.object?.key)).toEqual([inflating.key]);
    expect(archived[0]).toMatchObject({ rejected: expect.stringMatching(/^gzip body could not be inflated within 1024 bytes/) });
    expect(archived[0]!.dispatchedAt).toBeUndefined();
    await bounded.stop();
    vigils.splice(vigils.indexOf(bounded), 1);

    // The bounds raised (here, left at their defaults) and the messages redriven: both files delivered.
    const raised = await startVigil(queueUrl);
    await redrive(deadLetterUrl!, queueUrl, 3);
    for (const key of [large.key, inflating.key]) {
      const delivered = await eventually(async () => (await records(raised)).find((meta) => meta.object?.key === key && meta.dispatchedAt), 60_000);
      await issueOf(raised, delivered.dispatchedTo[0]!);
    }
    await drained(queueUrl);
  });
});
