// The delivery port: how an archived body becomes investigations. Intake implements it (it knows
// the sources); its HTTP route, the archive sweeper, the re-scan and `vigil replay` all go through
// it, so every path decodes, rejects, names and dispatches alerts the same way.
import type { ArchiveRef, NormalizedAlert } from './alert';

/** An archived record and the source it was delivered to (`auto` included). */
export interface DeliveredRecord extends ArchiveRef {
  source: string;
}

export interface AcceptedAlert {
  /** `<archive record id>#<n>`: the n-th alert of that delivery (its copies collapsed into it). */
  id: string;
  fingerprint: string;
  kind: string;
  /** The investigation that got it: its own, or the open one of the same resource it was merged into. */
  workflowId: string;
  /** Merged into another investigation (`workflowId`), which re-checks it, rather than given its own. */
  merged?: true;
  /** Handed to Temporal; when not, the record stays undispatched and the sweeper retries it. */
  dispatched: boolean;
  /** A running investigation was asked to re-check rather than told of a repeat (re-scan findings). */
  rechecked?: true;
  /** A resolution from the source, for a finding no investigation is running for: nothing to tell. */
  unwatched?: true;
}

/** A malformed body is rejected (and marked so in the archive); anything else yields alerts. */
/** `unmatched`: events of the body no rule matched (archived, not investigated), when there were any. */
export type DeliveryOutcome = { rejected: string } | { alerts: AcceptedAlert[]; unmatched?: number };

export interface Delivery {
  /**
   * Decodes, normalizes and dispatches an archived body; marks the record once every alert is
   * dispatched. Waits its turn when decoding is at its bound.
   */
  deliver(record: DeliveredRecord, body: Buffer): Promise<DeliveryOutcome>;
  /** Reads an archived record back and delivers it again (sweeper, replay): the same delivery, idempotently. */
  redeliver(record: DeliveredRecord): Promise<DeliveryOutcome>;
  /**
   * Intake's door, asked before the body is archived: a place for it among the bodies decoding, or
   * undefined when they are at their bound (intake then refuses it, and the sender retries).
   */
  admit(body: Buffer): AdmittedDelivery | undefined;
}

/** A body admitted to decoding: deliver it once archived, or give its place back. */
export interface AdmittedDelivery {
  deliver(record: DeliveredRecord): Promise<DeliveryOutcome>;
  /** The body was not archived after all. */
  cancel(): void;
}

/** Hands one alert to its investigation, whose workflow id the caller computed; says what it did. */
/** `mergedInto`: an open investigation of the same resource took the alert (see intake/dispatch.ts). */
export type Dispatch = (alert: NormalizedAlert, workflowId: string) => Promise<'signalled' | 'rechecked' | 'unwatched' | { mergedInto: string }>;
