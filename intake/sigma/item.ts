// One detection item, `field|modifiers: value or list`, compiled into a test of an event. A field
// matches a value when any of the values it holds matches; a list of values is OR, or AND with
// `all`; `null` matches a field that is missing or holds nothing but null.
import ipaddr from 'ipaddr.js';
import { RE2JS } from 're2js';
import type { SigmaLogsource } from './index';
import { fieldAccessor, someScalar, type FieldAccessor } from './fields';
import { applyModifiers, ruleValue, type Cidr, type CompareOp, type RuleValue } from './modifiers';
import { compileStringTest, exactLowerCase } from './sigma-string';
import { Unsupported, quote } from './unsupported';
import { lowerCase, numberOf, textOf, timePartOf } from './values';

export type Matcher = (event: Record<string, unknown>) => boolean;
type ScalarTest = (value: unknown) => boolean;
type ValuesTest = (values: readonly unknown[], event: Record<string, unknown>) => boolean;

const nothing: readonly unknown[] = [];

const textTest = (test: (text: string) => boolean): ScalarTest => (value) => {
  const text = textOf(value);
  return text !== undefined && test(text);
};

const re2Flags: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL };

/**
 * A regular expression run by RE2 (its JavaScript port), whose matching takes time linear in the
 * text: the text is the attacker's, and a backtracking engine lets `(a+)+$` and one crafted user
 * agent hold intake for minutes, or past a decoding deadline that rejects the whole log file. RE2
 * has no lookaround or backreferences; a rule that needs them is skipped, saying so.
 */
function regexTest(source: string, flags: string): ScalarTest {
  let pattern: RE2JS;
  try {
    pattern = RE2JS.compile(source, [...flags].reduce((all, flag) => all | (re2Flags[flag] ?? 0), 0));
  } catch (error) {
    throw new Unsupported(`regular expression ${quote(source)} is not RE2 syntax (no lookaround or backreferences): ${(error as Error).message}`);
  }
  // Unanchored, like the searches Sigma rules are written for: anchor with ^ and $ where needed.
  return textTest((text) => pattern.matcher(text).find());
}

function cidrTest([network, bits]: Cidr): ScalarTest {
  return (value) => {
    if (typeof value !== 'string' || !(ipaddr.IPv4.isValidFourPartDecimal(value) || ipaddr.IPv6.isValid(value))) return false;
    const address = ipaddr.process(value);
    return address.kind() === network.kind() && address.match(network, bits);
  };
}

const comparisons: Record<CompareOp, (a: number, b: number) => boolean> = {
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
};

/** Values decided by each event value alone (null needs all of them, fieldref the event, exists the field). */
type ScalarValue = Exclude<RuleValue, { type: 'null' | 'fieldref' | 'exists' }>;
const isScalar = (value: RuleValue): value is ScalarValue => value.type !== 'null' && value.type !== 'fieldref' && value.type !== 'exists';

function scalarTest(value: ScalarValue): ScalarTest {
  switch (value.type) {
    case 'string':
      return textTest(compileStringTest(value.parts, value.cased));
    case 'number':
    case 'boolean':
      return textTest(compileStringTest([String(value.value)], false));
    case 're':
      return regexTest(value.source, value.flags);
    case 'cidr':
      return cidrTest(value.range);
    case 'compare': {
      const { op, value: wanted } = value;
      return (found) => {
        const number = numberOf(found);
        return number !== undefined && comparisons[op](number, wanted);
      };
    }
    case 'time':
      return (found) => timePartOf(found, value.part) === value.value;
    case 'expansion': {
      const variants = value.values.map((inner) => {
        if (!isScalar(inner)) throw new Unsupported(`a ${inner.type} value cannot be one of several variants`);
        return scalarTest(inner);
      });
      return (found) => variants.some((test) => test(found));
    }
  }
}

function fieldrefTest(value: Extract<RuleValue, { type: 'fieldref' }>, logsource: SigmaLogsource): ValuesTest {
  const referenced = fieldAccessor(value.field, logsource);
  const fold = value.cased ? (text: string) => text : lowerCase;
  const same = value.anyBefore
    ? value.anyAfter
      ? (found: string, ref: string) => found.includes(ref)
      : (found: string, ref: string) => found.endsWith(ref)
    : value.anyAfter
      ? (found: string, ref: string) => found.startsWith(ref)
      : (found: string, ref: string) => found === ref;
  return (values, event) => {
    const refs = (referenced(event) ?? nothing).map(textOf).filter((text) => text !== undefined).map(fold);
    return values.some((found) => {
      const text = textOf(found);
      return text !== undefined && refs.some((ref) => same(fold(text), ref));
    });
  };
}

