// The response's bookkeeping without Temporal: which commands are refused and why, what an accepted
// one changes, plan numbering, expiry, and the words of a re-check after a change.
import { describe, expect, it } from 'vitest';
import { emptyContext, type PublicResource } from '../../lib/context';
import type { Finding } from '../../lib/finding';
import type { ExecutionRecord, PlanStatus, RemediationPlan, ResponseCommand, ResponseProgress, ResponseRequest } from '../../lib/response';
import {
  acceptanceEndsMs,
  addPlans,
  applyCommand,
  executed,
  expirePlans,
  hasLivePlan,
  knownActions,
  nextDeadlineMs,
  planInFlight,
  provenResources,
  recheckWords,
  undone,
  validateCommand,
  withPlan,
  type CommandContext,
} from '../../lib/response-state';

const NOW = new Date('2026-12-01T10:00:00.000Z');
const HOUR = 60 * 60_000;
const TTL = 24 * HOUR;
const open: CommandContext = { exposure: 'open', watching: true };

const proposal = (port: number): Omit<RemediationPlan, 'id'> => ({
  title: `Revoke tcp/${port} from 0.0.0.0/0 on sg-1`,
  action: { kind: 'aws-revoke-ingress', account: '123456789012', region: 'us-east-1', groupId: 'sg-1', ruleId: `sgr-${port}`, permission: { protocol: 'tcp', fromPort: port, toPort: port, cidrIpv4: '0.0.0.0/0' } },
  apiCall: `ec2:RevokeSecurityGroupIngress GroupId=sg-1 SecurityGroupRuleIds=sgr-${port}`,
  serves: [],
  expected: `${port}/tcp no longer reachable`,
  undo: 'ec2:AuthorizeSecurityGroupIngress with the same permission',
});

const asker = { ask: true, approve: false };
const approver = { ask: false, approve: true };
const both = { ask: true, approve: true };
const nobody = { ask: false, approve: false };

/** Each request is a comment of its own, as on a tracker. */
let comments = 0;
const request = (command: ResponseCommand, author: string, roles = both, selfApproval = false): ResponseRequest => ({
  command,
  author,
  roles,
  selfApproval,
  commentId: `comment-${++comments}`,
  commentUrl: `https://github.example/acme/infra/issues/1#issuecomment-${author}`,
});
const plan = (verb: 'remediate' | 'approve' | 'cancel' | 'undo', id = 'p1'): ResponseCommand => ({ verb, plan: id });

/** Two plans proposed, p1 asked for by alice. */
function requested(): ResponseProgress {
  const { response } = addPlans(undefined, [proposal(22), proposal(3389)], NOW);
  return applyCommand(response, request(plan('remediate'), 'alice', asker), NOW, TTL).response;
}

const record = (outcome: ExecutionRecord['outcome']): ExecutionRecord => ({ outcome, apiCall: 'ec2:RevokeSecurityGroupIngress', requestIds: ['req-1'], at: NOW.toISOString() });
const withP1 = (response: ResponseProgress, change: (status: PlanStatus) => PlanStatus) => withPlan(response, 'p1', change);

describe('plans', () => {
  it('numbers new plans on from the last, proposed now; the actions are known for the next proposal', () => {
    const first = addPlans(undefined, [proposal(22), proposal(3389)], NOW);
    expect(first.plans.map((p) => p.id)).toEqual(['p1', 'p2']);
    const second = addPlans(first.response, [proposal(443)], NOW);
    expect(second.plans.map((p) => p.id)).toEqual(['p3']);
    expect(second.response.nextPlan).toBe(4);
    expect(second.response.plans.map((status) => [status.plan.id, status.state, status.proposedAt])).toEqual([
      ['p1', 'proposed', NOW.toISOString()],
      ['p2', 'proposed', NOW.toISOString()],
      ['p3', 'proposed', NOW.toISOString()],
    ]);
    expect(knownActions(second.response).map((action) => (action.kind === 'aws-revoke-ingress' ? action.ruleId : ''))).toEqual(['sgr-22', 'sgr-3389', 'sgr-443']);
    expect(knownActions(undefined)).toEqual([]);
  });

  it('a plan is live while it waits on a person or on the workflow', () => {
    expect(hasLivePlan(undefined)).toBe(false);
    const response = requested();
    expect(hasLivePlan(response)).toBe(true);
    const settled = withPlan(withP1(response, (s) => executed(s, record('changed'))), 'p2', (s) => ({ ...s, state: 'cancelled' }));
    expect(hasLivePlan(settled)).toBe(false);
  });
});

