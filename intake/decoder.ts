// Decoding (inflate, parse, normalize) on a small pool of threads, within a bound on the work in
// flight. Eight 1 MB gzips inflating to 250 MiB each once held 3 GB and stalled the event loop (and
// `/healthz`) for 17 s: now at most `threads` bodies decode at once, off the event loop, and the
// bodies decoding or waiting for a thread are bounded by the bytes they inflate to. Intake asks for
// room and is refused when there is none; the sweeper, re-scans and replay wait for it.
//
// A body can be small and still take what no alert needs: a 257 KB gzip inflating to 255 MiB of
// deeply nested JSON once ran for more than 200 s and took 5.7 GB on its thread. So a body nested
// too deep, or holding more objects and arrays than a thread's heap can take, is refused before it
// is parsed (intake/json-shape.ts); each thread has a heap of its own size (`heapMb`), and each body
// a deadline once on its thread (`timeoutMs`). Past either, the pool ends the thread and starts
// another. Each way the body is rejected with the limit it crossed, and marked so in the archive, so
// the sweeper does not try it again.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { SourceSettings } from '../lib/config';
import type { DeliveredRecord } from '../lib/delivery';
import { decodedSize, isGzip } from './body';
import { decodeAlerts, type ReadOutcome, type ReadTask } from './decode-alerts';
import { jsonLimitsFor, MAX_JSON_DEPTH, type JsonLimits } from './json-shape';
import type { ThreadSettings } from './read-alerts';
import { compileSigmaRuleFiles, type SigmaRuleSet, type SigmaRuleFile } from './sigma';
import { createSourceAdapters } from './sources';

export type { ReadOutcome } from './decode-alerts';

export interface DecoderSettings {
  sources: Record<string, SourceSettings>;
  /** Sigma rule files as read at start: every thread compiles these, whatever the files hold since. */
  sigma?: SigmaRuleFile[];
  maxInflatedBytes: number;
  /** Bodies decoding at once, each on its own thread. */
  threads: number;
  /** Bytes (inflated) of the bodies decoding or waiting for a thread; one body alone always fits. */
  maxDecodingBytes: number;
  /** The module each thread runs: intake/read-alerts.ts, or a test's that holds decodes. */
  taskModule?: URL;
  /** Plain JSON bodies no larger than this decode on the calling thread (tests set 0 to hold every decode). */
  inlineBytes?: number;
  /**
   * The heap of each thread (V8's old generation, MiB), which also bounds the objects and arrays a
   * body may hold: a body that needs more is rejected. Node's default, and no such bound, when unset.
   */
  heapMb?: number;
  /** How long a body may decode once on its thread: a body that takes longer is rejected. No deadline when unset. */
  timeoutMs?: number;
}

/** A body admitted to the bound: decode it, or give its place back unused. */
export interface AdmittedDecode {
  readAlerts(record: DeliveredRecord): Promise<ReadOutcome>;
  cancel(): void;
}

export interface Decoder {
  /** The Sigma rules the decoder judges events by, and those it skipped, with why. */
  sigma: SigmaRuleSet;
  /** Waits for room, then decodes: the sweeper, re-scans and replay, which can wait. */
  readAlerts(record: DeliveredRecord, body: Buffer): Promise<ReadOutcome>;
  /** A place for this body now, or undefined when the work in flight is at its bound: intake's door. */
  admit(body: Buffer): AdmittedDecode | undefined;
}

/** Idle threads leave after this; the next body starts one again. */
const IDLE_THREAD_MS = 60_000;
/**
 * A typical alert (a few KiB of JSON) decodes in microseconds: on the calling thread that is cheaper
 * than the round trip to a thread and back, and far too short to hold the event loop up. A gzip
 * always goes to a thread: its trailer, which states its size, is the sender's word.
 */
const INLINE_BYTES = 64 * 1024;

/** Bytes in flight under a bound, with a queue for those who wait their turn (first come, first in). */
class Room {
  private used = 0;
  private readonly waiting: { bytes: number; enter: () => void }[] = [];

  constructor(private readonly capacity: number) {}

  // An empty room takes any body, or one larger than the bound could never be decoded.
  private fits(bytes: number) {
    return this.used === 0 || this.used + bytes <= this.capacity;
  }

  /** No jumping the queue: a waiting sweeper goes before a newer request. */
  tryEnter(bytes: number): boolean {
    if (this.waiting.length > 0 || !this.fits(bytes)) return false;
    this.used += bytes;
    return true;
  }

  enter(bytes: number): Promise<void> {
    if (this.tryEnter(bytes)) return Promise.resolve();
    return new Promise((enter) => this.waiting.push({ bytes, enter }));
  }

  leave(bytes: number): void {
    this.used -= bytes;
    while (this.waiting[0] && this.fits(this.waiting[0].bytes)) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.enter();
    }
  }
}

