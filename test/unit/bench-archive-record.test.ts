// The bench's measure of intake's archive record (scripts/bench-intake.ts): it settles real records
// through the local archive, as intake does, and writes the bare intake's one file per alert.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { benchArchiveRecord } from '../../scripts/bench-intake';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bench-record-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it('times whole records, settled, against one file each of the same bodies', async () => {
  const figures = await benchArchiveRecord({ deliveries: 12, concurrency: 4 }, dataDir);
  expect(figures).toEqual({ archiveRecordCpuMsPerAlert: expect.any(Number), bareWriteCpuMsPerAlert: expect.any(Number) });
  expect(figures.archiveRecordCpuMsPerAlert).toBeGreaterThan(0);

  const archived = await readdir(path.join(dataDir, 'bench-archive-record'), { recursive: true });
  const metas = archived.filter((name) => name.endsWith('.meta.json'));
  expect(metas).toHaveLength(12);
  expect(archived.filter((name) => name.endsWith('.raw'))).toHaveLength(12);
  for (const name of metas) {
    expect(JSON.parse(await readFile(path.join(dataDir, 'bench-archive-record', name), 'utf8'))).toMatchObject({ source: 'generic', dispatchedAt: expect.any(String) });
  }
  // Settled: nothing left pending in the index.
  expect(archived.filter((name) => name.startsWith(`undispatched${path.sep}`) && /[0-9a-f]{64}$/.test(name))).toEqual([]);
  expect(await readdir(path.join(dataDir, 'bench-bare-write'))).toHaveLength(12);
});