describe('who may do what', () => {
  it('names the plans there are when the command names another', () => {
    expect(validateCommand(undefined, request(plan('remediate'), 'alice'), NOW, open)).toBe('there is no plan p1: no plan has been proposed here');
    expect(validateCommand(requested(), request(plan('remediate', 'p9'), 'alice'), NOW, open)).toBe('there is no plan p9: the plans here are p1, p2');
  });

  it('asking, cancelling and undoing need an asker or an approver; approving and accepting need an approver', () => {
    const response = requested();
    expect(validateCommand(response, request(plan('remediate', 'p2'), 'mallory', nobody), NOW, open)).toBe('mallory may not remediate a plan: only the people in response.askers or response.approvers may');
    expect(validateCommand(response, request(plan('cancel'), 'mallory', nobody), NOW, open)).toBe('mallory may not cancel a plan: only the people in response.askers or response.approvers may');
    expect(validateCommand(response, request(plan('approve'), 'carol', asker), NOW, open)).toBe('carol may not approve: only the people in response.approvers may');
    expect(validateCommand(response, request({ verb: 'accept', reason: 'a bastion', until: '2026-12-31' }, 'carol', asker), NOW, open)).toBe('carol may not accept a risk: only the people in response.approvers may');
    expect(validateCommand(response, request(plan('remediate', 'p2'), 'bob', approver), NOW, open)).toBeUndefined();
    expect(validateCommand(response, request(plan('approve'), 'bob', approver), NOW, open)).toBeUndefined();
  });

  it('approval needs a second person unless self-approval is on (whatever the login’s case)', () => {
    const response = requested();
    expect(validateCommand(response, request(plan('approve'), 'Alice', both), NOW, open)).toBe('approval needs a second person: response.selfApproval is off');
    expect(validateCommand(response, request(plan('approve'), 'alice', both, true), NOW, open)).toBeUndefined();
  });
});

describe('a second person, told apart by the tracker\'s lasting id', () => {
  const asked = (authorId?: string) => {
    const { response } = addPlans(undefined, [proposal(22)], NOW);
    return applyCommand(response, { ...request(plan('remediate'), 'alice', both), ...(authorId ? { authorId } : {}) }, NOW, TTL).response;
  };

  it('refuses the asker who renamed their login before approving', () => {
    const response = asked('github-user/1');
    expect(response.plans[0]?.requestedById).toBe('github-user/1');
    const renamed = { ...request(plan('approve'), 'alice-renamed', both), authorId: 'github-user/1' };
    expect(validateCommand(response, renamed, NOW, open)).toBe('approval needs a second person: response.selfApproval is off');
    expect(validateCommand(response, { ...renamed, selfApproval: true }, NOW, open)).toBeUndefined();
  });

  it('lets another account approve, even one that took over the asker\'s old login; without ids, names decide', () => {
    expect(validateCommand(asked('github-user/1'), { ...request(plan('approve'), 'alice', approver), authorId: 'github-user/2' }, NOW, open)).toBeUndefined();
    expect(validateCommand(asked(), { ...request(plan('approve'), 'ALICE', both), authorId: 'github-user/1' }, NOW, open)).toBe('approval needs a second person: response.selfApproval is off');
    expect(validateCommand(asked(), request(plan('approve'), 'bob', approver), NOW, open)).toBeUndefined();
  });
});

describe('a comment given again', () => {
  it('is refused once its command was taken, as after a continue-as-new, where Temporal no longer knows its update id', () => {
    const { response: proposed } = addPlans(undefined, [proposal(22)], NOW);
    const asking = { ...request(plan('remediate'), 'alice', asker), commentId: 'asking' };
    const accepting = { ...request({ verb: 'accept', reason: 'a bastion', until: '2026-12-31' }, 'bob', approver), commentId: 'accepting' };
    const asked = applyCommand(proposed, asking, NOW, TTL).response;
    const accepted = applyCommand(asked, accepting, NOW, TTL).response;
    expect(accepted.commands).toEqual(['asking', 'accepting']);
    expect(validateCommand(accepted, accepting, NOW, open)).toBe('this comment was acted on already: a command is taken once');
    // A request that failed since is not asked for again by the old comment; a new comment may.
    const failed = withP1(asked, (s) => ({ ...s, state: 'failed', reason: 'AccessDenied' }));
    expect(validateCommand(failed, asking, NOW, open)).toBe('this comment was acted on already: a command is taken once');
    expect(validateCommand(failed, request(plan('remediate'), 'alice', asker), NOW, open)).toBeUndefined();
  });

  it('remembers the latest comments only', () => {
    let response = requested();
    for (let n = 0; n < 250; n++) response = applyCommand(response, { ...request(plan('cancel'), 'alice', asker), commentId: `c${n}` }, NOW, TTL).response;
    expect(response.commands).toHaveLength(200);
    expect(response.commands?.at(-1)).toBe('c249');
  });
});

