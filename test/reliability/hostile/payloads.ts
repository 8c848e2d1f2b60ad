// Hostile payloads for the source adapters and intake, as fast-check arbitraries. Each generated
// value is a small recipe (a fixture and the mutations made to it, or a JSON value), expanded to
// the body text only when a case runs: a counterexample then prints as a readable recipe, not as
// megabytes of text.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';

const root = path.resolve(import.meta.dirname, '../../..');

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Fixture {
  /** `guardduty/port-probe.eventbridge.json` */
  name: string;
  value: Json;
}

/** Where each source's real samples are: test/fixtures/<source>/, and the demo's for the generic schema. */
function fixtureFiles(source: string): string[] {
  const folder = ['generic', 'vigil-rescan'].includes(source) ? null : path.join(root, 'test/fixtures', source);
  if (folder) {
    return readdirSync(folder)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => path.join(folder, name));
  }
  // The demo's generic alerts (01-03); 99 is an unknown tool's payload on purpose.
  return readdirSync(path.join(root, 'demo/alerts'))
    .filter((name) => /^0\d-.*\.json$/.test(name))
    .sort()
    .map((name) => path.join(root, 'demo/alerts', name));
}

export function fixturesOf(source: string): Fixture[] {
  return fixtureFiles(source).map((file) => ({
    name: path.relative(root, file),
    value: JSON.parse(readFileSync(file, 'utf8')) as Json,
  }));
}

/** Every key any fixture uses, and a few that only mean trouble: the vocabulary of shaped JSON. */
export function keyVocabulary(fixtures: readonly Fixture[]): string[] {
  const keys = new Set(['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'length', '']);
  const walk = (value: Json) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        keys.add(key);
        walk(child);
      }
    }
  };
  fixtures.forEach((fixture) => walk(fixture.value));
  return [...keys].sort();
}

// ---------------------------------------------------------------------------------------------
// Recipes.

/** Values of the wrong type (or the right type, wrongly) for any field. */
export const wrongValues: Json[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  65536,
  -65536,
  1e308,
  '',
  ' ',
  '0',
  '-1',
  '1e999',
  'true',
  'null',
  '{}',
  '[]',
  '{"a":',
  [],
  {},
  [null],
  [''],
  [[]],
  { '': null },
  '::',
  '::ffff:10.0.0.5',
  '0.0.0.0/0',
  '999.1.1.1',
  '10.0.0.5/99',
  '22-1',
  '65536',
  '0-65535',
  '9999-99-99T99:99:99Z',
  'not a date',
  'arn:aws:guardduty:',
  '//compute.googleapis.com/',
  'projects//zones/',
  '\u0000',
  '\ud800',
  '<script>alert(1)</script>',
  '@everyone',
  'x'.repeat(300),
  // Objects JavaScript cannot turn into a string or a number: String() and Number() throw on them.
  { toString: 1 },
  { toString: {}, valueOf: [] },
];

/** Text that repeats, for huge strings: pieces the adapters' patterns look for, and trouble. */
const hugeUnits = [
  'a',
  ' ',
  '0',
  '9',
  'port ',
  'ports 1, ',
  '22 or ',
  '1-',
  '0.0.0.0/0 ',
  '::',
  '/',
  'projects/p/',
  'zones/us-central1-a/',
  '//compute.googleapis.com/',
  'arn:aws:guardduty:',
  'security group ingress internet ',
  'OPEN_',
  '_PORT',
  'C2: ',
  'a.',
  '-',
  '\\',
  '"',
  '\n',
  '\t',
  'é',
  '😀',
  '\u0000',
  '=',
  '%',
];

export type Op =
  | { op: 'delete' }
  | { op: 'set'; value: Json }
  | { op: 'wrap-array' }
  | { op: 'wrap-object'; key: string }
  | { op: 'unwrap' }
  | { op: 'as-json-text' }
  | { op: 'flip-number-text' }
  | { op: 'add-key'; key: string; value: Json }
  | { op: 'huge'; unit: string; repeat: number }
  | { op: 'deep'; depth: number; key: string | null };