/** A field's values against one value of the rule. */
type FieldValue = Exclude<RuleValue, { type: 'exists' }>;

function valuesTest(value: FieldValue, logsource: SigmaLogsource): ValuesTest {
  if (value.type === 'null') return (values) => values.every((found) => found === null);
  if (value.type === 'fieldref') return fieldrefTest(value, logsource);
  const test = scalarTest(value);
  return (values) => values.some(test);
}

/** The lower-case text a value equals when it has no wildcards and ignores case. */
function exactText(value: FieldValue): string | undefined {
  if (value.type === 'string') return value.cased ? undefined : exactLowerCase(value.parts);
  return value.type === 'number' || value.type === 'boolean' ? String(value.value) : undefined;
}

/** Values OR-linked: the case-insensitive exact ones become one set lookup (the common `eventName: [...]`). */
function anyOf(values: readonly FieldValue[], logsource: SigmaLogsource): ValuesTest {
  const exact = new Set<string>();
  const others: ValuesTest[] = [];
  for (const value of values) {
    const text = exactText(value);
    if (text !== undefined) exact.add(text);
    else others.push(valuesTest(value, logsource));
  }
  const inSet: ValuesTest = (found) => {
    for (const item of found) {
      const text = textOf(item);
      if (text !== undefined && exact.has(lowerCase(text))) return true;
    }
    return false;
  };
  const tests = exact.size > 0 ? [inSet, ...others] : others;
  if (tests.length === 1) return tests[0] as ValuesTest;
  return (found, event) => tests.some((test) => test(found, event));
}

function allOf(values: readonly FieldValue[], logsource: SigmaLogsource): ValuesTest {
  const tests = values.map((value) => valuesTest(value, logsource));
  return (found, event) => tests.every((test) => test(found, event));
}

function valuesOf(raw: unknown, key: string): RuleValue[] {
  if (!Array.isArray(raw)) return [ruleValue(raw)];
  // An empty list is null, as in pySigma: nothing was given for the field.
  if (raw.length === 0) return [{ type: 'null' }];
  return raw.map((item) => {
    if (Array.isArray(item) || (typeof item === 'object' && item !== null)) {
      throw new Unsupported(`the values of '${key}' must be strings, numbers, booleans or null, not ${quote(item)}`);
    }
    return ruleValue(item);
  });
}

const negate = (matcher: Matcher, negated: boolean): Matcher => (negated ? (event) => !matcher(event) : matcher);

function fieldItem(field: string, modifiers: readonly string[], raw: unknown, logsource: SigmaLogsource): Matcher {
  const { values, all, negated } = applyModifiers(valuesOf(raw, field), modifiers);
  const access: FieldAccessor = fieldAccessor(field, logsource);
  const [first] = values;
  if (first?.type === 'exists') {
    if (values.length > 1) throw new Unsupported(`'${field}|exists' takes one value, true or false`);
    return negate((event) => (access(event) !== undefined) === first.value, negated);
  }
  // `exists` turns every value or none: past this point there is none.
  const matched = values.filter((value): value is FieldValue => value.type !== 'exists');
  const test = all ? allOf(matched, logsource) : anyOf(matched, logsource);
  return negate((event) => test(access(event) ?? nothing, event), negated);
}

const textual = new Set<RuleValue['type']>(['string', 'number', 'boolean', 'expansion']);

/** A value with no field: a keyword, searched for in every value of the event. */
function keywordItem(modifiers: readonly string[], raw: unknown): Matcher {
  // Keywords match anywhere in a value: the implicit `contains` comes last, after any encoding.
  const { values, all, negated } = applyModifiers(valuesOf(raw, 'keywords'), modifiers);
  const tests = values.map((value) => {
    if (value.type === 'null') throw new Unsupported('a keyword cannot be null: null needs a field');
    const anywhere = textual.has(value.type) ? (applyModifiers([value], ['contains']).values[0] as RuleValue) : value;
    if (!isScalar(anywhere)) throw new Unsupported(`keywords cannot use ${value.type}: it needs a field`);
    return scalarTest(anywhere);
  });
  const matcher: Matcher = all
    ? (event) => tests.every((test) => someScalar(event, test))
    : (event) => someScalar(event, (value) => tests.some((test) => test(value)));
  return negate(matcher, negated);
}

/** A `field|modifiers` key and its value; an empty field (`'|all': [...]`) is a keyword item. */
export function compileItem(key: string | undefined, raw: unknown, logsource: SigmaLogsource): Matcher {
  if (key === undefined) return keywordItem([], raw);
  const [field = '', ...modifiers] = key.split('|');
  return field === '' ? keywordItem(modifiers, raw) : fieldItem(field, modifiers, raw, logsource);
}
