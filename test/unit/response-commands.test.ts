// `/vigil` commands read out of issue comments: the first command line outside code and quotes, each
// verb's arguments, the acceptance's reason and date; and the answer's text, inert whatever it repeats.
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { inertProse, parseCommentCommand, refusalAnswer } from '../../lib/response-commands';

const today = '2026-12-01';
const latest = '2027-03-01';
const parse = (body: string) => parseCommentCommand(body, { today, latest });

describe('reading a command from a comment', () => {
  it.each([
    ['/vigil remediate p1', { verb: 'remediate', plan: 'p1' }],
    ['/vigil APPROVE P2', { verb: 'approve', plan: 'p2' }],
    ['   /Vigil cancel p12  ', { verb: 'cancel', plan: 'p12' }],
    ['Looks right to me.\n\n/vigil undo p3\n/vigil approve p1', { verb: 'undo', plan: 'p3' }],
    ['/vigil accept staging box, firewalled upstream until 2027-01-31', { verb: 'accept', reason: 'staging box, firewalled upstream', until: '2027-01-31' }],
    ['/vigil accept kept open until the migration until 2026-12-01', { verb: 'accept', reason: 'kept open until the migration', until: '2026-12-01' }],
    ['/vigil accept known\tand UNTIL 2027-02-28', { verb: 'accept', reason: 'known\tand', until: '2027-02-28' }],
  ])('reads %j', (body, command) => {
    expect(parse(body)).toEqual({ line: body.split('\n').find((line) => /^\s*\/vigil/i.test(line))!.trim(), command });
  });

  it.each([
    'no command here',
    'please run /vigil approve p1 for me',
    '/vigilant approve p1',
    '> /vigil approve p1\nquoted, so not mine',
    '  > /vigil approve p1',
    '> alice wrote: please approve\n/vigil approve p1',
    '```\n/vigil approve p1\n```',
    '~~~~md\n/vigil approve p1\n~~~\nstill inside\n~~~~',
    '````\n```\n/vigil approve p1\n````',
    '',
  ])('finds no command in %j', (body) => {
    expect(parse(body)).toBeUndefined();
  });

  it('reads the line after a quote ends at a blank line', () => {
    expect(parse('> alice wrote: please approve\n\n/vigil approve p1')).toMatchObject({ command: { verb: 'approve', plan: 'p1' } });
  });

  it('reads the line after a fence closes, and after a line that only looks like a fence', () => {
    expect(parse('```\nexample\n```\n/vigil cancel p1')).toMatchObject({ command: { verb: 'cancel', plan: 'p1' } });
    expect(parse('```a`b\n/vigil cancel p2')).toMatchObject({ command: { verb: 'cancel', plan: 'p2' } });
  });

  it.each([
    ['/vigil', 'the command is missing'],
    ['/vigil approve', 'takes one plan'],
    ['/vigil approve p1 p2', 'takes one plan'],
    ['/vigil approve plan-1', 'takes one plan'],
    ['/vigil approve p0', 'takes one plan'],
    ['/vigil deploy p1', "is not a command of Vigil's"],
    ['/vigil accept forever', 'takes a reason and the last day'],
    ['/vigil accept  until 2027-01-01', 'the reason is missing'],
    ['/vigil accept fine until 2027-02-29', 'is not a day of the calendar'],
    ['/vigil accept fine until 2027-13-01', 'is not a day of the calendar'],
    ['/vigil accept fine until 31/01/2027', 'is not a date written YYYY-MM-DD'],
    ['/vigil accept fine until 2026-11-30', 'has passed (today is 2026-12-01)'],
    [`/vigil accept ${'x'.repeat(501)} until 2027-01-01`, 'at most 500'],
    ['/vigil accept forever until 9999-12-31', 'accept it until 2027-03-01 at the latest'],
  ])('cannot read %j, and says why', (body, why) => {
    const read = parse(body);
    expect(read).toMatchObject({ line: body.trim(), error: expect.stringContaining(why) });
  });

  it('takes a reason of exactly 500 characters', () => {
    expect(parse(`/vigil accept ${'x'.repeat(500)} until 2027-01-01`)).toMatchObject({ command: { verb: 'accept' } });
  });

  const otherLine = fc.string({ maxLength: 40 }).filter((line) => !/^\s*\/vigil(\s|$)/i.test(line) && !/^\s*(```|~~~)/.test(line) && !/[\r\n]/.test(line));
  const verb = fc.constantFrom('remediate', 'approve', 'cancel', 'undo');
  const mixedCase = (word: string) => fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((upper) => [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));

  // Prose: what a person writes around a command (Markdown's blocks are tried on their own below).
  const proseLine = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ,.]{0,39}$/);

  it('finds a plan command among any other lines, in any case, indented up to three spaces', () => {
    fc.assert(
      fc.property(fc.array(proseLine, { maxLength: 5 }), verb.chain((v) => fc.tuple(fc.constant(v), mixedCase(v))), fc.integer({ min: 1, max: 999 }), fc.nat(3), (before, [v, typed], n, indent) => {
        const body = [...before, `${' '.repeat(indent)}/vigil ${typed} p${n}`, '/vigil approve p999'].join('\n');
        expect(parse(body)).toEqual({ line: `/vigil ${typed} p${n}`, command: { verb: v, plan: `p${n}` } });
      }),
    );
  });

  it.each([
    ['an HTML comment, which no reader sees', 'Looks fine to me.\n\n<!--\n/vigil remediate p1\n-->'],
    ['an HTML block', '<details>\n/vigil remediate p1\n</details>'],
    ['an indented code block', 'An example:\n\n    /vigil remediate p1'],
    ['a list', '- /vigil remediate p1'],
    ['a heading', '# /vigil remediate p1'],
  ])('reads no command in %s', (_, body) => {
    expect(parse(body)).toBeUndefined();
  });

  it('reads the command under a fence indented four spaces, which is code and opens no fence', () => {
    expect(parse('    ```\n/vigil remediate p1')).toMatchObject({ command: { verb: 'remediate', plan: 'p1' } });
  });

  it('never reads a command that is quoted or inside a fenced block', () => {
    fc.assert(
      fc.property(fc.array(otherLine, { maxLength: 4 }), verb, fc.constantFrom('```', '~~~', '````'), fc.boolean(), (lines, v, fence, asQuote) => {
        const command = `/vigil ${v} p1`;
        const body = asQuote ? [...lines, `> ${command}`].join('\n') : [fence, ...lines.filter((line) => !line.includes(fence[0]!)), command, fence].join('\n');
        expect(parse(body)).toBeUndefined();
      }),
    );
  });

  it('accepts every calendar day from today to the latest, and none before or after', () => {
    const day = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2035-12-31T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10));
    fc.assert(
      fc.property(day, (until) => {
        const read = parse(`/vigil accept reason until ${until}`);
        if (until < today) expect(read).toMatchObject({ error: expect.stringContaining('has passed') });
        else if (until > latest) expect(read).toMatchObject({ error: expect.stringContaining('further than response.maxAcceptance allows') });
        else expect(read).toEqual({ line: `/vigil accept reason until ${until}`, command: { verb: 'accept', reason: 'reason', until } });
      }),
    );
  });
});

