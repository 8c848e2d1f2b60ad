// The response's bookkeeping as pure functions: which commands from the issue a plan's state, the
// author's roles and the dates allow (the `responseCommand` update's validator says the refusal in
// words), what an accepted command changes, plan numbering, and when a request or an accepted risk
// runs out. The workflow does the I/O and calls these; they are tested without Temporal.
import type { ResourceContext } from './context';
import { PROOF_CHECKS } from './context';
import type { Finding } from './finding';
import type { ExposureState } from './investigation';
import type { AcceptedRisk, ExecutionRecord, PlanState, PlanStatus, RemediationAction, RemediationPlan, ResponseProgress, ResponseRequest } from './response';

const DAY_MS = 24 * 60 * 60_000;

/** What the validator looks at besides the plans: the exposure as last checked. */
export interface CommandContext {
  exposure: ExposureState | undefined;
  /** Whether the watch re-checks the exposure on a timer. */
  watching: boolean;
}

/**
 * A plan someone may ask for: never asked, or asked and not carried out. Not an undone one: what the
 * undo put back may differ from what the plan names (a security-group rule returns under a new id),
 * and the re-check after the undo proposes it afresh.
 */
const ASKABLE: ReadonlySet<PlanState> = new Set(['proposed', 'expired', 'cancelled', 'failed']);
/** A plan being carried out or reversed: the loop runs it, one at a time. */
const IN_FLIGHT: ReadonlySet<PlanState> = new Set(['executing', 'undoing']);
/** A plan that still asks something of a person or of the workflow. */
const LIVE: ReadonlySet<PlanState> = new Set(['proposed', 'requested', 'executing', 'undoing']);

export const emptyResponse = (): ResponseProgress => ({ plans: [], nextPlan: 1 });

const planList = (response: ResponseProgress | undefined) => (response?.plans ?? []).map((status) => status.plan.id);

/** `YYYY-MM-DD` of a date that exists (2026-02-30 does not). */
const isDay = (text: string) => /^\d{4}-\d{2}-\d{2}$/.test(text) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);

/** When an acceptance ends: the end of its `until` day, UTC. */
export const acceptanceEndsMs = (accepted: Pick<AcceptedRisk, 'until'>): number => Date.parse(`${accepted.until}T00:00:00Z`) + DAY_MS;

const inFlight = (response: ResponseProgress | undefined) => response?.plans.find((status) => IN_FLIGHT.has(status.state));

/**
 * Whether the approver is the person who asked: by the tracker's lasting id when both have one (a
 * GitHub login renamed in between is still the same person; a login taken over since is not), else by name.
 */
function sameAuthor(status: PlanStatus, { author, authorId }: ResponseRequest): boolean {
  if (status.requestedById !== undefined && authorId !== undefined) return status.requestedById === authorId;
  return status.requestedBy?.toLowerCase() === author.toLowerCase();
}

/**
 * Why the command is refused, in words said on the issue; undefined when it is allowed. Checked in
 * the order a person would want to hear it: what they named, who they are, then what state allows.
 */
