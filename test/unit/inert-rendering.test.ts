// No alert text can produce a mention, an issue reference, a tag, a link or a code-block escape,
// whatever it contains: checked with a real CommonMark + GFM-tables parser over generated text.
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import type { NormalizedAlert } from '../../lib/alert';
import { cell, code, codeBlock, fitBody, plainTitle } from '../../lib/markdown';
import { alertSummary } from '../../lib/render/alert-summary';
import { emptyContext, inventoryFindings, type PublicResource } from '../../lib/context';
import { diffFindings } from '../../lib/finding';
import { contextComment } from '../../lib/render/context';
import { exposureComment } from '../../lib/render/exposure';
import { findingsChanges, findingsTable } from '../../lib/render/findings';
import { proposalComment, stepComment } from '../../lib/render/response';
import { recheckComment } from '../../lib/render/watch';
import type { AuditStep } from '../../lib/response';

// html and linkify on: the parser is as permissive as GitHub's, so escapes show up.
const markdown = new MarkdownIt({ html: true, linkify: true });

/** Characters that make markdown and HTML do things, mixed with ordinary text. */
const hostileText = fc.string({
  unit: fc.oneof(
    fc.constantFrom('`', '``', '```', '|', '<', '>', '@', '#', '[', ']', '(', ')', '!', '*', '_', '~', '\\', '\n', '\r', ' ', '-', ':', '/', '&', ';', '"', "'"),
    fc.constantFrom('@admin', '#12', 'org/repo#3', '<script>', '<img src=x onerror=alert(1)>', '</code>', 'https://evil.example', 'www.evil.example', '<!--', '-->', '<details>'),
    fc.string({ maxLength: 3 }),
  ),
  maxLength: 60,
});

/** The rendered HTML with every code element taken out: what remains is not alert text. */
const outsideCode = (html: string) => html.replace(/<code[^>]*>[\s\S]*?<\/code>/g, '');

