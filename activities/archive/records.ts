// The archive's record logic, once for every backend. A record is `<id>.raw`, the body as sent
// (unless it refers to an object that is itself the original, a CloudTrail log file in its trail
// bucket), and its metadata. Until the record is dispatched or rejected, the metadata lives in
// `undispatched/<id>`, the index of pending records, so that the sweeper lists only what is pending,
// never the whole archive; once settled, in `<id>.meta.json`, written once, and the index entry goes.
// So a record costs three writes where a separate marker and meta cost four (every file a new inode
// on a local disk, every write a request on S3). Archives from before the metadata moved into the
// index hold empty entries beside `<id>.meta.json`: the meta file, where there is one, is the record's.
import type { ArchiveRef } from '../../lib/alert';
import { mapConcurrent } from '../../lib/concurrency';
import { ObjectGoneError } from './objects';
import { assertRecordId, dayPrefix, daysIn, newRecordMeta, recordIdPattern, sha256Of, withinRange } from './layout';
import type { Archive, ArchiveRecordMeta, ListOptions, ObjectReader } from './types';

/** What a backend provides: named blobs under a root. */
export interface BlobStore {
  /** A folder or an s3:// URL, for messages. */
  location: string;
  /** The blob, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  put(key: string, data: Buffer | string, contentType: string): Promise<void>;
  /** Every key below a prefix ending in `/`, in any order. */
  keys(prefix: string): AsyncIterable<string>;
}

/** A store records can be kept in: markers of the index are removed. */
export interface RecordStore extends BlobStore {
  /** Removes the blob; none there is no error. */
  delete(key: string): Promise<void>;
}

const metaSuffix = '.meta.json';
const pendingPrefix = 'undispatched/';
/**
 * The index's own record (`IndexState`). Records archived before the index existed have no marker:
 * each day up to the one the index started on is walked once, in full, and then recorded as done.
 */
const indexStateKey = 'undispatched.json';

interface IndexState {
  /** Since then every put writes its marker: later days need no walk. */
  startedAt: string;
  /** Days (`yyyy/mm/dd`) walked in full, their pending records marked. */
  backfilled: string[];
}

/**
 * Metas this archive wrote, kept until their record is settled: intake marks a record dispatched
 * moments after it put it, and reading the meta back would cost it a read per alert. At most this
 * many: a record whose dispatch failed is settled later, by the sweeper, from the store.
 */
const RECENT_METAS = 1024;

/** Metadata read at once while a day is walked in full (an S3 archive answers each in tens of ms). */
const BACKFILL_CONCURRENCY = 16;

export interface RecordArchiveOptions {
  /** Reads the objects records refer to; without it, reading such a record fails. */
  readObject?: ObjectReader;
}