describe('what each state allows', () => {
  it('approves only a requested plan, before its request expires', () => {
    const response = requested();
    expect(validateCommand(response, request(plan('approve', 'p2'), 'bob', approver), NOW, open)).toBe('p2 has not been asked for: /vigil remediate p2 first');
    const late = new Date(NOW.getTime() + TTL);
    expect(validateCommand(response, request(plan('approve'), 'bob', approver), late, open)).toBe('the request for p1 expired at 2026-12-02T10:00:00.000Z: ask again with /vigil remediate p1');
    const done = withP1(response, (s) => executed(s, record('changed')));
    expect(validateCommand(done, request(plan('approve'), 'bob', approver), NOW, open)).toBe('p1 is executed: only a requested plan can be approved');
  });

  it('asks again for an expired, cancelled or failed plan, never one requested, executed or undone', () => {
    const response = requested();
    expect(validateCommand(response, request(plan('remediate'), 'carol', asker), NOW, open)).toBe('p1 is requested: only a proposed, expired, cancelled or failed plan, or one carried out in dry run, can be asked for');
    for (const state of ['expired', 'cancelled', 'failed'] as const) {
      expect(validateCommand(withP1(response, (s) => ({ ...s, state })), request(plan('remediate'), 'carol', asker), NOW, open)).toBeUndefined();
    }
    expect(validateCommand(withP1(response, (s) => ({ ...s, state: 'undone' })), request(plan('remediate'), 'carol', asker), NOW, open)).toBe(
      'p1 is undone: only a proposed, expired, cancelled or failed plan, or one carried out in dry run, can be asked for',
    );
    expect(validateCommand(withP1(response, (s) => executed(s, record('changed'))), request(plan('remediate'), 'carol', asker), NOW, open)).toBe(
      'p1 is executed: only a proposed, expired, cancelled or failed plan, or one carried out in dry run, can be asked for',
    );
  });

  it('asks again for a plan carried out in dry run, which changed nothing, as a request afresh', () => {
    const dryRun = withP1(requested(), (s) => executed(s, record('dry-run')));
    expect(validateCommand(dryRun, request(plan('remediate'), 'carol', asker), NOW, open)).toBeUndefined();
    const again = applyCommand(dryRun, request(plan('remediate'), 'carol', asker), NOW, TTL).response.plans[0]!;
    expect(again).toMatchObject({ state: 'requested', requestedBy: 'carol' });
    expect(again.execution).toBeUndefined();
  });

  it('cancels only a requested plan', () => {
    const response = requested();
    expect(validateCommand(response, request(plan('cancel'), 'alice', asker), NOW, open)).toBeUndefined();
    expect(validateCommand(response, request(plan('cancel', 'p2'), 'alice', asker), NOW, open)).toBe('p2 is proposed: only a requested plan can be cancelled');
  });

  it('undoes only a change Vigil made: a dry run or a change found made has nothing to undo', () => {
    const response = requested();
    expect(validateCommand(response, request(plan('undo'), 'alice', asker), NOW, open)).toBe('p1 is requested: only an executed plan can be undone');
    expect(validateCommand(withP1(response, (s) => executed(s, record('dry-run'))), request(plan('undo'), 'alice', asker), NOW, open)).toBe(
      'p1 was a dry run: nothing was changed, so there is nothing to undo',
    );
    expect(validateCommand(withP1(response, (s) => executed(s, record('already'))), request(plan('undo'), 'alice', asker), NOW, open)).toBe(
      'p1 found the change already made: Vigil changed nothing, so there is nothing to undo',
    );
    expect(validateCommand(withP1(response, (s) => executed(s, record('changed'))), request(plan('undo'), 'alice', asker), NOW, open)).toBeUndefined();
  });

  it('carries out one plan at a time', () => {
    const busy = withPlan(applyCommand(requested(), request(plan('remediate', 'p2'), 'alice', asker), NOW, TTL).response, 'p1', (s) => ({ ...s, state: 'executing' }));
    expect(validateCommand(busy, request(plan('approve', 'p2'), 'bob', approver), NOW, open)).toBe('p1 is being carried out: one plan at a time, approve p2 once it is done');
    expect(validateCommand(busy, request({ verb: 'accept', reason: 'r', until: '2026-12-31' }, 'bob', approver), NOW, open)).toBe('p1 is being carried out: accept the risk once it is done');
  });

  it('accepts a risk until today or a later day, on an exposure that is still there; nothing is remediated while it holds', () => {
    const accept = (until: string, context = open) => validateCommand(requested(), request({ verb: 'accept', reason: 'a bastion', until }, 'bob', approver), NOW, context);
    expect(accept('2026-12-01')).toBeUndefined();
    expect(accept('2027-06-30')).toBeUndefined();
    expect(accept('2026-11-30')).toBe('2026-11-30 is past: a risk is accepted until today (2026-12-01) or a later day');
    expect(accept('2026-02-30')).toBe('2026-02-30 is not a date: write it as YYYY-MM-DD');
    expect(accept('2026-12-31', { exposure: undefined, watching: false })).toBe('there is no exposure here to accept');
    expect(accept('2026-12-31', { exposure: 'remediated', watching: false })).toBe('nothing is exposed any more (exposure: remediated): there is no risk to accept');

    const accepted = applyCommand(requested(), request({ verb: 'accept', reason: 'a bastion', until: '2026-12-31' }, 'bob', approver), NOW, TTL).response;
    expect(validateCommand(accepted, request(plan('remediate', 'p2'), 'alice', asker), NOW, open)).toBe('the risk is accepted until 2026-12-31 (by bob): nothing is remediated while it holds');
    expect(validateCommand(accepted, request(plan('approve'), 'bob', approver), NOW, open)).toBe('the risk is accepted until 2026-12-31 (by bob): nothing is remediated while it holds');
  });
});

