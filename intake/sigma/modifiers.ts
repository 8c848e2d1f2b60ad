// Sigma's value modifiers (`field|contains|all: …`), applied in the order written to each value of
// a detection item, as the Sigma modifiers appendix and its reference implementation (pySigma) do:
// each one accepts some kinds of value and turns them into another (a string into a regular
// expression, a string into three base64 variants...). A modifier given a value it cannot take,
// or one Vigil does not implement, makes the rule unsupported.
import ipaddr from 'ipaddr.js';
import { MANY, hasWildcard, parseSigmaString, plainText, type Part } from './sigma-string';
import { Unsupported, quote } from './unsupported';
import type { TimePart } from './values';

export type CompareOp = 'lt' | 'lte' | 'gt' | 'gte';
export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export type RuleValue =
  | { type: 'string'; parts: Part[]; original: string; cased: boolean }
  | { type: 'number'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'null' }
  | { type: 're'; source: string; flags: string }
  | { type: 'cidr'; range: Cidr }
  | { type: 'compare'; op: CompareOp; value: number }
  | { type: 'time'; part: TimePart; value: number }
  /** Another field's value, with wildcards before or after it (fieldref|contains has both). */
  | { type: 'fieldref'; field: string; anyBefore: boolean; anyAfter: boolean; cased: boolean }
  | { type: 'exists'; value: boolean }
  /** Variants of one value (base64offset): any of them matches, even under `all`. */
  | { type: 'expansion'; values: RuleValue[] };

type StringValue = Extract<RuleValue, { type: 'string' }>;

/** A value as YAML gave it. */
export function ruleValue(raw: unknown): RuleValue {
  if (raw === null) return { type: 'null' };
  if (typeof raw === 'string') return { type: 'string', parts: parseSigmaString(raw), original: raw, cased: false };
  if (typeof raw === 'number') return { type: 'number', value: raw };
  if (typeof raw === 'boolean') return { type: 'boolean', value: raw };
  throw new Unsupported(`value ${quote(raw)} is not a string, number, boolean or null`);
}

const describe = (value: RuleValue): string => {
  switch (value.type) {
    case 'string':
      return quote(value.original);
    case 'number':
    case 'boolean':
      return String(value.value);
    case 're':
      return `regular expression ${quote(value.source)}`;
    default:
      return `a ${value.type} value`;
  }
};

const literal = (text: string): StringValue => ({ type: 'string', parts: [text], original: text, cased: false });

/** Numbers and booleans are strings to the string modifiers ("all values are treated as strings"). */
function asString(value: RuleValue, modifier: string): StringValue {
  if (value.type === 'string') return value;
  if (value.type === 'number' || value.type === 'boolean') return literal(String(value.value));
  throw new Unsupported(`modifier '${modifier}' cannot apply to ${describe(value)}`);
}

function plain(value: RuleValue, modifier: string): string {
  const string = asString(value, modifier);
  if (hasWildcard(string.parts)) throw new Unsupported(`modifier '${modifier}' cannot apply to ${describe(value)}: it has wildcards`);
  return plainText(string.parts);
}

function wrap(value: RuleValue, modifier: string, before: boolean, after: boolean): RuleValue {
  if (value.type === 'fieldref') return { ...value, anyBefore: value.anyBefore || before, anyAfter: value.anyAfter || after };
  const string = asString(value, modifier);
  const parts = [...string.parts];
  if (before && parts[0] !== MANY) parts.unshift(MANY);
  if (after && parts[parts.length - 1] !== MANY) parts.push(MANY);
  return { ...string, parts };
}

const base64 = (bytes: Buffer) => bytes.toString('base64');

/** The three encodings of a text at byte offsets 0, 1 and 2, cut to the characters that do not depend on its neighbours. */
function base64Offsets(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const starts = [0, 2, 3];
  const endTrims = [0, 3, 2];
  return [0, 1, 2].map((shift) => {
    const encoded = base64(Buffer.concat([Buffer.alloc(shift, 0x20), bytes]));
    const trim = endTrims[(bytes.length + shift) % 3] as number;
    return encoded.slice(starts[shift], trim === 0 ? undefined : -trim);
  });
}

