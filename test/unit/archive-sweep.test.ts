// The archive sweeper's pass (activities/archive/sweep.ts): one record that cannot be delivered (its
// body unreadable, a write that fails) is logged and left for the next pass, and the pass goes on with
// the records after it.
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Logger } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createSweepActivities } from '../../activities/archive/sweep';
import type { Archive, ArchiveRecordMeta } from '../../activities/archive/types';
import type { DeliveredRecord, Delivery } from '../../lib/delivery';

const meta = (n: number, extra: Partial<ArchiveRecordMeta> = {}): ArchiveRecordMeta => ({
  id: `2026/01/01/generic/${String(n).repeat(64)}`,
  sha256: String(n).repeat(64),
  receivedAt: '2026-01-01T00:00:00.000Z',
  source: 'generic',
  contentType: 'application/json',
  headers: {},
  dispatchedTo: [],
  ...extra,
});

/** An archive whose index of undispatched records lists the given ones (the sweep reads nothing else of it). */
const listing = (records: ArchiveRecordMeta[]) =>
  ({
    async *listUndispatched() {
      yield* records;
    },
  }) as unknown as Archive;

function capturingLogger(lines: { level: string; message: string; meta?: Record<string, unknown> }[]): Logger {
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => void lines.push({ level, message, meta });
  return { log: (level, message, meta) => at(level)(message, meta), trace: at('TRACE'), debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
}

describe('the archive sweeper', () => {
  it('logs a record it cannot deliver, goes on with the others, and counts it as still undispatched', async () => {
    const records = [meta(1), meta(2), meta(3)];
    const tried: string[] = [];
    const delivery = {
      async redeliver(record: DeliveredRecord) {
        tried.push(record.id);
        if (record.id === records[0]!.id) throw new Error('the archive did not answer: ECONNRESET');
        if (record.id === records[2]!.id) return { rejected: 'malformed JSON: Unexpected end of JSON input' };
        return { alerts: [{ id: `${record.id}#0`, fingerprint: 'f', kind: 'resource', workflowId: 'alert/generic/f', dispatched: true }] };
      },
    } as unknown as Delivery;
    const lines: Parameters<typeof capturingLogger>[0] = [];
    const { sweepArchive } = createSweepActivities({ archive: listing(records), delivery });

    const summary = await new MockActivityEnvironment(undefined, { logger: capturingLogger(lines) }).run(sweepArchive, { lookbackDays: 3 });

    expect(summary).toEqual({ examined: 3, dispatched: 1, stillUndispatched: 1, rejected: 1 });
    expect(tried).toEqual([records[0]!.id, records[1]!.id, records[2]!.id]);
    expect(lines.filter((line) => line.level === 'WARN')).toEqual([
      expect.objectContaining({
        message: 'archived record not delivered; the next pass tries it again',
        meta: expect.objectContaining({ archiveId: records[0]!.id, error: 'the archive did not answer: ECONNRESET' }),
      }),
    ]);
  });
});