export function createRecordArchive(store: RecordStore, { readObject }: RecordArchiveOptions = {}): Archive {
  const keyOf = (id: string, suffix: '.raw' | typeof metaSuffix) => {
    assertRecordId(id);
    return `${id}${suffix}`;
  };
  const markerOf = (id: string) => {
    assertRecordId(id);
    return `${pendingPrefix}${id}`;
  };
  const parsed = (data: Buffer | undefined) => (data?.length ? (JSON.parse(data.toString('utf8')) as ArchiveRecordMeta) : undefined);
  // Both read at once: a new record's put (intake's every alert) finds neither, and waits for one round trip.
  const findMeta = async (id: string) => {
    const [settled, pending] = await Promise.all([store.get(keyOf(id, metaSuffix)), store.get(markerOf(id))]);
    return parsed(settled) ?? parsed(pending);
  };
  const readMeta = async (id: string) => {
    const meta = await findMeta(id);
    if (!meta) throw new Error(`no archive record ${id} in ${store.location}`);
    return meta;
  };
  const recent = new Map<string, ArchiveRecordMeta>();
  const remember = (meta: ArchiveRecordMeta) => {
    recent.set(meta.id, meta);
    if (recent.size > RECENT_METAS) recent.delete(recent.keys().next().value!);
  };
  /** The meta a record is settled from: the one this archive wrote, or the store's. */
  const metaToSettle = async (id: string) => {
    const kept = recent.get(id);
    recent.delete(id);
    return kept ?? (await readMeta(id));
  };
  const metaText = (meta: ArchiveRecordMeta) => JSON.stringify(meta, null, 2);
  // A record archived before the index held metadata: an empty entry, the key is all it says (an
  // empty string body makes the S3 client warn of a stream).
  const mark = (id: string) => store.put(markerOf(id), Buffer.alloc(0), 'text/plain');
  // The meta file first: a crash between the two leaves an index entry the sweeper removes (the meta
  // file says the record is settled), never a pending record out of the index.
  const settle = async (meta: ArchiveRecordMeta) => {
    await store.put(keyOf(meta.id, metaSuffix), metaText(meta), 'application/json');
    await store.delete(markerOf(meta.id));
  };

  /** The ids of a day's records that are pending, from the index (and empty entries of puts that died). */
  async function indexed(day: string, source?: string): Promise<string[]> {
    const ids = [];
    for await (const key of store.keys(`${pendingPrefix}${day}/${source ? `${source}/` : ''}`)) {
      const id = key.slice(pendingPrefix.length);
      if (recordIdPattern.test(id)) ids.push(id);
    }
    return ids;
  }

  async function* list(options: ListOptions): AsyncIterable<ArchiveRecordMeta> {
    for (const day of daysIn(options)) {
      const ids = new Set<string>();
      for await (const key of store.keys(`${day}/${options.source ? `${options.source}/` : ''}`)) {
        if (key.endsWith(metaSuffix)) ids.add(key.slice(0, -metaSuffix.length));
      }
      for (const id of await indexed(day, options.source)) ids.add(id);
      for (const id of [...ids].sort()) {
        const meta = await findMeta(id);
        if (meta && withinRange(meta, options)) yield meta;
      }
    }
  }

  async function indexState(): Promise<IndexState> {
    const data = await store.get(indexStateKey);
    if (data) return JSON.parse(data.toString('utf8')) as IndexState;
    const state: IndexState = { startedAt: new Date().toISOString(), backfilled: [] };
    await store.put(indexStateKey, JSON.stringify(state), 'application/json');
    return state;
  }

  /**
   * The days of the range the index may not cover yet, each walked in full once: markers for its
   * pending records, then the day recorded, so that a walk cut short resumes where it stopped.
   */
  async function backfill(options: ListOptions, progress: () => void): Promise<void> {
    const state = await indexState();
    const lastDay = dayPrefix(new Date(state.startedAt));
    for (const day of daysIn(options)) {
      if (day > lastDay || state.backfilled.includes(day)) continue;
      const ids = [];
      for await (const key of store.keys(`${day}/`)) if (key.endsWith(metaSuffix)) ids.push(key.slice(0, -metaSuffix.length));
      await mapConcurrent(ids, BACKFILL_CONCURRENCY, async (id) => {
        const meta = await findMeta(id);
        if (meta && !meta.dispatchedAt && !meta.rejected) await mark(id);
        progress();
      });
      state.backfilled.push(day);
      await store.put(indexStateKey, JSON.stringify(state), 'application/json');
    }
  }

  return {
    location: store.location,

    async put(input, { onCreated } = {}): Promise<ArchiveRef> {
      const { object, ...rest } = input;
      const meta: ArchiveRecordMeta = { ...newRecordMeta(rest), ...(object ? { object } : {}) };
      // A resent body on the same day is the same delivery: keep the first record as it was.
      const existing = await findMeta(meta.id);
      if (existing) return { id: existing.id, sha256: existing.sha256, receivedAt: existing.receivedAt };
      // The body first: a record is whole once its meta is in the index.
      if (!object) await store.put(keyOf(meta.id, '.raw'), input.body, input.contentType || 'application/octet-stream');
      await store.put(markerOf(meta.id), metaText(meta), 'application/json');
      remember(meta);
      onCreated?.();
      return { id: meta.id, sha256: meta.sha256, receivedAt: meta.receivedAt };
    },

    async markDispatched(id, workflowIds) {
      const meta = await metaToSettle(id);
      meta.dispatchedTo = [...new Set([...meta.dispatchedTo, ...workflowIds])];
      meta.dispatchedAt ??= new Date().toISOString();
      // Rejected by a bound a setting fixes, then delivered once it was raised: no longer rejected.
      delete meta.rejected;
      await settle(meta);
    },

    async markRejected(id, reason) {
      await settle({ ...(await metaToSettle(id)), rejected: reason });
    },

    async read(id) {
      const meta = await readMeta(id);
      if (!meta.object) {
        const body = await store.get(keyOf(id, '.raw'));
        if (!body) throw new Error(`no archive record ${id} in ${store.location}`);
        return { body, meta };
      }
      if (!readObject) throw new Error(`archive record ${id} refers to s3://${meta.object.bucket}/${meta.object.key}, and this archive reads no objects`);
      const body = await readObject(meta.object);
      if (sha256Of(body) !== meta.sha256) {
        throw new ObjectGoneError(`archive record ${id}: s3://${meta.object.bucket}/${meta.object.key} is no longer the object that was archived`);
      }
      return { body, meta };
    },

    findMeta,

    list,

    async *listUndispatched(options, progress = () => undefined) {
      await backfill(options, progress);
      for (const day of daysIn(options)) {
        for (const id of (await indexed(day, options.source)).sort()) {
          const meta = await findMeta(id);
          if (!meta) {
            // An empty entry, of a put from before the index held metadata that died before its meta
            // file: the record was never acknowledged. Once its day is over (and the settle time
            // with it), no put can still be finishing it.
            if (new Date(`${day.replaceAll('/', '-')}T00:00:00Z`).getTime() + 86_400_000 < options.until.getTime()) await store.delete(markerOf(id));
          } else if (meta.dispatchedAt || meta.rejected) {
            // Marked, then the process died before the marker went.
            await store.delete(markerOf(id));
          } else if (withinRange(meta, options)) {
            yield meta;
          }
        }
      }
    },
  };
}
