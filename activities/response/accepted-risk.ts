// Accepted risks: what `/vigil accept <reason> until <date>` leaves behind for the re-scan, one JSON
// per investigation in a store beside the archive (`<dataDir>/accepted-risks/`, or the archive's
// bucket under `<prefix>accepted-risks/`). The re-scan honours them as it honours `rescan.allow`.
import type { ResourceRef } from '../../lib/alert';
import type { RecordStore } from '../archive/records';
import { safeSegment } from './keys';

/** One acceptance as the re-scan reads it. */
export interface StoredAcceptance {
  /** The alert's resources: the re-scan matches them by id (or an alias of the same machine). */
  resources: Pick<ResourceRef, 'type' | 'id'>[];
  reason: string;
  /** The last day it holds (YYYY-MM-DD), as `rescan.allow` entries. */
  expires: string;
  /** Who accepted it on the issue. */
  by: string;
  /** The investigation whose issue it was accepted on. */
  workflowId: string;
  /** When it was accepted: tells this acceptance from a later one of the same investigation. */
  at: string;
}

export interface AcceptedRisks {
  location: string;
  put(acceptance: StoredAcceptance): Promise<void>;
  get(workflowId: string): Promise<StoredAcceptance | undefined>;
  delete(workflowId: string): Promise<void>;
  /** Every acceptance stored, expired ones included (the reader applies the date). */
  list(): AsyncIterable<StoredAcceptance>;
}

const keyOf = (workflowId: string) => `${safeSegment(workflowId)}.json`;

export function acceptedRisks(store: RecordStore): AcceptedRisks {
  const read = async (key: string) => {
    const data = await store.get(key);
    return data && (JSON.parse(data.toString('utf8')) as StoredAcceptance);
  };
  return {
    location: store.location,
    put: (acceptance) => store.put(keyOf(acceptance.workflowId), JSON.stringify(acceptance, null, 2), 'application/json'),
    get: (workflowId) => read(keyOf(workflowId)),
    delete: (workflowId) => store.delete(keyOf(workflowId)),
    async *list() {
      const keys = [];
      for await (const key of store.keys('')) if (key.endsWith('.json')) keys.push(key);
      for (const key of keys.sort()) {
        // Removed between the listing and the read: an acceptance that just ended.
        const acceptance = await read(key);
        if (acceptance) yield acceptance;
      }
    },
  };
}
