// Every registered feed against the cases beside its samples (test/fixtures/intel/feeds/<name>/),
// so a new feed brings its own cases and this file does not change.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { feedDefinitions, feedsByName, FeedFormatError } from '../../../activities/intel/feeds/index';
import { caseFolders, CASES_FILE, fileOrBody, readCases, sampleFiles } from '../../helpers/fixture-cases';

const FIXTURES = path.join(import.meta.dirname, '../../fixtures/intel/feeds');

const feedCases = z.strictObject({
  /** What a listing means: pinned here so that a change to it is a deliberate one. */
  verdict: z.enum(['malicious', 'suspicious']),
  samples: z
    .array(
      z
        .strictObject({
          file: z.string().optional(),
          body: z.string().optional(),
          /** Every entry the parser must give, in order. */
          entries: z.array(z.string()).optional(),
          /** The body is refused: a FeedFormatError whose message matches this regular expression. */
          throws: z.string().optional(),
        })
        .refine(...fileOrBody)
        .refine((sample) => (sample.entries === undefined) !== (sample.throws === undefined), 'give either `entries` or `throws`'),
    )
    .min(1),
});

describe('feed registry', () => {
  it('names each feed once, and every case folder is a registered feed', () => {
    const names = feedDefinitions.map((feed) => feed.name);
    expect(feedsByName.size).toBe(names.length);
    expect(caseFolders(FIXTURES)).toEqual([...names].sort());
  });
});

describe.each(feedDefinitions.map((feed) => [feed.name, feed, readCases(path.join(FIXTURES, feed.name), feedCases)] as const))('%s', (name, feed, cases) => {
  const folder = path.join(FIXTURES, name);

  it(`has its cases in ${CASES_FILE}`, () => {
    expect(cases, `add ${path.relative(process.cwd(), path.join(folder, CASES_FILE))} (see test/fixtures/intel/README.md)`).toBeDefined();
  });
  if (!cases) return;

  it('is registered by name with a real https URL, a cost line and the verdict its cases state', () => {
    expect(feedsByName.get(name)).toBe(feed);
    expect(feed.defaultUrl).toMatch(/^https:\/\//);
    expect(feed.cost.length).toBeGreaterThan(10);
    expect(feed.verdict).toBe(cases.verdict);
  });

  it('reads at least one sample into entries, and every sample in its folder has a case', () => {
    expect(cases.samples.some((sample) => sample.entries && sample.entries.length > 0)).toBe(true);
    const used = new Set(cases.samples.map((sample) => sample.file));
    expect(sampleFiles(folder).filter((file) => !used.has(file))).toEqual([]);
  });

  const titled = cases.samples.map((sample) => [sample.file ?? `inline ${JSON.stringify(sample.body).slice(0, 40)}`, sample] as const);
  it.each(titled)('%s', (_title, sample) => {
    const text = sample.file === undefined ? sample.body! : readFileSync(path.join(folder, sample.file), 'utf8');
    if (sample.throws === undefined) {
      expect(feed.parse(text)).toEqual(sample.entries);
    } else {
      expect(() => feed.parse(text)).toThrow(FeedFormatError);
      expect(() => feed.parse(text)).toThrow(new RegExp(sample.throws));
    }
  });

  // What no feed may take for a list, so that a bad download never replaces a good copy.
  it('refuses an HTML error page, an empty body and junk', () => {
    for (const body of [readFileSync(path.join(FIXTURES, 'not-a-feed.html'), 'utf8'), '', '  \n\n', '{"error":"rate limited"}']) {
      expect(() => feed.parse(body), JSON.stringify(body.slice(0, 20))).toThrow(FeedFormatError);
    }
  });
});
