// The archive's record logic, once for every backend. A record is `<id>.meta.json` and, unless it
// refers to an object that is itself the original (a CloudTrail log file in its trail bucket),
// `<id>.raw`, the body as sent. Beside them, an index of the records not yet dispatched:
// `undispatched/<id>`, an empty marker written first and removed once the record is dispatched or
// rejected, so that the sweeper lists only what is pending, never the whole archive.
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
  const findMeta = async (id: string) => {
    const data = await store.get(keyOf(id, metaSuffix));
    return data && (JSON.parse(data.toString('utf8')) as ArchiveRecordMeta);
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
  const writeMeta = (meta: ArchiveRecordMeta) =>
    store.put(keyOf(meta.id, metaSuffix), JSON.stringify(meta, null, 2), 'application/json');
  // An empty marker: the key is all it says (an empty string body makes the S3 client warn of a stream).
  const mark = (id: string) => store.put(markerOf(id), Buffer.alloc(0), 'text/plain');
  // The meta first: a crash between the two leaves a marker the sweeper removes, never a pending
  // record without one.
  const settle = async (meta: ArchiveRecordMeta) => {
    await writeMeta(meta);
    await store.delete(markerOf(meta.id));
  };

  /**
   * A rejected record sent again is delivered again (a bound may have been raised since): pending
   * until that delivery settles it, so that a dispatch that then fails leaves it to the sweeper. The
   * marker first: a crash between the two leaves a marker beside a rejected meta, which the sweeper
   * removes, and no answer was given, so the sender sends it again.
   */
  const reopen = async ({ rejected: _, ...meta }: ArchiveRecordMeta) => {
    await mark(meta.id);
    await writeMeta(meta);
    remember(meta);
  };

  async function* list(options: ListOptions): AsyncIterable<ArchiveRecordMeta> {
    for (const day of daysIn(options)) {
      const keys = [];
      for await (const key of store.keys(`${day}/${options.source ? `${options.source}/` : ''}`)) {
        if (key.endsWith(metaSuffix)) keys.push(key);
      }
      for (const key of keys.sort()) {
        const meta = await readMeta(key.slice(0, -metaSuffix.length));
        if (withinRange(meta, options)) yield meta;
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
      if (existing?.rejected) await reopen(existing);
      if (existing) return { id: existing.id, sha256: existing.sha256, receivedAt: existing.receivedAt };
      // The marker and the body together, both before the meta: a record is whole once its meta is there.
      await Promise.all([mark(meta.id), object ? undefined : store.put(keyOf(meta.id, '.raw'), input.body, input.contentType || 'application/octet-stream')]);
      await writeMeta(meta);
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
        const ids = [];
        for await (const key of store.keys(`${pendingPrefix}${day}/${options.source ? `${options.source}/` : ''}`)) {
          const id = key.slice(pendingPrefix.length);
          if (recordIdPattern.test(id)) ids.push(id);
        }
        for (const id of ids.sort()) {
          const meta = await findMeta(id);
          if (!meta) {
            // A put that died before its meta: the record was never acknowledged. Once its day is
            // over (and the settle time with it), no put can still be finishing it.
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
