// Conditions against a brute-force oracle: random formulas are printed as conditions with only the
// parentheses precedence needs (plus some extra), the engine parses them, and the oracle evaluates
// the formula itself for every truth assignment fast-check picks.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rule } from './rules';

const identifiers = ['sel1', 'sel2', 'selection_x', 'filter_a', 'filter_b', '_hidden'] as const;
type Identifier = (typeof identifiers)[number];
const patterns = ['sel*', 'filter_*', '*_a', 'them', '_*', 'sel*2', 'filter_b'] as const;

type Formula =
  | { op: 'and' | 'or'; args: Formula[] }
  | { op: 'not'; arg: Formula }
  | { op: 'paren'; arg: Formula }
  | { op: 'id'; name: Identifier }
  | { op: 'of'; all: boolean; pattern: (typeof patterns)[number] };

const formula: fc.Arbitrary<Formula> = fc.letrec<{ formula: Formula }>((tie) => ({
  formula: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...identifiers).map((name): Formula => ({ op: 'id', name })),
    fc.record({ all: fc.boolean(), pattern: fc.constantFrom(...patterns) }).map(({ all, pattern }): Formula => ({ op: 'of', all, pattern })),
    fc.record({ op: fc.constantFrom('and' as const, 'or' as const), args: fc.array(tie('formula'), { minLength: 2, maxLength: 3 }) }),
    tie('formula').map((arg): Formula => ({ op: 'not', arg })),
    tie('formula').map((arg): Formula => ({ op: 'paren', arg })),
  ),
})).formula;

/** Binding strength: or < and < not < atoms (`x of` and identifiers) and parentheses. */
const strength = (f: Formula): number => (f.op === 'or' ? 1 : f.op === 'and' ? 2 : f.op === 'not' ? 3 : 4);

function print(f: Formula): string {
  const operand = (arg: Formula, least: number) => (strength(arg) < least ? `(${print(arg)})` : print(arg));
  switch (f.op) {
    case 'id':
      return f.name;
    case 'of':
      return `${f.all ? 'all' : '1'} of ${f.pattern}`;
    case 'paren':
      return `(${print(f.arg)})`;
    case 'not':
      return `not ${operand(f.arg, 3)}`;
    default:
      return f.args.map((arg) => operand(arg, strength(f))).join(` ${f.op} `);
  }
}

/** The identifiers a pattern names, by the specification's words rather than a RegExp. */
function named(pattern: string): Identifier[] {
  if (pattern === 'them') return identifiers.filter((name) => !name.startsWith('_'));
  const [head = '', ...rest] = pattern.split('*');
  const fits = (name: string) => {
    if (!name.startsWith(head)) return false;
    let position = head.length;
    for (const [index, piece] of rest.entries()) {
      const last = index === rest.length - 1;
      const found = last ? (name.endsWith(piece) && name.length - piece.length >= position ? name.length - piece.length : -1) : name.indexOf(piece, position);
      if (found < 0) return false;
      position = found + piece.length;
    }
    return rest.length > 0 || name === head;
  };
  return identifiers.filter((name) => fits(name) && (!name.startsWith('_') || pattern.startsWith('_')));
}

function evaluate(f: Formula, truth: Record<Identifier, boolean>): boolean {
  switch (f.op) {
    case 'id':
      return truth[f.name];
    case 'of':
      return f.all ? named(f.pattern).every((name) => truth[name]) : named(f.pattern).some((name) => truth[name]);
    case 'paren':
      return evaluate(f.arg, truth);
    case 'not':
      return !evaluate(f.arg, truth);
    case 'and':
      return f.args.every((arg) => evaluate(arg, truth));
    case 'or':
      return f.args.some((arg) => evaluate(arg, truth));
  }
}

const searches = Object.fromEntries(identifiers.map((name) => [name, { [`f_${name}`]: 'yes' }]));
const eventFor = (truth: Record<Identifier, boolean>) => Object.fromEntries(identifiers.map((name) => [`f_${name}`, truth[name] ? 'yes' : 'no']));
const truths = fc.record(Object.fromEntries(identifiers.map((name) => [name, fc.boolean()])) as Record<Identifier, fc.Arbitrary<boolean>>);

describe('conditions', () => {
  it('precedence, parentheses, `1 of` / `all of` patterns and `them` as the oracle evaluates them', () => {
    fc.assert(
      fc.property(formula, fc.array(truths, { minLength: 1, maxLength: 8 }), (f, assignments) => {
        const compiled = rule({ ...searches, condition: print(f) });
        for (const truth of assignments) expect(compiled.matches(eventFor(truth)), print(f)).toBe(evaluate(f, truth));
      }),
      { numRuns: 500 },
    );
  });

  it('the oracle’s pattern reading agrees with the specification’s examples', () => {
    expect(named('sel*')).toEqual(['sel1', 'sel2', 'selection_x']);
    expect(named('them')).toEqual(['sel1', 'sel2', 'selection_x', 'filter_a', 'filter_b']);
    expect(named('_*')).toEqual(['_hidden']);
    expect(named('sel*2')).toEqual(['sel2']);
  });

  it('not binds tighter than and, and tighter than or', () => {
    const compiled = rule({ ...searches, condition: 'not sel1 and sel2 or filter_a' });
    // ((not sel1) and sel2) or filter_a
    const event = (sel1: boolean, sel2: boolean, filterA: boolean) => ({ f_sel1: sel1 ? 'yes' : 'no', f_sel2: sel2 ? 'yes' : 'no', f_filter_a: filterA ? 'yes' : 'no' });
    expect(compiled.matches(event(false, true, false))).toBe(true);
    expect(compiled.matches(event(true, true, false))).toBe(false);
    expect(compiled.matches(event(true, false, true))).toBe(true);
  });

  it('`them` leaves out identifiers starting with _', () => {
    const compiled = rule({ a: { f: 'a' }, _b: { g: 'b' }, condition: 'all of them' });
    expect(compiled.matches({ f: 'a' })).toBe(true);
  });

  it('`any of` is `1 of`', () => {
    const compiled = rule({ sel_a: { f: 'a' }, sel_b: { f: 'b' }, condition: 'any of sel_*' });
    expect(compiled.matches({ f: 'b' })).toBe(true);
    expect(compiled.matches({ f: 'c' })).toBe(false);
  });

  it('a list of conditions is OR', () => {
    const compiled = rule({ a: { f: 'a' }, b: { f: 'b' }, condition: ['a', 'b'] });
    expect(compiled.matches({ f: 'a' })).toBe(true);
    expect(compiled.matches({ f: 'b' })).toBe(true);
    expect(compiled.matches({ f: 'c' })).toBe(false);
  });
});
