// The actors comment: a principal as the inventories describe it, earlier investigations with their
// outcome, private and reserved addresses on one line, and nothing from an alert or a cloud API able
// to mention, reference, link or inject.
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import type { ActorReport, PrincipalFacts } from '../../lib/intel';
import { actorsComment } from '../../lib/render/actors';

const markdown = new MarkdownIt({ html: true, linkify: true });

const principal = (value: string, identity: PrincipalFacts, extra: Partial<ActorReport> = {}): ActorReport => ({
  target: { kind: 'principal', value },
  verdict: 'unknown',
  because: [],
  results: [],
  identity,
  ...extra,
});
const reserved = (value: string): ActorReport => ({ target: { kind: 'ip', value }, verdict: 'unknown', because: [], results: [], reserved: true });
const address = (value: string, extra: Partial<ActorReport> = {}): ActorReport => ({
  target: { kind: 'ip', value },
  verdict: 'suspicious',
  because: ['tor-exits'],
  results: [{ source: 'tor-exits', status: 'listed', verdict: 'suspicious', evidence: 'listed' }],
  ...extra,
});

describe('actors comment', () => {
  it('describes an AWS user: MFA, console, access keys and their last use, administrator policies and how they are held', () => {
    const body = actorsComment([
      principal('arn:aws:iam::111111111111:user/alice', {
        kind: 'aws-user',
        account: '111111111111',
        name: 'alice',
        arn: 'arn:aws:iam::111111111111:user/alice',
        created: '2026-01-02T03:04:05Z',
        mfaDevices: 0,
        console: { enabled: true },
        accessKeys: [
          { id: 'AKIAUSED000000000001', status: 'Active', created: '2026-02-01T00:00:00Z', lastUsed: { at: '2026-11-29T10:00:00Z', service: 'sts', region: 'us-east-1' } },
          { id: 'AKIAIDLE000000000002', status: 'Inactive', created: '2026-02-01T00:00:00Z' },
        ],
        adminPolicies: [
          { policy: 'AdministratorAccess', via: 'attached' },
          { policy: 'AdministratorAccess', via: 'group admins' },
        ],
      }),
    ]);
    expect(body).toContain(
      '- `arn:aws:iam::111111111111:user/alice`: AWS user `alice` in account `111111111111` · created 2026-01-02 03:04 UTC · **no MFA** · console access (password last used never) · **administrator**: `AdministratorAccess` (`attached`), `AdministratorAccess` (`group admins`)',
    );
    expect(body).toContain('  | `AKIAUSED000000000001` | `Active` | 2026-02-01 00:00 UTC | 2026-11-29 10:00 UTC · `sts` · `us-east-1` |');
    expect(body).toContain('  | `AKIAIDLE000000000002` | `Inactive` | 2026-02-01 00:00 UTC | never |');
  });

  it('describes roles, service accounts, external and unreadable principals in one line each', () => {
    const body = actorsComment([
      principal('arn:aws:sts::111111111111:assumed-role/deploy/ci', { kind: 'aws-role', account: '111111111111', name: 'deploy', arn: 'arn:aws:iam::111111111111:role/deploy', seenAs: 'ci', adminPolicies: [] }),
      principal('sa@proj.iam.gserviceaccount.com', { kind: 'gcp-service-account', email: 'sa@proj.iam.gserviceaccount.com', displayName: 'CI', disabled: true, project: 'proj' }),
      principal('eve@gmail.com', { kind: 'external', email: 'eve@gmail.com', domain: 'gmail.com', account: 'user' }),
      principal('bob', { kind: 'unread', reason: 'account 222222222222 is not covered by inventory.aws' }),
    ]);
    expect(body).toContain('AWS role `deploy` in account `111111111111` (as `ci`) · created unknown · last used never, or not within the tracking period · no administrator policy');
    expect(body).toContain('- `sa@proj.iam.gserviceaccount.com`: GCP service account `sa@proj.iam.gserviceaccount.com` · named `CI` · in project `proj` · **disabled**');
    expect(body).toContain('- `eve@gmail.com`: external account, domain `gmail.com` (outside the configured organisations)');
    expect(body).toContain('- `bob`: not looked up: `account 222222222222 is not covered by inventory.aws`');
  });

  it('lists earlier investigations with their issue and outcome, or says there are none', () => {
    const body = actorsComment([
      address('198.51.100.23', {
        history: [
          { workflowId: 'alert/guardduty/abc', source: 'guardduty', alertKind: 'actor', verdict: 'malicious', status: 'completed', startedAt: '2026-11-28T09:00:00Z', issue: { number: 5, state: 'closed' } },
          { workflowId: 'alert/generic/x', status: 'running', startedAt: '2026-11-29T09:00:00Z' },
        ],
        moreHistory: true,
      }),
      address('198.51.100.24', { history: [] }),
    ]);
    // Visibility lists running investigations first: the line does not claim they are the most recent.
    expect(body).toContain('  Earlier investigations naming it (2 of more: running ones first, then the most recently ended):');
    expect(body).not.toContain('most recent)');
    expect(body).toContain('  - #5 (closed) · `guardduty` `actor` · `alert/guardduty/abc` · verdict `malicious` · started 2026-11-28 09:00 UTC · `completed`');
    expect(body).toContain('  - no issue recorded · `alert/generic/x` · started 2026-11-29 09:00 UTC · `running`');
    expect(body).toContain('  No earlier investigation names it.');
  });

  it('counts the actors past the check\'s shares on one line, last, without a section of their own', () => {
    const notChecked = (kind: 'ip' | 'principal', value: string): ActorReport => ({ target: { kind, value }, verdict: 'unknown', because: [], results: [], notChecked: true });
    const body = actorsComment([address('198.51.100.23'), notChecked('principal', 'arn:aws:iam::1:user/late'), reserved('10.0.0.5'), notChecked('ip', '198.51.100.99')]);
    expect(body.split('\n\n').at(-1)).toBe('- 2 more actors not checked: at most 25 are checked at a time; a later alert naming them checks them');
    expect(body).not.toContain('user/late');
    expect(body).not.toContain('198.51.100.99');
    expect(actorsComment([address('198.51.100.23'), notChecked('ip', '198.51.100.99')])).toContain('- 1 more actor not checked: at most 25 are checked at a time; a later alert naming it checks it');
  });

  it('puts every private or reserved address on one line, after the others, with no row per source', () => {
    const body = actorsComment([reserved('10.0.0.5'), address('198.51.100.23'), reserved('192.168.1.2')]);
    expect(body.split('\n\n').at(-1)).toBe('- `10.0.0.5`, `192.168.1.2`: private or reserved, not checked');
    expect(body.match(/\| `tor-exits` \|/g)).toHaveLength(1);
  });

  it('keeps hostile text from principals, cloud APIs and earlier alerts inert', () => {
    const hostile = fc.string({
      unit: fc.oneof(fc.constantFrom('`', '|', '<', '>', '@', '#', '[', ']', '(', ')', '\n', ' ', '*', '_'), fc.constantFrom('@admin', '#12', '<script>', 'https://evil.example', '</code>', '<details>')),
      maxLength: 40,
    });
    fc.assert(
      fc.property(hostile, (text) => {
        const body = actorsComment([
          principal(text, { kind: 'aws-user', account: text, name: text, arn: text, created: text, seenAs: text, mfaDevices: 1, console: { enabled: false }, accessKeys: [{ id: text, status: text, lastUsed: { at: text, service: text, region: text } }], adminPolicies: [{ policy: text, via: text }] }),
          principal(text, { kind: 'gcp-service-account', email: text, displayName: text, disabled: false, project: text }),
          principal(text, { kind: 'unread', reason: text }),
          address(text, { history: [{ workflowId: text, source: text, alertKind: text, verdict: text, exposure: text, status: text, startedAt: text }] }),
          reserved(text),
        ]);
        const html = markdown.render(body);
        const outside = html.replace(/<code[^>]*>[\s\S]*?<\/code>/g, '');
        for (const [, tag] of outside.matchAll(/<\/?([a-z][a-z0-9]*)/gi)) expect(['h3', 'ul', 'li', 'p', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'strong']).toContain(tag!.toLowerCase());
        expect(outside).not.toMatch(/@[a-z0-9]/i);
        expect(outside).not.toMatch(/#\d/);
      }),
      { numRuns: 200 },
    );
  });
});
