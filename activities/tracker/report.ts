// Activities that report an investigation on its issue.
import type { NormalizedAlert } from '../../lib/alert';
import type { LabelNames } from '../../lib/config';
import type { ActorReport } from '../../lib/intel';
import { actorsComment } from '../../lib/render/actors';
import { alertLabels, alertSummary, issueBody, issueTitle, occurrencesComment } from '../../lib/render/alert-summary';
import type { IssueRef, Tracker } from './types';

export interface AlertReportInput {
  alert: NormalizedAlert;
  workflowId: string;
}

export interface OpenedIssue {
  issue: IssueRef;
  /** It was closed: this delivery is a recurrence, and the issue has been reopened. */
  reopened: boolean;
  /** A person put the suppress label on it: Vigil comments no more. */
  suppressed: boolean;
}

export function createReportActivities(tracker: Tracker, labels: LabelNames) {
  return {
    /** Finds the alert's issue by fingerprint, or opens it; a closed one is reopened. */
    async openIssueForAlert({ alert, workflowId }: AlertReportInput): Promise<OpenedIssue> {
      const { issue, created, state } = await tracker.findOrCreateIssue({
        fingerprint: alert.fingerprint,
        workflowId,
        title: issueTitle(alert),
        body: issueBody(alert, workflowId),
        labels: alertLabels(alert, labels),
      });
      if (created) return { issue, reopened: false, suppressed: false };
      if (state === 'closed') await tracker.reopenIssue(issue.number);
      const { labels: current } = await tracker.getIssue(issue.number);
      return { issue, reopened: state === 'closed', suppressed: current.includes(labels.suppress) };
    },

    /** What is known about the alert's actors, as one comment. */
    async commentActors({ workflowId, issue, reports }: { workflowId: string; issue: IssueRef; reports: ActorReport[] }): Promise<void> {
      await tracker.upsertComment(issue.number, `${workflowId}#actors`, actorsComment(reports));
    },

    /** Reopens the issue when the alert recurs after a person closed it. */
    async reopenIssue({ issue }: { issue: IssueRef }): Promise<void> {
      await tracker.reopenIssue(issue.number);
    },

    /** Comments the summary of one delivery; keyed by delivery, so a retry updates, never repeats. */
    async commentAlertSummary({
      alert,
      workflowId,
      issue,
      recurrence = false,
    }: AlertReportInput & { issue: IssueRef; recurrence?: boolean }): Promise<void> {
      await tracker.upsertComment(
        issue.number,
        `${workflowId}#delivery/${alert.archive.sha256}`,
        alertSummary(alert, { recurrence }),
      );
    },

    /**
     * The repeats of the alert, counted in one comment per run that each batch of repeats updates
     * (a later run, after the investigation ended, counts its own period in a comment of its own).
     */
    async commentOccurrences(
      input: AlertReportInput & { runId: string; issue: IssueRef; occurrences: number; firstSeen: string; lastSeen: string },
    ): Promise<void> {
      await tracker.upsertComment(input.issue.number, `${input.workflowId}/${input.runId}#occurrences`, occurrencesComment(input));
    },
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
