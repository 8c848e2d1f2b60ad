import type { ArchiveRef } from '../../lib/alert';

export interface ArchiveInput {
  source: string;
  body: Buffer;
  contentType: string;
  /** Request headers with credentials already removed. */
  headers: Record<string, string>;
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
  put(input: ArchiveInput): Promise<ArchiveRef>;
  markDispatched(id: string, workflowIds: string[]): Promise<void>;
  markRejected(id: string, reason: string): Promise<void>;
  read(id: string): Promise<{ body: Buffer; meta: ArchiveRecordMeta }>;
  /** Metadata of the records received in a time range, oldest day first. */
  list(options: ListOptions): AsyncIterable<ArchiveRecordMeta>;
}
