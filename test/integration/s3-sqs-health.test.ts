// A queue intake cannot read is visible where operators look (intake/queues/s3-sqs.ts, problems.ts,
// check.ts): /healthz says `degraded` with the error's code, the log says it once per change of
// state (an error for what only a fix of configuration changes), and `vigil doctor`'s check says
// what to fix. A missing bucket leaves its message rather than dropping it. A stop that comes while a
// file is read lets it finish. Each file's outcome is logged once, with its real reason. Against
// moto's SQS and S3 and the run's Temporal server (alerts are dispatched; no worker runs them).
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createArchive } from '../../activities/archive';
import { createObjectStore } from '../../activities/archive/objects';
import { configSchema, type Config } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { checkQueue } from '../../intake/queues/check';
import { startQueueConsumers, type QueueConsumer } from '../../intake/queues';
import { startIntake } from '../../workers/intake';
import { createConfiguredDelivery } from '../../workers/delivery';
import { startMoto, type Moto } from '../helpers/moto';
import { claimNamespace, eventually, loopbackOnlyProbes } from '../helpers/vigil';

const region = 'us-east-1';
const fixtures = path.resolve(import.meta.dirname, '../fixtures');

let moto: Moto;
let s3: S3Client;
let sqs: SQSClient;
let connection: Connection;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey });
  s3 = new S3Client({ region, endpoint: moto.endpoint, forcePathStyle: true, credentials: moto.credentials });
  sqs = new SQSClient({ region, endpoint: moto.endpoint, credentials: moto.credentials });
  connection = await Connection.connect({ address: inject('temporalAddress') });
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await connection?.close();
  s3?.destroy();
  sqs?.destroy();
  await moto?.stop();
});

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}
const ERROR = 50;
const WARN = 40;
const INFO = 30;

/** A logger whose lines the test reads, as an operator would. */
function capturedLogger() {
  const lines: LogLine[] = [];
  const logger = createLogger('test-queue', 'debug', { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

async function configWith(queue: Record<string, unknown>, intake: Record<string, unknown> = {}): Promise<Config> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-test-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  return configSchema.parse({
    dataDir,
    temporal: { address: inject('temporalAddress'), namespace: await claimNamespace(), taskQueue: `test-${randomUUID()}` },
    intake: {
      port: 0,
      dispatchTimeoutMs: 60_000,
      ...intake,
      queues: [{ kind: 's3-sqs', region, endpoint: moto.endpoint, forcePathStyle: true, waitSeconds: 1, visibilitySeconds: 30, ...queue }],
    },
    probe: loopbackOnlyProbes,
    screenshots: { enabled: false },
  });
}

/** The configured queue's consumer, as intake starts it, with the test's logger. */
async function consumerFor(config: Config): Promise<QueueConsumer> {
  const { logger } = capturedLogger();
  return consumerLogging(config, logger);
}
async function consumerLogging(config: Config, logger: ReturnType<typeof createLogger>): Promise<QueueConsumer> {
  const objects = createObjectStore();
  const archive = createArchive(config, objects);
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const delivery = createConfiguredDelivery(config, client, logger, { archive });
  const consumer = await startQueueConsumers(config.intake.queues, { archive, delivery, objects, logger, maxBodyBytes: config.intake.sources.cloudtrail?.maxBodyBytes ?? 50 * 1024 * 1024 });
  cleanups.push(() => consumer.stop());
  return consumer;
}

const logKey = (name: string) => `AWSLogs/111122223333/CloudTrail/${region}/2026/12/01/111122223333_CloudTrail_${region}_20261201T0100Z_${name}.json.gz`;

async function queue(name: string) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  return QueueUrl!;
}

const s3Event = (bucket: string, object: { key: string; etag: string; size?: number }) => ({
  Records: [
    {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: region,
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: bucket }, object: { key: object.key, eTag: object.etag, ...(object.size === undefined ? {} : { size: object.size }) } },
    },
  ],
});

const send = (queueUrl: string, body: unknown) => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));