export function validateCommand(response: ResponseProgress | undefined, request: ResponseRequest, now: Date, context: CommandContext): string | undefined {
  const { command, author, roles } = request;
  if (response?.commands?.includes(request.commentId)) return 'this comment was acted on already: a command is taken once';
  const busy = inFlight(response);
  if (command.verb === 'accept') {
    if (!roles.approve) return `${author} may not accept a risk: only the people in response.approvers may`;
    if (!isDay(command.until)) return `${command.until} is not a date: write it as YYYY-MM-DD`;
    const today = now.toISOString().slice(0, 10);
    if (command.until < today) return `${command.until} is past: a risk is accepted until today (${today}) or a later day`;
    if (context.exposure === undefined) return 'there is no exposure here to accept';
    if (!context.watching && (context.exposure === 'none' || context.exposure === 'remediated')) return `nothing is exposed any more (exposure: ${context.exposure}): there is no risk to accept`;
    if (busy) return `${busy.plan.id} is being carried out: accept the risk once it is done`;
    return undefined;
  }

  const status = response?.plans.find((candidate) => candidate.plan.id === command.plan);
  if (!status) {
    const plans = planList(response);
    return plans.length === 0 ? `there is no plan ${command.plan}: no plan has been proposed here` : `there is no plan ${command.plan}: the plans here are ${plans.join(', ')}`;
  }
  const { plan, state } = status;
  if (command.verb === 'approve' ? !roles.approve : !roles.ask && !roles.approve) {
    return command.verb === 'approve'
      ? `${author} may not approve: only the people in response.approvers may`
      : `${author} may not ${command.verb} a plan: only the people in response.askers or response.approvers may`;
  }
  const accepted = response?.accepted;
  switch (command.verb) {
    case 'remediate':
      // A dry run changed nothing: once dry run is off, the same plan is asked for again to be carried out.
      if (!ASKABLE.has(state) && !(state === 'executed' && status.execution?.outcome === 'dry-run')) {
        return `${plan.id} is ${state}: only a proposed, expired, cancelled or failed plan, or one carried out in dry run, can be asked for`;
      }
      if (accepted) return `the risk is accepted until ${accepted.until} (by ${accepted.by}): nothing is remediated while it holds`;
      return undefined;
    case 'approve':
      if (state !== 'requested') return state === 'proposed' ? `${plan.id} has not been asked for: /vigil remediate ${plan.id} first` : `${plan.id} is ${state}: only a requested plan can be approved`;
      if (status.expiresAt && now.getTime() >= Date.parse(status.expiresAt)) return `the request for ${plan.id} expired at ${status.expiresAt}: ask again with /vigil remediate ${plan.id}`;
      if (!request.selfApproval && sameAuthor(status, request)) return 'approval needs a second person: response.selfApproval is off';
      if (accepted) return `the risk is accepted until ${accepted.until} (by ${accepted.by}): nothing is remediated while it holds`;
      if (busy) return `${busy.plan.id} is being carried out: one plan at a time, approve ${plan.id} once it is done`;
      return undefined;
    case 'cancel':
      return state === 'requested' ? undefined : `${plan.id} is ${state}: only a requested plan can be cancelled`;
    case 'undo':
      if (state !== 'executed') return `${plan.id} is ${state}: only an executed plan can be undone`;
      if (status.execution?.outcome === 'dry-run') return `${plan.id} was a dry run: nothing was changed, so there is nothing to undo`;
      if (status.execution?.outcome !== 'changed') return `${plan.id} found the change already made: Vigil changed nothing, so there is nothing to undo`;
      if (busy) return `${busy.plan.id} is being carried out: one plan at a time, undo ${plan.id} once it is done`;
      return undefined;
  }
}

/** The plan `id` changed by `change`, the others as they were. */
export const withPlan = (response: ResponseProgress, id: string, change: (status: PlanStatus) => PlanStatus): ResponseProgress => ({
  ...response,
  plans: response.plans.map((status) => (status.plan.id === id ? change(status) : status)),
});

/**
 * What an accepted command changes, and what the investigation answers at once (the work itself,
 * carrying a plan out or closing the issue, is the workflow's main loop's).
 */
export function applyCommand(response: ResponseProgress | undefined, request: ResponseRequest, now: Date, planTtlMs: number): { response: ResponseProgress; said: string } {
  const { command, author } = request;
  const at = now.toISOString();
  const current = taken(response ?? emptyResponse(), request.commentId);
  if (command.verb === 'accept') {
    const accepted: AcceptedRisk = { reason: command.reason, until: command.until, by: author, at };
    return { response: { ...current, accepted }, said: `risk accepted by ${author} until ${command.until}: the issue closes and the watch is silent until then` };
  }
  const id = command.plan;
  switch (command.verb) {
    case 'remediate': {
      const expiresAt = new Date(now.getTime() + planTtlMs).toISOString();
      const requestedById = request.authorId !== undefined ? { requestedById: request.authorId } : {};
      const requested = withPlan(current, id, ({ plan, proposedAt }) => ({ plan, proposedAt, state: 'requested', requestedBy: author, ...requestedById, requestedAt: at, expiresAt }));
      return { response: requested, said: `${id} requested by ${author}: an approver's /vigil approve ${id} carries it out; the request expires at ${expiresAt}` };
    }
    case 'approve':
      return { response: withPlan(current, id, (status) => ({ ...status, state: 'executing', approvedBy: author, approvedAt: at })), said: `${id} approved by ${author}: carrying it out now` };
    case 'cancel':
      return { response: withPlan(current, id, (status) => ({ ...status, state: 'cancelled', reason: `cancelled by ${author}` })), said: `${id} cancelled by ${author}` };
    case 'undo':
      return { response: withPlan(current, id, (status) => ({ ...status, state: 'undoing', undoneBy: author })), said: `${id} being undone, as ${author} asked` };
  }
}

/** How many comments' commands are remembered (a redelivery comes soon after, if at all). */
const REMEMBERED_COMMANDS = 200;

/** The response with the comment's command remembered as taken. */
const taken = (response: ResponseProgress, commentId: string): ResponseProgress => ({ ...response, commands: [...(response.commands ?? []), commentId].slice(-REMEMBERED_COMMANDS) });

