// One screen per issue: the body says the current state (kept current, not appended) after the first
// report and after a re-check that changes it; an alert's hostile text stays inert in it; the GitHub
// tracker rewrites a body keeping its hidden marker, and only when it changed, against the test
// server that checks every request against GitHub's OpenAPI description.
import MarkdownIt from 'markdown-it';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubTracker } from '../../activities/tracker/github';
import { recheckNow } from '../../lib/investigation';
import { issueMarker, parseIssueMarker } from '../../lib/markers';
import { defaultLabels } from '../helpers/labels';
import { recordConnections, type ConnectionLog } from '../helpers/connections';
import { startAnsweringPort, writeStaticInventory, type AnsweringPort } from '../helpers/exposed-machines';
import { startFakeGitHub } from '../helpers/github-server';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

describe('the issue body on the local tracker', () => {
  let connections: ConnectionLog;
  let answering: AnsweringPort;
  let port: number;
  let vigil: TestVigil;

  beforeAll(async () => {
    connections = recordConnections();
    answering = await startAnsweringPort();
    port = answering.port;
    const inventory = await writeStaticInventory([{ id: 'web-1', addresses: ['127.0.0.1'], open: port }]);
    vigil = await startTestVigil({ inventory: { static: { files: [inventory] } } });
  });

  afterAll(async () => {
    await vigil?.stop();
    await answering?.close();
    connections.stop();
    expect(connections.outsideLoopback()).toEqual([]);
  });

  const bodyOf = async (number: number) => (await vigil.tracker.readIssue(number))!.body;

  it('says where things stand after the first report, and after a re-check that finds the endpoint closed, only that', async () => {
    const response = await vigil.post('generic', {
      id: 'web-1-open',
      title: 'Port open on web-1',
      severity: 'high',
      kind: 'exposure',
      resources: [{ type: 'static:inventory:resource', id: 'web-1' }],
      network: { ports: [port] },
    });
    const workflowId = response.body.alerts[0].workflowId as string;
    const endpoint = `\`127.0.0.1:${port}\``;
    const progress = await eventually(async () => ((await queryProgress(vigil.client, workflowId))?.firstReportComplete ? queryProgress(vigil.client, workflowId) : undefined), 60_000);
    const number = progress!.issue!.number;
    const first = await eventually(async () => ((await bodyOf(number)).includes(`${endpoint} **open**`) ? bodyOf(number) : undefined), 60_000);
    expect(first).toContain('**open**: something answers from the internet');
    expect(first).toContain('1 of 1 endpoint(s) answer:');
    expect(first).toContain('re-checked 0 time(s); next check about');
    expect(first).toContain('None found so far');
    expect(first).not.toContain('The first checks are running.');

    // The service stops answering; a re-check (a person asked for it) finds it closed.
    await answering.close();
    await vigil.client.workflow.getHandle(workflowId).signal(recheckNow);
    const after = await eventually(async () => ((await bodyOf(number)).includes(`${endpoint} \`closed\``) ? bodyOf(number) : undefined), 60_000);
    expect(after).toContain('**unconfirmed**: nothing answered, but the inventory shows it exposed');
    expect(after).toContain('0 of 1 endpoint(s) answer:');
    expect(after).toContain('re-checked 1 time(s)');
    // The current state, not the history: no trace of the open port, one exposure section.
    expect(after).not.toContain(`${endpoint} **open**`);
    expect(after.split('### Exposure')).toHaveLength(2);
    // The history stays in the comments.
    const { comments } = (await vigil.tracker.readIssue(number))!;
    expect(comments.some((comment) => comment.body.startsWith('### Re-check 1: something changed'))).toBe(true);
  });

  it("keeps a hostile alert's text inert in the body", async () => {
    const hostile = '@security-team <img src=x onerror=alert(1)> see #1 and [this](https://evil.example) ```\n</details><script>x</script>';
    const response = await vigil.post('generic', { id: 'hostile-body', title: hostile, severity: 'low', kind: 'actor', description: hostile, actors: { principals: [hostile] } });
    const workflowId = response.body.alerts[0].workflowId as string;
    const progress = await eventually(async () => ((await queryProgress(vigil.client, workflowId))?.firstReportComplete ? queryProgress(vigil.client, workflowId) : undefined), 60_000);
    const body = await eventually(async () => {
      const text = await bodyOf(progress!.issue!.number);
      // The actors' section comes with the rewrite after the checks, not the first body.
      return text.includes('### Actors') ? text : undefined;
    }, 60_000);
    const html = new MarkdownIt({ html: true, linkify: true }).render(body);
    const tags = [...html.matchAll(/<\/?([a-z][a-z0-9]*)/gi)].map((match) => match[1]!.toLowerCase());
    expect(new Set(tags)).toEqual(new Set(['p', 'code', 'h3', 'ul', 'li', 'details', 'summary', 'strong', 'pre']));
    const outside = html.replace(/<code[^>]*>[\s\S]*?<\/code>/g, '');
    expect(outside).not.toMatch(/@security-team|#1|evil\.example|<img|<script/);
  });
});

describe('the issue body on GitHub', () => {
  const token = 'ghp_test0123456789abcdefghijklmnopqrstuv';
  const labels = defaultLabels;
  const ISSUE = '/repos/{owner}/{repo}/issues/{issue_number}';

  it('is rewritten keeping the hidden marker, and only when it changed', async () => {
    const github = await startFakeGitHub({ tokens: [token] });
    try {
      github.addRepo('acme', 'security', { branches: ['main'] });
      const tracker = createGitHubTracker(
        { owner: 'acme', repo: 'security', baseUrl: github.url, auth: { token: { env: 'VIGIL_TEST_GITHUB_TOKEN' } }, evidence: { kind: 'branch', branch: 'main' } },
        labels,
        { env: { VIGIL_TEST_GITHUB_TOKEN: token }, retryBaseDelayMs: 10, writeIntervalMs: 0, notifyingWriteIntervalMs: 0 },
      );
      const { issue } = await tracker.findOrCreateIssue({ fingerprint: 'fp-body', workflowId: 'alert/generic/fp-body', title: 'Body test', body: 'Vigil is investigating.', labels: ['vigil'] });
      const marker = issueMarker('fp-body', 'alert/generic/fp-body');

      await tracker.replaceIssueBody(issue.number, '### Exposure\n\n**open**');
      const stored = () => github.repo('acme', 'security').issues.get(issue.number)!.body;
      expect(stored()).toBe(`### Exposure\n\n**open**\n\n${marker}`);
      expect(github.count('PATCH', ISSUE)).toBe(1);

      // The same body again writes nothing; the issue is still found by its fingerprint.
      await tracker.replaceIssueBody(issue.number, '### Exposure\n\n**open**');
      expect(github.count('PATCH', ISSUE)).toBe(1);
      expect(parseIssueMarker(stored())).toEqual({ fingerprint: 'fp-body', workflowId: 'alert/generic/fp-body' });
      expect(await tracker.findOrCreateIssue({ fingerprint: 'fp-body', workflowId: 'alert/generic/fp-body', title: 'Body test', body: 'again', labels: ['vigil'] })).toMatchObject({ issue, created: false });

      // A body whose text holds a marker of its own cannot take over the issue's identity.
      await tracker.replaceIssueBody(issue.number, `changed ${issueMarker('other', 'alert/generic/other')}`);
      expect(parseIssueMarker(stored())).toEqual({ fingerprint: 'fp-body', workflowId: 'alert/generic/fp-body' });
      expect(github.count('PATCH', ISSUE)).toBe(2);

      // An issue written before titles were broken holds an alert's marker unbroken, before its own
      // at the end: the one it ends with stays its identity.
      const hostile = issueMarker('hostile', 'alert/generic/hostile');
      github.repo('acme', 'security').issues.get(issue.number)!.body = `Title ${hostile}\n\nVigil is investigating.\n\n${marker}`;
      await tracker.replaceIssueBody(issue.number, 'rewritten');
      expect(stored()).toBe(`rewritten\n\n${marker}`);
      expect(github.problems).toEqual([]);
    } finally {
      await github.close();
    }
  });
});
