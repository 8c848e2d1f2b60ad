// Intake mirroring (`intake.mirror`): every alert accepted on the HTTP routes is, once archived,
// forwarded to another intake (staging) in the background, with its source and the headers the
// archive kept, so that staging sees production's alerts as they come. Production never waits for
// it: `forward` only queues, the queue is bounded (in alerts and in bytes) and drops its oldest alert
// when full, a forward that fails or outlasts its timeout is counted (in stats() and the
// vigil_mirror_* metrics) and not retried.
import type { Logger } from '../lib/logger';
import { resolveSecret, type Config } from '../lib/config';
import { mirrorDropped, mirrorFailed, mirrorForwarded, mirrorQueued } from '../lib/metrics';

export type MirrorSettings = NonNullable<Config['intake']['mirror']>;

export interface MirroredAlert {
  source: string;
  body: Buffer;
  /** The headers as archived (credentials already removed); the content type among them. */
  headers: Record<string, string>;
  /** The production archive record, sent along as `x-vigil-mirrored-from`. */
  archiveId: string;
}

export interface MirrorStats {
  /** Waiting to be forwarded. */
  queued: number;
  inFlight: number;
  /** Answered 2xx by the staging intake. */
  forwarded: number;
  /** Answered otherwise, not answered in time, or not reached. */
  failed: number;
  /** Dropped from a full queue (the oldest first). */
  dropped: number;
}

export interface Mirror {
  /** Queues the alert; returns at once, whatever the staging intake does. */
  forward(alert: MirroredAlert): void;
  stats(): MirrorStats;
  /** Ends forwards in flight and drops what is queued (intake is closing). */
  close(): void;
}

/** Names the production record a mirrored alert is; archived with it by the staging intake. */
const MIRRORED_FROM = 'x-vigil-mirrored-from';

/** Headers that describe the connection or the body's framing, which fetch sets itself. */
const notForwarded = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'host', 'expect', 'te', 'trailer', 'upgrade']);

/** The archived headers as another intake takes them: the sender's own, with this intake's bearer token. */
export function forwardedHeaders(archived: Record<string, string>, token: string, extra: Record<string, string> = {}): Record<string, string> {
  const kept = Object.entries(archived).filter(([name]) => !notForwarded.has(name.toLowerCase()));
  return { ...Object.fromEntries(kept), ...extra, authorization: `Bearer ${token}` };
}

/** Where an alert of a source goes on an intake at `base`. */
export const alertRouteUrl = (base: string, source: string) => `${base.replace(/\/+$/, '')}/v1/alerts/${encodeURIComponent(source)}`;

export function createMirror(settings: MirrorSettings, logger: Logger, env: NodeJS.ProcessEnv = process.env): Mirror {
  const token = resolveSecret(settings.token, 'intake.mirror.token', env);
  const queue: MirroredAlert[] = [];
  const inFlight = new Set<AbortController>();
  const counts = { forwarded: 0, failed: 0, dropped: 0 };
  let queuedBytes = 0;
  let closed = false;
  // Logged when a state begins and ends, not per alert: a staging intake that is down would flood the log.
  let failing = false;
  let droppedInEpisode = 0;

  async function send(alert: MirroredAlert): Promise<void> {
    const controller = new AbortController();
    inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(), settings.timeoutMs);
    let problem: string | undefined;
    try {
      const response = await fetch(alertRouteUrl(settings.url, alert.source), {
        method: 'POST',
        headers: forwardedHeaders(alert.headers, token, { [MIRRORED_FROM]: alert.archiveId }),
        body: alert.body,
        signal: controller.signal,
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) problem = `answered ${response.status}`;
    } catch (err) {
      problem = controller.signal.aborted ? `no answer within ${settings.timeoutMs} ms` : `not reached: ${(err as Error).message}`;
    } finally {
      clearTimeout(timer);
      inFlight.delete(controller);
    }
    if (closed) return;
    if (problem === undefined) {
      counts.forwarded += 1;
      mirrorForwarded.inc();
      if (failing) logger.info({ url: settings.url }, 'the staging intake takes mirrored alerts again');
      failing = false;
    } else {
      counts.failed += 1;
      mirrorFailed.inc();
      if (!failing) logger.warn({ url: settings.url, problem, archiveId: alert.archiveId }, 'mirroring to the staging intake fails (counted, not retried; production is not affected)');
      failing = true;
    }
  }

  function pump(): void {
    while (!closed && inFlight.size < settings.concurrency && queue.length > 0) {
      const alert = queue.shift()!;
      queuedBytes -= alert.body.length;
      mirrorQueued.dec();
      if (queue.length === 0 && droppedInEpisode > 0) {
        logger.warn({ dropped: droppedInEpisode }, 'the mirror queue drained; alerts were dropped while it was full');
        droppedInEpisode = 0;
      }
      // send() catches everything; the next one starts when it settles.
      void send(alert).finally(pump);
    }
  }

  return {
    forward(alert) {
      // A mirrored alert is not mirrored again: an intake mirroring to itself, or two to each other, would loop.
      if (closed || MIRRORED_FROM in alert.headers) return;
      queue.push(alert);
      queuedBytes += alert.body.length;
      mirrorQueued.inc();
      while (queue.length > settings.queueSize || (queuedBytes > settings.maxQueueBytes && queue.length > 1)) {
        const oldest = queue.shift()!;
        queuedBytes -= oldest.body.length;
        counts.dropped += 1;
        mirrorDropped.inc();
        mirrorQueued.dec();
        if (droppedInEpisode === 0) logger.warn({ queueSize: settings.queueSize, maxQueueBytes: settings.maxQueueBytes }, 'the mirror queue is full: dropping its oldest alerts');
        droppedInEpisode += 1;
      }
      pump();
    },
    stats: () => ({ queued: queue.length, inFlight: inFlight.size, ...counts }),
    close() {
      closed = true;
      // The gauge adds up every mirror of the process: this one's share goes.
      mirrorQueued.dec(queue.length);
      queue.length = 0;
      queuedBytes = 0;
      for (const controller of inFlight) controller.abort();
    },
  };
}
