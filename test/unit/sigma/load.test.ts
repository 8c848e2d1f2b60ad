// Loading rule files: folders walked in sorted order, non-YAML files in them ignored, several documents per
// file, Sigma 1.0 collections, ids, defaults, duplicates across files, and unreadable paths.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSigmaRules, loadSigmaRules } from '../../../intake/sigma';
import { ruleYaml } from './rules';

const root = mkdtempSync(path.join(os.tmpdir(), 'vigil-sigma-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const detection = { selection: { eventName: 'StopLogging' }, condition: 'selection' };
function write(relative: string, text: string): string {
  const file = path.join(root, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

describe('loadSigmaRules', () => {
  const folder = path.join(root, 'rules');
  write('rules/b.yml', ruleYaml({ id: 'b', detection }));
  write('rules/a/z.yaml', ruleYaml({ id: 'az', detection }));
  write('rules/a/y.YML', ruleYaml({ id: 'ay', detection }));
  write('rules/c.yml', `${ruleYaml({ id: 'c1', detection })}---\n${ruleYaml({ id: 'c2', detection })}`);
  write('rules/README.md', '# not a rule');
  write('rules/notes.txt', 'title: not a rule either');
  write('rules/dup.yml', ruleYaml({ id: 'b', title: 'again', detection }));

  it('walks folders recursively in sorted order, reads .yml and .yaml only, keeps the path as given', () => {
    const { rules, skipped } = loadSigmaRules([folder]);
    expect(rules.map((rule) => [rule.id, path.relative(root, rule.file), rule.document])).toEqual([
      ['ay', 'rules/a/y.YML', 0],
      ['az', 'rules/a/z.yaml', 0],
      ['b', 'rules/b.yml', 0],
      ['c1', 'rules/c.yml', 0],
      ['c2', 'rules/c.yml', 1],
    ]);
    expect(skipped).toEqual([{ file: path.join(folder, 'dup.yml'), document: 0, id: 'b', title: 'again', reason: `duplicate id, first in ${path.join(folder, 'b.yml')}` }]);
  });

  it('takes files and folders, in the order given; a duplicate across paths keeps the first', () => {
    const single = write('single.yml', ruleYaml({ id: 'c2', detection }));
    const { rules, skipped } = loadSigmaRules([single, path.join(folder, 'a')]);
    expect(rules.map((rule) => rule.id)).toEqual(['c2', 'ay', 'az']);
    expect(skipped).toEqual([]);
    expect(loadSigmaRules([path.join(folder, 'a'), single, folder]).skipped.map((entry) => [path.relative(root, entry.file), entry.reason])).toEqual([
      ['rules/a/y.YML', `duplicate id, first in ${path.join(folder, 'a/y.YML')}`],
      ['rules/a/z.yaml', `duplicate id, first in ${path.join(folder, 'a/z.yaml')}`],
      ['rules/c.yml', `duplicate id, first in ${single}`],
      ['rules/dup.yml', `duplicate id, first in ${path.join(folder, 'b.yml')}`],
    ]);
  });

  it('a file given on its own is read whatever its name, and skipped saying why when it is no rule', () => {
    const notes = path.join(folder, 'notes.txt');
    const { rules, skipped } = loadSigmaRules([notes]);
    expect(rules).toEqual([]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ file: notes, reason: 'the rule has no logsource' });
  });

  it('a path that does not exist throws, naming it', () => {
    const missing = path.join(root, 'nowhere');
    expect(() => loadSigmaRules([folder, missing])).toThrow(`Sigma rules path ${missing} does not exist`);
  });

  it('a broken link inside a folder throws, naming the link', () => {
    write('broken/ok.yml', ruleYaml({ detection }));
    symlinkSync(path.join(root, 'gone.yml'), path.join(root, 'broken/link.yml'));
    expect(() => loadSigmaRules([path.join(root, 'broken')])).toThrow(`Sigma rules path ${path.join(root, 'broken/link.yml')} does not exist`);
  });

  it('a path that cannot be read throws, naming it and why', () => {
    const file = write('plain/rule.yml', ruleYaml({ detection }));
    const below = path.join(file, 'below.yml');
    expect(() => loadSigmaRules([below])).toThrow(new RegExp(`^Sigma rules path ${below} cannot be read \\(ENOTDIR: not a directory`));
  });

  it('a linked folder that loops back is walked once', () => {
    write('loop/rule.yml', ruleYaml({ id: 'loop', detection }));
    symlinkSync(path.join(root, 'loop'), path.join(root, 'loop/again'));
    expect(loadSigmaRules([path.join(root, 'loop')]).rules.map((rule) => rule.id)).toEqual(['loop']);
  });
});

describe('rule documents', () => {
  it('a rule without id is known by its content, wherever its file lies; without level it is medium', () => {
    const { rules } = compileSigmaRules(`${ruleYaml({ id: 'first', detection })}---\n${ruleYaml({ detection })}`, 'two.yml');
    expect(rules.map((rule) => [rule.id, rule.level])).toEqual([
      ['first', 'medium'],
      [expect.stringMatching(/^sha256:[0-9a-f]{32}$/), 'medium'],
    ]);
    const moved = compileSigmaRules(ruleYaml({ detection }), 'elsewhere/other.yml').rules[0]!;
    expect(moved.id).toBe(rules[1]!.id);
    expect(compileSigmaRules(ruleYaml({ detection, level: 'High' }), 'x.yml').rules[0]!.id).not.toBe(rules[1]!.id);
  });

  it('matches unquoted numbers as written: a leading zero, 19 digits and an exponent are not rounded away', () => {
    const rule = (value: string) =>
      compileSigmaRules(`title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  selection:\n    f: ${value}\n  condition: selection\n`, 'x.yml').rules[0]!;
    expect(rule('012345678901').matches({ f: '012345678901' })).toBe(true);
    expect(rule('012345678901').matches({ f: 12345678901 })).toBe(false);
    expect(rule('4325670912345678901').matches({ f: '4325670912345678901' })).toBe(true);
    expect(rule('4325670912345678901').matches({ f: '4325670912345679000' })).toBe(false);
    expect(rule('1e3').matches({ f: '1e3' })).toBe(true);
    expect(rule('22').matches({ f: 22 })).toBe(true);
    expect(rule('22').matches({ f: '22' })).toBe(true);
  });

  it("reads the level in any case, as pySigma does", () => {
    expect(compileSigmaRules(ruleYaml({ detection, level: 'High' }), 'x.yml').rules[0]!.level).toBe('high');
  });

  it('skips a condition nested too deeply for the parser, and loads the file\'s other rules', () => {
    const deep = `${'('.repeat(20_000)}selection${')'.repeat(20_000)}`;
    const { rules, skipped } = compileSigmaRules(`${ruleYaml({ detection: { ...detection, condition: deep } })}---\n${ruleYaml({ id: 'fine', detection })}`, 'x.yml');
    expect(rules.map((rule) => rule.id)).toEqual(['fine']);
    expect(skipped).toEqual([{ file: 'x.yml', document: 0, title: expect.any(String), reason: expect.stringMatching(/^the rule is nested too deeply to compile/) }]);
  });

  it('metadata as written: one string for a list becomes a list, absent optional fields stay absent', () => {
    const [rule] = compileSigmaRules(ruleYaml({ level: 'critical', falsepositives: 'none', tags: ['attack.t1', 7], detection }), 'x.yml').rules;
    expect(rule).toMatchObject({ level: 'critical', falsepositives: ['none'], tags: ['attack.t1'], references: [] });
    expect(rule && 'description' in rule).toBe(false);
    expect(rule && 'author' in rule).toBe(false);
  });

  it('empty documents (a trailing ---) are not rules', () => {
    const { rules, skipped } = compileSigmaRules(`---\n---\n${ruleYaml({ detection })}---\n`, 'x.yml');
    expect(rules.map((rule) => rule.document)).toEqual([1]);
    expect(skipped).toEqual([]);
    expect(compileSigmaRules('# only a comment\n', 'x.yml')).toEqual({ rules: [], skipped: [{ file: 'x.yml', reason: 'the file holds no rule' }] });
  });

  it('matches never throws, whatever the event', () => {
    const [rule] = compileSigmaRules(ruleYaml({ detection: { selection: { 'a.b|contains': 'x' }, condition: 'selection' } }), 'x.yml').rules;
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const event of [null, [], 'text', 5, { a: { b: cyclic } }, { a: { b: 10n } }, { a: [[[[{ b: 'xx' }]]]] }] as unknown[]) {
      expect(() => rule?.matches(event as Record<string, unknown>)).not.toThrow();
    }
    expect(rule?.matches({ a: [[[[{ b: 'xx' }]]]] })).toBe(true);
    expect(rule?.matches({ a: { b: cyclic } })).toBe(false);
    expect(rule?.matches({ a: { b: 10n } })).toBe(false);
  });

  it('a keyword search over a very deep event does not overflow the stack', () => {
    const [rule] = compileSigmaRules(ruleYaml({ detection: { keywords: ['needle'], condition: 'keywords' } }), 'x.yml').rules;
    let deep: unknown = 'a needle';
    for (let depth = 0; depth < 100_000; depth++) deep = { d: deep };
    expect(rule?.matches({ deep })).toBe(true);
  });
});

describe('Sigma 1.0 collections (action: global, reset, repeat)', () => {
  const text = `action: global
title: Trail changes
logsource: { product: aws, service: cloudtrail }
detection:
    condition: selection
level: high
---
id: one
detection:
    selection: { eventName: StopLogging }
---
action: repeat
id: two
detection:
    selection: { eventName: DeleteTrail }
---
id: three
title: Overridden by the global document, as in pySigma
level: low
detection:
    selection: { eventName: UpdateTrail }
---
action: reset
---
id: four
detection:
    selection: { eventName: UpdateTrail }
    condition: selection
`;
  const { rules, skipped } = compileSigmaRules(text, 'collection.yml');

  it('the global document is merged into each following rule; the global wins a conflict', () => {
    expect(rules.map((rule) => [rule.id, rule.document, rule.title, rule.level])).toEqual([
      ['one', 1, 'Trail changes', 'high'],
      ['two', 2, 'Trail changes', 'high'],
      ['three', 3, 'Trail changes', 'high'],
    ]);
    expect(rules[0]?.matches({ eventName: 'StopLogging' })).toBe(true);
    expect(rules[1]?.matches({ eventName: 'DeleteTrail' })).toBe(true);
    expect(rules[1]?.matches({ eventName: 'StopLogging' })).toBe(false);
    expect(rules[2]?.matches({ eventName: 'UpdateTrail' })).toBe(true);
  });

  it('after a reset, documents stand alone again', () => {
    expect(skipped).toEqual([{ file: 'collection.yml', document: 5, id: 'four', reason: 'the rule has no title' }]);
  });
});