async function messagesOn(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

async function putLogFile(bucket: string, key: string, records: unknown[]) {
  const body = gzipSync(JSON.stringify({ Records: records }));
  const { ETag } = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return { key, etag: ETag!.replaceAll('"', ''), size: body.length };
}

const stopRecord = async () => JSON.parse(await readFile(path.join(fixtures, 'cloudtrail/aws.defense-evasion.cloudtrail-stop.json'), 'utf8'))[0];

const linesLike = (lines: LogLine[], level: number, msg: RegExp) => lines.filter((line) => line.level === level && msg.test(line.msg));

describe('a queue intake cannot read', () => {
  it('makes /healthz degraded with the error, logs it once as an error, and says when the queue is read again', async () => {
    const missing = `${moto.endpoint}/123456789012/vigil-missing-${randomUUID().slice(0, 8)}`;
    const config = await configWith({ queueUrl: missing });
    const { logger, lines } = capturedLogger();
    const { app, url } = await startIntake({ config, token: 'test-token-0123456789abcdef', client: new Client({ connection, namespace: config.temporal.namespace }), logger });
    cleanups.push(() => app.close());
    const health = async () => (await fetch(`${url}/healthz`)).json() as Promise<{ status: string }>;

    const queueName = missing.split('/').pop();
    expect(await eventually(async () => ((await health()).status === 'degraded' ? health() : undefined))).toEqual({
      status: 'degraded',
      queues: [{ queue: queueName, status: 'failing', error: 'QueueDoesNotExist' }],
    });
    // Retried, and still said once: an error, with what to fix.
    await eventually(async () => (linesLike(lines, 20, /still cannot be read/).length >= 1 ? true : undefined));
    const errors = linesLike(lines, ERROR, /the queue cannot be read until its configuration is fixed/);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'QueueDoesNotExist', fix: expect.stringContaining('intake.queues[].queueUrl') });
    expect(linesLike(lines, WARN, /queue/)).toEqual([]);

    // The queue created: read again, healthy again.
    await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
    expect(await eventually(async () => ((await health()).status === 'ok' ? health() : undefined), 60_000)).toEqual({
      status: 'ok',
      queues: [{ queue: queueName, status: 'ok' }],
    });
    expect(linesLike(lines, INFO, /the queue is read again/)).toHaveLength(1);
  });

  it('reports an endpoint that refuses connections, as a warning said once', async () => {
    const refused = `http://127.0.0.1:${await getPort()}`;
    const config = await configWith({ queueUrl: `${refused}/123456789012/vigil-refused`, endpoint: refused });
    const { logger, lines } = capturedLogger();
    const consumer = await consumerLogging(config, logger);
    await eventually(async () => (linesLike(lines, 20, /still cannot be read/).length >= 1 ? true : undefined));
    expect(consumer.health()).toEqual([{ queue: 'vigil-refused', status: 'failing', error: 'ECONNREFUSED' }]);
    expect(linesLike(lines, WARN, /the queue cannot be read; trying again/)).toHaveLength(1);
    expect(linesLike(lines, ERROR, /./)).toEqual([]);
  });

  it('vigil doctor: ok for a queue intake can read, failed with the reason and the fix for one it cannot', async () => {
    const queueUrl = await queue(`vigil-doctor-${randomUUID().slice(0, 8)}`);
    const settings = { kind: 's3-sqs' as const, queueUrl, region, endpoint: moto.endpoint, forcePathStyle: true, waitSeconds: 1, concurrency: 1, visibilitySeconds: 30 };
    // No policy lets S3 send to it, and no dead-letter queue: readable, with notes.
    expect(await checkQueue(settings)).toEqual({ queueUrl, ok: true, note: expect.stringMatching(/lets none of s3\.amazonaws\.com.*no dead-letter queue/) });
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queueUrl,
        Attributes: {
          Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: '*' }] }),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:${region}:123456789012:${queueUrl.split('/').pop()}`, maxReceiveCount: 5 }),
        },
      }),
    );
    expect(await checkQueue(settings)).toEqual({ queueUrl, ok: true });

    const missing = `${moto.endpoint}/123456789012/vigil-doctor-missing`;
    expect(await checkQueue({ ...settings, queueUrl: missing })).toEqual({
      queueUrl: missing,
      ok: false,
      problem: expect.stringMatching(/^QueueDoesNotExist: /),
      fix: expect.stringContaining('intake.queues[].queueUrl'),
    });
    const refused = `http://127.0.0.1:${await getPort()}`;
    expect(await checkQueue({ ...settings, queueUrl: `${refused}/123456789012/q`, endpoint: refused })).toMatchObject({ ok: false, problem: expect.stringMatching(/^ECONNREFUSED/) });
  });

  it('leaves the message of a bucket that does not exist where intake reads, and says so once as an error', async () => {
    const queueUrl = await queue(`vigil-nobucket-${randomUUID().slice(0, 8)}`);
    const config = await configWith({ queueUrl, visibilitySeconds: 1 });
    const { logger, lines } = capturedLogger();
    const consumer = await consumerLogging(config, logger);
    await send(queueUrl, s3Event('no-such-trail-bucket', { key: logKey('nobucket'), etag: '0123456789abcdef0123456789abcdef' }));
    // Received again after its visibility timeout, and left again: said once.
    await eventually(async () => (linesLike(lines, 20, /the bucket still cannot be read/).length >= 1 ? true : undefined), 60_000);
    const errors = linesLike(lines, ERROR, /the bucket cannot be read until its configuration is fixed/);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ bucket: 'no-such-trail-bucket', code: 'NoSuchBucket', fix: expect.stringContaining('region and endpoint') });
    expect(consumer.health()).toEqual([{ queue: queueUrl.split('/').pop(), status: 'failing', error: 'NoSuchBucket' }]);
    expect(await messagesOn(queueUrl)).toBe(1);
  });
});

