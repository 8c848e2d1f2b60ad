// Archived body → normalized alerts → Temporal: the one delivery path, used by the HTTP route, the
// sweeper, the re-scan and `vigil replay`, so that all of them behave the same.
import type { Archive } from '../activities/archive/types';
import type { NormalizedAlert } from '../lib/alert';
import { mapConcurrent } from '../lib/concurrency';
import type { AcceptedAlert, DeliveredRecord, Delivery, Dispatch } from '../lib/delivery';
import type { Logger } from '../lib/logger';
import { investigationWorkflowId } from '../lib/workflow-id';
import { decodeBody, MalformedBodyError } from './body';
import { normalizePayload } from './normalize';
import type { SourceAdapter } from './sources/types';

export interface DeliveryDeps {
  archive: Archive;
  adapters: readonly SourceAdapter[];
  dispatch: Dispatch;
  logger: Logger;
  /** Bound on an inflated gzip body. */
  maxInflatedBytes: number;
}

/** Alerts handed to Temporal at once from one delivery (a scan report holds thousands). */
const DISPATCH_CONCURRENCY = 16;

/** The alerts of an archived body, or why it can never be investigated (a malformed body). */
export function readAlerts(
  { adapters, maxInflatedBytes }: Pick<DeliveryDeps, 'adapters' | 'maxInflatedBytes'>,
  record: DeliveredRecord,
  body: Buffer,
): { rejected: string } | { alerts: NormalizedAlert[] } {
  // Only the reference travels with each alert into Temporal, whatever else the caller's record holds.
  const { id, sha256, receivedAt } = record;
  try {
    return { alerts: normalizePayload(adapters, record.source, decodeBody(body, maxInflatedBytes), { id, sha256, receivedAt }) };
  } catch (err) {
    if (!(err instanceof MalformedBodyError)) throw err;
    return { rejected: err.message };
  }
}

export function createDelivery(deps: DeliveryDeps): Delivery {
  const { archive, dispatch, logger } = deps;

  async function deliver(record: DeliveredRecord, body: Buffer) {
    const read = readAlerts(deps, record, body);
    if ('rejected' in read) {
      await archive.markRejected(record.id, read.rejected);
      return read;
    }
    const alerts = await mapConcurrent(read.alerts, DISPATCH_CONCURRENCY, async (alert, n): Promise<AcceptedAlert> => {
      const workflowId = investigationWorkflowId(alert.source, alert.fingerprint);
      const outcome = await dispatch(alert, workflowId).catch((err: unknown) => {
        logger.warn({ err, archiveId: record.id, workflowId }, 'not dispatched; the sweeper will retry');
        return undefined;
      });
      return {
        id: `${record.id}#${n}`,
        fingerprint: alert.fingerprint,
        kind: alert.kind,
        workflowId,
        dispatched: outcome !== undefined,
        ...(outcome === 'rechecked' ? { rechecked: true as const } : {}),
      };
    });
    if (alerts.every((alert) => alert.dispatched)) {
      await archive.markDispatched(
        record.id,
        alerts.map((alert) => alert.workflowId),
      );
    }
    return { alerts };
  }

  return {
    deliver,
    async redeliver(record) {
      const { body } = await archive.read(record.id);
      return deliver(record, body);
    },
  };
}
