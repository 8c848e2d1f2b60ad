// What the Temporal UI shows of an investigation (summary, static and current details, activity and
// timer lines) says what it should, and stays inert whatever the alert's text: the UI renders these
// as markdown, checked here with a parser as permissive as it could be (HTML and bare links on).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import type { NormalizedAlert } from '../../lib/alert';
import type { InvestigationProgress } from '../../lib/investigation';
import { activitySummary, investigationCurrentDetails, investigationStaticDetails, investigationSummary, openPortsWords, waitSummary } from '../../lib/investigation-details';

const markdown = new MarkdownIt({ html: true, linkify: true });

const hostileDemo = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../demo/alerts/03-hostile-text.json'), 'utf8')) as {
  title: string;
  description: string;
  resources: { type: string; id: string }[];
};

const alertOf = (title: string, resourceId: string, source = 'generic'): NormalizedAlert => ({
  kind: 'exposure',
  fingerprint: 'f',
  title,
  severity: 'high',
  source,
  cloud: { provider: 'aws', account: '111122223333', region: 'eu-west-1' },
  resources: [{ type: 'aws:ec2:security-group', id: resourceId }],
  network: { ips: [], cidrs: [], ports: [] },
  actors: { ips: [], domains: [], principals: [], userAgents: [] },
  archive: { id: `2026/12/02/${source}/abc`, sha256: 'abc', receivedAt: '2026-12-02T01:00:00.000Z' },
});

/** Markdown that, rendered, has only these tags, and no link but the issue's own. */
function expectInert(text: string, allowedTags: string[], issueUrl?: string) {
  const html = markdown.render(text);
  const tags = [...html.matchAll(/<\/?([a-z][a-z0-9]*)/gi)].map((match) => match[1]!.toLowerCase());
  for (const tag of tags) expect(allowedTags, html).toContain(tag);
  const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);
  expect(hrefs).toEqual(issueUrl ? [issueUrl] : []);
  // The UI fills in these names before rendering: an alert's own must reach it changed.
  expect(text).not.toMatch(/\{(namespace|workflowId|runId)\}/);
}

const hostileText = fc.string({
  unit: fc.oneof(
    fc.constantFrom('`', '``', '|', '<', '>', '[', ']', '(', ')', '!', '*', '_', '\\', '\n', ' ', ':', '/', '{workflowId}', '{runId}'),
    fc.constantFrom('<script>', '<img src=x onerror=alert(1)>', '[x](https://evil.example)', '![i](https://evil.example/i.png)', 'https://evil.example', 'www.evil.example', '<details>'),
    fc.string({ maxLength: 3 }),
  ),
  maxLength: 60,
});