/**
 * `at` picks one of the value's paths (all of them, containers and the root included), modulo their
 * count; or names one (hand-written cases).
 */
export interface Mutation {
  at: number | (string | number)[];
  op: Op;
}

export type Recipe =
  | { kind: 'json'; value: Json }
  | { kind: 'fixture'; fixture: string; mutations: Mutation[] };

const smallJson = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;

/** JSON made of the sources' own keys, so that detection gets past its first checks. */
export function shapedJson(keys: readonly string[]): fc.Arbitrary<Json> {
  const key = fc.constantFrom(...keys);
  const leaf = fc.oneof(fc.constantFrom(...wrongValues), smallJson);
  const { value } = fc.letrec<{ value: Json; object: Json; array: Json }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('object'), tie('array')),
    object: fc.array(fc.tuple(key, tie('value')), { maxLength: 6 }).map(objectOf),
    array: fc.array(tie('value'), { maxLength: 4 }),
  }));
  return value;
}

/** An object from entries, `__proto__` and the like kept as own keys (as JSON.parse makes them). */
function objectOf(entries: [string, Json][]): Json {
  const object: Record<string, Json> = {};
  for (const [key, value] of entries) Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return object;
}

export function hugeOp(maxBytes: number): fc.Arbitrary<Op> {
  return fc
    .tuple(fc.constantFrom(...hugeUnits), fc.integer({ min: 1024, max: maxBytes }))
    .map(([unit, bytes]) => ({ op: 'huge' as const, unit, repeat: Math.max(1, Math.floor(bytes / Buffer.byteLength(unit))) }));
}

export function deepOp(keys: readonly string[], maxDepth: number): fc.Arbitrary<Op> {
  return fc
    .tuple(fc.integer({ min: 100, max: maxDepth }), fc.option(fc.constantFrom(...keys), { nil: null }))
    .map(([depth, key]) => ({ op: 'deep' as const, depth, key }));
}

export interface MutationLimits {
  /** Bytes of one huge string. */
  hugeBytes: number;
  /** Levels of one deep nesting. */
  depth: number;
}

/** One mutation of any kind; huge strings and deep nesting rarely, since they are the expensive ones. */
export function anyOp(keys: readonly string[], limits: MutationLimits): fc.Arbitrary<Op> {
  const key = fc.constantFrom(...keys);
  return fc.oneof(
    { arbitrary: fc.constant({ op: 'delete' as const }), weight: 4 },
    { arbitrary: fc.constantFrom(...wrongValues).map((value) => ({ op: 'set' as const, value })), weight: 6 },
    { arbitrary: shapedJson(keys).map((value) => ({ op: 'set' as const, value })), weight: 2 },
    { arbitrary: fc.constant({ op: 'wrap-array' as const }), weight: 1 },
    { arbitrary: key.map((name) => ({ op: 'wrap-object' as const, key: name })), weight: 1 },
    { arbitrary: fc.constant({ op: 'unwrap' as const }), weight: 1 },
    { arbitrary: fc.constant({ op: 'as-json-text' as const }), weight: 1 },
    { arbitrary: fc.constant({ op: 'flip-number-text' as const }), weight: 2 },
    { arbitrary: fc.tuple(key, fc.oneof(fc.constantFrom(...wrongValues), shapedJson(keys))).map(([name, value]) => ({ op: 'add-key' as const, key: name, value })), weight: 3 },
    { arbitrary: hugeOp(Math.min(limits.hugeBytes, 64 * 1024)), weight: 1 },
    { arbitrary: deepOp(keys, Math.min(limits.depth, 2000)), weight: 1 },
  );
}

