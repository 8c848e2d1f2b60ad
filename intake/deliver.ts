// Archived body → normalized alerts → Temporal. The one path for a fresh delivery (intake), for
// records never dispatched (the sweeper) and for replays, so all three behave the same.
import type { Archive, ArchiveRecordMeta } from '../activities/archive/types';
import type { ArchiveRef } from '../lib/alert';
import type { Logger } from '../lib/logger';
import { decodeBody, MalformedBodyError } from './body';
import type { Dispatch } from './dispatch';
import { normalizePayload } from './normalize';
import type { SourceAdapter } from './sources/types';
import { investigationWorkflowId } from '../lib/workflow-id';

export interface AcceptedAlert {
  /** `<archive record id>#<n>`: the n-th alert of that delivery. */
  id: string;
  fingerprint: string;
  kind: string;
  workflowId: string;
  dispatched: boolean;
}

export interface DeliveryDeps {
  archive: Archive;
  adapters: readonly SourceAdapter[];
  dispatch: Dispatch;
  logger: Logger;
  /** Bound on an inflated gzip body. */
  maxInflatedBytes: number;
}

const DISPATCH_CONCURRENCY = 16;

export function createDelivery({ archive, adapters, dispatch, logger, maxInflatedBytes }: DeliveryDeps) {
  /** Normalizes and dispatches a parsed payload; the record is marked once all its alerts are. */
  async function deliver(record: ArchiveRef, source: string, payload: unknown): Promise<AcceptedAlert[]> {
    const alerts = normalizePayload(adapters, source, payload, record);
    const accepted: AcceptedAlert[] = [];
    for (let start = 0; start < alerts.length; start += DISPATCH_CONCURRENCY) {
      const batch = alerts.slice(start, start + DISPATCH_CONCURRENCY);
      accepted.push(
        ...(await Promise.all(
          batch.map(async (alert, offset) => {
            const workflowId = investigationWorkflowId(alert.source, alert.fingerprint);
            const dispatched = await dispatch(alert).then(
              () => true,
              (err: unknown) => {
                logger.warn({ err, archiveId: record.id, workflowId }, 'not dispatched; the sweeper will retry');
                return false;
              },
            );
            return { id: `${record.id}#${start + offset}`, fingerprint: alert.fingerprint, kind: alert.kind, workflowId, dispatched };
          }),
        )),
      );
    }
    if (accepted.every((alert) => alert.dispatched)) {
      await archive.markDispatched(
        record.id,
        accepted.map((alert) => alert.workflowId),
      );
    }
    return accepted;
  }

  /** Delivers an archived record again (sweeper, replay); a malformed body is marked rejected. */
  async function redeliver(meta: ArchiveRecordMeta): Promise<AcceptedAlert[] | { rejected: string }> {
    const { body } = await archive.read(meta.id);
    let payload: unknown;
    try {
      payload = decodeBody(body, maxInflatedBytes);
    } catch (err) {
      if (!(err instanceof MalformedBodyError)) throw err;
      await archive.markRejected(meta.id, err.message);
      return { rejected: err.message };
    }
    return deliver(meta, meta.source, payload);
  }

  return { deliver, redeliver };
}

export type Delivery = ReturnType<typeof createDelivery>;
