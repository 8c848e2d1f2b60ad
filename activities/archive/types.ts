import type { ArchiveRef } from '../../lib/alert';

/**
 * An object in S3 that is itself the original (a CloudTrail log file in its trail bucket): the
 * archive records where it is instead of copying it, and reads it from there.
 */
export interface ObjectReference {
  bucket: string;
  key: string;
  /** The object as it was when archived: a later object under the same key is not this record. */
  etag: string;
  versionId?: string;
  region: string;
  /** For S3-compatible stores and tests; AWS's own endpoint when unset. */
  endpoint?: string;
  forcePathStyle?: boolean;
}

export interface ArchiveInput {
  source: string;
  body: Buffer;
  contentType: string;
  /** Request headers with credentials already removed. */
  headers: Record<string, string>;
  /** Where the body lies already: the record refers to it rather than keeping a copy. */
  object?: ObjectReference;
}

export interface ArchiveRecordMeta extends ArchiveRef {
  source: string;
  contentType: string;
  headers: Record<string, string>;
  /** Workflow ids the record was handed to. */
  dispatchedTo: string[];
  /** When every alert in it was handed to Temporal (a record may hold no alert at all). */
  dispatchedAt?: string;
  /** Why the body can never be investigated (malformed JSON); such records are not swept. */
  rejected?: string;
  /** A record of this kind has no `.raw` copy: its body is this object. */
  object?: ObjectReference;
}

export interface ListOptions {
  /** Inclusive, by day of receipt (UTC). */
  since: Date;
  until: Date;
  source?: string;
}

/** The durable record of every authenticated delivery, written before intake answers. */
export interface Archive {
  /** Where records are kept, for messages: a folder or an s3:// URL. */
  location: string;
  /**
   * A resent body on the same day is the same delivery: the first record is kept and returned.
   * `onCreated` is called only when this put wrote a new record (what `vigil_alerts_archived_total` counts).
   */
  put(input: ArchiveInput, options?: { onCreated?: () => void }): Promise<ArchiveRef>;
  markDispatched(id: string, workflowIds: string[]): Promise<void>;
  markRejected(id: string, reason: string): Promise<void>;
  /** The body (from S3 for a record that refers to an object) and the metadata. */
  read(id: string): Promise<{ body: Buffer; meta: ArchiveRecordMeta }>;
  /** The metadata alone, or undefined when there is no such record. */
  findMeta(id: string): Promise<ArchiveRecordMeta | undefined>;
  /** Metadata of the records received in a time range, oldest day first. */
  list(options: ListOptions): AsyncIterable<ArchiveRecordMeta>;
  /**
   * Metadata of the records in a time range neither dispatched nor rejected, read from the index of
   * such records: what the sweeper reads, at a cost that follows the records pending, not the archive.
   * `progress` is called for each record read while a day archived before the index is walked in
   * full, once (the sweeper heartbeats on it).
   */
  listUndispatched(options: ListOptions, progress?: () => void): AsyncIterable<ArchiveRecordMeta>;
}

/** Reads a referenced object back (`vigil replay`, the sweeper). */
export type ObjectReader = (object: ObjectReference) => Promise<Buffer>;
