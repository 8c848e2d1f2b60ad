// Sigma string values: `*` matches any run of characters, `?` exactly one, and `\` escapes `*`, `?`
// and itself; a `\` before anything else is a plain backslash (so `C:\Windows` needs no doubling).
// Matching is case-insensitive unless the rule says `cased`: both sides are compared in their
// `toLowerCase()` form. Each value is compiled once into the cheapest test that decides it.

import { lowerCase } from './values';

export const MANY = Symbol('*');
const ONE = Symbol('?');
type Wildcard = typeof MANY | typeof ONE;
/** A run of plain characters, or a wildcard. */
export type Part = string | Wildcard;

const wildcards: Record<string, Wildcard> = { '*': MANY, '?': ONE };

/** The parts of a value as written in a rule, with its escapes resolved. */
export function parseSigmaString(raw: string): Part[] {
  const parts: Part[] = [];
  let plain = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    const next = raw[i + 1];
    if (c === '\\' && (next === '*' || next === '?' || next === '\\')) {
      plain += next;
      i++;
    } else if (c === '*' || c === '?') {
      if (plain) parts.push(plain);
      plain = '';
      parts.push(wildcards[c] as Wildcard);
    } else plain += c;
  }
  if (plain) parts.push(plain);
  return parts;
}

export const hasWildcard = (parts: readonly Part[]): boolean => parts.some((part) => typeof part !== 'string');

/** The value without wildcards, for modifiers that need plain text (base64, fieldref). */
export const plainText = (parts: readonly Part[]): string => parts.filter((part) => typeof part === 'string').join('');

/** Adjacent plain runs joined and runs of `*` collapsed, so the shape of the pattern is plain to see. */
function normalize(parts: readonly Part[]): Part[] {
  const out: Part[] = [];
  for (const part of parts) {
    const last = out[out.length - 1];
    if (typeof part === 'string' && typeof last === 'string') out[out.length - 1] = last + part;
    else if (!(part === MANY && last === MANY) && part !== '') out.push(part);
  }
  return out;
}

/** A test of text already in the case the pattern expects. */
type TextTest = (text: string) => boolean;

/** The characters between two `*`: code points (so that `?` is one character even outside the BMP), and `?`. */
type Run = (string | typeof ONE)[];

const runOf = (part: string | typeof ONE): Run => (part === ONE ? [ONE] : Array.from(part));

/** Whether the run matches the characters from `at`, ending no later than `end`. */
function runAt(chars: readonly string[], at: number, run: Run, end: number): boolean {
  if (at < 0 || at + run.length > end) return false;
  for (let i = 0; i < run.length; i++) if (run[i] !== ONE && run[i] !== chars[at + i]) return false;
  return true;
}

/**
 * Plain runs between stars (no `?`), found with the string's own search: the common `a*b` and
 * `contains: 'x*y'` pay no copy of the text into characters.
 */
function starsTest(runs: readonly string[], openStart: boolean, openEnd: boolean): TextTest {
  const first = openStart ? '' : runs[0]!;
  const last = openEnd ? '' : runs[runs.length - 1]!;
  const middle = runs.slice(openStart ? 0 : 1, openEnd ? runs.length : runs.length - 1);
  return (text) => {
    const end = text.length - last.length;
    if (first.length > end || !text.startsWith(first) || !text.endsWith(last)) return false;
    let at = first.length;
    for (const run of middle) {
      const found = text.indexOf(run, at);
      if (found === -1 || found + run.length > end) return false;
      at = found + run.length;
    }
    return true;
  };
}

/**
 * A pattern with wildcards inside, matched without a regular expression: event text is the
 * attacker's, and a RegExp such as `^.*x.*y.*$` backtracks for a time that grows with the text to
 * the power of the stars (a 32 KB user agent took a minute). The first and last runs are anchored
 * at the ends; each run between stars is taken at its leftmost place, which is correct for `*` and
 * costs at most the text's length times the pattern's.
 */
function wildcardTest(parts: readonly Part[]): TextTest {
  if (!parts.includes(ONE)) return starsTest(parts.filter((part): part is string => part !== MANY), parts[0] === MANY, parts[parts.length - 1] === MANY);
  const runs: Run[] = [[]];
  for (const part of parts) {
    if (part === MANY) runs.push([]);
    else runs[runs.length - 1]!.push(...runOf(part));
  }
  const first = runs[0]!;
  const last = runs[runs.length - 1]!;
  if (runs.length === 1) return (text) => {
    const chars = Array.from(text);
    return chars.length === first.length && runAt(chars, 0, first, chars.length);
  };
  const middle = runs.slice(1, -1);
  return (text) => {
    const chars = Array.from(text);
    const end = chars.length - last.length;
    if (!runAt(chars, 0, first, chars.length) || !runAt(chars, end, last, chars.length) || first.length > end) return false;
    let at = first.length;
    for (const run of middle) {
      while (at + run.length <= end && !runAt(chars, at, run, end)) at++;
      if (at + run.length > end) return false;
      at += run.length;
    }
    return true;
  };
}

function testFor(parts: readonly Part[]): TextTest {
  const [first, second, third] = parts;
  const only = parts.length;
  if (only === 0) return (text) => text === '';
  if (only === 1 && typeof first === 'string') return (text) => text === first;
  if (only === 1 && first === MANY) return () => true;
  if (only === 2 && first === MANY && typeof second === 'string') return (text) => text.endsWith(second);
  if (only === 2 && typeof first === 'string' && second === MANY) return (text) => text.startsWith(first);
  if (only === 3 && first === MANY && typeof second === 'string' && third === MANY) return (text) => text.includes(second);
  return wildcardTest(parts);
}

/** Whether a text matches the value as a whole, case-insensitively unless `cased`. */
export function compileStringTest(parts: readonly Part[], cased: boolean): (text: string) => boolean {
  if (cased) return testFor(normalize(parts));
  const test = testFor(normalize(parts.map((part) => (typeof part === 'string' ? part.toLowerCase() : part))));
  return (text) => test(lowerCase(text));
}

/** The lower-case text a pattern without wildcards equals, for set lookups; undefined otherwise. */
export function exactLowerCase(parts: readonly Part[]): string | undefined {
  return hasWildcard(parts) ? undefined : plainText(parts).toLowerCase();
}
