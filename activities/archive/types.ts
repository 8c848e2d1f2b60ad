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
  /** Workflow ids the record was handed to; empty until dispatched. */
  dispatchedTo: string[];
}

/** The durable record of every authenticated delivery, written before intake answers. */
export interface Archive {
  put(input: ArchiveInput): Promise<ArchiveRef>;
  markDispatched(id: string, workflowIds: string[]): Promise<void>;
  read(id: string): Promise<{ body: Buffer; meta: ArchiveRecordMeta }>;
}
