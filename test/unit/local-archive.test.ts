import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalArchive } from '../../activities/archive/local';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'vigil-archive-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('local archive', () => {
  it('keeps the exact bytes and their metadata, laid out by date and source', async () => {
    const archive = createLocalArchive(root);
    const body = Buffer.from('{"title": "x",  "severity":"low"}\n');
    const ref = await archive.put({ source: 'generic', body, contentType: 'application/json', headers: { 'user-agent': 'curl' } });
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    expect(ref.id).toBe(`${today}/generic/${ref.sha256}`);
    expect(await readFile(path.join(root, `${ref.id}.raw`))).toEqual(body);
    const { meta } = await archive.read(ref.id);
    expect(meta).toMatchObject({ source: 'generic', contentType: 'application/json', headers: { 'user-agent': 'curl' }, dispatchedTo: [] });

    await archive.markDispatched(ref.id, ['alert/generic/x']);
    await archive.markDispatched(ref.id, ['alert/generic/x']);
    expect((await archive.read(ref.id)).meta.dispatchedTo).toEqual(['alert/generic/x']);
  });

  it('treats a resent body as the same delivery', async () => {
    const archive = createLocalArchive(root);
    const input = { source: 'generic', body: Buffer.from('{}'), contentType: 'application/json', headers: {} };
    const first = await archive.put(input);
    expect(await archive.put(input)).toEqual(first);
  });

  it('refuses record ids that would leave the archive', async () => {
    await expect(createLocalArchive(root).read('../../etc/passwd')).rejects.toThrow(/not an archive record id/);
  });
});
