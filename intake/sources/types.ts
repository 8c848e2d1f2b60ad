import type { ParsedAlert } from '../../lib/alert';

/**
 * One alert source. Adding a source is one module implementing this, registered in ./index.ts.
 */
export interface SourceAdapter {
  /** The `:source` of `POST /v1/alerts/:source`, and the `source` of its alerts. */
  name: string;
  /** One line for `vigil doctor`, error messages and docs/sources.md. */
  description: string;
  /** Whether a payload of unknown origin looks like this source's (for `auto`). */
  detect(payload: unknown): boolean;
  /**
   * Every alert in the payload (none is fine: for example, only passing checks). An adapter that
   * judges events by rules counts in `tally` the events no rule matched.
   */
  parse(payload: unknown, tally?: ParseTally): ParsedAlert[];
}

/** What a payload held besides its alerts: events no rule matched, archived but not investigated. */
export interface ParseTally {
  unmatched: number;
}

/** A payload its adapter does not understand; it becomes an `unparsed` alert, never a log line. */
export class UnrecognizedPayloadError extends Error {
  override name = 'UnrecognizedPayloadError';
}
