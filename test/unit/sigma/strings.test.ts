// String values against an oracle written differently from the engine: the pattern is read into
// tokens by a recursive reader, and matched by backtracking over the value's characters, where the
// engine compiles to equality, startsWith/endsWith/includes or a leftmost scan of the runs between stars.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selection } from './rules';

type Token = { char: string } | 'many' | 'one';

/** Sigma's escapes, read one character at a time: `\` before `*`, `?` or `\` makes it plain. */
function tokens(pattern: string): Token[] {
  if (pattern === '') return [];
  const [head = '', next] = Array.from(pattern);
  if (head === '\\' && (next === '*' || next === '?' || next === '\\')) return [{ char: next }, ...tokens(pattern.slice(2))];
  const rest = tokens(pattern.slice(head.length));
  if (head === '*') return ['many', ...rest];
  if (head === '?') return ['one', ...rest];
  return [{ char: head }, ...rest];
}

function matchTokens(pattern: readonly Token[], chars: readonly string[], cased: boolean): boolean {
  const [token, ...rest] = pattern;
  if (token === undefined) return chars.length === 0;
  if (token === 'many') return matchTokens(rest, chars, cased) || (chars.length > 0 && matchTokens(pattern, chars.slice(1), cased));
  if (chars.length === 0) return false;
  if (token === 'one') return matchTokens(rest, chars.slice(1), cased);
  const fold = (char: string) => (cased ? char : char.toLowerCase());
  return fold(chars[0] as string) === fold(token.char) && matchTokens(rest, chars.slice(1), cased);
}

type Mode = 'whole' | 'contains' | 'startswith' | 'endswith';

function oracle(pattern: string, value: string, mode: Mode, cased = false): boolean {
  const body = tokens(pattern);
  const before: Token[] = mode === 'contains' || mode === 'endswith' ? ['many'] : [];
  const after: Token[] = mode === 'contains' || mode === 'startswith' ? ['many'] : [];
  return matchTokens([...before, ...body, ...after], Array.from(value), cased);
}

// Characters that stress the compiler: wildcards, the escape, RegExp syntax, a newline, case pairs
// (including KELVIN SIGN, whose lower case is ASCII k), and a character outside the BMP.
const patternChar = fc.constantFrom('a', 'b', 'A', 'B', '*', '?', '\\', 'K', 'k', 'é', 'É', '.', '^', '$', '(', '[', '|', '\n', '😀');
const valueChar = fc.constantFrom('a', 'b', 'A', 'B', '*', '?', '\\', 'k', 'K', 'é', 'É', '.', '^', '(', '[', '\n', '😀');
const pattern = fc.array(patternChar, { maxLength: 8 }).map((chars) => chars.join(''));
const anyValue = fc.array(valueChar, { maxLength: 10 }).map((chars) => chars.join(''));

/** A value the pattern is likely to match: its tokens filled in, case flipped at random. */
const likelyValue = (source: string) =>
  fc
    .tuple(
      ...tokens(source).map((token) =>
        token === 'many' ? anyValue : token === 'one' ? valueChar : fc.constantFrom(token.char, token.char.toUpperCase(), token.char.toLowerCase()),
      ),
    )
    .map((parts) => parts.join(''));

const patternAndValue = pattern.chain((source) => fc.tuple(fc.constant(source), fc.oneof(anyValue, likelyValue(source))));

const key = (mode: Mode, cased: boolean) => ['f', ...(mode === 'whole' ? [] : [mode]), ...(cased ? ['cased'] : [])].join('|');