describe('the Temporal UI texts of an investigation', () => {
  it('summarise the alert on one line: kind, severity and title', () => {
    expect(investigationSummary(alertOf('Security group sg-0abc open to the internet', 'sg-0abc'))).toBe('exposure · high · `Security group sg-0abc open to the internet`');
  });

  it('keep the demo’s hostile alert inert in the summary and the static details', () => {
    const alert = alertOf(hostileDemo.title, hostileDemo.resources[0]!.id);
    const summary = investigationSummary(alert);
    expect(summary).not.toContain('\n');
    expectInert(summary, ['p', 'code']);
    const details = investigationStaticDetails(alert);
    expectInert(details, ['p', 'ul', 'li', 'strong', 'code']);
    expect(details).toContain('- **Archive record**: `2026/12/02/generic/abc`');
    expect(details).toContain('- **Cloud**: `aws` `111122223333` `eu-west-1`');
  });

  it('keep any alert text inert, in every text that carries it', () => {
    fc.assert(
      fc.property(hostileText, hostileText, hostileText, (title, id, url) => {
        const alert = alertOf(title, id, 'generic');
        expectInert(investigationSummary(alert), ['p', 'code']);
        expectInert(investigationStaticDetails(alert), ['p', 'ul', 'li', 'strong', 'code']);
        expectInert(activitySummary('takeScreenshot', { url }), ['p', 'code']);
        expectInert(activitySummary('reportFailure', { step: title, issue: { number: 3 } }), ['p', 'code']);
      }),
    );
  });

  it('say where things stand: the issue, the watch, the response and the failed steps', () => {
    const progress: InvestigationProgress = {
      issue: { number: 12, url: 'http://127.0.0.1:8080/issues/12' },
      issueState: 'open',
      suppressed: false,
      occurrences: 2,
      reportedDeliveries: [],
      exposure: 'open',
      openEndpoints: ['203.0.113.10:22', '203.0.113.11:22', '203.0.113.10:443'],
      watch: { state: 'watching', since: '2026-12-02T10:00:00.000Z', checks: 1, cleanStreak: 0 },
      failedSteps: ['checkActors'],
      response: { plans: [], nextPlan: 1, accepted: { reason: 'x', until: '2026-12-31', by: 'demo-alice', at: '2026-12-02T10:00:00.000Z' } },
    };
    const details = investigationCurrentDetails(progress, { nextCheck: '2026-12-02T14:00:00.000Z' });
    expect(details).toBe(
      [
        '- **Issue**: [#12](http://127.0.0.1:8080/issues/12) · open · seen 2 times',
        '- **Exposure**: watching: 22/tcp open on 2 hosts, 443/tcp open on 1 host · 1 re-check · next check 2026-12-02 14:00 UTC',
        '- **Response**: risk accepted until `2026-12-31` by `demo-alice`',
        '- **Failed steps**: `checkActors`',
      ].join('\n'),
    );
    expectInert(details, ['p', 'ul', 'li', 'strong', 'code', 'a'], 'http://127.0.0.1:8080/issues/12');
    const ended = investigationCurrentDetails({ ...progress, watch: { ...progress.watch!, state: 'remediated', checks: 3 }, exposure: 'remediated', openEndpoints: [], response: undefined, failedSteps: [] });
    expect(ended).toBe('- **Issue**: [#12](http://127.0.0.1:8080/issues/12) · open · seen 2 times\n- **Exposure**: remediated · watch ended: remediated after 3 re-checks');
    expect(investigationCurrentDetails({ suppressed: false, occurrences: 1, reportedDeliveries: [] })).toBe('- **Issue**: not opened yet');
  });

  it('link the issue only when its address is a plain one', () => {
    const details = investigationCurrentDetails({ issue: { number: 4, url: 'javascript:alert(1)' }, suppressed: true, occurrences: 1, reportedDeliveries: [] });
    expect(details).toBe('- **Issue**: #4 · silenced');
  });

  it('count open ports by port, hosts by port, the rest counted', () => {
    expect(openPortsWords(['[2001:db8::1]:22', '198.51.100.1:22', 'not an endpoint'])).toBe('22/tcp open on 2 hosts');
    expect(openPortsWords(['a:1', 'a:2', 'a:3', 'a:4', 'a:5', 'a:6', 'a:7'])).toBe('1/tcp open on 1 host, 2/tcp open on 1 host, 3/tcp open on 1 host, 4/tcp open on 1 host, 5/tcp open on 1 host, 2 more ports');
  });

  it('say what each activity does from its input, and what ends a wait', () => {
    expect(activitySummary('checkExposures', { context: { instances: [1, 2], exposures: [1, 2, 3] } })).toBe('probe 3 exposures on 2 machines');
    expect(activitySummary('commentExposure', { issue: { number: 12, url: 'x' } })).toBe('comment exposure · issue #12');
    expect(activitySummary('checkActors', { ips: ['203.0.113.7'], domains: [], principals: [] })).toBe('check 1 address, 0 domains and 0 principals');
    expect(activitySummary('executeRemediation', { plan: { id: 'p1' } })).toBe('carry out remediation `p1`');
    expect(activitySummary('reportResponse', { issue: { number: 2 }, entry: { step: 'executed', plan: 'p1' } })).toBe('audit `p1` `executed` · issue #2');
    expect(activitySummary('openIssueForAlert', undefined)).toBe('open issue for alert');
    expect(waitSummary('next check', Date.parse('2026-12-02T14:00:00.000Z'))).toBe('next check 2026-12-02 14:00 UTC');
  });
});