describe('each file, said once with its own reason', () => {
  it('logs a read file at info, a replaced one as replaced, and a file past the bound without "not every alert"', async () => {
    const bucket = `vigil-logs-${randomUUID().slice(0, 8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const queueUrl = await queue(`${bucket}-events`);
    const config = await configWith({ queueUrl, concurrency: 1, visibilitySeconds: 1 }, { sources: { cloudtrail: { maxBodyBytes: 4096 } } });
    const { logger, lines } = capturedLogger();
    await consumerLogging(config, logger);
    const stop = await stopRecord();

    const read = await putLogFile(bucket, logKey('read'), [stop]);
    await send(queueUrl, s3Event(bucket, read));
    const readLine = await eventually(async () => linesLike(lines, INFO, /^log file read$/)[0], 60_000);
    expect(readLine).toMatchObject({ bucket, key: read.key, alerts: 1, dispatched: 1, unmatched: 0 });

    const replaced = await putLogFile(bucket, logKey('replaced'), [stop]);
    await putLogFile(bucket, replaced.key, [stop, stop]);
    await send(queueUrl, s3Event(bucket, replaced));
    const replacedLine = await eventually(async () => linesLike(lines, WARN, /replaced/)[0], 60_000);
    expect(replacedLine).toMatchObject({ bucket, key: replaced.key });
    expect(linesLike(lines, WARN, /no longer in the bucket/)).toEqual([]);

    // Announced larger than the bound: left, twice (so the first time is over), never "not every alert".
    await send(queueUrl, s3Event(bucket, { key: logKey('large'), etag: '0123456789abcdef0123456789abcdef', size: 5000 }));
    await eventually(async () => (linesLike(lines, ERROR, /larger than intake\.sources\.cloudtrail\.maxBodyBytes/).length >= 2 ? true : undefined), 60_000);
    expect(linesLike(lines, INFO, /not every alert was dispatched/)).toEqual([]);
  });
});

/**
 * A loopback proxy in front of moto that holds each S3 read of `key` until `release()`; `held`
 * resolves once one arrives.
 */
async function holdingReadsOf(key: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const held = new Promise<void>((resolve) => (arrived = resolve));
  const proxy = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      if (request.method === 'GET' && decodeURIComponent(request.url!).includes(key)) {
        arrived();
        await released;
      }
      const upstream = http.request(new URL(request.url!, moto.endpoint), { method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(response);
      });
      upstream.on('error', (err) => response.destroy(err));
      upstream.end(Buffer.concat(chunks));
    });
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  cleanups.push(async () => {
    release();
    proxy.closeAllConnections();
    proxy.close();
  });
  return { endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, held, release };
}

describe('stopping', () => {
  it('lets a file whose read is in flight finish: its message is deleted', async () => {
    const bucket = `vigil-stop-${randomUUID().slice(0, 8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const queueUrl = await queue(`${bucket}-events`);
    const file = await putLogFile(bucket, logKey('in-flight'), [await stopRecord()]);
    const proxy = await holdingReadsOf(file.key);
    const config = await configWith({ queueUrl, endpoint: proxy.endpoint });
    const consumer = await consumerFor(config);
    await send(queueUrl, s3Event(bucket, file));

    await proxy.held;
    // Stopped while S3 has not answered yet; then S3 answers.
    const stopped = consumer.stop();
    proxy.release();
    await stopped;
    expect(await messagesOn(queueUrl)).toBe(0);
  });
});
