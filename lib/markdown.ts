// Markdown building blocks for untrusted text. Text from an alert only ever reaches an issue inside
// a code span or a code block whose fence it cannot close, so it cannot mention anyone, reference
// an issue, make a link or inject HTML. Pure functions: workflow code may use them too.

/** GitHub refuses issue and comment bodies longer than this. */
export const GITHUB_BODY_LIMIT = 65_536;

const longestRun = (text: string, char: string) => {
  let longest = 0;
  let current = 0;
  for (const c of text) {
    current = c === char ? current + 1 : 0;
    if (current > longest) longest = current;
  }
  return longest;
};

/** Bounds a text, saying visibly that it was cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [truncated, ${text.length - max} more characters]`;
}

/** Untrusted text as an inline code span on one line. */
export function code(text: string, max = 300): string {
  const flat = truncate(text.replace(/[\r\n\t\f\v\u2028\u2029]+/g, ' '), max);
  const fence = '`'.repeat(longestRun(flat, '`') + 1);
  // A space each side keeps a leading or trailing backtick (or space) part of the content.
  const pad = /^[` ]|[` ]$/.test(flat) || flat === '' ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Untrusted text as a code span inside a table cell, where `|` would end the cell. */
export function cell(text: string, max = 120): string {
  return code(text, max).replaceAll('|', '\\|');
}

/** Untrusted text as a fenced code block that nothing inside can close. */
export function codeBlock(text: string, max = 10_000): string {
  const body = truncate(text, max);
  const fence = '`'.repeat(Math.max(3, longestRun(body, '`') + 1));
  return `${fence}text\n${body}\n${fence}`;
}

/** A collapsible block; `summary` must already be safe. */
export function details(summary: string, content: string): string {
  return `<details><summary>${summary}</summary>\n\n${content}\n\n</details>`;
}

/**
 * Untrusted text made fit for a one-line title: no control characters, bounded length, and a word
 * joiner after `@` and `#` so a title can neither mention anyone nor reference an issue.
 */
export function plainTitle(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  return truncate(flat, max).replace(/([@#])/g, '$1\u2060');
}

/** A body within GitHub's limit, cut visibly, with its trailer (a hidden marker) always whole at the end. */
export function fitBody(body: string, trailer = '', limit = GITHUB_BODY_LIMIT): string {
  const separator = trailer ? '\n\n' : '';
  const room = limit - trailer.length - separator.length;
  if (body.length <= room) return `${body}${separator}${trailer}`;
  const note = `\n\n… [truncated: ${body.length - room} characters over the limit]`;
  return `${body.slice(0, room - note.length)}${note}${separator}${trailer}`;
}
