// Markdown building blocks for untrusted text. Text from an alert only ever reaches an issue inside
// a code span or a code block whose fence it cannot close, so it cannot mention anyone, reference
// an issue, make a link or inject HTML.

const longestRun = (text: string, char: string) =>
  Math.max(0, ...(text.match(new RegExp(`${char}+`, 'g')) ?? []).map((run) => run.length));

/** Bounds a text, saying visibly that it was cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [truncated, ${text.length - max} more characters]`;
}

/** Untrusted text as an inline code span on one line. */
export function code(text: string, max = 300): string {
  const flat = truncate(text.replace(/[\r\n\t]+/g, ' '), max);
  const fence = '`'.repeat(longestRun(flat, '`') + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || flat.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Untrusted text as a fenced code block that nothing inside can close. */
export function codeBlock(text: string, max = 10_000): string {
  const body = truncate(text, max);
  const fence = '`'.repeat(Math.max(3, longestRun(body, '`') + 1));
  return `${fence}text\n${body}\n${fence}`;
}

/** Untrusted text made fit for a one-line title: no control characters, bounded length. */
export function plainTitle(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  return truncate(text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim(), max);
}
