// CloudTrail log files read straight from their trail bucket: an SQS queue receives the bucket's
// S3 event notifications (directly, through SNS or through EventBridge); each new log file is read
// from S3, archived as a reference to that object (the object is the original), judged by the
// cloudtrail source's rules on the decoding threads and dispatched through the same delivery as the
// HTTP route. A message is deleted only once every alert of its files is dispatched, or once nothing
// could ever come of it; until then it stays hidden while its files are worked on (the visibility
// timeout extended on a heartbeat), and comes back if the work ends undone. Every step is
// idempotent, so a message that comes back dispatches nothing twice.
import { setTimeout as delay } from 'node:timers/promises';
import type { Message } from '@aws-sdk/client-sqs';
import type { ObjectStore } from '../../activities/archive/objects';
import type { Archive, ObjectReference } from '../../activities/archive/types';
import type { QueueSettings } from '../../lib/config';
import type { Delivery } from '../../lib/delivery';
import type { Logger } from '../../lib/logger';
import { isTrailLogFile, parseNotification, type CreatedObject } from './notifications';
import { queueProblem, type QueueProblem } from './problems';

export type S3QueueSettings = Extract<QueueSettings, { kind: 's3-sqs' }>;

export interface S3QueueDeps {
  archive: Archive;
  delivery: Delivery;
  /** Reads the log files the notifications announce. */
  objects: Pick<ObjectStore, 'fetch'>;
  /** The cloudtrail source's bound on a body, as the HTTP route applies it. */
  maxBodyBytes: number;
  logger: Logger;
}

/** A queue as intake's /healthz shows it: its name (not its URL), and the error code while it fails. */
export interface QueueHealth {
  queue: string;
  /** `starting`: no receive has answered yet; `failing`: the queue, or the bucket its notifications name, cannot be read. */
  status: 'starting' | 'ok' | 'failing';
  error?: string;
}

export interface QueueConsumer {
  /**
   * Stops receiving at once; the files in flight are given up to `STOP_GRACE_MS` to finish (their
   * messages deleted when done), and what is not done then stays on the queue.
   */
  stop(): Promise<void>;
  health(): QueueHealth[];
}

/** Log files come to the cloudtrail source, whatever the queue. */
const SOURCE = 'cloudtrail';
/** Between receives that failed, doubling from one second. */
const MAX_RETRY_MS = 30_000;
/**
 * How long a stop waits for the files in flight before aborting their reads: under the 30 s an
 * orchestrator usually grants between SIGTERM and SIGKILL (Kubernetes, ECS), and far longer than a
 * log file of a few MiB takes to read and dispatch.
 */
const STOP_GRACE_MS = 20_000;

/** What the file came to: done with (its message may go), left on the queue for a reason already logged, or not every alert dispatched. */
type FileOutcome = 'done' | 'left' | 'undispatched';

/**
 * The setting whose bound a rejection says the file crossed, when raising it would let the file
 * through; undefined for a file that can never be read (not gzip, not JSON). The decoder names the
 * setting in its reasons (intake/decoder.ts, intake/json-shape.ts); inflating past the bound is
 * intake/body.ts's gzip error with Node's own "Cannot create a Buffer larger than".
 */
export function boundCrossed(reason: string): string | undefined {
  const named = /\((intake\.(?:decodeHeapMb|decodeTimeoutMs))\)/.exec(reason);
  if (named) return named[1];
  if (/^gzip body could not be inflated within \d+ bytes: Cannot create a Buffer larger than/.test(reason)) return 'intake.maxInflatedBytes';
  return undefined;
}

