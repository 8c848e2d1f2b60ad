// The local tracker's readable page and its login page. Markdown is rendered with raw HTML and
// autolinks off, so the inert rendering done for GitHub holds here too (people's comments included);
// only the collapsible blocks Vigil itself writes are turned back into HTML. Every form carries the
// session's CSRF token. A person logged in with their own token gets a comment form on each issue.
// Issues are listed one line each, opened with a click; long lines wrap.
import { createHash } from 'node:crypto';
import MarkdownIt from 'markdown-it';
import type { LocalIssue } from '../../lib/local-issues';
import type { LabelNames } from '../../lib/config';

export interface IssueFilter {
  state?: 'open' | 'closed';
  labels: string[];
}

const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });
/** For people's comments: no images either (each would be a request the reader's browser makes). */
const peoplesMarkdown = new MarkdownIt({ html: false, linkify: false, typographer: false }).disable('image');

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * Vigil's own text: its `details()` blocks stand alone as paragraphs (a code span that mentions them
 * starts with <code>), turned back into HTML. A person's text is rendered as written, never so.
 */
const render = (text: string) =>
  markdown
    .render(text)
    .replace(/<p>&lt;details&gt;&lt;summary&gt;(.*?)&lt;\/summary&gt;<\/p>/g, '<details><summary>$1</summary>')
    .replace(/<p>&lt;\/details&gt;<\/p>/g, '</details>');

const filterUrl = (filter: IssueFilter) => {
  const query = new URLSearchParams();
  if (filter.state) query.set('state', filter.state);
  for (const label of filter.labels) query.append('label', label);
  return `/issues${query.size > 0 ? `?${query}` : ''}`;
};

const csrfField = (csrf: string) => `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;

function actionButton(number: number, action: string, text: string, csrf: string): string {
  return `<form method="post" action="/issues/${number}/actions">${csrfField(csrf)}<button name="action" value="${action}">${text}</button></form>`;
}

function commentForm(number: number, csrf: string, person: string | undefined): string {
  if (!person) return '<p class="meta">Log in with your own token (<code>tracker.local.people</code>) to comment.</p>';
  return `<form class="comment-form" method="post" action="/issues/${number}/comments">${csrfField(csrf)}<textarea name="body" rows="3" maxlength="65536" required aria-label="comment on #${number}" placeholder="A comment, or a command: /vigil remediate p1"></textarea><button>Comment as ${escapeHtml(person)}</button></form>`;
}

function issueSection(issue: LocalIssue, filter: IssueFilter, names: LabelNames, csrf: string, person: string | undefined): string {
  const labels = issue.labels
    .map((label) => `<a class="label" href="${escapeHtml(filterUrl({ ...filter, labels: [...new Set([...filter.labels, label])] }))}">${escapeHtml(label)}</a>`)
    .join(' ');
  const comments = issue.comments
    .map(
      (comment) =>
        `<article class="comment" id="comment-${escapeHtml(comment.id)}"><div class="meta">${comment.author ? `<b>${escapeHtml(comment.author)}</b> · ` : ''}${escapeHtml(comment.updatedAt)}</div>${comment.author ? peoplesMarkdown.render(comment.body) : render(comment.body)}</article>`,
    )
    .join('\n');
  const suppressed = issue.labels.includes(names.suppress);
  const actions = [
    issue.state === 'open' ? actionButton(issue.number, 'close', 'Close', csrf) : actionButton(issue.number, 'reopen', 'Reopen', csrf),
    suppressed
      ? actionButton(issue.number, 'unsuppress', 'Unsuppress', csrf)
      : actionButton(issue.number, 'suppress', 'Suppress comments', csrf),
  ].join('');
  // One line per issue, opened with a click (no script: the page's CSP allows none).
  return `<details class="issue ${issue.state}" id="issue-${issue.number}">
