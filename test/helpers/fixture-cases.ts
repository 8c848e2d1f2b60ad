// The `cases.yaml` beside each feed's and provider's samples (see test/fixtures/intel/README.md),
// read strictly: a misspelt key must fail loudly, not leave a case with nothing to check.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const CASES_FILE = 'cases.yaml';

/** The case folders under `dir` (one per feed or provider); loose files there are shared samples. */
export function caseFolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** The sample files of a case folder, which its cases must all use. */
export function sampleFiles(folder: string): string[] {
  return readdirSync(folder)
    .filter((name) => name !== CASES_FILE)
    .sort();
}

/** A folder's cases, or undefined when it has none (the caller's test says so by name). */
export function readCases<Schema extends z.ZodType>(folder: string, schema: Schema): z.infer<Schema> | undefined {
  const file = path.join(folder, CASES_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = schema.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Exactly one of `file` (a sample in the folder) or `body` (inline text), for a schema's refine. */
export const fileOrBody = [
  (value: { file?: string; body?: string }) => (value.file === undefined) !== (value.body === undefined),
  'give either `file` or `body`',
] as const;
