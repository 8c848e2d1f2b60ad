// Rule files from the configured paths.
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { compileSigmaRules, withoutDuplicateIds } from './compile';
import type { SigmaRuleFile, SigmaRuleSet } from './index';

const isRuleFile = (name: string) => /\.ya?ml$/i.test(name);

/** The error naming the path that failed: the one given, or a file or link inside it. */
function failure(given: string, error: unknown): Error {
  const { code, path: where = given, message } = error as NodeJS.ErrnoException;
  const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${message})`;
  return new Error(`Sigma rules path ${where} ${why}`);
}

/** Rule files under a folder, by relative path in code-unit order, following links once. */
function filesUnder(folder: string, seen: Set<string>): string[] {
  const real = realpathSync(folder);
  if (seen.has(real)) return [];
  seen.add(real);
  const found: string[] = [];
  for (const name of readdirSync(folder)) {
    const full = path.join(folder, name);
    const stat = statSync(full);
    if (stat.isDirectory()) found.push(...filesUnder(full, seen));
    else if (stat.isFile() && isRuleFile(name)) found.push(full);
  }
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function ruleFiles(given: string): string[] {
  try {
    // A file named on its own was chosen, whatever its extension: loaded, or skipped saying why.
    if (!statSync(given).isDirectory()) return [given];
    return filesUnder(given, new Set());
  } catch (error) {
    throw failure(given, error);
  }
}

/**
 * Each file given, and every .yml/.yaml under each folder given (recursively, in sorted order; other
 * files there are ignored). Synchronous (decoding threads build their adapters synchronously). A path that does
 * not exist or cannot be read throws an Error naming it.
 */
export function loadSigmaRules(paths: readonly string[]): SigmaRuleSet {
  return compileSigmaRuleFiles(readSigmaRuleFiles(paths));
}

/** The rule files under the paths, read once (intake hands the texts to its decoding threads). */
export function readSigmaRuleFiles(paths: readonly string[]): SigmaRuleFile[] {
  return paths.flatMap((given) =>
    ruleFiles(given).map((file) => {
      try {
        return { file, text: readFileSync(file, 'utf8') };
      } catch (error) {
        throw failure(file, error);
      }
    }),
  );
}

/** The rules of files already read, as `loadSigmaRules` gives them. */
export function compileSigmaRuleFiles(files: readonly SigmaRuleFile[]): SigmaRuleSet {
  const set: SigmaRuleSet = { rules: [], skipped: [] };
  for (const { file, text } of files) {
    const compiled = compileSigmaRules(text, file);
    set.rules.push(...compiled.rules);
    set.skipped.push(...compiled.skipped);
  }
  return withoutDuplicateIds(set);
}
