// The shape of a search identifier: maps are AND, lists are OR, a list of maps is OR of ANDs (at
// any depth), `all` turns a list of values into AND; and keywords. The oracle evaluates the
// generated structure directly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GCP, selection } from './rules';

type Values = string | string[];
type Search = Record<string, Values> | Search[];

const field = fc.constantFrom('f1', 'f2', 'f3');
const word = fc.constantFrom('x', 'X', 'y', 'z');
const values: fc.Arbitrary<Values> = fc.oneof(word, fc.array(word, { minLength: 1, maxLength: 3 }));
const map = fc.dictionary(field, values, { minKeys: 1, maxKeys: 3 });
const search: fc.Arbitrary<Search> = fc.letrec<{ search: Search }>((tie) => ({
  search: fc.oneof({ depthSize: 'small', withCrossShrink: true }, map, fc.array(tie('search'), { minLength: 1, maxLength: 3 })),
})).search;
const event = fc.dictionary(field, word, { maxKeys: 3 });

function holds(search: Search, found: Record<string, string>): boolean {
  if (Array.isArray(search)) return search.some((alternative) => holds(alternative, found));
  return Object.entries(search).every(([name, wanted]) => {
    const value = found[name];
    return value !== undefined && [wanted].flat().some((option) => option.toLowerCase() === value.toLowerCase());
  });
}

describe('search identifiers', () => {
  it('maps are AND, lists are OR, lists of lists of maps too', () => {
    fc.assert(
      fc.property(search, event, (definition, found) => {
        expect(selection(definition).matches(found)).toBe(holds(definition, found));
      }),
      { numRuns: 500 },
    );
  });

  it('`all` needs every value of the list somewhere in the field; without it, any one', () => {
    const wanted = fc.array(word, { minLength: 1, maxLength: 3 });
    const held = fc.oneof(word.map((one): string | string[] => one), fc.array(word, { maxLength: 4 }));
    fc.assert(
      fc.property(wanted, held, (list, value) => {
        const found = [value].flat().map((item) => item.toLowerCase());
        expect(selection({ 'f|all': list }).matches({ f: value })).toBe(list.every((item) => found.includes(item.toLowerCase())));
        expect(selection({ f: list }).matches({ f: value })).toBe(list.some((item) => found.includes(item.toLowerCase())));
      }),
      { numRuns: 300 },
    );
  });

  it('`contains|all`: every pattern somewhere in the JSON text of an object (the S3 Browser policy rule)', () => {
    const rule = selection({ 'requestParameters|contains|all': ['"arn:aws:s3:::<YOUR-BUCKET-NAME>/*"', '"s3:GetObject"', '"Allow"'] });
    const policy = { Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::<YOUR-BUCKET-NAME>/*'] }] };
    expect(rule.matches({ requestParameters: { userName: 'u', policyDocument: policy } })).toBe(true);
    expect(rule.matches({ requestParameters: { userName: 'u', policyDocument: { Statement: [{ ...policy.Statement[0], Effect: 'Deny' }] } } })).toBe(false);
    // CloudTrail itself logs the policy as a string: in the JSON text its quotes are escaped (\"Allow\"), so the
    // patterns, which include the quotes, do not find it. docs/sigma.md says so.
    expect(rule.matches({ requestParameters: { userName: 'u', policyDocument: JSON.stringify(policy) } })).toBe(false);
  });
});

describe('keywords', () => {
  const entry = {
    protoPayload: { methodName: 'io.k8s.core.v1.pods.create', request: { metadata: { annotations: { 'image-policy.k8s.io/break-glass': 'true' } } } },
    labels: { note: 'Deployed by ops' },
    count: 42,
  };

  it('a list of strings matches when any value anywhere in the event contains one of them', () => {
    expect(selection(['DEPLOYED BY'], GCP).matches(entry)).toBe(true);
    expect(selection(['nothing', 'pods.create'], GCP).matches(entry)).toBe(true);
    expect(selection(['break-glass'], GCP).matches(entry)).toBe(false); // keys are not values
    expect(selection(['4?'], GCP).matches(entry)).toBe(true);
    expect(selection(['nothing'], GCP).matches(entry)).toBe(false);
  });

  it("a single keyword, and `'|all'` needing every keyword somewhere", () => {
    expect(selection('ops', GCP).matches(entry)).toBe(true);
    expect(selection({ '|all': ['ops', 'pods'] }, GCP).matches(entry)).toBe(true);
    expect(selection({ '|all': ['ops', 'nothing'] }, GCP).matches(entry)).toBe(false);
  });

  it('keywords with cidr or a comparison look at every value too', () => {
    expect(selection({ '|cidr': '198.51.100.0/24' }, GCP).matches({ protoPayload: { requestMetadata: { callerIp: '198.51.100.23' } } })).toBe(true);
    expect(selection({ '|cidr': '198.51.100.0/24' }, GCP).matches(entry)).toBe(false);
    expect(selection({ '|gt': 40 }, GCP).matches(entry)).toBe(true);
  });

  it('keywords with a regular expression search every value', () => {
    expect(selection({ '|re': 'v\\d\\.pods' }, GCP).matches(entry)).toBe(true);
    expect(selection({ '|re': '^ops' }, GCP).matches(entry)).toBe(false);
  });
});
