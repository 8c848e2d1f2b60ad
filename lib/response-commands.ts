// Reading `/vigil` commands out of issue comments, and the words of Vigil's answer when one is refused.
// A comment holds at most one command: its first line that starts with `/vigil` in one of its own
// paragraphs (quoting someone's command, or showing one in an example, gives none). Pure functions:
// intake reads comments with them; the investigation validates what they produce.
import MarkdownIt from 'markdown-it';
import { code } from './markdown';
import type { ResponseCommand } from './response';

/** What a comment says: a command, a `/vigil` line that cannot be read (and why), or nothing (undefined). */
export type CommentCommand = { line: string; command: ResponseCommand } | { line: string; error: string };

export const ACCEPT_REASON_MAX = 500;

export const RESPONSE_USAGE = [
  '/vigil remediate <plan>                   ask for a proposed plan (p1, p2…) to be carried out',
  '/vigil approve <plan>                     approve a plan someone asked for',
  '/vigil cancel <plan>                      withdraw a plan asked for and not yet approved',
  '/vigil undo <plan>                        put back what a plan changed',
  '/vigil accept <reason> until <YYYY-MM-DD> accept the risk until that day (the watch is silent, the issue closed)',
].join('\n');

const commandLine = /^\s*\/vigil(?:\s+(.*))?$/i;
const planId = /^p[1-9]\d{0,5}$/i;
const planVerbs = new Set(['remediate', 'approve', 'cancel', 'undo']);
// As GitHub reads a comment: HTML blocks (comments among them) are not text anyone sees.
const markdown = new MarkdownIt({ html: true });

/**
 * The lines that count: those of the comment's own paragraphs, as Markdown reads them. Code (fenced or
 * indented), quotes (a line right under a `>` line continues the quote), lists, headings and HTML
 * (an invisible `<!-- … -->` among it) hold none: quoting someone's command, or showing one in an
 * example, gives none, and no command hides where a reader does not see it.
 */
function* readableLines(body: string): Generator<string> {
  const tokens = markdown.parse(body, {});
  for (const [index, token] of tokens.entries()) {
    const opening = tokens[index - 1];
    if (token.type === 'inline' && opening?.type === 'paragraph_open' && opening.level === 0) yield* token.content.split('\n');
  }
}

/** Whether `date` (YYYY-MM-DD) is a day of the calendar. */
function isCalendarDate(date: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const parsed = new Date(Date.UTC(year, month - 1, day));
  return parsed.getUTCFullYear() === year && parsed.getUTCMonth() === month - 1 && parsed.getUTCDate() === day;
}

/** The days a command is read on: `latest`, the last day an acceptance may run to (`response.maxAcceptance` on). */
export interface CommandDays {
  today: string;
  latest: string;
}

function readCommand(words: string, { today, latest }: CommandDays): ResponseCommand | string {
  const [verbWord = '', ...rest] = words.split(/\s+/);
  const verb = verbWord.toLowerCase();
  if (planVerbs.has(verb)) {
    const [plan, ...extra] = rest;
    if (!plan || extra.length > 0 || !planId.test(plan)) return `\`/vigil ${verb}\` takes one plan, as the issue names it: \`/vigil ${verb} p1\``;
    return { verb: verb as 'remediate' | 'approve' | 'cancel' | 'undo', plan: plan.toLowerCase() };
  }
  if (verb === 'accept') {
    const match = /^accept\s+(.*?)\s+until\s+(\S+)$/is.exec(words);
    if (!match) return '`/vigil accept` takes a reason and the last day it holds: `/vigil accept <reason> until <YYYY-MM-DD>`';
    const [, reason, until] = match as unknown as [string, string, string];
    if (reason.trim() === '') return 'the reason is missing: `/vigil accept <reason> until <YYYY-MM-DD>`';
    if (reason.length > ACCEPT_REASON_MAX) return `the reason is ${reason.length} characters long: at most ${ACCEPT_REASON_MAX}`;
    if (!isCalendarDate(until)) {
      return /^\d{4}-\d{2}-\d{2}$/.test(until) ? `${code(until, 40)} is not a day of the calendar` : `${code(until, 40)} is not a date written YYYY-MM-DD`;
    }
    if (until < today) return `${until} has passed (today is ${today})`;
    if (until > latest) return `${until} is further than response.maxAcceptance allows: accept it until ${latest} at the latest, and again then if it still holds`;
    return { verb: 'accept', reason, until };
  }
  return verb ? `${code(verbWord, 40)} is not a command of Vigil's` : 'the command is missing';
}

/**
 * The comment's command, its unreadable `/vigil` line with the reason, or undefined when it has none.
 * `today` (YYYY-MM-DD, UTC) is the earliest day an acceptance may run until.
 */
export function parseCommentCommand(body: string, days: CommandDays): CommentCommand | undefined {
  for (const line of readableLines(body)) {
    const match = commandLine.exec(line);
    if (!match) continue;
    const read = readCommand((match[1] ?? '').trim(), days);
    return typeof read === 'string' ? { line: line.trim(), error: read } : { line: line.trim(), command: read };
  }
  return undefined;
}

/**
 * Text from elsewhere (a validator's reason may repeat what a person typed) as prose that does
 * nothing: the characters that make links, images, HTML, entities and code escaped, and a word
 * joiner wherever GitHub would mention someone, reference an issue or make a link of a bare address.
 */
export function inertProse(text: string, max = 1000): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  const bounded = flat.length <= max ? flat : `${flat.slice(0, max)}…`;
  return bounded
    // `/` too, so that no line of an answer is ever a command.
    .replace(/[\\`*_[\]()<>!|~&/]/g, (char) => `\\${char}`)
    // A line that opens with a list item's or a heading's marker (`-`, `+`, `1.`, `2)`, `---`) would be one.
    .replace(/^([-+=]|\d{1,9}(?=[.)]))/, (marker) => (/^\d/.test(marker) ? `${marker}\\` : `\\${marker}`))
    // A joiner on both sides of `@`: after it no mention, before it no e-mail address (whose name is ASCII only).
    .replace(/@/g, '\u2060@\u2060')
    .replace(/#/g, '#\u2060')
    .replace(/:\\\//g, ':\u2060\\/')
    .replace(/\bwww\./gi, (www) => `${www.slice(0, 3)}\u2060.`);
}

/** Vigil's answer to a command it did not act on: the command quoted inert, who gave it, and why. */
export function refusalAnswer({ line, author, reason, usage = false }: { line: string; author: string; reason: string; usage?: boolean }): string {
  return [
    `**Not done:** ${code(line, 300)} from ${code(author, 60)}.`,
    '',
    reason,
    ...(usage ? ['', 'The commands:', '', '```text', RESPONSE_USAGE, '```'] : []),
  ].join('\n');
}
