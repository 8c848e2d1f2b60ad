// Every way a rule is skipped, with the reason it gives: nothing Vigil cannot evaluate faithfully is
// loaded half-understood, and nothing is dropped without a word.
import { describe, expect, it } from 'vitest';
import { compileSigmaRules } from '../../../intake/sigma';
import { AWS, ruleYaml, skipReason, skippedFrom } from './rules';

const detection = (extra: Record<string, unknown>, condition = 'selection') => ({ selection: { eventName: 'x' }, ...extra, condition });

describe('skipped documents', () => {
  it('a correlation rule', () => {
    const text = `${ruleYaml({ id: 'base', name: 'failed_login', detection: detection({}) })}---
title: many failed logins
id: corr
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [sourceIPAddress]
    timespan: 5m
    condition: { gte: 10 }
`;
    const { rules, skipped } = compileSigmaRules(text, 'mr.yml');
    expect(rules.map((rule) => rule.id)).toEqual(['base']);
    expect(skipped).toEqual([
      { file: 'mr.yml', document: 1, id: 'corr', title: 'many failed logins', reason: 'a correlation rule (event_count): it counts or orders several events, and Vigil matches single events' },
    ]);
  });

  it('a Sigma filter', () => {
    const text = `title: Filter admins
logsource: { product: aws, service: cloudtrail }
filter:
    rules: [4db60cc0-36fb-42b7-9b58-a5b53019fb74]
    selection: { userIdentity.userName|startswith: adm_ }
    condition: selection
`;
    expect(skippedFrom(text).reason).toBe('a Sigma filter, which tunes other rules in a conversion pipeline; Vigil does not apply filters');
  });

  it('YAML that does not parse, with the parser’s message; the other documents still load', () => {
    const text = `${ruleYaml({ id: 'good', detection: detection({}) })}---\ntitle: [unclosed\n`;
    const { rules, skipped } = compileSigmaRules(text, 'bad.yml');
    expect(rules.map((rule) => rule.id)).toEqual(['good']);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ file: 'bad.yml', document: 1 });
    expect(skipped[0]?.reason).toBe(
      `YAML does not parse: Flow sequence in block collection must be sufficiently indented and end with a ] at line ${text.split('\n').length}, column 1`,
    );
  });

  it('duplicate keys are a YAML error', () => {
    expect(skippedFrom('title: a\ntitle: b\n').reason).toBe('YAML does not parse: Map keys must be unique at line 2, column 1');
  });

  it('a document that is not a mapping', () => {
    expect(skippedFrom('- just\n- a list\n').reason).toBe('the document is not a YAML mapping');
  });

  it('a rule without title, logsource, detection or condition', () => {
    expect(skippedFrom({ title: undefined, detection: detection({}) }).reason).toBe('the rule has no title');
    expect(skippedFrom({ logsource: undefined, detection: detection({}) }).reason).toBe('the rule has no logsource');
    expect(skippedFrom({}).reason).toBe('the rule has no detection');
    expect(skipReason({ selection: { eventName: 'x' } })).toBe('the detection has no condition');
    expect(skipReason({ selection: { eventName: 'x' }, condition: 5 })).toBe('condition 5 is not a string or a list of strings');
  });

  it('a log source Vigil does not read (what the Azure, M365, Okta… rules get)', () => {
    expect(skippedFrom({ logsource: { product: 'azure', service: 'activitylogs' }, detection: detection({}) }).reason).toBe(
      'logsource product: azure, service: activitylogs is not one Vigil reads (it reads product: aws, service: cloudtrail or product: gcp, service: gcp.audit)',
    );
    expect(skippedFrom({ logsource: { ...AWS, category: 'process_creation' }, detection: detection({}) }).reason).toMatch(
      /^logsource category: process_creation, product: aws, service: cloudtrail is not one Vigil reads/,
    );
    expect(skippedFrom({ logsource: { definition: 'anything' }, detection: detection({}) }).reason).toMatch(/^logsource without category, product or service is not one/);
  });

  it('a level that is not one of the five', () => {
    expect(skippedFrom({ level: 'severe', detection: detection({}) }).reason).toBe("level 'severe' is not one of informational, low, medium, high, critical");
  });

  it('an unknown collection action', () => {
    expect(skippedFrom('action: merge\ntitle: x\n').reason).toBe("unknown collection action 'merge' (Sigma 1.0 had global, reset and repeat)");
  });
});

