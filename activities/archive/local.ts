// The local-folder archive: records as files under `<root>/<yyyy>/<mm>/<dd>/<source>/`.
import { readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { readIfExists, writeFileAtomic } from '../../lib/files';
import { createRecordArchive, type RecordStore } from './records';
import type { Archive, ObjectReader } from './types';

export function createLocalArchive(root: string, readObject?: ObjectReader): Archive {
  return createRecordArchive(localBlobStore(root), { readObject });
}

/** Named blobs as files under a folder. */
export function localBlobStore(root: string): RecordStore {
  return {
    location: root,
    get: (key) => readIfExists(path.join(root, key)),
    put: (key, data) => writeFileAtomic(path.join(root, key), data),
    async delete(key) {
      try {
        await unlink(path.join(root, key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    },
    async *keys(prefix) {
      const names = await readdir(path.join(root, prefix), { recursive: true }).catch(() => [] as string[]);
      for (const name of names) yield `${prefix}${name.split(path.sep).join('/')}`;
    },
  };
}