describe('what an accepted command changes', () => {
  it('a request is due for approval within the plan TTL; an approval starts it; an undo reverses it', () => {
    const response = requested();
    expect(response.plans[0]).toMatchObject({ state: 'requested', requestedBy: 'alice', requestedAt: NOW.toISOString(), expiresAt: '2026-12-02T10:00:00.000Z' });
    const approved = applyCommand(response, request(plan('approve'), 'bob', approver), NOW, TTL);
    expect(approved.said).toBe('p1 approved by bob: carrying it out now');
    expect(planInFlight(approved.response)).toMatchObject({ state: 'executing', approvedBy: 'bob', approvedAt: NOW.toISOString() });
    const done = withP1(approved.response, (s) => executed(s, record('changed')));
    expect(planInFlight(done)).toBeUndefined();
    const undoing = applyCommand(done, request(plan('undo'), 'carol', asker), NOW, TTL).response;
    expect(planInFlight(undoing)).toMatchObject({ plan: { id: 'p1' }, state: 'undoing', undoneBy: 'carol' });
    expect(withP1(undoing, (s) => undone(s, record('changed'))).plans[0]).toMatchObject({ state: 'undone', execution: { outcome: 'changed' }, undo: { outcome: 'changed' } });
  });

  it('an undo made in dry run (turned on after a real change) leaves the plan executed, to be undone again', () => {
    const done = withP1(requested(), (s) => executed({ ...s, state: 'executing', approvedBy: 'bob' }, record('changed')));
    const undoing = applyCommand(done, request(plan('undo'), 'carol', asker), NOW, TTL).response;
    const after = withP1(undoing, (s) => undone(s, record('dry-run')));
    expect(after.plans[0]).toMatchObject({ state: 'executed', execution: { outcome: 'changed' }, undo: { outcome: 'dry-run' } });
    expect(validateCommand(after, request(plan('undo'), 'carol', asker), NOW, open)).toBeUndefined();
  });

  it('a plan asked for again starts afresh, without its last failure', () => {
    const failed = withP1(requested(), (s) => ({ ...s, state: 'failed', reason: 'AccessDenied' }));
    const again = applyCommand(failed, request(plan('remediate'), 'carol', asker), new Date(NOW.getTime() + HOUR), TTL).response;
    expect(again.plans[0]).toEqual({ plan: again.plans[0]!.plan, proposedAt: NOW.toISOString(), state: 'requested', requestedBy: 'carol', requestedAt: '2026-12-01T11:00:00.000Z', expiresAt: '2026-12-02T11:00:00.000Z' });
  });

  it('cancels with who did it; accepts with the reason, the day and who', () => {
    expect(applyCommand(requested(), request(plan('cancel'), 'alice', asker), NOW, TTL).response.plans[0]).toMatchObject({ state: 'cancelled', reason: 'cancelled by alice' });
    const accepted = applyCommand(requested(), request({ verb: 'accept', reason: 'a bastion', until: '2026-12-31' }, 'bob', approver), NOW, TTL);
    expect(accepted.response.accepted).toEqual({ reason: 'a bastion', until: '2026-12-31', by: 'bob', at: NOW.toISOString() });
    expect(accepted.said).toBe('risk accepted by bob until 2026-12-31: the issue closes and the watch is silent until then');
  });
});

