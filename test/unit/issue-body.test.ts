// The one-screen issue body, and the pure parts of correlation: which keywords an investigation
// carries, how a visibility query is built from untrusted values, and how relations are remembered.
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import type { NormalizedAlert } from '../../lib/alert';
import type { ResourceContext } from '../../lib/context';
import { linkRelated, recordVerdicts } from '../../lib/correlation';
import type { InvestigationProgress, RelatedInvestigation } from '../../lib/investigation';
import { currentIssueBody, issueBodyState } from '../../lib/render/issue-body';
import { actorKeywords, contextResourceKeywords, investigationResourceKeywords, relatedQuery, resourceKeywords } from '../../lib/search-attributes';

const markdown = new MarkdownIt({ html: true, linkify: true });

const alert = (extra: Partial<NormalizedAlert> = {}): NormalizedAlert => ({
  source: 'generic',
  kind: 'exposure',
  fingerprint: 'web-1',
  title: 'SSH open on web-1',
  severity: 'high',
  resources: [{ type: 'aws:ec2:instance', id: 'i-0abc' }],
  network: { ips: ['203.0.113.10'], cidrs: ['0.0.0.0/0'], ports: [{ from: 22, to: 22 }] },
  actors: { ips: [], domains: [], principals: [], userAgents: [] },
  archive: { id: 'rec', sha256: 'body', receivedAt: '2026-11-30T10:00:00Z' },
  ...extra,
});

const progress = (extra: Partial<InvestigationProgress> = {}): InvestigationProgress => ({ occurrences: 1, reportedDeliveries: ['body#0'], suppressed: false, ...extra });

const related = (number: number, workflowId = `alert/guardduty/f${number}`): RelatedInvestigation => ({
  workflowId,
  issue: { number, url: `/issues#issue-${number}` },
  title: `[high] finding ${number}`,
  source: 'guardduty',
  kind: 'actor',
  shared: ['aws:ec2:instance:i-0abc'],
});

