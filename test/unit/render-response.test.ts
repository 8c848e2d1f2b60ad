// The response's comments: the proposal with its commands and who may type them, one comment per
// later step, DRY RUN said plainly, and nothing from the alert, the cloud or a person's comment able
// to mention, reference, link or inject.
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../lib/config';
import { proposalComment, stepComment, type ResponseRules } from '../../lib/render/response';
import type { AuditEntry, AuditStep, ExecutionRecord, PlanStatus, RemediationPlan } from '../../lib/response';

const markdown = new MarkdownIt({ html: true, linkify: true });

/** What an attacker who names a security group, a bucket or writes a comment might put in it. */
const HOSTILE = '@admin #12 org/repo#3 <img src=x onerror=alert(1)> ``` [x](https://evil.example) www.evil.example </code>\n## heading';

const rules = (overrides: Partial<ResponseRules> = {}): ResponseRules => {
  const { dryRun, askers, approvers, selfApproval, planTtl } = configSchema.parse({}).response;
  return { dryRun, askers, approvers, selfApproval, planTtl, ...overrides };
};

const plan = (id: string, text = ''): RemediationPlan => ({
  id,
  title: `Revoke tcp/22 from 0.0.0.0/0 on sg-0abc (web)${text}`,
  action: { kind: 'aws-revoke-ingress', account: '123456789012', region: 'us-east-1', groupId: 'sg-0abc', ruleId: 'sgr-0def', permission: { protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' } },
  apiCall: `ec2:RevokeSecurityGroupIngress GroupId=sg-0abc SecurityGroupRuleIds=sgr-0def${text}`,
  serves: [`i-0123 (web-1)${text}`, 'i-0456 (web-2)'],
  expected: `22/tcp on 203.0.113.10 no longer reachable from the internet${text}`,
  undo: `ec2:AuthorizeSecurityGroupIngress with the same permission${text}`,
});

const record = (outcome: ExecutionRecord['outcome'], text = ''): ExecutionRecord => ({
  outcome,
  apiCall: `ec2:RevokeSecurityGroupIngress GroupId=sg-0abc SecurityGroupRuleIds=sgr-0def${text}`,
  requestIds: outcome === 'dry-run' ? [] : [`5b1c7f0e-req${text}`],
  at: '2026-12-01T10:00:00.000Z',
});

const entry = (step: AuditStep, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  workflowId: 'alert/generic/web-ssh',
  issue: 7,
  step,
  plan: 'p1',
  actor: 'alice',
  at: '2026-12-01T10:00:00.000Z',
  ...extra,
});

const status = (state: PlanStatus['state'], extra: Partial<PlanStatus> = {}): PlanStatus => ({ plan: plan('p1'), state, proposedAt: '2026-12-01T09:00:00.000Z', ...extra });

/** The HTML of a comment with every code element taken out: what remains is Vigil's own words. */
const outsideCode = (body: string) => markdown.render(body).replace(/<code[^>]*>[\s\S]*?<\/code>/g, '');

function expectInert(body: string, mentions: string[] = []) {
  const html = markdown.render(body);
  const tags = new Set([...html.matchAll(/<\/?([a-z][a-z0-9]*)/gi)].map((match) => match[1]!.toLowerCase()));
  for (const tag of tags) expect(['h3', 'h4', 'p', 'ul', 'li', 'code', 'pre', 'strong']).toContain(tag);
  const rest = outsideCode(body);
  expect(rest.match(/@[a-z0-9][a-z0-9-]*/gi) ?? []).toEqual(mentions);
  expect(rest).not.toMatch(/#\d/);
  expect(rest).not.toMatch(/evil/);
}

describe('the proposal', () => {
  it('shows each plan: its id and title, the exact API call, what else it serves, the expected result, the undo and the command to type', () => {
    const body = proposalComment([plan('p1'), { ...plan('p2'), serves: [] }], rules({ askers: ['alice', '@acme/secops'], approvers: ['bob'] }));
    expect(body.startsWith('### Proposed remediation\n')).toBe(true);
    expect(body).toContain('#### `p1`: `Revoke tcp/22 from 0.0.0.0/0 on sg-0abc (web)`');
    expect(body).toContain('```text\nec2:RevokeSecurityGroupIngress GroupId=sg-0abc SecurityGroupRuleIds=sgr-0def\n```');
    expect(body).toContain('  - `i-0123 (web-1)`\n  - `i-0456 (web-2)`');
    expect(body).toContain('**It also serves**: nothing else that Vigil knows of.');
    expect(body).toContain('**Expected result**: `22/tcp on 203.0.113.10 no longer reachable from the internet`');
    expect(body).toContain('**Undo** (`/vigil undo p1`): `ec2:AuthorizeSecurityGroupIngress with the same permission`');
    expect(body).toContain('```text\n/vigil remediate p1\n```');
    expect(body).toContain('```text\n/vigil remediate p2\n```');
    expect(body).toContain('**Ask** (`/vigil remediate <plan>`, `/vigil cancel <plan>`): `alice`, `@acme/secops`');
    expect(body).toContain('**Approve** (`/vigil approve <plan>`): `bob`; not the person who asked');
    expect(body).toContain('not approved within `24h` expires');
    // Nobody is notified by the proposal itself: the responders are listed, not mentioned.
    expectInert(body);
  });

  it('says DRY RUN when response.dryRun is on, and nothing of it when off', () => {
    const dry = proposalComment([plan('p1')], rules({ dryRun: true }));
    expect(dry).toMatch(/\*\*DRY RUN\*\* \(`response.dryRun`\): nothing will be changed/);
    expect(proposalComment([plan('p1')], rules({ dryRun: false }))).not.toMatch(/DRY RUN/i);
  });

  it('says when nobody may ask or approve yet, and when the asker may approve', () => {
    const body = proposalComment([plan('p1')], rules({ askers: [], approvers: [], selfApproval: true }));
    expect(body).toContain('nobody yet (`response.askers` is empty)');
    expect(body).toContain('nobody yet (`response.approvers` is empty); the person who asked may approve too');
  });

  it('keeps what the cloud named inert', () => {
    expectInert(proposalComment([plan('p1', HOSTILE)], rules({ askers: [HOSTILE] })));
  });
});

describe('the later steps', () => {
  it('says each step in its own words', () => {
    const executed = status('executed', { execution: record('changed') });
    const headings: Record<AuditStep, [AuditEntry, PlanStatus?]> = {
      proposed: [entry('proposed', { actor: 'vigil' })],
      requested: [entry('requested'), status('requested', { requestedBy: 'alice', expiresAt: '2026-12-02T10:00:00.000Z' })],
      approved: [entry('approved', { actor: 'bob' }), status('executing')],
      executed: [entry('executed', { actor: 'vigil', result: 'revoked' }), executed],
      rechecked: [entry('rechecked', { actor: 'vigil', result: '22/tcp closed on 127.0.0.5' }), executed],
      failed: [entry('failed', { actor: 'vigil', result: 'UnauthorizedOperation: not allowed' }), status('failed')],
      cancelled: [entry('cancelled'), status('cancelled')],
      expired: [entry('expired', { actor: 'vigil' }), status('expired', { expiresAt: '2026-12-02T10:00:00.000Z' })],
      undone: [entry('undone', { actor: 'carol' }), status('undone', { execution: record('changed'), undo: { ...record('changed'), apiCall: 'ec2:AuthorizeSecurityGroupIngress GroupId=sg-0abc', restoredRuleId: 'sgr-0new' } })],
      accepted: [entry('accepted', { plan: undefined, actor: 'bob' })],
      'acceptance-expired': [entry('acceptance-expired', { plan: undefined, actor: 'vigil' })],
    };
    const accepted = { reason: 'a bastion, moving behind the VPN in Q1', until: '2026-12-31', by: 'bob', at: '2026-12-01T10:00:00.000Z' };
    const bodies = Object.fromEntries(Object.entries(headings).map(([step, [audit, plan]]) => [step, stepComment(audit, { ...(plan ? { status: plan } : {}), accepted })])) as Record<AuditStep, string>;

    expect(bodies.requested).toMatch(/^### Remediation `p1`: requested by @alice\n/);
    expect(bodies.requested).toContain('`/vigil approve p1`) by `2026-12-02T10:00:00.000Z`');
    expect(bodies.approved).toMatch(/^### Remediation `p1`: approved by @bob\n/);
    expect(bodies.executed).toMatch(/^### Remediation `p1`: executed\n/);
    expect(bodies.executed).toContain('**Outcome**: changed');
    expect(bodies.executed).toContain('```text\nec2:RevokeSecurityGroupIngress GroupId=sg-0abc SecurityGroupRuleIds=sgr-0def\n```');
    expect(bodies.executed).toContain('**Request ids**: `5b1c7f0e-req`');
    expect(bodies.executed).toContain('**Result**: `revoked`');
    expect(bodies.executed).toContain('`/vigil undo p1`');
    expect(bodies.rechecked).toMatch(/^### Remediation `p1`: re-checked\n[\s\S]*\*\*Result\*\*: `22\/tcp closed on 127.0.0.5`/);
    expect(bodies.failed).toMatch(/^### Remediation `p1`: failed\n[\s\S]*```text\nUnauthorizedOperation: not allowed\n```/);
    expect(bodies.cancelled).toMatch(/^### Remediation `p1`: cancelled by @alice\n/);
    expect(bodies.expired).toMatch(/^### Remediation `p1`: expired\n[\s\S]*due by `2026-12-02T10:00:00.000Z`/);
    expect(bodies.undone).toMatch(/^### Remediation `p1`: undone by @carol\n/);
    expect(bodies.undone).toContain('ec2:AuthorizeSecurityGroupIngress GroupId=sg-0abc');
    expect(bodies.undone).toContain('**Restored as rule**: `sgr-0new`');
    expect(bodies.accepted).toMatch(/^### Risk accepted until 2026-12-31 by @bob: `a bastion, moving behind the VPN in Q1`\n/);
    expect(bodies['acceptance-expired']).toMatch(/^### Accepted risk expired\n[\s\S]*accepted by @bob until 2026-12-31/);
    // Vigil's own steps name no one.
    for (const step of ['executed', 'rechecked', 'failed', 'expired'] as const) expect(outsideCode(bodies[step])).not.toMatch(/@/);
  });

  it('says DRY RUN plainly when nothing was changed', () => {
    const body = stepComment(entry('executed', { actor: 'vigil', dryRun: true }), { status: status('executed', { execution: record('dry-run') }) });
    expect(body).toMatch(/^### Remediation `p1`: executed \(DRY RUN\)\n/);
    expect(body).toContain('**DRY RUN: nothing was changed**');
    expect(body).toContain('**Request ids**: none (no call was made)');
    expect(body).toContain('nothing to re-check or undo');
    expect(stepComment(entry('approved', { actor: 'bob', dryRun: true }))).toMatch(/DRY RUN[\s\S]*Carrying it out in dry run/);
    expect(stepComment(entry('executed', { actor: 'vigil' }), { status: status('executed', { execution: record('changed') }) })).not.toMatch(/DRY RUN/i);
  });

  it('keeps what a person, the cloud or the alert wrote inert; only a login-shaped author is mentioned', () => {
    const hostileStatus = status('undone', { plan: plan('p1', HOSTILE), execution: record('changed', HOSTILE), undo: { ...record('changed', HOSTILE), restoredRuleId: HOSTILE }, reason: HOSTILE, expiresAt: HOSTILE });
    const accepted = { reason: HOSTILE, until: HOSTILE, by: HOSTILE, at: '2026-12-01T10:00:00.000Z' };
    const steps: AuditStep[] = ['proposed', 'requested', 'approved', 'executed', 'rechecked', 'failed', 'cancelled', 'expired', 'undone', 'accepted', 'acceptance-expired'];
    for (const step of steps) {
      const audit = entry(step, { actor: HOSTILE, result: HOSTILE, apiCall: HOSTILE, requestIds: [HOSTILE], commentUrl: HOSTILE });
      expectInert(stepComment(audit, { status: hostileStatus, accepted }));
      expectInert(stepComment({ ...audit, actor: 'alice' }, { status: hostileStatus }), ['requested', 'approved', 'cancelled', 'undone', 'accepted'].includes(step) ? ['@alice'] : []);
    }
  });
});