/** Why a decode its thread was ended for can never succeed, or undefined for any other failure. */
function limitCrossed(err: unknown, deadline: AbortSignal, { heapMb, timeoutMs }: DecoderSettings): string | undefined {
  if ((err as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return `decoding the body needs more than the ${heapMb ?? 'default'} MiB of memory a decoding thread has (intake.decodeHeapMb)`;
  }
  if (deadline.aborted && (err as Error).name === 'AbortError') {
    return `decoding the body took longer than ${timeoutMs} ms (intake.decodeTimeoutMs)`;
  }
  return undefined;
}

export function createDecoder(settings: DecoderSettings): Decoder {
  const {
    sources,
    sigma = [],
    maxInflatedBytes,
    threads,
    maxDecodingBytes,
    taskModule = new URL('./read-alerts.ts', import.meta.url),
    inlineBytes = INLINE_BYTES,
    heapMb,
    timeoutMs,
  } = settings;
  const jsonLimits: JsonLimits = heapMb === undefined ? { maxDepth: MAX_JSON_DEPTH, maxContainers: Infinity } : jsonLimitsFor(heapMb);
  // The threads build the same adapters: a mistake in their settings fails here, at start.
  const sigmaRules = compileSigmaRuleFiles(sigma);
  const adapters = createSourceAdapters(sources, sigmaRules.rules);
  // A SigmaHQ checkout is thousands of files, most for other logs: threads compile only those that
  // gave rules here, and keep the rules loaded here.
  const ruleFiles = new Set(sigmaRules.rules.map((rule) => rule.file));
  const threadSigma = { files: sigma.filter(({ file }) => ruleFiles.has(file)), ids: sigmaRules.rules.map((rule) => rule.id) };
  const pool = new Piscina({
    filename: new URL('./decoding-thread.mjs', import.meta.url).href,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: IDLE_THREAD_MS,
    ...(heapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: heapMb } }),
    workerData: { taskModule: taskModule.href, sources, sigma: threadSigma, maxInflatedBytes, jsonLimits } satisfies ThreadSettings,
  });
  // A thread that fails with no task left to fail (one ended past its deadline, running out of memory
  // on its way out) has no one to tell: its body was rejected already. Unheard, it would end the process.
  pool.on('error', () => undefined);
  const room = new Room(maxDecodingBytes);
  // No more bodies handed to the pool than it has threads (one place each); the others wait here,
  // first come first served.
  const threadsFree = new Room(threads);

  async function decode(record: DeliveredRecord, body: Buffer): Promise<ReadOutcome> {
    await threadsFree.enter(1);
    const deadline = new AbortController();
    // The deadline runs from when the thread starts on the body (decoding-thread.mjs says so), not
    // from when a new thread starts loading its modules.
    const { port1: started, port2: startedOnThread } = new MessageChannel();
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    if (timeoutMs !== undefined) {
      started.once('message', () => {
        if (!settled) timer = setTimeout(() => deadline.abort(), timeoutMs);
      });
    }
    try {
      // The body is copied, not transferred: a small Buffer shares its memory with others.
      const task = { record, body, started: startedOnThread } satisfies ReadTask & { started: MessagePort };
      return (await pool.run(task, { signal: deadline.signal, transferList: [startedOnThread] })) as ReadOutcome;
    } catch (err) {
      // The pool has ended that thread (out of memory, or aborted past its deadline) and starts another.
      const rejected = limitCrossed(err, deadline.signal, settings);
      if (rejected === undefined) throw err;
      return { rejected };
    } finally {
      settled = true;
      clearTimeout(timer);
      started.close();
      threadsFree.leave(1);
    }
  }

  const decodesInline = (body: Buffer) => !isGzip(body) && body.length <= inlineBytes;
  const inline = async (record: DeliveredRecord, body: Buffer) => decodeAlerts(adapters, maxInflatedBytes, { record, body }, jsonLimits);

  return {
    sigma: sigmaRules,
    async readAlerts(record, body) {
      if (decodesInline(body)) return inline(record, body);
      const bytes = decodedSize(body, maxInflatedBytes);
      await room.enter(bytes);
      try {
        return await decode(record, body);
      } finally {
        room.leave(bytes);
      }
    },
    admit(body) {
      if (decodesInline(body)) return { readAlerts: (record) => inline(record, body), cancel: () => undefined };
      const bytes = decodedSize(body, maxInflatedBytes);
      if (!room.tryEnter(bytes)) return undefined;
      let taken = true;
      const giveBack = () => {
        if (taken) room.leave(bytes);
        taken = false;
      };
      return {
        readAlerts: (record) => decode(record, body).finally(giveBack),
        cancel: giveBack,
      };
    },
  };
}
