// The contract of remediation executors (one per provider, registered in ./index.ts) and of the
// response activities the investigation calls. Executors read and change the cloud with the
// response's own narrow credentials (`response.aws`, `response.gcp`), never the inventory's.
import type { NormalizedAlert } from '../../lib/alert';
import type { ResourceContext } from '../../lib/context';
import type { AuditEntry, ExecutionRecord, PlanStatus, RemediationAction, RemediationKind, RemediationPlan, AcceptedRisk } from '../../lib/response';
import type { ReportRun } from '../tracker/report';

export interface ProposeInput {
  alert: NormalizedAlert;
  context: ResourceContext;
  /** Endpoints that answered the exposure checks (`127.0.0.5:22`, `[2001:db8::1]:443`). */
  answered: string[];
  /** Ids (`PublicResource.id`) of the resources an outsider's proof or their sharing showed public. */
  proven: string[];
}

/** A plan before the investigation numbers it. */
export type ProposedRemediation = Omit<RemediationPlan, 'id'>;

/**
 * Failures: a refusal (permission denied, a resource that no longer exists in a way no retry
 * changes) is a non-retryable `ApplicationFailure` of type `RemediationRefused` whose message says
 * what was refused and by whom; anything else is thrown as is and retried by Temporal. Every call
 * is idempotent: a retry after a lost answer finds the change made and answers `already`.
 */
export interface RemediationExecutor {
  provider: 'aws' | 'gcp';
  kinds: readonly RemediationKind[];
  /**
   * Plans for what the context shows exposed and the checks proved: for each rule that opens an
   * answering endpoint to the internet, and each proven public bucket. Reads the current state
   * (the security-group rule ids, the machines behind a group) with the response's credentials.
   */
  propose(input: ProposeInput): Promise<ProposedRemediation[]>;
  /** Carries the action out (or, in dry run, reads the state and says what it would do). */
  execute(action: RemediationAction, dryRun: boolean): Promise<ExecutionRecord>;
  /** Restores exactly what `execution` changed (its `before`); `already` when it is back already. */
  undo(action: RemediationAction, execution: ExecutionRecord, dryRun: boolean): Promise<ExecutionRecord>;
}

/** The investigation's response activities (activities/response/index.ts). */
export interface ResponseActivities {
  /** New plans (not among `known`); none when `response.enabled` is false or no executor handles the provider. */
  proposeRemediations(input: ProposeInput & { known: RemediationAction[] }): Promise<ProposedRemediation[]>;
  executeRemediation(input: { plan: RemediationPlan }): Promise<ExecutionRecord>;
  undoRemediation(input: { plan: RemediationPlan; execution: ExecutionRecord }): Promise<ExecutionRecord>;
  /**
   * One audited step: the structured record in the archive (`audit/…`, written first, same key on a
   * retry), then its comment on the issue (keyed by plan and step, never twice). `plans`: the proposal
   * comment shows them; `status`: the plan as it stands after the step; `accepted`: the acceptance an
   * `accepted` or `acceptance-expired` step is about (its date and reason).
   */
  reportResponse(input: ReportRun & { entry: AuditEntry; plans?: RemediationPlan[]; status?: PlanStatus; accepted?: AcceptedRisk; suppressed?: boolean }): Promise<void>;
  /**
   * A risk accepted: an allowance the re-scans honour (the alert's resources, the reason, until the
   * date), the issue labelled and closed. Undone by `endAcceptedRisk` when it expires.
   */
  acceptRisk(input: ReportRun & { alert: NormalizedAlert; accepted: AcceptedRisk }): Promise<void>;
  /** The acceptance expired: the allowance removed, the label taken off, the issue reopened. */
  endAcceptedRisk(input: ReportRun & { alert: NormalizedAlert; accepted: AcceptedRisk }): Promise<void>;
}