describe('the issue body', () => {
  it('says the current state first: each endpoint as last checked, the verdicts, the related issues with their state, the checks', () => {
    const state = issueBodyState(
      progress({
        exposure: 'open',
        firstReportComplete: true,
        lastCheck: '2026-11-30T10:05:00Z',
        watch: { state: 'watching', since: '2026-11-30T10:05:00Z', checks: 2, cleanStreak: 0 },
        verdict: 'malicious',
        actorVerdicts: [{ actor: '198.51.100.7', verdict: 'malicious' }],
      }),
    );
    const body = currentIssueBody({
      alert: alert(),
      workflowId: 'alert/generic/web-1',
      state,
      endpoints: [
        { target: '203.0.113.10:3389', status: 'closed' },
        { target: '203.0.113.10:22', status: 'open' },
      ],
      related: [{ ...related(5), state: 'open' }],
      nextCheck: '2026-11-30T11:05:00Z',
    });
    expect(body).toContain('**open**: something answers from the internet (a port, a bucket, a URL) or is shared with everyone (checked 2026-11-30 10:05 UTC).');
    expect(body).toContain('1 of 2 endpoint(s) answer:\n\n- `203.0.113.10:22` **open**\n- `203.0.113.10:3389` `closed`');
    expect(body).toContain('- `198.51.100.7`: **malicious**');
    expect(body).toContain('- [#5](/issues#issue-5) `[high] finding 5` (`guardduty` `actor`, open) — also about `aws:ec2:instance:i-0abc`');
    expect(body).toContain('re-checked 2 time(s); next check about 2026-11-30 11:05 UTC.');
    // The alert's fields folded below the state; the delivery keys never travel into it.
    expect(body.indexOf('### Exposure')).toBeLessThan(body.indexOf('<details><summary>The alert</summary>'));
    expect(body).toContain('- **Investigation**: workflow `alert/generic/web-1`');
    expect(state).not.toHaveProperty('reportedDeliveries');
  });

  it('lists the resources and their proofs instead of saying no endpoint could be probed', () => {
    const state = issueBodyState(progress({ exposure: 'open', lastCheck: '2026-11-30T10:05:00Z' }));
    const resources = [
      { target: 'inventory vigil-logs', status: 'public' },
      { target: 'bucket http://127.0.0.1:5000/vigil-logs', status: 'listable' },
    ];
    const body = currentIssueBody({ alert: alert(), workflowId: 'w', state, endpoints: [], resources, related: [] });
    expect(body).not.toContain('No endpoint could be probed');
    expect(body).toContain('- `inventory vigil-logs` **public**\n- `bucket http://127.0.0.1:5000/vigil-logs` `listable`');
    expect(currentIssueBody({ alert: alert(), workflowId: 'w', state, endpoints: [], related: [] })).toContain('No endpoint could be probed');
  });

  it('says nothing of exposure for another kind, and that no related investigation is known yet', () => {
    const body = currentIssueBody({ alert: alert({ kind: 'actor' }), workflowId: 'w', state: { occurrences: 0 }, endpoints: [], related: [] });
    expect(body).not.toContain('### Exposure');
    expect(body).toContain('None found so far');
    expect(body).toContain('The first checks are running.');
  });

  it('renders any alert text inertly (related links are the only links, and only to addresses that are ones)', () => {
    const hostile = fc.string({
      unit: fc.oneof(fc.constantFrom('`', '```', '|', '<', '>', '@', '#', '[', ']', '(', ')', '\n', ' '), fc.constantFrom('@admin', '#12', '<img src=x onerror=alert(1)>', 'https://evil.example', '<details>', '</details>', '<!--')),
      maxLength: 40,
    });
    fc.assert(
      fc.property(hostile, hostile, fc.oneof(hostile, fc.constantFrom('https://github.com/acme/security/issues/7', 'javascript:alert(1)')), (title, text, url) => {
        const html = markdown.render(
          currentIssueBody({
            alert: alert({ title, description: text, resources: [{ type: text, id: title }], actors: { ips: [], domains: [text], principals: [title], userAgents: [] } }),
            workflowId: text,
            state: issueBodyState(progress({ exposure: 'open', actorVerdicts: [{ actor: title, verdict: 'unknown' }], failedSteps: [text] })),
            endpoints: [{ target: title, status: text }],
            resources: [{ target: text, status: title }],
            related: [{ ...related(7), title: text, source: title, shared: [text], issue: { number: 7, url } }],
          }),
        );
        const tags = [...html.matchAll(/<\/?([a-z][a-z0-9]*)/gi)].map((match) => match[1]!.toLowerCase());
        for (const tag of tags) expect(['h3', 'ul', 'li', 'strong', 'code', 'p', 'pre', 'details', 'summary', 'a']).toContain(tag);
        const outside = html.replace(/<code[^>]*>[\s\S]*?<\/code>/g, '');
        expect(outside).not.toMatch(/@[a-z0-9]/i);
        // `#7` is the related issue, Vigil's own number; nothing else is referenced.
        expect(outside.replaceAll('#7', '')).not.toMatch(/#\d/);
        // The link's address comes from the tracker; even so, only an http(s) or a relative one is a link.
        for (const [, href] of html.matchAll(/<a href="([^"]*)"/g)) expect(href).toMatch(/^(https?:\/\/|\/)/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('correlation keywords', () => {
  const context: Pick<ResourceContext, 'instances' | 'rules'> = {
    instances: [
      { provider: 'gcp', type: 'gcp:compute:instance', id: 'projects/p/zones/z/instances/jump', aliases: ['4242'], publicAddresses: [], privateAddresses: [], dnsNames: [], tags: {} },
    ],
    rules: [
      { id: 'projects/p/global/firewalls/allow-ssh', name: 'allow-ssh', aliases: ['99'], protocol: 'tcp', ports: [{ from: 22, to: 22 }], sources: ['0.0.0.0/0'] },
      { id: 'sg-0abc/ingress/tcp/22', name: 'web (sg-0abc) tcp 22', protocol: 'tcp', ports: [{ from: 22, to: 22 }], sources: ['0.0.0.0/0'] },
      { id: 'db-1/tcp/5432', name: 'tcp 5432', protocol: 'tcp', ports: [{ from: 5432, to: 5432 }], sources: ['0.0.0.0/0'] },
    ],
  };

  it('names the machines and the rules in front of them the way alerts do', () => {
    expect(contextResourceKeywords(context)).toEqual([
      'gcp:compute:instance:projects/p/zones/z/instances/jump',
      'gcp:compute:instance:4242',
      'gcp:compute:firewall:projects/p/global/firewalls/allow-ssh',
      'gcp:compute:firewall:99',
      'aws:ec2:security-group:sg-0abc',
    ]);
    expect(investigationResourceKeywords(alert(), context)[0]).toBe('aws:ec2:instance:i-0abc');
  });

  it('leaves values that could break out of a query literal out of it', () => {
    expect(relatedQuery({ resources: ['aws:ec2:instance:i-0abc', "x') OR WorkflowId != ('"], actors: ['ip:203.0.113.7', 'principal:a\\b'] })).toBe(
      "(VigilResources IN ('aws:ec2:instance:i-0abc') OR VigilActors IN ('ip:203.0.113.7'))",
    );
    expect(relatedQuery({ resources: ["it's"], actors: [] })).toBeUndefined();
  });

  it('leaves out actors every network or account has: local addresses, the cloud acting on its own', () => {
    const ips = ['203.0.113.7', '10.0.0.5', '192.168.1.2', '172.16.0.9', '127.0.0.1', '100.64.0.1', 'fd00::1', '::ffff:10.1.1.1', '2001:db8::1'];
    const principals = ['arn:aws:iam::111111111111:user/mallory', 'ec2.amazonaws.com', 'AWS Internal', 'service-123@gcp-sa-logging.iam.gserviceaccount.com', 'deployer@p.iam.gserviceaccount.com'];
    expect(actorKeywords({ ips, principals })).toEqual([
      'ip:203.0.113.7',
      'ip:2001:db8::1',
      'principal:arn:aws:iam::111111111111:user/mallory',
      'principal:deployer@p.iam.gserviceaccount.com',
    ]);
  });

  it('keeps each list within what Temporal takes for one value, a long id as its start and a hash of the whole', () => {
    const long = (n: number) => `projects/${'p'.repeat(30)}/zones/europe-west1-b/instances/${'vm'.repeat(120)}-${n}`;
    const keywords = resourceKeywords({ resources: Array.from({ length: 50 }, (_, n) => ({ type: 'gcp:compute:instance', id: long(n) })) });
    expect(Buffer.byteLength(JSON.stringify(keywords))).toBeLessThanOrEqual(1800);
    expect(keywords.length).toBeGreaterThan(5);
    expect(keywords.every((keyword) => keyword.length <= 200)).toBe(true);
    // Equal ids, equal keywords; ids that differ only past the kept start, different ones.
    expect(resourceKeywords({ resources: [{ type: 'gcp:compute:instance', id: long(1) }] })).toEqual([keywords[1]]);
    expect(new Set(keywords).size).toBe(keywords.length);
    // Multi-byte text counts by its bytes.
    expect(Buffer.byteLength(JSON.stringify(actorKeywords({ ips: [], principals: Array.from({ length: 50 }, (_, n) => `é${'ü'.repeat(90)}${n}`) })))).toBeLessThanOrEqual(1800);
  });
});

describe('related investigations remembered', () => {
  it('links each once, so a relation told twice changes nothing', () => {
    const state = progress();
    expect(linkRelated(state, [related(5)])).toBe(true);
    expect(linkRelated(state, [related(5)])).toBe(false);
    expect(linkRelated(state, [{ ...related(5), shared: ['ip:203.0.113.7'] }])).toBe(true);
    expect(state.related).toEqual([{ ...related(5), shared: ['aws:ec2:instance:i-0abc', 'ip:203.0.113.7'] }]);
  });

  it('keeps the latest verdict per actor', () => {
    const state = progress();
    recordVerdicts(state, [{ target: { kind: 'ip', value: '198.51.100.7' }, verdict: 'unknown' }]);
    recordVerdicts(state, [{ target: { kind: 'ip', value: '198.51.100.7' }, verdict: 'malicious' }]);
    expect(state.actorVerdicts).toEqual([{ actor: '198.51.100.7', verdict: 'malicious' }]);
  });
});