/** New proposals numbered `p<n>` on from `nextPlan`, as plans the issue shows. */
export function addPlans(response: ResponseProgress | undefined, proposed: readonly Omit<RemediationPlan, 'id'>[], now: Date): { response: ResponseProgress; plans: RemediationPlan[] } {
  const current = response ?? emptyResponse();
  const plans = proposed.map((plan, index) => ({ ...plan, id: `p${current.nextPlan + index}` }));
  const proposedAt = now.toISOString();
  return {
    response: { ...current, plans: [...current.plans, ...plans.map((plan): PlanStatus => ({ plan, state: 'proposed', proposedAt }))], nextPlan: current.nextPlan + plans.length },
    plans,
  };
}

/** The actions proposed already: the proposer leaves them out. */
export const knownActions = (response: ResponseProgress | undefined): RemediationAction[] => (response?.plans ?? []).map((status) => status.plan.action);

/** Whether a plan still waits on a person or on the workflow: while one does, re-checks propose nothing new. */
export const hasLivePlan = (response: ResponseProgress | undefined): boolean => (response?.plans ?? []).some((status) => LIVE.has(status.state));

/** The requests not approved in time: expired now. */
export function expirePlans(response: ResponseProgress, now: Date): { response: ResponseProgress; expired: PlanStatus[] } {
  const due = (status: PlanStatus) => status.state === 'requested' && status.expiresAt !== undefined && Date.parse(status.expiresAt) <= now.getTime();
  const expired = response.plans.filter(due).map((status): PlanStatus => ({ ...status, state: 'expired', reason: `not approved by ${status.expiresAt}` }));
  return { response: expired.reduce((next, status) => withPlan(next, status.plan.id, () => status), response), expired };
}

/** The next time something runs out on its own (a request, an accepted risk), if anything does. */
export function nextDeadlineMs(response: ResponseProgress | undefined): number | undefined {
  const deadlines = [
    ...(response?.plans ?? []).flatMap((status) => (status.state === 'requested' && status.expiresAt ? [Date.parse(status.expiresAt)] : [])),
    ...(response?.accepted ? [acceptanceEndsMs(response.accepted)] : []),
  ];
  return deadlines.length > 0 ? Math.min(...deadlines) : undefined;
}

/** The plan the loop carries out (or reverses) next: approved or asked to undo. */
export const planInFlight = (response: ResponseProgress | undefined): PlanStatus | undefined => inFlight(response);

/** The plan after its execution (or undo) answered. */
export const executed = (status: PlanStatus, execution: ExecutionRecord): PlanStatus => ({ ...withoutReason(status), state: 'executed', execution });
/**
 * An undo made in dry run (response.dryRun turned on after a real change) put nothing back: the plan
 * stays executed, so that it can be undone once dry run is off, rather than shown undone for good.
 */
export const undone = (status: PlanStatus, undo: ExecutionRecord): PlanStatus =>
  undo.outcome === 'dry-run'
    ? { ...status, state: 'executed', undo, reason: 'the undo ran in dry run (response.dryRun): nothing was put back; undo it again once dry run is off' }
    : { ...withoutReason(status), state: 'undone', undo };

/** A reason belongs to the failure it explained: a later success drops it. */
function withoutReason(status: PlanStatus): PlanStatus {
  const copy = { ...status };
  delete copy.reason;
  return copy;
}

/** An execution's outcome in the audit's words. */
export const outcomeWords = (record: ExecutionRecord, undoing = false): string =>
  record.outcome === 'dry-run' ? 'dry run: nothing changed' : record.outcome === 'already' ? (undoing ? 'already restored' : 'already done') : undoing ? 'restored' : 'done';

/** Resources that the exposure checks reached as an outsider does, by their id: what a proposal may close. */
export function provenResources(findings: readonly Finding[], context: Pick<ResourceContext, 'resources'>): string[] {
  const reached = new Set(findings.filter((finding) => PROOF_CHECKS.has(finding.check) && (finding.status === 'public' || finding.status === 'listable')).map((finding) => finding.target));
  const trim = (url: string) => url.replace(/\/+$/, '');
  return (context.resources ?? [])
    .filter(
      (resource) =>
        resource.public &&
        (resource.class === 'snapshot' ||
          resource.proofs.some((proof) => (proof.kind === 'bucket' ? reached.has(`${trim(proof.baseUrl)}/${proof.bucket}`) : proof.kind === 'url' && reached.has(proof.url)))),
    )
    .map((resource) => resource.id);
}

/** What a re-check after a change found, in words: which endpoints closed, which still answer. */
export function recheckWords(before: readonly string[], after: readonly string[], stillPublic: readonly string[]): string {
  const closed = before.filter((endpoint) => !after.includes(endpoint));
  const parts = [
    ...(closed.length > 0 ? [`closed: ${closed.join(', ')}`] : []),
    ...(after.length > 0 ? [`still answering: ${after.join(', ')}`] : []),
    ...(stillPublic.length > 0 ? [`still public: ${stillPublic.join(', ')}`] : []),
  ];
  return parts.length > 0 ? parts.join('; ') : 'nothing answers';
}
