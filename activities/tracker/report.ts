// Activities that report an investigation on its issue.
import type { NormalizedAlert } from '../../lib/alert';
import { alertLabels, alertSummary, issueBody, issueTitle, occurrencesComment } from '../../lib/render/alert-summary';
import type { IssueRef, Tracker } from './types';

export interface AlertReportInput {
  alert: NormalizedAlert;
  workflowId: string;
}

export function createReportActivities(tracker: Tracker) {
  return {
    /** Finds the alert's issue by fingerprint, or opens it. */
    async openIssueForAlert({ alert, workflowId }: AlertReportInput): Promise<IssueRef> {
      const { issue } = await tracker.findOrCreateIssue({
        fingerprint: alert.fingerprint,
        title: issueTitle(alert),
        body: issueBody(alert, workflowId),
        labels: alertLabels(alert),
      });
      return issue;
    },

    /** Comments the summary of one delivery; keyed by delivery, so a retry updates, never repeats. */
    async commentAlertSummary({ alert, workflowId, issue }: AlertReportInput & { issue: IssueRef }): Promise<void> {
      await tracker.upsertComment(issue.number, `${workflowId}#delivery/${alert.archive.sha256}`, alertSummary(alert));
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
