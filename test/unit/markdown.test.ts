import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { code, codeBlock, plainTitle, truncate } from '../../lib/markdown';

// Rendered with a real CommonMark parser: the untrusted text must come out as exactly one code
// element holding the text, whatever it contains.
const markdown = new MarkdownIt({ html: true, linkify: true });

const hostile = [
  '@security-team please look',
  '<img src=x onerror=alert(1)> <script>alert(1)</script>',
  'closes #12 and org/repo#3',
  '`` ` ``` backticks ` everywhere `',
  '`leading and trailing`',
  '[click](https://evil.example) https://evil.example',
  'line one\nline two\r\n```\n# heading',
];

describe('inline code for untrusted text', () => {
  it.each(hostile)('keeps %j inside one code span', (text) => {
    const html = markdown.renderInline(code(text));
    expect(html.startsWith('<code>') && html.endsWith('</code>')).toBe(true);
    expect(html.match(/<code>/g)).toHaveLength(1);
    expect(html).not.toMatch(/<(a|img|script)\b/);
  });

  it('bounds the length visibly', () => {
    expect(code('x'.repeat(500), 10)).toContain('[truncated, 490 more characters]');
  });
});

describe('code blocks for untrusted text', () => {
  it.each(hostile)('keeps %j inside one block', (text) => {
    const html = markdown.render(`${codeBlock(text)}\n\nafter`);
    expect(html.match(/<pre>/g)).toHaveLength(1);
    expect(html).toMatch(/<\/pre>\n<p>after<\/p>\n$/);
    expect(html).not.toMatch(/<(a|img|script|h1)\b/);
  });
});

describe('titles', () => {
  it('drops control characters and bounds the length', () => {
    expect(plainTitle('a\u0000b\nc\u001bd')).toBe('a b c d');
    expect(plainTitle('t'.repeat(300)).length).toBeLessThan(240);
    expect(truncate('short', 10)).toBe('short');
  });
});
