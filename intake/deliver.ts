// Archived body → normalized alerts → Temporal: the one delivery path, used by the HTTP route, the
// sweeper, the re-scan and `vigil replay`, so that all of them behave the same.
import type { Archive } from '../activities/archive/types';
import { mapConcurrent } from '../lib/concurrency';
import type { NormalizedAlert } from '../lib/alert';
import type { AcceptedAlert, DeliveredRecord, Delivery, DeliveryOutcome, Dispatch } from '../lib/delivery';
import type { Logger } from '../lib/logger';
import { alertsDispatched, alertsRejected, alertsUndispatched, alertsUnparsed } from '../lib/metrics';
import { investigationWorkflowId } from '../lib/workflow-id';
import type { Decoder, ReadOutcome } from './decoder';

export interface DeliveryDeps {
  archive: Archive;
  /** Decodes and normalizes bodies off the event loop, within the bound on decoding work. */
  decoder: Decoder;
  dispatch: Dispatch;
  logger: Logger;
}

/** Alerts handed to Temporal at once from one delivery (a scan report holds thousands). */
const DISPATCH_CONCURRENCY = 16;

export function createDelivery(deps: DeliveryDeps): Delivery {
  const { archive, decoder, dispatch, logger } = deps;

  // The body is decoded and its place in the bound given back: dispatching holds neither. A
  // redelivery (the sweeper's, replay's) is the same delivery again: its body was counted the first time.
  /**
   * `answerFirst` (intake's HTTP route): the record is marked dispatched after the answer rather than
   * before it. The record and its marker in the index of pending ones were written before anything
   * was dispatched, so a mark that never lands (the process ends first) only has the sweeper deliver
   * the record again, which its investigation recognises as a redelivery; the sender waits five
   * fewer file operations.
   */
  async function dispatchAlerts(record: DeliveredRecord, read: ReadOutcome, redelivery: boolean, answerFirst = false): Promise<DeliveryOutcome> {
    if ('rejected' in read) {
      if (!redelivery) alertsRejected.inc({ source: record.source, reason: 'malformed' });
      await archive.markRejected(record.id, read.rejected);
      return read;
    }
    const dispatchOne = async (alert: NormalizedAlert): Promise<AcceptedAlert> => {
      const workflowId = investigationWorkflowId(alert.source, alert.fingerprint);
      if (alert.kind === 'unparsed' && !redelivery) alertsUnparsed.inc({ source: record.source });
      const outcome = await dispatch(alert, workflowId).catch((err: unknown) => {
        logger.warn({ err, archiveId: record.id, workflowId }, 'not dispatched; the sweeper will retry');
        return undefined;
      });
      const merged = typeof outcome === 'object';
      if (outcome === undefined) alertsUndispatched.inc({ source: record.source });
      else alertsDispatched.inc({ source: record.source, alert_source: alert.source, outcome: merged ? 'merged' : outcome });
      return {
        id: `${record.id}#${alert.index ?? 0}`,
        fingerprint: alert.fingerprint,
        kind: alert.kind,
        workflowId: merged ? outcome.mergedInto : workflowId,
        dispatched: outcome !== undefined,
        ...(merged ? { merged: true as const, rechecked: true as const } : {}),
        ...(outcome === 'rechecked' ? { rechecked: true as const } : {}),
        ...(outcome === 'unwatched' ? { unwatched: true as const } : {}),
      };
    };
    // A body's resolutions after its sightings: an Insights episode's end finds the investigation
    // its start began (normalize puts them last).
    const sightings = read.alerts.filter((alert) => alert.resolution === undefined);
    const resolutions = read.alerts.filter((alert) => alert.resolution !== undefined);
    const alerts = [...(await mapConcurrent(sightings, DISPATCH_CONCURRENCY, dispatchOne)), ...(await mapConcurrent(resolutions, DISPATCH_CONCURRENCY, dispatchOne))];
    if (alerts.every((alert) => alert.dispatched)) {
      const marked = archive.markDispatched(
        record.id,
        alerts.map((alert) => alert.workflowId),
      );
      if (answerFirst) void marked.catch((err: unknown) => logger.warn({ err, archiveId: record.id }, 'dispatched, but not marked so in the archive; the sweeper will deliver it again'));
      else await marked;
    }
    return read.unmatched ? { alerts, unmatched: read.unmatched } : { alerts };
  }

  const deliver = async (record: DeliveredRecord, body: Buffer, redelivery = false) => dispatchAlerts(record, await decoder.readAlerts(record, body), redelivery);

  return {
    deliver: (record, body) => deliver(record, body),
    redeliver: async (record) => deliver(record, (await archive.read(record.id)).body, true),
    admit(body) {
      const admitted = decoder.admit(body);
      return admitted && { deliver: async (record) => dispatchAlerts(record, await admitted.readAlerts(record), false, true), cancel: admitted.cancel };
    },
  };
}