export async function startS3QueueConsumer(settings: S3QueueSettings, deps: S3QueueDeps): Promise<QueueConsumer> {
  const { archive, delivery, objects, maxBodyBytes } = deps;
  const { queueUrl, region, endpoint, forcePathStyle, waitSeconds, concurrency, visibilitySeconds } = settings;
  const logger = deps.logger.child({ queueUrl });
  // Loaded only when a queue is configured: the SQS client costs memory a Vigil without one keeps.
  const { SQSClient, ReceiveMessageCommand, DeleteMessageCommand, ChangeMessageVisibilityCommand } = await import('@aws-sdk/client-sqs');
  const sqs = new SQSClient({ region, endpoint });
  const queue = queueUrl.replace(/\/+$/, '').split('/').pop() ?? queueUrl;
  // Receiving stops at once on stop(); the reads of files in flight only once the grace is over.
  const stopping = new AbortController();
  const abandoning = new AbortController();

  // The queue's state and its files' (the bucket's), each logged once per change, not on every retry.
  const states: Record<'queue' | 'bucket', { status: QueueHealth['status']; problem?: QueueProblem }> = { queue: { status: 'starting' }, bucket: { status: 'ok' } };
  function failing(side: 'queue' | 'bucket', problem: QueueProblem, where: { bucket?: string } = {}): void {
    const state = states[side];
    if (state.status === 'failing' && state.problem?.code === problem.code) {
      logger.debug({ code: problem.code }, `the ${side} still cannot be read`);
      return;
    }
    states[side] = { status: 'failing', problem };
    const line = { ...where, code: problem.code, reason: problem.message, fix: problem.fix };
    if (problem.lasting) logger.error(line, `the ${side} cannot be read until its configuration is fixed: CloudTrail log files wait on the queue`);
    else logger.warn(line, `the ${side} cannot be read; trying again`);
  }
  function readable(side: 'queue' | 'bucket'): void {
    if (states[side].status === 'failing') logger.info({}, `the ${side} is read again`);
    states[side] = { status: 'ok' };
  }

  /** `done` when the file is done with: dispatched, read before, rejected for good, gone, or not a log file. */
  async function readLogFile(object: CreatedObject): Promise<FileOutcome> {
    const { bucket, key } = object;
    if (!isTrailLogFile(key)) {
      logger.debug({ bucket, key }, 'not a CloudTrail log file (a digest or another file in the bucket): ignored');
      return 'done';
    }
    const reference: ObjectReference = {
      bucket,
      key,
      etag: object.etag,
      ...(object.versionId ? { versionId: object.versionId } : {}),
      region,
      ...(endpoint ? { endpoint, forcePathStyle } : {}),
    };
    let read;
    try {
      read =
        object.size !== undefined && object.size > maxBodyBytes
          ? { tooLarge: object.size }
          : await objects.fetch(reference, { maxBytes: maxBodyBytes, signal: abandoning.signal });
    } catch (err) {
      // A missing bucket, a denied read, bad credentials: every file of the queue waits on a fix.
      const problem = queueProblem(err, 'bucket');
      if (!problem.lasting) throw err;
      failing('bucket', problem, { bucket });
      return 'left';
    }
    readable('bucket');
    if ('gone' in read) {
      // Deleted, replaced by another object (whose own notification comes; S3 answers 412 to the
      // ETag this one had), or frozen: no retry could read it. objects.ts names the S3 error first.
      const replaced = read.gone.startsWith('PreconditionFailed');
      logger.warn(
        { bucket, key, reason: read.gone },
        replaced
          ? 'the log file was replaced by another object under its key (whose own notification is read): nothing to read, message deleted'
          : 'the log file is no longer in the bucket: nothing to read, message deleted',
      );
      return 'done';
    }
    if ('tooLarge' in read) {
      // A setting can fix it: left for the queue's redrive policy, then redriven once the bound is raised.
      logger.error({ bucket, key, bytes: read.tooLarge, maxBodyBytes }, `the log file is larger than intake.sources.${SOURCE}.maxBodyBytes: left on the queue`);
      return 'left';
    }
    const record = await archive.put({ source: SOURCE, body: read.body, contentType: read.contentType ?? 'application/octet-stream', headers: {}, object: reference });
    const meta = await archive.findMeta(record.id);
    // A record rejected for a bound comes back with its message: the bound may have been raised since.
    if (meta?.dispatchedAt || (meta?.rejected && !boundCrossed(meta.rejected))) {
      logger.debug({ bucket, key, archiveId: record.id }, 'the log file was delivered before: message deleted, nothing dispatched');
      return 'done';
    }
    const outcome = await delivery.deliver({ ...record, source: SOURCE }, read.body);
    if ('rejected' in outcome) {
      const bound = boundCrossed(outcome.rejected);
      if (bound) {
        // As for maxBodyBytes, a setting fixes it: left for the redrive policy, then redriven once the
        // bound is raised. The record is marked rejected meanwhile, so the sweeper does not decode it
        // again on every pass; delivered later, it is marked dispatched instead.
        logger.error({ bucket, key, archiveId: record.id, reason: outcome.rejected }, `the log file is past ${bound}: left on the queue`);
        return 'left';
      }
      logger.warn({ bucket, key, archiveId: record.id, reason: outcome.rejected }, 'the log file can never be read: archived as rejected, message deleted');
      return 'done';
    }
    const dispatched = outcome.alerts.filter((alert) => alert.dispatched).length;
    logger.info({ bucket, key, archiveId: record.id, alerts: outcome.alerts.length, dispatched, unmatched: outcome.unmatched ?? 0 }, 'log file read');
    return dispatched === outcome.alerts.length ? 'done' : 'undispatched';
  }

  /** `done` when the message can be deleted; otherwise the first reason it cannot. */
  async function settle(message: Message): Promise<FileOutcome> {
    const notification = parseNotification(message.Body ?? '');
    if ('malformed' in notification) {
      logger.warn({ messageId: message.MessageId, reason: notification.malformed }, 'not an S3 event notification: message deleted');
      return 'done';
    }
    if ('test' in notification) return 'done';
    if (notification.unreadable) {
      logger.warn({ messageId: message.MessageId, reasons: notification.unreadable }, 'records of the notification that name no readable object skipped; its other objects are read');
    }
    let settled: FileOutcome = 'done';
    // One after the other: a notification names one object in practice, and each file has its own place in the decoding bound.
    for (const object of notification.objects) {
      const outcome = await readLogFile(object);
      if (settled === 'done') settled = outcome;
    }
    return settled;
  }

  async function handle(message: Message): Promise<void> {
    const { ReceiptHandle: receiptHandle, MessageId: messageId } = message;
    // A big file takes longer than the visibility timeout: keep the message hidden while it is worked on.
    const heartbeat = setInterval(() => {
      sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: visibilitySeconds })).catch((err: unknown) => {
        logger.warn({ err, messageId }, 'the visibility timeout could not be extended: the message may come back while still worked on');
      });
    }, (visibilitySeconds * 1000) / 3);
    try {
      const settled = await settle(message);
      if (settled === 'done') await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }));
      // A file left for a reason of its own has said it; this is the other case.
      else if (settled === 'undispatched') logger.info({ messageId }, 'not every alert was dispatched: the message comes back after its visibility timeout');
    } catch (err) {
      if (abandoning.signal.aborted) logger.info({ messageId }, 'stopped before the message was done: it comes back after its visibility timeout');
      else logger.warn({ err, messageId }, 'message not done: it comes back after its visibility timeout');
    } finally {
      clearInterval(heartbeat);
    }
  }

  const inFlight = new Set<Promise<void>>();
  async function poll(): Promise<void> {
    let failures = 0;
    while (!stopping.signal.aborted) {
      if (inFlight.size >= concurrency) {
        await Promise.race(inFlight);
        continue;
      }
      let messages: Message[];
      try {
        const answer = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, concurrency - inFlight.size),
            WaitTimeSeconds: waitSeconds,
            VisibilityTimeout: visibilitySeconds,
          }),
          { abortSignal: stopping.signal },
        );
        messages = answer.Messages ?? [];
        failures = 0;
        readable('queue');
      } catch (err) {
        if (stopping.signal.aborted) return;
        failures += 1;
        failing('queue', queueProblem(err));
        await delay(Math.min(MAX_RETRY_MS, 1000 * 2 ** (failures - 1)), undefined, { signal: stopping.signal }).catch(() => undefined);
        continue;
      }
      for (const message of messages) {
        const work: Promise<void> = handle(message).finally(() => inFlight.delete(work));
        inFlight.add(work);
      }
    }
  }

  const polling = poll();
  logger.info({ concurrency, visibilitySeconds }, 'reading CloudTrail log files from the queue');
  return {
    async stop() {
      stopping.abort();
      await polling;
      const grace = setTimeout(() => abandoning.abort(), STOP_GRACE_MS);
      await Promise.allSettled([...inFlight]);
      clearTimeout(grace);
      sqs.destroy();
    },
    health() {
      const { queue: receiving, bucket } = states;
      const problem = receiving.problem ?? bucket.problem;
      return [{ queue, status: problem ? 'failing' : receiving.status, ...(problem ? { error: problem.code } : {}) }];
    },
  };
}
