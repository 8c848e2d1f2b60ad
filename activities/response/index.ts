// The response activities: plans from the executors (one per provider, registered here), their
// execution and undo with the response's own credentials, each step audited (a structured record in
// the archive's audit store, then a comment on the issue), and accepted risks kept for the re-scan.
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import stableJson from 'safe-stable-stringify';
import type { LabelNames, ResponseSettings } from '../../lib/config';
import { remediations } from '../../lib/metrics';
import { proposalComment, stepComment } from '../../lib/render/response';
import type { ExecutionRecord, RemediationAction, RemediationKind } from '../../lib/response';
import type { BlobStore } from '../archive/records';
import { reportKey } from '../tracker/report';
import type { Tracker } from '../tracker/types';
import type { AcceptedRisks } from './accepted-risk';
import { createAwsExecutor } from './aws';
import { createGcpExecutor } from './gcp';
import { auditKey, auditSubject } from './keys';
import type { RemediationExecutor, ResponseActivities } from './types';

/** Every executor, each for its provider and the kinds of action it carries out. */
export function createExecutors(settings: ResponseSettings): RemediationExecutor[] {
  return [createAwsExecutor(settings.aws), createGcpExecutor(settings.gcp)];
}

export interface ResponseDeps {
  settings: ResponseSettings;
  executors: readonly RemediationExecutor[];
  tracker: Tracker;
  labels: LabelNames;
  /** The archive's audit store (`<dataDir>/audit`, or the archive bucket under `<prefix>audit/`). */
  audit: BlobStore;
  accepted: AcceptedRisks;
}

/** An action's identity: the same change proposed twice (or by a later check) is one plan. */
const actionKey = (action: RemediationAction) => stableJson(action);

/**
 * The work, or the activity's cancellation, whichever comes first: the calls are short and send
 * no heartbeats, but a cancellation that reaches the activity ends the wait at once.
 */
function cancellable<T>(work: Promise<T>): Promise<T> {
  let context: Context | undefined;
  try {
    context = Context.current();
  } catch {
    // Called as a plain function (a script): nothing can cancel it.
  }
  return context ? Promise.race([work, context.cancelled]) : work;
}

/** An execution or undo counted by its outcome (changed, already, dry-run), or as failed. */
async function counted(operation: 'execute' | 'undo', action: RemediationKind, work: Promise<ExecutionRecord>): Promise<ExecutionRecord> {
  try {
    const record = await work;
    remediations.inc({ operation, action, outcome: record.outcome });
    return record;
  } catch (err) {
    remediations.inc({ operation, action, outcome: 'failed' });
    throw err;
  }
}

export function createResponseActivities({ settings, executors, tracker, labels, audit, accepted: risks }: ResponseDeps): ResponseActivities {
  const executorFor = (kind: RemediationKind) => {
    const executor = executors.find((candidate) => candidate.kinds.includes(kind));
    if (!executor) throw ApplicationFailure.nonRetryable(`no remediation executor carries out ${kind}`, 'RemediationRefused');
    return executor;
  };

  return {
    async proposeRemediations({ known, ...input }) {
      if (!settings.enabled) return [];
      const providers = new Set([...input.context.instances, ...(input.context.resources ?? [])].map((resource) => resource.provider));
      const seen = new Set(known.map(actionKey));
      const proposed = [];
      for (const executor of executors.filter((candidate) => providers.has(candidate.provider))) {
        let plans;
        try {
          plans = await cancellable(executor.propose(input));
        } catch (err) {
          // A provider whose remediation identity is refused (no role yet in that account) proposes
          // nothing; the others still do, and the issue is not marked failed for what is set-up work.
          if (!(err instanceof ApplicationFailure && err.type === 'RemediationRefused')) throw err;
          log.warn('no remediation proposed: the remediation identity was refused', { provider: executor.provider, reason: err.message });
          continue;
        }
        for (const plan of plans) {
          const key = actionKey(plan.action);
          if (seen.has(key)) continue;
          seen.add(key);
          proposed.push(plan);
        }
      }
      return proposed;
    },

    async executeRemediation({ plan }) {
      // Switched off after the plan was approved (an operator's emergency stop): nothing changes.
      if (!settings.enabled) throw ApplicationFailure.nonRetryable('response.enabled is false: remediations are not carried out', 'RemediationRefused');
      return counted('execute', plan.action.kind, cancellable(executorFor(plan.action.kind).execute(plan.action, settings.dryRun)));
    },

    async undoRemediation({ plan, execution }) {
      return counted('undo', plan.action.kind, cancellable(executorFor(plan.action.kind).undo(plan.action, execution, settings.dryRun)));
    },

    async reportResponse({ entry: said, plans, status, accepted, suppressed = false, ...run }) {
      // An approval is carried out as configured now: the workflow does not know whether that is a dry run.
      const entry = said.step === 'approved' && said.dryRun === undefined ? { ...said, dryRun: settings.dryRun } : said;
      // The record first, under a key fixed by the step: a retry rewrites it, a suppressed issue still has it.
      const record = { ...entry, ...(status ? { status } : {}), ...(plans ? { plans } : {}), ...(accepted ? { accepted } : {}) };
      await audit.put(auditKey(entry, plans), JSON.stringify(record, null, 2), 'application/json');
      if (suppressed) return;
      const body = entry.step === 'proposed' && plans ? proposalComment(plans, settings) : stepComment(entry, { ...(status ? { status } : {}), ...(accepted ? { accepted } : {}) });
      await tracker.upsertComment(run.issue.number, reportKey(run, `response/${auditSubject(entry, plans)}/${entry.step}/${entry.at}`), body);
    },

    async acceptRisk({ workflowId, issue, alert, accepted }) {
      await risks.put({
        resources: alert.resources.map(({ type, id }) => ({ type, id })),
        reason: accepted.reason,
        expires: accepted.until,
        by: accepted.by,
        workflowId,
        at: accepted.at,
      });
      await tracker.updateLabels(issue.number, { add: [labels.riskAccepted] });
      await tracker.closeIssue(issue.number);
    },

    async endAcceptedRisk({ workflowId, issue, accepted }) {
      // A later acceptance of the same investigation replaced this one: it is not this one's to end.
      const stored = await risks.get(workflowId);
      if (stored && stored.at !== accepted.at) return;
      await risks.delete(workflowId);
      await tracker.updateLabels(issue.number, { remove: [labels.riskAccepted] });
      await tracker.reopenIssue(issue.number);
    },
  };
}
