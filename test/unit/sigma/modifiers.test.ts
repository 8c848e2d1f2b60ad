// One example or more for every modifier of the Sigma modifiers appendix that Vigil implements.
import { describe, expect, it } from 'vitest';
import { GCP, rule, selection } from './rules';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('modifiers', () => {
  it('contains, startswith, endswith', () => {
    expect(selection({ 'f|contains': 'Log' }).matches({ f: 'StopLogging' })).toBe(true);
    expect(selection({ 'f|contains': 'Log' }).matches({ f: 'Stop' })).toBe(false);
    expect(selection({ 'f|startswith': 'stop' }).matches({ f: 'StopLogging' })).toBe(true);
    expect(selection({ 'f|startswith': 'Logging' }).matches({ f: 'StopLogging' })).toBe(false);
    expect(selection({ 'f|endswith': 'LOGGING' }).matches({ f: 'StopLogging' })).toBe(true);
    expect(selection({ 'f|endswith': 'Stop' }).matches({ f: 'StopLogging' })).toBe(false);
    // Wildcards inside still work, escapes too.
    expect(selection({ 'f|contains': 'a?c' }).matches({ f: 'xxabcxx' })).toBe(true);
    expect(selection({ 'f|contains': 'a\\?c' }).matches({ f: 'xxabcxx' })).toBe(false);
  });

  it('all', () => {
    expect(selection({ 'f|contains|all': ['a', 'b'] }).matches({ f: 'xaxbx' })).toBe(true);
    expect(selection({ 'f|contains|all': ['a', 'b'] }).matches({ f: 'xaxx' })).toBe(false);
    expect(selection({ 'f|contains': ['a', 'b'] }).matches({ f: 'xaxx' })).toBe(true);
  });

  it('cased', () => {
    expect(selection({ 'f|cased': 'StopLogging' }).matches({ f: 'StopLogging' })).toBe(true);
    expect(selection({ 'f|cased': 'StopLogging' }).matches({ f: 'stoplogging' })).toBe(false);
    expect(selection({ 'f|contains|cased': 'Log' }).matches({ f: 'StopLogging' })).toBe(true);
    expect(selection({ 'f|contains|cased': 'log' }).matches({ f: 'StopLogging' })).toBe(false);
  });

  it('re: a case-sensitive search, with i, m and s flags (and their long names)', () => {
    expect(selection({ 'userIdentity.arn|re': '.+:assumed-role/aws:.+' }).matches({ userIdentity: { arn: 'arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1' } })).toBe(true);
    expect(selection({ 'userIdentity.arn|re': '.+:assumed-role/aws:.+' }).matches({ userIdentity: { arn: 'arn:aws:sts::1:assumed-role/admin/x' } })).toBe(false);
    expect(selection({ 'f|re': 'b+' }).matches({ f: 'abbbc' })).toBe(true);
    expect(selection({ 'f|re': '^b+$' }).matches({ f: 'abbbc' })).toBe(false);
    expect(selection({ 'f|re': 'ABC' }).matches({ f: 'abc' })).toBe(false);
    expect(selection({ 'f|re|i': 'ABC' }).matches({ f: 'abc' })).toBe(true);
    // PCRE's inline flags, as rules write them, are RE2's too.
    expect(selection({ 'f|re': '(?i)^admin' }).matches({ f: 'Administrator' })).toBe(true);
    expect(selection({ 'f|re|ignorecase': 'ABC' }).matches({ f: 'abc' })).toBe(true);
    expect(selection({ 'f|re': '^b$' }).matches({ f: 'a\nb' })).toBe(false);
    expect(selection({ 'f|re|m': '^b$' }).matches({ f: 'a\nb' })).toBe(true);
    expect(selection({ 'f|re|multiline': '^b$' }).matches({ f: 'a\nb' })).toBe(true);
    expect(selection({ 'f|re': 'a.b' }).matches({ f: 'a\nb' })).toBe(false);
    expect(selection({ 'f|re|s': 'a.b' }).matches({ f: 'a\nb' })).toBe(true);
    expect(selection({ 'f|re|dotall': 'a.b' }).matches({ f: 'a\nb' })).toBe(true);
    // The rule's backslashes are the regular expression's: no Sigma escaping under `re`.
    expect(selection({ 'f|re': '\\d\\*' }).matches({ f: '7*' })).toBe(true);
    expect(selection({ 'f|re': 'a|b' }).matches({ f: 'xbx' })).toBe(true);
  });

  it("re: an expression that backtracks for minutes in JavaScript answers at once on the attacker's text", () => {
    const agent = `${'a'.repeat(40)}!`;
    expect(selection({ 'userAgent|re': '(a+)+$' }).matches({ userAgent: agent })).toBe(false);
    expect(selection({ 'userAgent|re': '(a+)+!$' }).matches({ userAgent: agent })).toBe(true);
  });

  it('cidr, IPv4 and IPv6, and a bare address as a single host', () => {
    const rule = selection({ 'sourceIPAddress|cidr': ['10.0.0.0/8', '2001:db8::/32'] });
    expect(rule.matches({ sourceIPAddress: '10.20.30.40' })).toBe(true);
    expect(rule.matches({ sourceIPAddress: '11.0.0.1' })).toBe(false);
    expect(rule.matches({ sourceIPAddress: '2001:db8:1::5' })).toBe(true);
    expect(rule.matches({ sourceIPAddress: '2001:db9::5' })).toBe(false);
    // The edges of the ranges.
    expect(rule.matches({ sourceIPAddress: '10.255.255.255' })).toBe(true);
    expect(rule.matches({ sourceIPAddress: '9.255.255.255' })).toBe(false);
    expect(rule.matches({ sourceIPAddress: '2001:db8:ffff:ffff::1' })).toBe(true);
    expect(rule.matches({ sourceIPAddress: '::ffff:10.1.1.1' })).toBe(true);
    expect(rule.matches({ sourceIPAddress: 'AWS Internal' })).toBe(false);
    expect(rule.matches({ sourceIPAddress: '012.0.0.1' })).toBe(false);
    expect(rule.matches({ sourceIPAddress: 167772161 })).toBe(false);
    expect(selection({ 'ip|cidr': '192.0.2.7' }).matches({ ip: '192.0.2.7' })).toBe(true);
    expect(selection({ 'ip|cidr': '192.0.2.7' }).matches({ ip: '192.0.2.8' })).toBe(false);
  });

  it('exists: true and false', () => {
    expect(selection({ 'f|exists': true }).matches({ f: null })).toBe(true);
    expect(selection({ 'f|exists': true }).matches({ f: '' })).toBe(true);
    expect(selection({ 'f|exists': true }).matches({ g: 'x' })).toBe(false);
    expect(selection({ 'f|exists': false }).matches({ g: 'x' })).toBe(true);
    expect(selection({ 'f|exists': false }).matches({ f: [] })).toBe(false);
    expect(selection({ 'a.b|exists': true }).matches({ a: [{ c: 1 }, { b: 2 }] })).toBe(true);
    expect(selection({ 'a.b|exists': true }).matches({ a: [{ c: 1 }] })).toBe(false);
  });

  it('fieldref: one field equal to another, with contains/startswith/endswith and cased', () => {
    const same = selection({ 'userIdentity.userName|fieldref': 'requestParameters.userName' });
    expect(same.matches({ userIdentity: { userName: 'Alice' }, requestParameters: { userName: 'alice' } })).toBe(true);
    expect(same.matches({ userIdentity: { userName: 'alice' }, requestParameters: { userName: 'bob' } })).toBe(false);
    expect(same.matches({ userIdentity: { userName: 'alice' } })).toBe(false);
    expect(same.matches({ userIdentity: { userName: null }, requestParameters: { userName: null } })).toBe(false);
    const arn = { userIdentity: { arn: 'arn:aws:iam::1:user/alice' }, requestParameters: { userName: 'alice' } };
    expect(selection({ 'userIdentity.arn|fieldref|contains': 'requestParameters.userName' }).matches(arn)).toBe(true);
    expect(selection({ 'userIdentity.arn|fieldref|endswith': 'requestParameters.userName' }).matches(arn)).toBe(true);
    expect(selection({ 'userIdentity.arn|fieldref|startswith': 'requestParameters.userName' }).matches(arn)).toBe(false);
    expect(selection({ 'userIdentity.arn|fieldref|startswith': 'requestParameters.userName' }).matches({ ...arn, requestParameters: { userName: 'ARN:aws' } })).toBe(true);
    expect(selection({ 'a|fieldref|cased': 'b' }).matches({ a: 'X', b: 'x' })).toBe(false);
    expect(selection({ 'a|fieldref|cased': 'b' }).matches({ a: 'X', b: 'X' })).toBe(true);
    expect(selection({ 'a|fieldref': 'b' }).matches({ a: 22, b: '22' })).toBe(true);
  });

  it('base64: the value base64-encoded', () => {
    expect(selection({ 'f|base64': 'hello' }).matches({ f: 'aGVsbG8=' })).toBe(true);
    expect(selection({ 'f|base64|contains': 'hello' }).matches({ f: 'xxaGVsbG8=xx' })).toBe(true);
    expect(selection({ 'f|base64': 'hello' }).matches({ f: 'hello' })).toBe(false);
  });

  it('base64offset: the three encodings of the value at each byte offset', () => {
    // pySigma's documented example: 'http://' encodes as aHR0cDovL, h0dHA6Ly, odHRwOi8v.
    const rule = selection({ 'f|base64offset|contains': 'http://' });
    for (const prefix of ['', 'a', 'ab', 'abc']) expect(rule.matches({ f: b64(`${prefix}http://evil.example/x`) }), prefix).toBe(true);
    expect(rule.matches({ f: b64('https://evil.example/x') })).toBe(false);
    expect(selection({ 'f|base64offset': 'http://' }).matches({ f: 'aHR0cDovL' })).toBe(true);
    expect(selection({ 'f|base64offset': 'http://' }).matches({ f: 'h0dHA6Ly' })).toBe(true);
    expect(selection({ 'f|base64offset': 'http://' }).matches({ f: 'odHRwOi8v' })).toBe(true);
    // `all` counts each value's variants as one: every value must appear, at any offset.
    const both = selection({ 'f|base64offset|contains|all': ['http://', 'evil'] });
    expect(both.matches({ f: b64('a http://x evil') })).toBe(true);
    expect(both.matches({ f: b64('a http://x good') })).toBe(false);
  });

  it('lt, lte, gt, gte on numbers and numeric strings', () => {
    expect(selection({ 'n|lt': 10 }).matches({ n: 9 })).toBe(true);
    expect(selection({ 'n|lt': 10 }).matches({ n: 10 })).toBe(false);
    expect(selection({ 'n|lte': 10 }).matches({ n: '10' })).toBe(true);
    expect(selection({ 'n|gt': 10 }).matches({ n: '10.5' })).toBe(true);
    expect(selection({ 'n|gt': 10 }).matches({ n: 10 })).toBe(false);
    expect(selection({ 'n|gte': 10 }).matches({ n: 10 })).toBe(true);
    expect(selection({ 'n|gte': 10 }).matches({ n: 'ten' })).toBe(false);
    expect(selection({ 'n|gte': 0 }).matches({ n: '' })).toBe(false);
    expect(selection({ 'n|gte': 0 }).matches({ n: true })).toBe(false);
    expect(selection({ 'n|gte': 0 }).matches({})).toBe(false);
  });

  it('neq: the item negated', () => {
    expect(selection({ 'f|neq': 'a' }).matches({ f: 'b' })).toBe(true);
    expect(selection({ 'f|neq': 'a' }).matches({ f: 'A' })).toBe(false);
    expect(selection({ 'f|neq': ['a', 'b'] }).matches({ f: 'b' })).toBe(false);
    expect(selection({ 'n|neq': 3 }).matches({ n: 4 })).toBe(true);
  });

  it('minute, hour, day, week, month, year of an ISO 8601 timestamp, as written', () => {
    const at = { eventTime: '2025-11-28T09:14:03-08:00' };
    expect(selection({ 'eventTime|minute': 14 }).matches(at)).toBe(true);
    expect(selection({ 'eventTime|hour': 9 }).matches(at)).toBe(true);
    expect(selection({ 'eventTime|hour': 17 }).matches(at)).toBe(false);
    expect(selection({ 'eventTime|day': 28 }).matches(at)).toBe(true);
    expect(selection({ 'eventTime|week': 48 }).matches(at)).toBe(true);
    expect(selection({ 'eventTime|month': 11 }).matches(at)).toBe(true);
    expect(selection({ 'eventTime|year': 2025 }).matches(at)).toBe(true);
    // ISO weeks: 1 January 2021 (a Friday) is in week 53 of 2020, 30 December 2024 (a Monday) in
    // week 1 of 2025, and 1 January 2026 (a Thursday) in week 1.
    expect(selection({ 'eventTime|week': 53 }).matches({ eventTime: '2021-01-01' })).toBe(true);
    expect(selection({ 'eventTime|week': 1 }).matches({ eventTime: '2024-12-30T00:00:00Z' })).toBe(true);
    expect(selection({ 'eventTime|week': 1 }).matches({ eventTime: '2026-01-01T00:00:00Z' })).toBe(true);
    expect(selection({ 'eventTime|hour': 0 }).matches({ eventTime: '2021-01-01' })).toBe(false);
    expect(selection({ 'eventTime|year': 2025 }).matches({ eventTime: 'yesterday' })).toBe(false);
    expect(selection({ 'eventTime|month': 13 }).matches({ eventTime: '2025-13-01' })).toBe(false);
    expect(selection({ 'eventTime|year': 2025 }).matches({ eventTime: 1764321243 })).toBe(false);
    expect(selection({ 'eventTime|hour': [8, 9] }).matches(at)).toBe(true);
  });

  it('modifiers work on GCP names too', () => {
    const entry = { protoPayload: { methodName: 'admissionregistration.k8s.io.v1.mutatingwebhookconfigurations.create' } };
    const compiled = rule(
      {
        selection: {
          'gcp.audit.method_name|startswith': 'admissionregistration.k8s.io.v',
          'gcp.audit.method_name|contains': ['.mutatingwebhookconfigurations.', '.validatingwebhookconfigurations.'],
          'gcp.audit.method_name|endswith': ['create', 'patch', 'replace'],
        },
        condition: 'selection',
      },
      GCP,
    );
    expect(compiled.matches(entry)).toBe(true);
    expect(compiled.matches({ protoPayload: { methodName: 'admissionregistration.k8s.io.v1.mutatingwebhookconfigurations.delete' } })).toBe(false);
  });
});
