// Decoding (inflate, parse, normalize) on a small pool of threads, within a bound on the work in
// flight. Eight 1 MB gzips inflating to 250 MiB each once held 3 GB and stalled the event loop (and
// `/healthz`) for 17 s: now at most `threads` bodies decode at once, off the event loop, and the
// bodies decoding or waiting for a thread are bounded by the bytes they inflate to. Intake asks for
// room and is refused when there is none; the sweeper, re-scans and replay wait for it.
import { Piscina } from 'piscina';
import type { SourceSettings } from '../lib/config';
import type { DeliveredRecord } from '../lib/delivery';
import { decodedSize, isGzip } from './body';
import { decodeAlerts, type ReadOutcome, type ReadTask } from './decode-alerts';
import type { ThreadSettings } from './read-alerts';
import { createSourceAdapters } from './sources';

export type { ReadOutcome } from './decode-alerts';

export interface DecoderSettings {
  sources: Record<string, SourceSettings>;
  maxInflatedBytes: number;
  /** Bodies decoding at once, each on its own thread. */
  threads: number;
  /** Bytes (inflated) of the bodies decoding or waiting for a thread; one body alone always fits. */
  maxDecodingBytes: number;
  /** The module each thread runs: intake/read-alerts.ts, or a test's that holds decodes. */
  taskModule?: URL;
  /** Plain JSON bodies no larger than this decode on the calling thread (tests set 0 to hold every decode). */
  inlineBytes?: number;
}

/** A body admitted to the bound: decode it, or give its place back unused. */
export interface AdmittedDecode {
  readAlerts(record: DeliveredRecord): Promise<ReadOutcome>;
  cancel(): void;
}

export interface Decoder {
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

export function createDecoder({
  sources,
  maxInflatedBytes,
  threads,
  maxDecodingBytes,
  taskModule = new URL('./read-alerts.ts', import.meta.url),
  inlineBytes = INLINE_BYTES,
}: DecoderSettings): Decoder {
  // The threads build the same adapters: a mistake in their settings fails here, at start.
  const adapters = createSourceAdapters(sources);
  const pool = new Piscina({
    filename: new URL('./decoding-thread.mjs', import.meta.url).href,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: IDLE_THREAD_MS,
    workerData: { taskModule: taskModule.href, sources, maxInflatedBytes } satisfies ThreadSettings,
  });
  const room = new Room(maxDecodingBytes);

  // The body is copied, not transferred: a small Buffer shares its memory with others.
  const decode = (record: DeliveredRecord, body: Buffer): Promise<ReadOutcome> => pool.run({ record, body } satisfies ReadTask);

  const decodesInline = (body: Buffer) => !isGzip(body) && body.length <= inlineBytes;
  const inline = async (record: DeliveredRecord, body: Buffer) => decodeAlerts(adapters, maxInflatedBytes, { record, body });

  return {
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
