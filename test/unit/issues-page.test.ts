// The local tracker's page shows people's comments as written and inert: only Vigil's own collapsible
// blocks become HTML, and a person's image is no request the reader's browser makes.
import { describe, expect, it } from 'vitest';
import { issuesPage } from '../../intake/routes/issues-page';
import { configSchema } from '../../lib/config';
import type { LocalIssue } from '../../lib/local-issues';
import { details } from '../../lib/markdown';

const at = '2026-12-01T10:00:00.000Z';
const issue = (comments: LocalIssue['comments']): LocalIssue => ({
  number: 1,
  fingerprint: 'fp',
  workflowId: 'alert/generic/fp',
  title: 'An exposure',
  state: 'open',
  labels: [],
  body: 'body',
  comments,
  evidence: [],
  createdAt: at,
  updatedAt: at,
});
const page = (comments: LocalIssue['comments']) => issuesPage([issue(comments)], { labels: [] }, configSchema.parse({}).tracker.labels, 'csrf');

describe("the issues page and people's comments", () => {
  it("turns Vigil's own collapsible blocks into HTML", () => {
    expect(page([{ id: '1-1', key: 'wf#step', body: details('Evidence', 'the table'), createdAt: at, updatedAt: at }])).toContain('<details><summary>Evidence</summary>');
  });

  it("keeps a person's details tags and images as text", () => {
    const html = page([{ id: '1-2', key: 'person/1-2', author: 'mallory', body: `${details('x', 'hidden')}\n\n![px](http://attacker.example/p.png)`, createdAt: at, updatedAt: at }]);
    expect(html).not.toContain('<details>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;details&gt;');
  });
});

describe('the issues list', () => {
  const listed = (issues: LocalIssue[]) => issuesPage(issues, { labels: [] }, configSchema.parse({}).tracker.labels, 'csrf');
  const second: LocalIssue = { ...issue([]), number: 2, title: 'A <b>closed</b> one', state: 'closed', labels: ['kind:exposure'], updatedAt: '2026-12-01T11:00:00.000Z' };

  it('shows each issue collapsed, as one line: number, title, state, labels and latest change', () => {
    const html = listed([issue([]), second]);
    expect(html.match(/<details class="issue /g)).toHaveLength(2);
    expect(html).not.toMatch(/<details class="issue [^"]*" [^>]*open/);
    expect(html).toContain(
      '<summary><span class="number">#2</span> <span class="title">A &#60;b&#62;closed&#60;/b&#62; one</span> <span class="state">closed</span> <span class="labels"><a class="label" href="/issues?label=kind%3Aexposure">kind:exposure</a></span> <time datetime="2026-12-01T11:00:00.000Z">2026-12-01T11:00:00.000Z</time></summary>',
    );
    // Newest first.
    expect(html.indexOf('id="issue-2"')).toBeLessThan(html.indexOf('id="issue-1"'));
  });

  it('wraps long lines and code, with no script on the page', () => {
    const html = listed([issue([])]);
    expect(html).toMatch(/body\{[^}]*overflow-wrap:anywhere/);
    expect(html).toMatch(/code,pre\{[^}]*white-space:pre-wrap/);
    expect(html).not.toContain('<script');
  });
});