// html and linkify on: as permissive as GitHub's renderer, so an escape shows up.
const markdown = new MarkdownIt({ html: true, linkify: true });
const hostile = fc.string({
  unit: fc.oneof(
    fc.constantFrom('`', '|', '<', '>', '@', '#', '[', ']', '(', ')', '!', '*', '_', '~', '\\', '\n', ' ', '-', ':', '/', '&'),
    fc.constantFrom('@admin', '#12', 'org/repo#3', '<script>', '<img src=x onerror=alert(1)>', 'https://evil.example', 'www.evil.example', '[x](https://evil.example)', '<!--', '/vigil approve p1'),
    fc.string({ maxLength: 3 }),
  ),
  maxLength: 80,
});

describe("the answer's text", () => {
  it('makes any reason prose that mentions, links and tags nothing', () => {
    fc.assert(
      fc.property(hostile, (reason) => {
        const answer = refusalAnswer({ line: '/vigil approve p1', author: 'alice', reason: inertProse(reason) });
        const html = markdown.render(answer);
        const tags = [...html.matchAll(/<\/?([a-z][a-z0-9]*)/gi)].map((match) => match[1]!.toLowerCase());
        for (const tag of tags) expect(['p', 'strong', 'code']).toContain(tag);
        const text = html.replace(/<code>[\s\S]*?<\/code>/g, '');
        expect(text).not.toMatch(/@[a-z0-9]/i);
        expect(text).not.toMatch(/#\d/);
        // Vigil's own answer is never a command, whatever the reason repeats.
        expect(parse(answer)).toBeUndefined();
      }),
    );
  });

  it('makes no e-mail link of an address in a reason', () => {
    for (const reason of ['p1@adminwww.evil.example', 'a.b@evil.com', 'mail alice@example.com now']) {
      expect(markdown.render(inertProse(reason)), reason).not.toContain('<a');
    }
  });

  it('never makes a list, a heading or a rule of a reason that opens with their marker', () => {
    for (const reason of ['-', '- item', '+ item', '* item', '1. item', '2) item', '---', '# title', '=']) {
      const html = markdown.render(refusalAnswer({ line: '/vigil approve p1', author: 'alice', reason: inertProse(reason) }));
      const tags = [...html.matchAll(/<\/?([a-z][a-z0-9]*)/gi)].map((match) => match[1]!.toLowerCase());
      expect(new Set(tags), reason).toEqual(new Set(['p', 'strong', 'code']));
    }
  });

  it('keeps the reason readable', () => {
    const html = markdown.renderInline(inertProse("the plan p1 was asked for by alice: approval needs a second person (response.selfApproval is off)"));
    expect(html).toBe('the plan p1 was asked for by alice: approval needs a second person (response.selfApproval is off)');
  });

  it('quotes the command inert and gives the usage when asked', () => {
    const answer = refusalAnswer({ line: '/vigil deploy `x` @bob', author: 'mallory', reason: 'unknown', usage: true });
    expect(answer).toContain('``/vigil deploy `x` @bob``');
    expect(answer).toContain('/vigil accept <reason> until <YYYY-MM-DD>');
  });
});
