// The local tracker's readable page. Markdown is rendered with raw HTML and autolinks off, so the
// inert rendering done for GitHub holds here too.
import MarkdownIt from 'markdown-it';
import type { LocalIssue } from '../../activities/tracker/local';

const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function issueSection(issue: LocalIssue): string {
  const labels = issue.labels.map((label) => `<span class="label">${escapeHtml(label)}</span>`).join(' ');
  const comments = issue.comments
    .map(
      (comment) =>
        `<article class="comment"><div class="meta">${escapeHtml(comment.updatedAt)}</div>${markdown.render(comment.body)}</article>`,
    )
    .join('\n');
  return `<section class="issue ${issue.state}" id="issue-${issue.number}">
<h2><a href="#issue-${issue.number}">#${issue.number}</a> ${escapeHtml(issue.title)} <span class="state">${issue.state}</span></h2>
<div class="labels">${labels}</div>
<div class="body">${markdown.render(issue.body)}</div>
${comments}
</section>`;
}

export function issuesPage(issues: LocalIssue[]): string {
  const newestFirst = [...issues].sort((a, b) => b.number - a.number);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil — issues</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem}.issue{border:1px solid #d0d7de;border-radius:6px;padding:0 1rem 1rem;margin:1.5rem 0}
.issue.closed{opacity:.7}h2{font-size:1.1rem}h2 a{color:#57606a;text-decoration:none}
.state{font-size:.75rem;border-radius:1em;padding:.1em .6em;background:#1f883d;color:#fff;vertical-align:middle}
.closed .state{background:#8250df}.label{font-size:.75rem;background:#ddf4ff;border-radius:1em;padding:.1em .6em}
.comment{border-top:1px solid #d0d7de;margin-top:1rem}.meta{color:#57606a;font-size:.8rem;padding-top:.5rem}
code,pre{background:#f6f8fa;border-radius:4px}pre{padding:.5rem;overflow:auto}
</style></head>
<body><h1>Vigil — ${issues.length} issue${issues.length === 1 ? '' : 's'}</h1>
<p>The local tracker. JSON: <a href="/v1/issues">/v1/issues</a></p>
${newestFirst.map(issueSection).join('\n') || '<p>No issues yet.</p>'}
</body></html>`;
}