describe('skipped conditions', () => {
  it('an aggregation', () => {
    expect(skipReason(detection({}, 'selection | count() by sourceIPAddress > 5'))).toBe(
      "condition 'selection | count() by sourceIPAddress > 5' has an aggregation ('|'), which Sigma replaced by correlation rules; Vigil matches single events",
    );
  });

  it('near', () => {
    expect(skipReason(detection({ other: { eventName: 'y' } }, 'selection near other'))).toBe(
      "condition 'selection near other' uses 'near', which Sigma replaced by correlation rules; Vigil matches single events",
    );
  });

  it("a detection with a 'timeframe'", () => {
    expect(skipReason({ ...detection({}), timeframe: '5m' })).toBe("the detection has a 'timeframe', the window of a Sigma 1.0 aggregation; Vigil matches single events");
  });

  it('an identifier the detection does not define', () => {
    expect(skipReason(detection({}, 'selection and not filter'))).toBe("condition names 'filter', which the detection does not define");
  });

  it('a pattern that names no identifier', () => {
    expect(skipReason(detection({}, 'selection and not 1 of filter*'))).toBe("condition 'of filter*' matches no search identifier");
    expect(skipReason({ _only: { eventName: 'x' }, condition: '1 of them' })).toBe("condition 'of them' matches no search identifier");
  });

  it('syntax errors', () => {
    expect(skipReason(detection({}, 'selection and'))).toBe("condition 'selection and': expected a search identifier at the end");
    expect(skipReason(detection({}, '(selection'))).toBe("condition '(selection': expected ')' at the end");
    expect(skipReason(detection({}, 'selection selection'))).toBe("condition 'selection selection': expected 'and', 'or' or the end at 'selection'");
    expect(skipReason(detection({}, '1 of'))).toBe("condition '1 of': expected a search identifier pattern or 'them' at the end");
    expect(skipReason(detection({}, 'sel*'))).toBe("condition 'sel*': expected a search identifier at 'sel*'");
    expect(skipReason(detection({}, 'selection AND selection'))).toBe("condition 'selection AND selection': expected 'and', 'or' or the end at 'AND'");
    expect(skipReason(detection({}, 'selection = 1'))).toBe("condition 'selection = 1' has '=', which is not a search identifier or operator");
  });
});