describe('what runs out', () => {
  it('a request expires at its time; the run waits for the earliest request or acceptance', () => {
    const response = requested();
    expect(nextDeadlineMs(response)).toBe(Date.parse('2026-12-02T10:00:00.000Z'));
    expect(expirePlans(response, new Date(NOW.getTime() + TTL - 1)).expired).toEqual([]);
    const { response: after, expired } = expirePlans(response, new Date(NOW.getTime() + TTL));
    expect(expired.map((status) => [status.plan.id, status.state, status.reason])).toEqual([['p1', 'expired', 'not approved by 2026-12-02T10:00:00.000Z']]);
    expect(after.plans.map((status) => status.state)).toEqual(['expired', 'proposed']);
    expect(nextDeadlineMs(after)).toBeUndefined();

    const accepted = applyCommand(after, request({ verb: 'accept', reason: 'r', until: '2026-12-01' }, 'bob', approver), NOW, TTL).response;
    expect(nextDeadlineMs(accepted)).toBe(Date.parse('2026-12-02T00:00:00.000Z'));
  });

  it('an acceptance holds to the end of its day, UTC', () => {
    expect(new Date(acceptanceEndsMs({ until: '2026-12-31' })).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });
});

describe('proof and re-check words', () => {
  const bucket = (name: string, isPublic: boolean): PublicResource => ({
    provider: 'aws',
    class: 'storage',
    type: 'aws:s3:bucket',
    id: name,
    public: isPublic,
    reasons: [],
    facts: {},
    proofs: [{ kind: 'bucket', provider: 'aws', bucket: name, baseUrl: 'http://127.0.0.1:5000/' }],
    tags: {},
  });
  const finding = (target: string, status: string): Finding => ({ key: `bucket/${target}`, check: 'bucket', target, status, fields: {} });

  it('a resource is proven when an outsider read or listed it, or when its sharing is public', () => {
    const snapshot: PublicResource = { ...bucket('snap-1', true), class: 'snapshot', type: 'aws:ec2:snapshot', proofs: [] };
    const context = { ...emptyContext(), resources: [bucket('open', true), bucket('listed', true), bucket('refused', true), bucket('private', false), snapshot] };
    const findings = [finding('http://127.0.0.1:5000/open', 'public'), finding('http://127.0.0.1:5000/listed', 'listable'), finding('http://127.0.0.1:5000/refused', 'refused'), finding('http://127.0.0.1:5000/private', 'public')];
    expect(provenResources(findings, context)).toEqual(['open', 'listed', 'snap-1']);
  });

  it('says which endpoints closed and which still answer', () => {
    expect(recheckWords(['127.0.0.5:22', '127.0.0.5:443'], ['127.0.0.5:443'], [])).toBe('closed: 127.0.0.5:22; still answering: 127.0.0.5:443');
    expect(recheckWords([], [], ['http://127.0.0.1:5000/open'])).toBe('still public: http://127.0.0.1:5000/open');
    expect(recheckWords(['127.0.0.5:22'], [], [])).toBe('closed: 127.0.0.5:22');
    expect(recheckWords([], [], [])).toBe('nothing answers');
  });
});