describe('string values', () => {
  for (const mode of ['whole', 'contains', 'startswith', 'endswith'] as const) {
    for (const cased of [false, true]) {
      it(`${key(mode, cased)}: wildcards, escapes and case as the oracle says`, () => {
        fc.assert(
          fc.property(patternAndValue, ([source, value]) => {
            expect(selection({ [key(mode, cased)]: source }).matches({ f: value })).toBe(oracle(source, value, mode, cased));
          }),
          { numRuns: 400 },
        );
      });
    }
  }

  it('the oracle agrees with the specification’s own escape examples', () => {
    // Plain backslash: single or double; `\*` a plain star; `\\*` a backslash then a wildcard;
    // `\\\*` a backslash and a plain star; three or four backslashes are two.
    expect(oracle('C:\\Windows', 'c:\\windows', 'whole')).toBe(true);
    expect(oracle('C:\\\\Windows', 'C:\\Windows', 'whole')).toBe(true);
    expect(oracle('a\\*', 'a*', 'whole')).toBe(true);
    expect(oracle('a\\*', 'ab', 'whole')).toBe(false);
    expect(oracle('a\\\\*', 'a\\anything', 'whole')).toBe(true);
    expect(oracle('a\\\\\\*', 'a\\*', 'whole')).toBe(true);
    expect(oracle('a\\\\\\*', 'a\\b', 'whole')).toBe(false);
    expect(oracle('a\\\\\\b', 'a\\\\b', 'whole')).toBe(true);
    expect(oracle('a\\\\\\\\b', 'a\\\\b', 'whole')).toBe(true);
  });

  it('the specification’s escape examples, through the engine', () => {
    const matches = (pattern: string, value: string) => selection({ f: pattern }).matches({ f: value });
    expect(matches('C:\\Windows\\System32\\whoami.exe', 'c:\\windows\\system32\\WHOAMI.EXE')).toBe(true);
    expect(matches('a\\*', 'a*')).toBe(true);
    expect(matches('a\\*', 'ab')).toBe(false);
    expect(matches('a\\\\*', 'a\\anything')).toBe(true);
    expect(matches('a\\\\\\*', 'a\\*')).toBe(true);
    expect(matches('a\\\\\\*', 'a\\x')).toBe(false);
    expect(matches('a\\\\\\\\b', 'a\\\\b')).toBe(true);
    expect(matches('what\\?', 'what?')).toBe(true);
    expect(matches('what\\?', 'whatX')).toBe(false);
    expect(matches('trailing\\', 'trailing\\')).toBe(true);
  });

  it('answers for stars in a long attacker-written value (a backtracking RegExp took minutes on these)', () => {
    const text = `${'a'.repeat(32_000)}c`;
    expect(selection({ f: '*a*a*a*a*b' }).matches({ f: text })).toBe(false);
    expect(selection({ f: '*a*a*a*a*c' }).matches({ f: text })).toBe(true);
    const policy = `{"Statement":[{"Principal":{"AWS":"${'arn:aws:iam::1:'.repeat(2_000)}"}}]}`;
    expect(selection({ 'requestParameters|contains': 'arn:*:iam::*:root' }).matches({ requestParameters: policy })).toBe(false);
    expect(selection({ 'requestParameters|contains': 'arn:*:iam::*:root' }).matches({ requestParameters: `${policy}arn:aws:iam::2:root` })).toBe(true);
  });

  it('a value is the whole field: no implicit substring match', () => {
    const rule = selection({ eventName: 'StopLogging' });
    expect(rule.matches({ eventName: 'stoplogging' })).toBe(true);
    expect(rule.matches({ eventName: 'StopLoggingNow' })).toBe(false);
    expect(rule.matches({ eventName: 'xStopLogging' })).toBe(false);
  });

  it("'*' alone matches any present string, even an empty one, but not a missing field (errorMessage|contains: '*')", () => {
    const rule = selection({ 'errorMessage|contains': '*' });
    expect(rule.matches({ errorMessage: '' })).toBe(true);
    expect(rule.matches({ errorMessage: 'Access denied' })).toBe(true);
    expect(rule.matches({})).toBe(false);
    expect(rule.matches({ errorMessage: null })).toBe(false);
  });

  it('an empty string matches only an empty string', () => {
    const rule = selection({ f: '' });
    expect(rule.matches({ f: '' })).toBe(true);
    expect(rule.matches({ f: 'x' })).toBe(false);
    expect(rule.matches({})).toBe(false);
  });
});