function assertInert(html: string, allowedTags: string[]) {
  const tags = [...html.matchAll(/<\/?([a-z][a-z0-9]*)/gi)].map((match) => match[1]!.toLowerCase());
  for (const tag of tags) expect(allowedTags).toContain(tag);
  const rest = outsideCode(html);
  expect(rest).not.toMatch(/@[a-z0-9]/i);
  expect(rest).not.toMatch(/#\d/);
}

describe('inert rendering of alert text', () => {
  it('keeps anything inside one inline code span', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const html = markdown.renderInline(`before ${code(text)} after`);
        assertInert(html, ['code']);
        expect(html.match(/<code>/g)).toHaveLength(1);
        expect(html.endsWith(' after')).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps anything inside one table cell', () => {
    fc.assert(
      fc.property(hostileText, hostileText, (a, b) => {
        const html = markdown.render(`| a | b |\n|---|---|\n| ${cell(a)} | ${cell(b)} |\n\nafter`);
        assertInert(html, ['table', 'thead', 'tbody', 'tr', 'th', 'td', 'code', 'p']);
        expect(html.match(/<td>/g)).toHaveLength(2);
        expect(html).toMatch(/<p>after<\/p>\n$/);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps anything inside one code block, which nothing can close', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const html = markdown.render(`${codeBlock(text)}\n\nafter`);
        assertInert(html, ['pre', 'code', 'p']);
        expect(html.match(/<pre>/g)).toHaveLength(1);
        expect(html).toMatch(/<\/pre>\n<p>after<\/p>\n$/);
      }),
      { numRuns: 1000 },
    );
  });

  it('makes titles that mention no one and reference nothing', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const title = plainTitle(text);
        expect(title).not.toMatch(/[@#][^\u2060]|[@#]$/);
        expect(title).not.toMatch(/[\n\r]/);
      }),
      { numRuns: 1000 },
    );
  });

  it('renders a whole alert summary and a findings table inertly', () => {
    fc.assert(
      fc.property(hostileText, hostileText, hostileText, (title, description, value) => {
        const alert: NormalizedAlert = {
          source: 'generic',
          kind: 'actor',
          fingerprint: value,
          title,
          severity: 'high',
          description,
          cloud: { provider: 'aws', account: value, region: value },
          resources: [{ type: value, id: title }],
          network: { ips: [], cidrs: [], ports: [] },
          actors: { ips: [], domains: [value], principals: [title], userAgents: [description] },
          archive: { id: 'x', sha256: 'y', receivedAt: '2026-11-28T00:00:00Z' },
        };
        assertInert(markdown.render(alertSummary(alert)), ['h3', 'ul', 'li', 'strong', 'code', 'p', 'pre']);
        const table = findingsTable([{ key: value, check: title, target: value, status: description, fields: { [title]: value } }]);
        assertInert(markdown.render(table), ['h4', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'code', 'p', 'pre', 'details', 'summary']);
      }),
      { numRuns: 500 },
    );
  });

  it('renders the rules that found an alert inertly, linking only ATT&CK ids to attack.mitre.org', () => {
    const tag = fc.oneof(hostileText, fc.constantFrom('attack.t1562.001', 'attack.defense_evasion', 'attack.g0016', 'attack.[x](https://evil.example)', 'attack.t1078@x'));
    fc.assert(
      fc.property(hostileText, hostileText, fc.array(tag, { maxLength: 4 }), fc.array(hostileText, { maxLength: 3 }), (title, id, tags, texts) => {
        const alert: NormalizedAlert = {
          source: 'cloudtrail',
          kind: 'actor',
          fingerprint: 'f',
          title: 't',
          severity: 'high',
          resources: [],
          network: { ips: [], cidrs: [], ports: [] },
          actors: { ips: [], domains: [], principals: [], userAgents: [] },
          detections: [{ engine: 'sigma', id, title, level: 'high', tags, references: texts, falsepositives: texts, file: title }],
          archive: { id: 'x', sha256: 'y', receivedAt: '2026-11-28T00:00:00Z' },
        };
        const html = markdown.render(alertSummary(alert));
        assertInert(html, ['h3', 'ul', 'li', 'strong', 'code', 'p', 'pre', 'a']);
        for (const [, href] of html.matchAll(/<a href="([^"]*)"/g)) expect(href).toMatch(/^https:\/\/attack\.mitre\.org\/(techniques|tactics|groups|software)\/[A-Z0-9/]+\/$/);
      }),
      { numRuns: 500 },
    );
  });

  it('renders what a cloud API names (resources, reasons, facts, problems, proofs, changes) inertly', () => {
    const long = fc.constantFrom('', 'x'.repeat(5000), '`'.repeat(400), '|'.repeat(300));
    const cloudText = fc.oneof(hostileText, long.map((text) => `@team ${text} #7`));
    const resource = fc.record({ id: cloudText, name: cloudText, account: cloudText, region: cloudText, reason: cloudText, key: cloudText, value: cloudText, open: fc.boolean() });
    fc.assert(
      fc.property(fc.array(resource, { minLength: 1, maxLength: 3 }), cloudText, ([first, ...rest], problem) => {
        const resources = [first!, ...rest].map(
          ({ id, name, account, region, reason, key, value, open }, index): PublicResource => ({
            provider: 'gcp',
            class: index % 2 === 0 ? 'snapshot' : 'storage',
            type: index % 2 === 0 ? 'gcp:compute:image' : 'gcp:storage:bucket',
            id: `${id}${index}`,
            name,
            account,
            region,
            public: open,
            reasons: [reason, reason],
            facts: { [key]: value },
            proofs: [],
            tags: {},
          }),
        );
        const context = { ...emptyContext(), consulted: ['gcp'], resources, problems: [{ provider: 'gcp', scope: first!.account, reason: problem }] };
        const blocks = ['h3', 'h4', 'p', 'ul', 'li', 'code', 'strong', 'details', 'summary', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'pre'];
        const html = markdown.render(contextComment(context));
        assertInert(html, blocks);
        // Every row of the folded table keeps its seven cells, whatever the cloud wrote in them.
        for (const row of html.match(/<tr>[\s\S]*?<\/tr>/g)!) expect(row.match(/<t[dh][ >]/g)).toHaveLength(7);

        const proof = { key: `bucket/${first!.id}`, check: 'bucket', target: first!.name, status: first!.reason, fields: { reason: problem } };
        assertInert(markdown.render(exposureComment({ findings: [proof, { ...proof, status: 'skipped' }], skipped: [{ target: first!.id, reason: problem }], screenshots: [], shared: resources })), blocks);

        const before = inventoryFindings(context);
        const after = inventoryFindings({ ...context, resources: resources.map((item) => ({ ...item, public: !item.public, reasons: [problem] })) });
        assertInert(markdown.render(recheckComment(2, diffFindings(before, after), [], [{ provider: 'aws', scope: problem, reason: problem }])), blocks);
        assertInert(markdown.render(findingsChanges(diffFindings([...before, proof], after))), blocks);
      }),
      { numRuns: 300 },
    );
  });

  it('renders remediation plans and their steps inertly, whatever the cloud, the alert or a comment wrote', () => {
    const steps: AuditStep[] = ['proposed', 'requested', 'approved', 'executed', 'rechecked', 'failed', 'cancelled', 'expired', 'undone', 'accepted', 'acceptance-expired'];
    const blocks = ['h3', 'h4', 'p', 'ul', 'li', 'code', 'pre', 'strong'];
    fc.assert(
      fc.property(hostileText, hostileText, hostileText, fc.constantFrom(...steps), fc.boolean(), (cloud, person, said, step, dryRun) => {
        const plan = {
          id: 'p1',
          title: cloud,
          action: { kind: 'gcp-firewall-disable' as const, project: cloud, firewall: cloud },
          apiCall: cloud,
          serves: [cloud, said],
          expected: said,
          undo: cloud,
        };
        const record = { outcome: 'changed' as const, apiCall: cloud, requestIds: [cloud], restoredRuleId: said, at: said };
        assertInert(markdown.render(proposalComment([plan], { dryRun, askers: [person], approvers: [said], selfApproval: false, planTtl: cloud })), blocks);
        // Not shaped like a login (a leading `-`): a person's name that would be mentioned is a login.
        const actor = `-${person}`;
        const entry = { workflowId: said, issue: 1, step, plan: 'p1', actor, at: said, dryRun, apiCall: cloud, requestIds: [cloud], result: said, commentUrl: said };
        const status = { plan, state: 'undone' as const, proposedAt: said, expiresAt: said, execution: record, undo: record, reason: said };
        assertInert(markdown.render(stepComment(entry, { status, accepted: { reason: said, until: cloud, by: actor, at: said } })), blocks);
      }),
      { numRuns: 500 },
    );
  });

  it("keeps bodies within GitHub's limit, saying so, with the marker intact", () => {
    const marker = '<!-- vigil:comment key=x -->';
    const body = fitBody('y'.repeat(70_000), marker);
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toContain('[truncated: ');
    expect(body.endsWith(marker)).toBe(true);
    expect(fitBody('short', marker)).toBe(`short\n\n${marker}`);
  });
});
