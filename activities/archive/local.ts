// The local-folder archive: `<root>/<yyyy>/<mm>/<dd>/<source>/<sha256>.raw` plus `.meta.json`,
// laid out by date and source so that listing a time range is a directory walk.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ArchiveRef } from '../../lib/alert';
import { writeFileAtomic } from '../../lib/files';
import type { Archive, ArchiveInput, ArchiveRecordMeta } from './types';

const recordId = /^\d{4}\/\d{2}\/\d{2}\/[a-z0-9-]+\/[0-9a-f]{64}$/;

export function createLocalArchive(root: string): Archive {
  const fileOf = (id: string, suffix: '.raw' | '.meta.json') => {
    if (!recordId.test(id)) throw new Error(`not an archive record id: ${JSON.stringify(id)}`);
    return path.join(root, `${id}${suffix}`);
  };
  const readMeta = async (id: string) =>
    JSON.parse(await readFile(fileOf(id, '.meta.json'), 'utf8')) as ArchiveRecordMeta;

  return {
    async put({ source, body, contentType, headers }: ArchiveInput): Promise<ArchiveRef> {
      const received = new Date();
      const sha256 = createHash('sha256').update(body).digest('hex');
      const day = received.toISOString().slice(0, 10).replaceAll('-', '/');
      const id = `${day}/${source}/${sha256}`;
      // A resent body on the same day is the same delivery: keep the first record as it was.
      const existing = await stat(fileOf(id, '.meta.json')).then(
        () => true,
        () => false,
      );
      if (existing) {
        const { receivedAt } = await readMeta(id);
        return { id, sha256, receivedAt };
      }
      const meta: ArchiveRecordMeta = {
        id,
        sha256,
        receivedAt: received.toISOString(),
        source,
        contentType,
        headers,
        dispatchedTo: [],
      };
      await writeFileAtomic(fileOf(id, '.raw'), body);
      await writeFileAtomic(fileOf(id, '.meta.json'), JSON.stringify(meta, null, 2));
      return { id, sha256, receivedAt: meta.receivedAt };
    },

    async markDispatched(id, workflowIds) {
      const meta = await readMeta(id);
      meta.dispatchedTo = [...new Set([...meta.dispatchedTo, ...workflowIds])];
      await writeFileAtomic(fileOf(id, '.meta.json'), JSON.stringify(meta, null, 2));
    },

    async read(id) {
      return { body: await readFile(fileOf(id, '.raw')), meta: await readMeta(id) };
    },
  };
}
