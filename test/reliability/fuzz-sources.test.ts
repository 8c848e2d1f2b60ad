// Property-based fuzzing of every source adapter in the registry (intake/sources/index.ts): arbitrary
// JSON, JSON made of the sources' own keys, their real fixtures mutated (fields deleted, given the
// wrong type, wrapped, turned into JSON text, keys added), huge strings and deep nesting. Each
// adapter must either refuse with its clear UnrecognizedPayloadError or return alerts of the
// NormalizedAlert shape; detect() must answer a boolean; intake's own decoding of the body (for the
// source and for `auto`) must give well-shaped alerts. Anything else, or a case that does not come
// back, fails. Cases run on a thread (hostile/adapter-thread.mjs) so that a hang can be cut off.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { sourceNames } from '../../intake/sources';
import { createAdapterRunner, type RunOutcome } from './hostile/adapter-runner';
import {
  anyOp,
  deepOp,
  expand,
  fixtureRecipe,
  fixturesOf,
  hugeOp,
  keyVocabulary,
  mutation,
  shapedJson,
  wrongValues,
  type Fixture,
  type Json,
  type Op,
  type Recipe,
} from './hostile/payloads';
import { recordTrial } from './tally';

/** `VIGIL_FUZZ_SCALE=10` for a longer hunt; `VIGIL_FUZZ_SEED` replays a run that failed. */
const scale = Number(process.env.VIGIL_FUZZ_SCALE ?? 1);
const seed = process.env.VIGIL_FUZZ_SEED === undefined ? undefined : Number(process.env.VIGIL_FUZZ_SEED);
const runs = (base: number) => Math.max(1, Math.round(base * scale));
/** A case that takes longer than this on a thread of its own is a hang: generous, never a measurement. */
const HANG_BOUND_MS = 60_000;

const fixtures: Fixture[] = [...new Map(sourceNames.flatMap(fixturesOf).map((fixture) => [fixture.name, fixture])).values()];
const fixtureValues = new Map<string, Json>(fixtures.map((fixture) => [fixture.name, fixture.value]));
const keys = keyVocabulary(fixtures);
const limits = { hugeBytes: 3 * 1024 * 1024, depth: 200_000 };

const runner = createAdapterRunner(HANG_BOUND_MS);
afterAll(async () => {
  await runner.close();
});

const deep = (depth: number): Op => ({ op: 'deep', depth, key: null });
const cannotBeText: Json = { toString: 1 };

/**
 * Hand-written cases for the bugs this suite found and fixed in the adapters (each threw TypeError
 * or RangeError from detect() or parse(), and `auto` answered 500): run first, for every adapter.
 */
const regressions: Recipe[] = [
  ...[cannotBeText, null].map((value): Recipe => ({
    kind: 'fixture',
    fixture: 'test/fixtures/securityhub/afsbp-ec2.7.json',
    mutations: [{ at: ['detail-type'], op: value === null ? deep(60_000) : { op: 'set', value } }],
  })),
  ...['class_uid', 'severity_id', 'status_id', 'time'].flatMap((field) =>
    [{ op: 'set', value: cannotBeText } as Op, deep(60_000)].map((op): Recipe => ({
      kind: 'fixture',
      fixture: 'test/fixtures/prowler/example_output_aws.ocsf.json',
      mutations: [{ at: [0, field], op }],
    })),
  ),
  ...[{ op: 'set', value: { code: cannotBeText } } as Op, { op: 'set', value: { code: [[[[0]]]] } } as Op].map((op): Recipe => ({
    kind: 'fixture',
    fixture: 'test/fixtures/gcp-audit/vigil-insert-ssh.json',
    mutations: [{ at: ['protoPayload', 'status'], op }],
  })),
  ...[deep(60_000)].map((op): Recipe => ({
    kind: 'fixture',
    fixture: 'test/fixtures/gcp-audit/vigil-insert-ssh.json',
    mutations: [
      { at: ['protoPayload', 'status'], op: { op: 'set', value: {} } },
      { at: ['protoPayload', 'status', 'code'], op },
    ],
  })),
];

interface Tally {
  tried: number;
  held: number;
  alerts: number;
  rejected: number;
}

