// One archived body → its alerts, run on a decoding thread (intake/decoder.ts): inflating, parsing and
// normalizing a large body takes seconds and hundreds of MiB, which must not hold up intake's event
// loop. Normalizing here too means only the alerts travel back, never the parsed payload.
import { workerData } from 'node:worker_threads';
import type { NormalizedAlert } from '../lib/alert';
import type { SourceSettings } from '../lib/config';
import type { DeliveredRecord } from '../lib/delivery';
import { decodeBody, MalformedBodyError } from './body';
import { normalizePayload } from './normalize';
import { createSourceAdapters } from './sources';

/** What every decoding thread is started with. */
export interface ThreadSettings {
  /** The module intake/decoding-thread.mjs loads: this one, or a test's that wraps it. */
  taskModule: string;
  sources: Record<string, SourceSettings>;
  maxInflatedBytes: number;
}

export interface ReadTask {
  /** The archive reference alone: it is all that travels with each alert into Temporal. */
  record: DeliveredRecord;
  /** The body as the thread receives it (a Buffer arrives as a plain Uint8Array). */
  body: Uint8Array;
}

/** The alerts of a body, or why it can never be investigated (a malformed body). */
export type ReadOutcome = { rejected: string } | { alerts: NormalizedAlert[] };

// Adapters are functions, which cannot cross threads: each thread builds its own from the settings.
const { sources, maxInflatedBytes } = workerData as ThreadSettings;
const adapters = createSourceAdapters(sources);

export default function readAlerts({ record: { source, ...archive }, body }: ReadTask): ReadOutcome {
  try {
    const payload = decodeBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength), maxInflatedBytes);
    return { alerts: normalizePayload(adapters, source, payload, archive) };
  } catch (err) {
    if (!(err instanceof MalformedBodyError)) throw err;
    return { rejected: err.message };
  }
}