describe('skipped values and modifiers', () => {
  it('an unknown modifier', () => {
    expect(skipReason(detection({ selection: { 'eventName|contain': 'x' } }))).toBe("unknown modifier 'contain'");
    expect(skipReason(detection({ selection: { 'eventName|constructor': 'x' } }))).toBe("unknown modifier 'constructor'");
    expect(skipReason(detection({ selection: { 'eventName||contains': 'x' } }))).toBe("unknown modifier ''");
  });

  it('the modifiers of the spec Vigil does not implement, each saying why', () => {
    expect(skipReason(detection({ selection: { 'f|windash|contains': '-enc' } }))).toBe(
      "modifier 'windash' is not implemented: it is for Windows command-line dash variants, which cloud audit logs do not have",
    );
    for (const name of ['wide', 'utf16', 'utf16le', 'utf16be']) {
      expect(skipReason(detection({ selection: { [`f|${name}|base64offset|contains`]: 'ping' } }))).toBe(
        `modifier '${name}' is not implemented: it is for UTF-16 text, which JSON cloud audit logs do not carry`,
      );
    }
    expect(skipReason(detection({ selection: { 'f|expand': '%Servers%' } }))).toBe(
      "modifier 'expand' is not implemented: it is for placeholders, which need values from a processing pipeline Vigil does not have",
    );
  });

  it('a regular expression RE2 cannot run (lookaround, backreferences) or that does not parse, with its error', () => {
    expect(skipReason(detection({ selection: { 'f|re': '(?<=user/)admin' } }))).toMatch(/^regular expression '\(\?<=user\/\)admin' is not RE2 syntax \(no lookaround or backreferences\): /);
    expect(skipReason(detection({ selection: { 'f|re': '(a)\\1' } }))).toMatch(/^regular expression '\(a\)\\1' is not RE2 syntax .*invalid escape/);
    expect(skipReason(detection({ selection: { 'f|re': 'a[' } }))).toMatch(/^regular expression 'a\[' is not RE2 syntax .*missing closing \]/);
  });

  it('modifiers given values they cannot take', () => {
    const reason = (search: Record<string, unknown>) => skipReason(detection({ selection: search }));
    expect(reason({ 'f|i': 'x' })).toBe("modifier 'i' only follows 're'");
    expect(reason({ 'f|contains|re': 'x' })).toBe("modifier 're' must come first, not after 'contains'");
    expect(reason({ 'f|re|contains': 'x' })).toBe("modifier 'contains' cannot apply to regular expression 'x'");
    expect(reason({ 'f|base64|cidr': '10.0.0.0/8' })).toBe("modifier 'cidr' must come first, not after 'base64'");
    expect(reason({ 'f|cidr': '10.0.0.0/33' })).toBe("'10.0.0.0/33' is not a CIDR range (modifier 'cidr')");
    expect(reason({ 'f|cidr': 'corp-net' })).toBe("'corp-net' is not a CIDR range (modifier 'cidr')");
    expect(reason({ 'f|gt': '5' })).toBe("modifier 'gt' needs a number, not '5'");
    expect(reason({ 'f|hour': 1.5 })).toBe("modifier 'hour' needs a whole number, not 1.5");
    expect(reason({ 'f|exists': 'yes' })).toBe("modifier 'exists' needs true or false, not 'yes'");
    expect(reason({ 'f|exists': [true, false] })).toBe("'f|exists' takes one value, true or false");
    expect(reason({ 'f|contains|exists': true })).toBe("modifier 'exists' must come first, not after 'contains'");
    expect(reason({ 'f|base64': 'a*' })).toBe("modifier 'base64' cannot apply to 'a*': it has wildcards");
    expect(reason({ 'f|base64offset': 'a?' })).toBe("modifier 'base64offset' cannot apply to 'a?': it has wildcards");
    expect(reason({ 'f|fieldref': 'other*' })).toBe("modifier 'fieldref' cannot apply to 'other*': it has wildcards");
    expect(reason({ 'f|contains': null })).toBe("modifier 'contains' cannot apply to a null value");
    expect(reason({ 'f|cased': { nested: 'map' } })).toBe('value {"nested":"map"} is not a string, number, boolean or null');
    expect(reason({ f: ['a', ['b']] })).toBe(`the values of 'f' must be strings, numbers, booleans or null, not ["b"]`);
    expect(reason({ 'f|base64offset|fieldref': 'x' })).toBe('a fieldref value cannot be one of several variants');
  });

  it('keywords that need a field', () => {
    expect(skipReason({ keywords: [null], condition: 'keywords' })).toBe('a keyword cannot be null: null needs a field');
    expect(skipReason({ keywords: { '|fieldref': 'other' }, condition: 'keywords' })).toBe('keywords cannot use fieldref: it needs a field');
    expect(skipReason({ keywords: { '|exists': true }, condition: 'keywords' })).toBe('keywords cannot use exists: it needs a field');
  });

  it('an empty search identifier', () => {
    expect(skipReason({ selection: {}, condition: 'selection' })).toBe("search identifier 'selection' is empty");
    expect(skipReason({ selection: [], condition: 'selection' })).toBe("search identifier 'selection' is empty");
  });

  it('an unused search identifier is still compiled: a rule is loaded whole or not at all', () => {
    expect(skipReason(detection({ unused: { 'f|contain': 'x' } }))).toBe("unknown modifier 'contain'");
  });
});

describe('duplicate ids', () => {
  it('the first rule with an id is kept, later ones are skipped naming the first file', () => {
    const text = `${ruleYaml({ id: 'same', title: 'one', detection: detection({}) })}---\n${ruleYaml({ id: 'same', title: 'two', detection: detection({}) })}`;
    const { rules, skipped } = compileSigmaRules(text, 'dup.yml');
    expect(rules.map((rule) => rule.title)).toEqual(['one']);
    expect(skipped).toEqual([{ file: 'dup.yml', document: 1, id: 'same', title: 'two', reason: 'duplicate id, first in dup.yml' }]);
  });
});
