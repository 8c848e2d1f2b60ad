// The local-folder archive: records as files under `<root>/<yyyy>/<mm>/<dd>/<source>/`.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readIfExists, writeFileAtomic } from '../../lib/files';
import { createRecordArchive, type BlobStore } from './records';
import type { Archive } from './types';

export function createLocalArchive(root: string): Archive {
  return createRecordArchive(localBlobStore(root));
}

/** Named blobs as files under a folder. */
export function localBlobStore(root: string): BlobStore {
  return {
    location: root,
    get: (key) => readIfExists(path.join(root, key)),
    put: (key, data) => writeFileAtomic(path.join(root, key), data),
    async *keys(prefix) {
      const names = await readdir(path.join(root, prefix), { recursive: true }).catch(() => [] as string[]);
      for (const name of names) yield `${prefix}${name.split(path.sep).join('/')}`;
    },
  };
}
