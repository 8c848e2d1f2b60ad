// lib/files.ts: whole writes, into folders made only when missing.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../lib/files';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-files-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes the folders a file needs, replaces what was there, and leaves no temporary file', async () => {
    const file = path.join(dir, 'a', 'b', 'record.json');
    await writeFileAtomic(file, 'first', 0o600);
    await writeFileAtomic(file, 'second');
    expect(await readFile(file, 'utf8')).toBe('second');
    expect(await readdir(path.dirname(file))).toEqual(['record.json']);
    await writeFileAtomic(path.join(dir, 'a', 'b', 'secret'), 'x', 0o600);
    expect((await stat(path.join(dir, 'a', 'b', 'secret'))).mode & 0o777).toBe(0o600);
  });

  it('writes an empty file in place (nothing in it can be seen half-written), emptying what was there', async () => {
    const file = path.join(dir, 'a', 'marker');
    await writeFileAtomic(file, 'before');
    const { ino } = await stat(file);
    await writeFileAtomic(file, Buffer.alloc(0));
    expect(await readFile(file, 'utf8')).toBe('');
    // The same file emptied, not another renamed over it.
    expect((await stat(file)).ino).toBe(ino);
    await writeFileAtomic(path.join(dir, 'b', 'marker'), '');
    expect(await readdir(path.join(dir, 'b'))).toEqual(['marker']);
  });

  it('fails as the file system says when a folder cannot be made', async () => {
    await writeFile(path.join(dir, 'plain'), '');
    await expect(writeFileAtomic(path.join(dir, 'plain', 'inside', 'record.json'), 'x')).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});
