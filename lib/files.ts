import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a file so that readers see either the old content or the new, never a partial one. Its
 * folder is made only when missing: most writes land in a folder that exists (intake archives every
 * alert of a day in one), and asking first would cost each of them a call to the file system.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode?: number): Promise<void> {
  // Empty, it has no partial content to hide: opening it emptied is already all or nothing, and
  // saves a temporary file and a rename (the archive writes an empty marker for every alert).
  const temporary = data.length === 0 && mode === undefined ? file : `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, data, { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(temporary, data, { mode });
  }
  if (temporary !== file) await rename(temporary, file);
}

/** A file's bytes, or undefined when there is no such file (any other error is thrown). */
export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
