// One body → its alerts, wherever it runs: on a decoding thread (read-alerts.ts), or inline for a
// body too small to be worth the trip to a thread (decoder.ts).
import type { NormalizedAlert } from '../lib/alert';
import type { DeliveredRecord } from '../lib/delivery';
import { decodeBody, MalformedBodyError } from './body';
import type { JsonLimits } from './json-shape';
import { normalizePayload } from './normalize';
import type { SourceAdapter } from './sources/types';

export interface ReadTask {
  record: DeliveredRecord;
  /** The body as a thread receives it (a Buffer arrives as a plain Uint8Array). */
  body: Uint8Array;
}

/**
 * The alerts of a body (and how many of its events no rule matched, when some did not), or why it
 * can never be investigated (a malformed body).
 */
export type ReadOutcome = { rejected: string } | { alerts: NormalizedAlert[]; unmatched?: number };

/** `limits`: the bounds on what parsing the body may build (intake/json-shape.ts); none when absent. */
export function decodeAlerts(adapters: readonly SourceAdapter[], maxInflatedBytes: number, { record, body }: ReadTask, limits?: JsonLimits): ReadOutcome {
  // Only the reference travels with each alert into Temporal, whatever else the caller's record holds.
  const { id, sha256, receivedAt } = record;
  try {
    const payload = decodeBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength), maxInflatedBytes, limits);
    const tally = { unmatched: 0 };
    const alerts = normalizePayload(adapters, record.source, payload, { id, sha256, receivedAt }, tally);
    return tally.unmatched > 0 ? { alerts, unmatched: tally.unmatched } : { alerts };
  } catch (err) {
    if (!(err instanceof MalformedBodyError)) throw err;
    return { rejected: err.message };
  }
}