export function fixtureRecipe(fixtures: readonly Fixture[], mutations: fc.Arbitrary<Mutation[]>): fc.Arbitrary<Recipe> {
  return fc.record({
    kind: fc.constant('fixture' as const),
    fixture: fc.constantFrom(...fixtures.map((fixture) => fixture.name)),
    mutations,
  });
}

export const mutation = (op: fc.Arbitrary<Op>): fc.Arbitrary<Mutation> => fc.record({ at: fc.nat(), op });

// ---------------------------------------------------------------------------------------------
// Expansion.

type Path = (string | number)[];

function pathsOf(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((child, n) => pathsOf(child, [...prefix, n], out));
  else if (value !== null && typeof value === 'object') for (const [key, child] of Object.entries(value)) pathsOf(child, [...prefix, key], out);
  return out;
}

function getAt(value: Json, at: Path): Json {
  return at.reduce<Json>((current, step) => (current as Record<string | number, Json>)[step]!, value);
}

const MARKER = (n: number) => `@@vigil-hostile-${n}@@`;

interface Expansion {
  value: Json;
  /** Marker string → the raw JSON text it stands for (deep nesting, which JSON.stringify cannot write). */
  raw: Map<string, string>;
}

function deepText(depth: number, key: string | null): string {
  if (key === null) return `${'['.repeat(depth)}0${']'.repeat(depth)}`;
  return `${`{${JSON.stringify(key)}:`.repeat(depth)}0${'}'.repeat(depth)}`;
}

function applyOp(value: Json, op: Op, expansion: Expansion): Json | typeof DELETE {
  switch (op.op) {
    case 'delete':
      return DELETE;
    case 'set':
      return structuredClone(op.value);
    case 'wrap-array':
      return [value];
    case 'wrap-object':
      return objectOf([[op.key, value]]);
    case 'unwrap':
      if (Array.isArray(value)) return value[0] ?? null;
      if (value !== null && typeof value === 'object') return Object.values(value)[0] ?? null;
      return value;
    case 'as-json-text':
      return JSON.stringify(value);
    case 'flip-number-text':
      if (typeof value === 'number') return String(value);
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      return value;
    case 'add-key':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      Object.defineProperty(value, op.key, { value: structuredClone(op.value), enumerable: true, writable: true, configurable: true });
      return value;
    case 'huge':
      return op.unit.repeat(op.repeat);
    case 'deep': {
      const marker = MARKER(expansion.raw.size);
      expansion.raw.set(JSON.stringify(marker), deepText(op.depth, op.key));
      return marker;
    }
  }
}

const DELETE = Symbol('delete');

function mutate(expansion: Expansion, { at, op }: Mutation): void {
  const paths = typeof at === 'number' ? pathsOf(expansion.value) : [];
  const where = typeof at === 'number' ? paths[at % paths.length]! : at;
  if (where.length === 0) {
    const replaced = applyOp(expansion.value, op, expansion);
    expansion.value = replaced === DELETE ? null : replaced;
    return;
  }
  const parent = getAt(expansion.value, where.slice(0, -1)) as Record<string | number, Json> | Json[];
  const step = where.at(-1)!;
  const replaced = applyOp((parent as Record<string | number, Json>)[step]!, op, expansion);
  if (replaced === DELETE) {
    if (Array.isArray(parent)) parent.splice(step as number, 1);
    else delete (parent as Record<string, Json>)[step];
  } else {
    Object.defineProperty(parent, step, { value: replaced, enumerable: true, writable: true, configurable: true });
  }
}

/** The body text a recipe stands for. */
export function expand(recipe: Recipe, fixtures: ReadonlyMap<string, Json>): string {
  if (recipe.kind === 'json') return JSON.stringify(recipe.value);
  const expansion: Expansion = { value: structuredClone(fixtures.get(recipe.fixture)!), raw: new Map() };
  for (const step of recipe.mutations) mutate(expansion, step);
  let text = JSON.stringify(expansion.value);
  for (const [marker, raw] of expansion.raw) text = text.replace(marker, () => raw);
  return text;
}
