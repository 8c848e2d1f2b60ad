// The archive sweeper's activity: finds archived deliveries that never reached Temporal (intake or
// a re-scan archived them, then Temporal did not answer in time, or the process died between
// archiving and dispatching) and delivers them through the same delivery path. A record that fails
// for any other reason than its own body (the store did not answer, a write failed) is logged and left
// for the next pass; the pass goes on with the others. A record whose object is gone for good (deleted
// by a lifecycle rule, replaced, moved to Glacier) is marked rejected with why, once, rather than tried
// on every pass of the lookback. It reads the archive's index of records not yet dispatched, so a pass
// costs what is pending, not what the archive holds.
import { heartbeat, log } from '@temporalio/activity';
import type { Delivery, DeliveryOutcome } from '../../lib/delivery';
import { sweeperRedeliveries } from '../../lib/metrics';
import { ObjectGoneError } from './objects';
import type { Archive, ArchiveRecordMeta } from './types';

export interface SweepSummary {
  /** Pending records read (the index's), not every record of the lookback. */
  examined: number;
  dispatched: number;
  /** Not every alert reached Temporal, or the record could not be delivered at all: the next pass tries again. */
  stillUndispatched: number;
  rejected: number;
}

/** Younger records may still be on their way through intake. */
const SETTLE_MS = 30_000;

export function createSweepActivities({ archive, delivery }: { archive: Archive; delivery: Pick<Delivery, 'redeliver'> }) {
  /** Delivers the record again; one whose object is gone for good is marked rejected, once, with why. */
  async function redeliver(meta: ArchiveRecordMeta): Promise<DeliveryOutcome> {
    try {
      return await delivery.redeliver(meta);
    } catch (err) {
      // Unlike a 403 or a store that does not answer, nothing a later pass could change.
      if (!(err instanceof ObjectGoneError)) throw err;
      await archive.markRejected(meta.id, err.message);
      log.error('archived record rejected: the object it refers to is gone', { archiveId: meta.id, error: err.message });
      return { rejected: err.message };
    }
  }

  return {
    async sweepArchive({ lookbackDays }: { lookbackDays: number }): Promise<SweepSummary> {
      const until = new Date(Date.now() - SETTLE_MS);
      const since = new Date(until.getTime() - lookbackDays * 24 * 3600 * 1000);
      const summary: SweepSummary = { examined: 0, dispatched: 0, stillUndispatched: 0, rejected: 0 };
      for await (const meta of archive.listUndispatched({ since, until }, () => heartbeat(summary))) {
        summary.examined += 1;
        heartbeat(summary);
        let result;
        try {
          result = await redeliver(meta);
        } catch (err) {
          log.warn('archived record not delivered; the next pass tries it again', { archiveId: meta.id, error: (err as Error).message });
          summary.stillUndispatched += 1;
          sweeperRedeliveries.inc({ result: 'failed' });
          continue;
        }
        const outcome = 'rejected' in result ? 'rejected' : result.alerts.every((alert) => alert.dispatched) ? 'dispatched' : 'undispatched';
        sweeperRedeliveries.inc({ result: outcome });
        if (outcome === 'rejected') summary.rejected += 1;
        else if (outcome === 'dispatched') summary.dispatched += 1;
        else summary.stillUndispatched += 1;
      }
      return summary;
    },
  };
}

export type SweepActivities = ReturnType<typeof createSweepActivities>;
