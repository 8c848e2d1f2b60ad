// The archive's record logic, once for every backend: a record is `<id>.raw` (the body as sent)
// and `<id>.meta.json`, written in that order, so a listed record always has its body.
import type { ArchiveRef } from '../../lib/alert';
import { assertRecordId, daysIn, newRecordMeta, withinRange } from './layout';
import type { Archive, ArchiveRecordMeta } from './types';

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

const metaSuffix = '.meta.json';

export function createRecordArchive(store: BlobStore): Archive {
  const keyOf = (id: string, suffix: '.raw' | typeof metaSuffix) => {
    assertRecordId(id);
    return `${id}${suffix}`;
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
  const writeMeta = (meta: ArchiveRecordMeta) =>
    store.put(keyOf(meta.id, metaSuffix), JSON.stringify(meta, null, 2), 'application/json');

  return {
    location: store.location,

    async put(input): Promise<ArchiveRef> {
      const meta = newRecordMeta(input);
      // A resent body on the same day is the same delivery: keep the first record as it was.
      const existing = await findMeta(meta.id);
      if (existing) return { id: existing.id, sha256: existing.sha256, receivedAt: existing.receivedAt };
      await store.put(keyOf(meta.id, '.raw'), input.body, input.contentType || 'application/octet-stream');
      await writeMeta(meta);
      return { id: meta.id, sha256: meta.sha256, receivedAt: meta.receivedAt };
    },

    async markDispatched(id, workflowIds) {
      const meta = await readMeta(id);
      meta.dispatchedTo = [...new Set([...meta.dispatchedTo, ...workflowIds])];
      meta.dispatchedAt ??= new Date().toISOString();
      await writeMeta(meta);
    },

    async markRejected(id, reason) {
      await writeMeta({ ...(await readMeta(id)), rejected: reason });
    },

    async read(id) {
      const body = await store.get(keyOf(id, '.raw'));
      if (!body) throw new Error(`no archive record ${id} in ${store.location}`);
      return { body, meta: await readMeta(id) };
    },

    async *list(options) {
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
    },
  };
}
