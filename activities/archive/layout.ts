// How records are named in every archive backend: `<yyyy>/<mm>/<dd>/<source>/<sha256>`, so that a
// day (and a source within it) is one prefix and a resent body is the same record.
import { createHash } from 'node:crypto';
import type { ArchiveInput, ArchiveRecordMeta, ListOptions } from './types';

export const recordIdPattern = /^\d{4}\/\d{2}\/\d{2}\/[a-z0-9-]+\/[0-9a-f]{64}$/;

export function assertRecordId(id: string): void {
  if (!recordIdPattern.test(id)) throw new Error(`not an archive record id: ${JSON.stringify(id)}`);
}

export function dayPrefix(date: Date): string {
  return date.toISOString().slice(0, 10).replaceAll('-', '/');
}

export const sha256Of = (body: Buffer) => createHash('sha256').update(body).digest('hex');

export function newRecordMeta({ source, body, contentType, headers }: Omit<ArchiveInput, 'object'>, received = new Date()): ArchiveRecordMeta {
  const sha256 = sha256Of(body);
  return {
    id: `${dayPrefix(received)}/${source}/${sha256}`,
    sha256,
    receivedAt: received.toISOString(),
    source,
    contentType,
    headers,
    dispatchedTo: [],
  };
}

/** Every day prefix in the range, oldest first. */
export function daysIn({ since, until }: ListOptions): string[] {
  const days = [];
  const day = new Date(Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate()));
  while (day <= until) {
    days.push(dayPrefix(day));
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return days;
}

export function withinRange(meta: ArchiveRecordMeta, { since, until, source }: ListOptions): boolean {
  const received = new Date(meta.receivedAt);
  return received >= since && received <= until && (!source || meta.source === source);
}
