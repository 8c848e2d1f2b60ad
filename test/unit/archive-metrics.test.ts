// What the archive counts: records written, by source. A body resent the same day is the same
// delivery (the archive keeps the first record), so it is not archived, nor counted, twice.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createArchive } from '../../activities/archive';
import { configSchema } from '../../lib/config';
import { alertsArchived } from '../../lib/metrics';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-archive-metrics-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

const archivedOf = async (source: string) => (await alertsArchived.get()).values.find((value) => value.labels.source === source)?.value ?? 0;

it('counts a record when it is written, not when the same body comes again the same day', async () => {
  const archive = createArchive(configSchema.parse({ dataDir }));
  const input = { source: 'archive-metrics', body: Buffer.from('{"id": "once"}'), contentType: 'application/json', headers: {} };
  const created: string[] = [];
  const first = await archive.put(input, { onCreated: () => created.push('first') });
  const again = await archive.put(input, { onCreated: () => created.push('again') });
  expect(again).toEqual(first);
  expect(created).toEqual(['first']);
  expect(await archivedOf('archive-metrics')).toBe(1);
  await archive.put({ ...input, body: Buffer.from('{"id": "another"}') });
  expect(await archivedOf('archive-metrics')).toBe(2);
});
