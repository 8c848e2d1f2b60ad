// What a field's value is to a rule: null and missing, numbers and booleans against their strings,
// objects as their JSON text, arrays as several values. The oracle states each case as a table
// would, rather than through the engine's text conversion.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selection } from './rules';

type Scalar = string | number | boolean | null;
type EventValue = Scalar | { [key: string]: EventValue } | EventValue[];

/** Whether one event value equals a rule value, case-insensitively, by cases. */
function sameScalar(rule: string | number | boolean, found: EventValue): boolean {
  const ruleText = String(rule).toLowerCase();
  if (found === null) return false;
  if (typeof found === 'string') return found.toLowerCase() === ruleText;
  if (typeof found === 'number') return `${found}` === ruleText;
  if (typeof found === 'boolean') return (found ? 'true' : 'false') === ruleText;
  if (Array.isArray(found)) return false; // arrays are walked by the caller
  return JSON.stringify(found).toLowerCase() === ruleText;
}

const leaves = (found: EventValue): EventValue[] => (Array.isArray(found) ? found.flatMap(leaves) : [found]);

function oracle(rule: Scalar, event: { f?: EventValue }): boolean {
  const found = 'f' in event ? leaves(event.f as EventValue) : [];
  if (rule === null) return found.every((item) => item === null);
  return found.some((item) => sameScalar(rule, item));
}

const ruleValue = fc.oneof(
  fc.constant(null),
  fc.constantFrom(0, 22, -1, 1.5),
  fc.constantFrom('22', '0', '1.5', '022', 'true', 'TRUE', 'false', 'x', ''),
  fc.boolean(),
);
const scalar = fc.oneof(ruleValue, fc.constantFrom('22.0', 'X'));
const eventValue: fc.Arbitrary<EventValue> = fc.letrec<{ value: EventValue }>((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('a', 'b'), scalar, { maxKeys: 2 })),
})).value;
const event = fc.oneof(fc.constant({}), eventValue.map((f) => ({ f })));

describe('field values', () => {
  it('null, numbers, booleans, strings, objects and arrays as the oracle says', () => {
    fc.assert(
      fc.property(ruleValue, event, (rule, found) => {
        expect(selection({ f: rule }).matches(found)).toBe(oracle(rule, found));
      }),
      { numRuns: 1000 },
    );
  });

  it('a number matches the number and its string, a string of a number matches the number', () => {
    expect(selection({ port: 22 }).matches({ port: 22 })).toBe(true);
    expect(selection({ port: 22 }).matches({ port: '22' })).toBe(true);
    expect(selection({ port: '22' }).matches({ port: 22 })).toBe(true);
    expect(selection({ port: 22 }).matches({ port: 23 })).toBe(false);
  });

  it("booleans match their string form, both ways ('true' matches true)", () => {
    expect(selection({ granted: 'true' }).matches({ granted: true })).toBe(true);
    expect(selection({ granted: 'true' }).matches({ granted: false })).toBe(false);
    expect(selection({ granted: true }).matches({ granted: 'True' })).toBe(true);
    expect(selection({ granted: false }).matches({ granted: false })).toBe(true);
  });

  it('null matches a missing field or a null one, and nothing else', () => {
    const rule = selection({ errorCode: null });
    expect(rule.matches({})).toBe(true);
    expect(rule.matches({ errorCode: null })).toBe(true);
    expect(rule.matches({ errorCode: '' })).toBe(false);
    expect(rule.matches({ errorCode: 'AccessDenied' })).toBe(false);
  });

  it('an empty list of values is null, as in pySigma', () => {
    expect(selection({ errorCode: [] }).matches({})).toBe(true);
    expect(selection({ errorCode: [] }).matches({ errorCode: 'x' })).toBe(false);
  });

  it('an object is matched as its compact JSON text', () => {
    const record = { requestParameters: { bucketName: 'b', VersioningConfiguration: { Status: 'Suspended' } } };
    expect(selection({ 'requestParameters|contains': 'Suspended' }).matches(record)).toBe(true);
    expect(selection({ 'requestParameters|contains': '"Status":"Suspended"' }).matches(record)).toBe(true);
    expect(selection({ 'requestParameters|contains': 'Enabled' }).matches(record)).toBe(false);
  });

  it('a field inside arrays has every value found; any one of them can match', () => {
    const entry = { authorizationInfo: [{ permission: 'a.get', granted: false }, { permission: 'a.delete', granted: true }] };
    expect(selection({ 'authorizationInfo.permission': 'a.delete' }).matches(entry)).toBe(true);
    expect(selection({ 'authorizationInfo.permission': 'a.list' }).matches(entry)).toBe(false);
    // The values of one field are not tied to the same array element: Sigma has no way to say that.
    expect(selection({ 'authorizationInfo.permission': 'a.get', 'authorizationInfo.granted': true }).matches(entry)).toBe(true);
  });

  it('arrays in arrays are walked through (gcp.audit.request.alloweds.ports)', () => {
    const entry = { protoPayload: { request: { alloweds: [{ ports: ['80', '443'] }, { ports: ['22'] }] } } };
    const gcp = { product: 'gcp', service: 'gcp.audit' };
    expect(selection({ 'gcp.audit.request.alloweds.ports': 22 }, gcp).matches(entry)).toBe(true);
    expect(selection({ 'gcp.audit.request.alloweds.ports': 8080 }, gcp).matches(entry)).toBe(false);
  });

  it('a null value among others is the field missing or null', () => {
    const rule = selection({ errorCode: ['Success', null] });
    expect(rule.matches({})).toBe(true);
    expect(rule.matches({ errorCode: 'success' })).toBe(true);
    expect(rule.matches({ errorCode: 'AccessDenied' })).toBe(false);
  });
});
