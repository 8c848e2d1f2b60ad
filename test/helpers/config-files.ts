// Configuration files for tests of loading them, and the problems a refused one names.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../lib/config';

/** `text` as a vigil.yaml of its own folder. */
export async function configFile(text: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-config-'));
  const file = path.join(dir, 'vigil.yaml');
  await writeFile(file, text);
  return file;
}

/** The problems of the ConfigError that `load` throws; a test failure if it accepts. */
export function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('the configuration was accepted');
}