<summary><span class="number">#${issue.number}</span> <span class="title">${escapeHtml(issue.title)}</span> <span class="state">${issue.state}</span> <span class="labels">${labels}</span> <time datetime="${escapeHtml(issue.updatedAt)}">${escapeHtml(issue.updatedAt)}</time></summary>
<div class="actions">${actions}</div>
<div class="body">${render(issue.body)}</div>
${comments}
${commentForm(issue.number, csrf, person)}
</details>`;
}

// Long lines (addresses, ARNs, code) wrap rather than widen the page: no horizontal scrolling.
const style = `
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328;overflow-wrap:anywhere}
h1{font-size:1.4rem}.issue{border:1px solid #d0d7de;border-radius:6px;padding:0 1rem;margin:.5rem 0}
.issue[open]{padding-bottom:1rem}.issue.closed{opacity:.7}summary{cursor:pointer;padding:.4rem 0}
.number{color:#57606a}.issue[open] .title{font-weight:600}time{color:#57606a;font-size:.8rem}
.state{font-size:.75rem;border-radius:1em;padding:.1em .6em;background:#1f883d;color:#fff;vertical-align:middle}
.closed .state{background:#8250df}.label{font-size:.75rem;background:#ddf4ff;border-radius:1em;padding:.1em .6em;text-decoration:none;color:#0969da}
.actions form{display:inline;margin-right:.5rem}.actions{margin:.5rem 0}
.comment{border-top:1px solid #d0d7de;margin-top:1rem}.meta{color:#57606a;font-size:.8rem;padding-top:.5rem}
code,pre{background:#f6f8fa;border-radius:4px;white-space:pre-wrap}pre{padding:.5rem}table{border-collapse:collapse;max-width:100%}
td,th{border:1px solid #d0d7de;padding:.2rem .5rem}img{max-width:100%;border:1px solid #d0d7de}
.error{color:#cf222e}.comment-form textarea{width:100%;box-sizing:border-box;font:inherit}
`;

/** The pages' one inline style, for the Content-Security-Policy, which allows no other. */
export const styleHash = `'sha256-${createHash('sha256').update(style).digest('base64')}'`;

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${style}</style></head>
<body>${body}
</body></html>`;

export function issuesPage(issues: LocalIssue[], filter: IssueFilter, names: LabelNames, csrf: string, person?: string): string {
  const newestFirst = [...issues].sort((a, b) => b.number - a.number);
  const stateLink = (state: IssueFilter['state'], text: string) =>
    filter.state === state ? `<b>${text}</b>` : `<a href="${escapeHtml(filterUrl({ ...filter, state }))}">${text}</a>`;
  const active = filter.labels.map((label) => `<span class="label">${escapeHtml(label)}</span>`).join(' ');
  return page(
    'Vigil — issues',
    `<h1>Vigil — ${issues.length} issue${issues.length === 1 ? '' : 's'}</h1>
<p>The local tracker. ${stateLink(undefined, 'All')} · ${stateLink('open', 'Open')} · ${stateLink('closed', 'Closed')}
${active ? ` · labels: ${active} (<a href="${escapeHtml(filterUrl({ ...filter, labels: [] }))}">clear</a>)` : ''} · JSON: <a href="/v1/issues">/v1/issues</a></p>
<div class="actions">${person ? `Logged in as <b>${escapeHtml(person)}</b>. ` : ''}<form method="post" action="/logout">${csrfField(csrf)}<button>Log out</button></form></div>
${newestFirst.map((issue) => issueSection(issue, filter, names, csrf, person)).join('\n') || '<p>No issues.</p>'}`,
  );
}

export function loginPage(refused: boolean): string {
  return page(
    'Vigil — log in',
    `<h1>Vigil — log in</h1>
<p>The local tracker's issues. Log in with the tracker token (the intake token, unless <code>tracker.local.token</code> is set), or with your own token of <code>tracker.local.people</code> to comment.</p>
${refused ? '<p class="error">Wrong token.</p>' : ''}
<form method="post" action="/login"><input type="password" name="token" aria-label="token" autocomplete="current-password" required autofocus> <button>Log in</button></form>`,
  );
}