function parseCidr(value: RuleValue): RuleValue {
  const text = plain(value, 'cidr');
  const withPrefix = text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`;
  if (!(ipaddr.IPv4.isValidCIDRFourPartDecimal(withPrefix) || ipaddr.IPv6.isValidCIDR(withPrefix))) {
    throw new Unsupported(`'${text}' is not a CIDR range (modifier 'cidr')`);
  }
  return { type: 'cidr', range: ipaddr.parseCIDR(withPrefix) as Cidr };
}

function number(value: RuleValue, modifier: string): number {
  if (value.type !== 'number') throw new Unsupported(`modifier '${modifier}' needs a number, not ${describe(value)}`);
  return value.value;
}

function regexFlag(flag: string, modifier: string) {
  return (value: RuleValue): RuleValue => {
    if (value.type !== 're') throw new Unsupported(`modifier '${modifier}' only follows 're'`);
    return value.flags.includes(flag) ? value : { ...value, flags: value.flags + flag };
  };
}

function first(modifier: string, applied: readonly string[]) {
  if (applied.length > 0) throw new Unsupported(`modifier '${modifier}' must come first, not after '${applied.join('|')}'`);
}

const compare = (op: CompareOp) => (value: RuleValue) => ({ type: 'compare', op, value: number(value, op) }) as const;

function timePart(part: TimePart) {
  return (value: RuleValue): RuleValue => {
    const wanted = number(value, part);
    if (!Number.isInteger(wanted)) throw new Unsupported(`modifier '${part}' needs a whole number, not ${wanted}`);
    return { type: 'time', part, value: wanted };
  };
}

type ValueModifier = (value: RuleValue, applied: readonly string[]) => RuleValue;

const valueModifiers: Record<string, ValueModifier> = {
  contains: (value) => wrap(value, 'contains', true, true),
  startswith: (value) => wrap(value, 'startswith', false, true),
  endswith: (value) => wrap(value, 'endswith', true, false),
  cased: (value) => (value.type === 'fieldref' ? { ...value, cased: true } : { ...asString(value, 'cased'), cased: true }),
  base64: (value) => literal(base64(Buffer.from(plain(value, 'base64'), 'utf8'))),
  base64offset: (value) => ({ type: 'expansion', values: base64Offsets(plain(value, 'base64offset')).map(literal) }),
  re: (value, applied) => {
    first('re', applied);
    return { type: 're', source: asString(value, 're').original, flags: '' };
  },
  i: regexFlag('i', 'i'),
  ignorecase: regexFlag('i', 'ignorecase'),
  m: regexFlag('m', 'm'),
  multiline: regexFlag('m', 'multiline'),
  s: regexFlag('s', 's'),
  dotall: regexFlag('s', 'dotall'),
  cidr: (value, applied) => {
    first('cidr', applied);
    return parseCidr(value);
  },
  lt: compare('lt'),
  lte: compare('lte'),
  gt: compare('gt'),
  gte: compare('gte'),
  minute: timePart('minute'),
  hour: timePart('hour'),
  day: timePart('day'),
  week: timePart('week'),
  month: timePart('month'),
  year: timePart('year'),
  fieldref: (value) => ({ type: 'fieldref', field: plain(value, 'fieldref'), anyBefore: false, anyAfter: false, cased: false }),
  exists: (value, applied) => {
    first('exists', applied);
    if (value.type !== 'boolean') throw new Unsupported(`modifier 'exists' needs true or false, not ${describe(value)}`);
    return { type: 'exists', value: value.value };
  },
};

/** Modifiers of the spec that Vigil does not implement, and why. */
const notImplemented: Record<string, string> = {
  windash: 'Windows command-line dash variants, which cloud audit logs do not have',
  wide: 'UTF-16 text, which JSON cloud audit logs do not carry',
  utf16: 'UTF-16 text, which JSON cloud audit logs do not carry',
  utf16le: 'UTF-16 text, which JSON cloud audit logs do not carry',
  utf16be: 'UTF-16 text, which JSON cloud audit logs do not carry',
  expand: 'placeholders, which need values from a processing pipeline Vigil does not have',
};

function applyEach(value: RuleValue, modifier: ValueModifier, applied: readonly string[]): RuleValue {
  if (value.type === 'expansion') return { type: 'expansion', values: value.values.map((inner) => applyEach(inner, modifier, applied)) };
  return modifier(value, applied);
}

export interface ModifiedValues {
  values: RuleValue[];
  /** `all`: every value must match, instead of any. */
  all: boolean;
  /** `neq`: the whole item is negated. */
  negated: boolean;
}

/** The values of a detection item after its modifiers, in the order written. */
export function applyModifiers(values: readonly RuleValue[], modifiers: readonly string[]): ModifiedValues {
  const result: ModifiedValues = { values: [...values], all: false, negated: false };
  const applied: string[] = [];
  for (const name of modifiers) {
    if (name === 'all') result.all = true;
    else if (name === 'neq') result.negated = true;
    else if (Object.hasOwn(notImplemented, name)) throw new Unsupported(`modifier '${name}' is not implemented: it is for ${notImplemented[name]}`);
    else {
      const modifier = Object.hasOwn(valueModifiers, name) ? valueModifiers[name] : undefined;
      if (!modifier) throw new Unsupported(`unknown modifier '${name}'`);
      result.values = result.values.map((value) => applyEach(value, modifier, applied));
    }
    applied.push(name);
  }
  return result;
}