function failure(recipe: Recipe, result: RunOutcome): string | undefined {
  if (result.outcome === 'hang') return `no answer within ${result.boundMs} ms (a hang) for ${describeRecipe(recipe)}`;
  if (result.outcome === 'broken') return `${result.where}: ${result.problem}\nfor ${describeRecipe(recipe)}`;
  return undefined;
}

const describeRecipe = (recipe: Recipe) => JSON.stringify(recipe, (_key, value: unknown) => (typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}…` : value));

describe.each(sourceNames)('the %s adapter, fed hostile payloads', (source) => {
  it('refuses clearly or returns well-shaped alerts, and never throws anything else or hangs', async () => {
    const ownFixtures = fixturesOf(source);
    expect(ownFixtures.length, `fixtures of ${source}`).toBeGreaterThan(0);
    const own = fixtures.filter((fixture) => ownFixtures.some((mine) => mine.name === fixture.name));
    const tally: Tally = { tried: 0, held: 0, alerts: 0, rejected: 0 };
    const mutatedAlerts = { count: 0 };

    const check = async (recipe: Recipe) => {
      tally.tried++;
      const result = await runner.run({ source, text: expand(recipe, fixtureValues) });
      const problem = failure(recipe, result);
      if (problem) throw new Error(problem);
      tally.held++;
      if (result.outcome === 'alerts') {
        tally.alerts++;
        if (recipe.kind === 'fixture' && recipe.mutations.length > 0) mutatedAlerts.count++;
      } else tally.rejected++;
    };
    const property = async (arbitrary: fc.Arbitrary<Recipe>, numRuns: number) =>
      fc.assert(
        fc.asyncProperty(arbitrary, async (recipe) => {
          await check(recipe);
        }),
        // A failing case is reported as found: shrinking a hang would wait out the bound again and again.
        { numRuns: runs(numRuns), endOnFailure: true, ...(seed === undefined ? {} : { seed }) },
      );

    try {
      for (const recipe of regressions) await check(recipe);
      // Every source's real samples, unchanged: other sources' payloads are hostile input too.
      for (const fixture of fixtures) await check({ kind: 'fixture', fixture: fixture.name, mutations: [] });
      // Arbitrary JSON, and JSON built from the keys the sources use.
      await property(fc.jsonValue({ maxDepth: 5 }).map((value) => ({ kind: 'json' as const, value: value as Json })), 200);
      await property(shapedJson(keys).map((value) => ({ kind: 'json' as const, value })), 200);
      // Its own fixtures, with one field of the wrong type (or nested too deep to turn into text),
      // then with several mutations of any kind.
      const wrongType = fc.oneof(
        { arbitrary: fc.constantFrom(...wrongValues).map((value) => ({ op: 'set' as const, value })), weight: 9 },
        { arbitrary: fc.integer({ min: 20_000, max: 100_000 }).map(deep), weight: 1 },
      );
      await property(fixtureRecipe(own, fc.tuple(mutation(wrongType)).map((list) => [...list])), 300);
      await property(fixtureRecipe(own, fc.array(mutation(anyOp(keys, limits)), { minLength: 1, maxLength: 5 })), 400);
      // Huge strings (up to 3 MiB of text the adapters' patterns look for) and deep nesting (up to 200,000 levels).
      await property(fixtureRecipe(own, fc.array(mutation(hugeOp(limits.hugeBytes)), { minLength: 1, maxLength: 2 })), 25);
      await property(fixtureRecipe(own, fc.array(mutation(deepOp(keys, limits.depth)), { minLength: 1, maxLength: 2 })), 25);
    } finally {
      recordTrial({
        fault: `fuzzed \`${source}\` payloads: arbitrary and shaped JSON, mutated fixtures, wrong types, huge strings, deep nesting`,
        tried: tally.tried,
        held: tally.held,
        check: 'refused with UnrecognizedPayloadError or alerts of the NormalizedAlert shape; no other exception, no hang',
      });
    }
    expect(tally.held).toBe(tally.tried);
    // The mutations reach the parser, not only its door: some mutated fixtures still parse.
    expect(mutatedAlerts.count, 'mutated fixtures that still parsed').toBeGreaterThan(0);
  });
});
