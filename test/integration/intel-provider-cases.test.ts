// Every registered provider against the cases beside its samples (test/fixtures/intel/providers/
// <name>/): each sample served in the API's format from loopback, the result it must map to, where
// the key must go. A new provider brings its own cases and this file does not change.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { providerDefinitions } from '../../activities/intel/providers';
import { caseFolders, CASES_FILE, fileOrBody, readCases, sampleFiles } from '../helpers/fixture-cases';
import { checkedRunner, testKey, useProviderApis } from '../helpers/intel-providers';

const FIXTURES = path.join(import.meta.dirname, '../fixtures/intel/providers');
const targetKinds = ['ip', 'domain'] as const;

const providerCases = z
  .strictObject({
    /** Pinned against the definition, with the header the key goes in (and nowhere else). */
    key: z.enum(['required', 'optional', 'none']),
    keyHeader: z.string().toLowerCase().optional(),
    /** Other headers every request must carry. */
    headers: z.record(z.string().toLowerCase(), z.string()).default({}),
    targets: z.array(z.enum(targetKinds)).min(1),
    answers: z
      .array(
        z.strictObject({
          target: z.strictObject({ kind: z.enum(targetKinds), value: z.string() }),
          /** The one request the provider must make, under its base URL. */
          path: z.string().startsWith('/'),
          reply: z
            .strictObject({ status: z.number().int().default(200), file: z.string().optional(), body: z.string().optional(), headers: z.record(z.string(), z.string()).optional() })
            .refine(...fileOrBody),
          status: z.enum(['listed', 'not-listed', 'unknown']),
          /** Absent: the result must have none. */
          verdict: z.enum(['malicious', 'suspicious', 'known-benign']).optional(),
          /** A regular expression the evidence line must match. */
          evidence: z.string(),
        }),
      )
      .min(1),
  })
  .refine((cases) => (cases.key === 'none') === (cases.keyHeader === undefined), 'give `keyHeader` exactly when the provider takes a key');

const apis = useProviderApis();

describe('provider registry', () => {
  it('names each provider once, and every case folder is a registered provider', () => {
    const names = providerDefinitions.map((definition) => definition.name);
    expect(new Set(names).size).toBe(names.length);
    expect(caseFolders(FIXTURES)).toEqual([...names].sort());
  });
});

describe.each(providerDefinitions.map((definition) => [definition.name, definition, readCases(path.join(FIXTURES, definition.name), providerCases)] as const))(
  '%s',
  (name, definition, cases) => {
    const folder = path.join(FIXTURES, name);

    it(`has its cases in ${CASES_FILE}`, () => {
      expect(cases, `add ${path.relative(process.cwd(), path.join(folder, CASES_FILE))} (see test/fixtures/intel/README.md)`).toBeDefined();
    });
    if (!cases) return;
    const { keyHeader = '' } = cases;

    it('declares the shared interface, with the real API as its default, and the key and targets its cases state', () => {
      expect(definition.defaultBaseUrl).toMatch(/^https:\/\//);
      expect(definition.defaultRatePerMinute).toBeGreaterThan(0);
      expect(definition.defaultDailyQuota).toBeGreaterThan(0);
      expect(definition.defaultTtlMs).toBeGreaterThan(0);
      expect(definition.cost).not.toBe('');
      expect(definition.key).toBe(cases.key);
      expect(definition.targets).toEqual(cases.targets);
    });

    it('has a listed and a not-listed answer and one for each target kind, and every sample in its folder has a case', () => {
      const statuses = new Set(cases.answers.map((answer) => answer.status));
      expect(statuses.has('listed') && statuses.has('not-listed')).toBe(true);
      expect(new Set(cases.answers.map((answer) => answer.target.kind))).toEqual(new Set(cases.targets));
      const used = new Set(cases.answers.map((answer) => answer.reply.file));
      expect(sampleFiles(folder).filter((file) => !used.has(file))).toEqual([]);
    });

    const titled = cases.answers.map((answer) => [`${answer.target.value} (${answer.reply.file ?? `HTTP ${answer.reply.status}`}) → ${answer.status} ${answer.verdict ?? ''}`, answer] as const);
    it.each(titled)('%s', async (_title, answer) => {
      const { file, body, ...reply } = answer.reply;
      apis.route(name, answer.path, { ...reply, body: file === undefined ? body : readFileSync(path.join(folder, file), 'utf8') });
      const result = await apis.checkOne(name, answer.target);
      expect(result).toMatchObject({ source: name, status: answer.status });
      expect(result.verdict).toBe(answer.verdict);
      expect(result.evidence).toMatch(new RegExp(answer.evidence));
      // Only a real answer carries the time it was fetched.
      if (answer.status === 'unknown') expect(result.fetchedAt).toBeUndefined();
      else expect(Date.parse(result.fetchedAt!)).not.toBeNaN();

      expect(apis.requests.map((request) => request.url)).toEqual([`/${name}${answer.path}`]);
      // The runner hands every provider its key: the key goes in its header, or nowhere at all.
      const { [keyHeader]: sent, ...others } = apis.requests[0]!.headers;
      expect(others).toMatchObject(cases.headers);
      if (cases.key !== 'none') expect(sent).toBe(testKey(name));
      expect(JSON.stringify(others) + apis.requests[0]!.url).not.toContain(testKey(name));

      if (cases.key === 'optional') {
        apis.requests.length = 0;
        const keyless = await apis.checkOne(name, answer.target, { key: undefined }, path.join(apis.cacheDir, 'keyless'));
        expect(keyless).toEqual({ ...result, fetchedAt: keyless.fetchedAt });
        expect(apis.requests.map((request) => request.headers[keyHeader])).toEqual([undefined]);
      }
    });

    if (cases.key === 'required') {
      it('is misconfigured without a key, and asks nothing', async () => {
        expect(await apis.checkOne(name, cases.answers[0]!.target, { key: undefined })).toEqual({ source: name, status: 'misconfigured', evidence: `no API key: set intel.providers.${name}.key` });
        expect(apis.requests).toHaveLength(0);
      });
    }

    const untaken = targetKinds.filter((kind) => !cases.targets.includes(kind));
    if (untaken.length > 0) {
      it(`is never asked about a ${untaken.join(' or ')}`, async () => {
        const run = checkedRunner({ dir: apis.cacheDir, providers: [apis.settings(name)] });
        for (const kind of untaken) expect(await run.check({ kind, value: kind === 'ip' ? '192.0.2.10' : 'www.example.com' })).toEqual([]);
        expect(apis.requests).toHaveLength(0);
      });
    }
  },
);
