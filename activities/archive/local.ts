// The local-folder archive: `<root>/<yyyy>/<mm>/<dd>/<source>/<sha256>.raw` plus `.meta.json`.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ArchiveRef } from '../../lib/alert';
import { writeFileAtomic } from '../../lib/files';
import { assertRecordId, daysIn, newRecordMeta, withinRange } from './layout';
import type { Archive, ArchiveRecordMeta } from './types';

const metaSuffix = '.meta.json';

export function createLocalArchive(root: string): Archive {
  const fileOf = (id: string, suffix: '.raw' | typeof metaSuffix) => {
    assertRecordId(id);
    return path.join(root, `${id}${suffix}`);
  };
  const readMeta = async (id: string) => JSON.parse(await readFile(fileOf(id, metaSuffix), 'utf8')) as ArchiveRecordMeta;
  const writeMeta = (meta: ArchiveRecordMeta) => writeFileAtomic(fileOf(meta.id, metaSuffix), JSON.stringify(meta, null, 2));
  const exists = (file: string) =>
    stat(file).then(
      () => true,
      () => false,
    );

  return {
    location: root,

    async put(input): Promise<ArchiveRef> {
      const meta = newRecordMeta(input);
      // A resent body on the same day is the same delivery: keep the first record as it was.
      if (await exists(fileOf(meta.id, metaSuffix))) {
        const { id, sha256, receivedAt } = await readMeta(meta.id);
        return { id, sha256, receivedAt };
      }
      await writeFileAtomic(fileOf(meta.id, '.raw'), input.body);
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
      return { body: await readFile(fileOf(id, '.raw')), meta: await readMeta(id) };
    },

    async *list(options) {
      for (const day of daysIn(options)) {
        const sources = options.source ? [options.source] : await readdir(path.join(root, day)).catch(() => []);
        for (const source of sources.sort()) {
          const names = await readdir(path.join(root, day, source)).catch(() => [] as string[]);
          for (const name of names.filter((file) => file.endsWith(metaSuffix)).sort()) {
            const meta = await readMeta(`${day}/${source}/${name.slice(0, -metaSuffix.length)}`);
            if (withinRange(meta, options)) yield meta;
          }
        }
      }
    },
  };
}
