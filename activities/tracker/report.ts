// Activities that report an investigation on its issue.
import type { NormalizedAlert } from '../../lib/alert';
import type { LabelNames } from '../../lib/config';
import type { ResourceContext } from '../../lib/context';
import type { FindingsDiff } from '../../lib/finding';
import type { ActorReport } from '../../lib/intel';
import { actorsComment } from '../../lib/render/actors';
import { alertLabels, alertSummary, issueBody, issueTitle, occurrencesComment } from '../../lib/render/alert-summary';
import { contextComment } from '../../lib/render/context';
import { exposureComment, type ShownScreenshot } from '../../lib/render/exposure';
import { recheckComment, watchEndedComment, type WatchEnd } from '../../lib/render/watch';
import type { BlobStore } from '../archive/records';
import type { ProbeReport } from '../probe/types';
import type { ScreenshotResult } from '../screenshot';
import type { IssueRef } from '../../lib/investigation';
import type { Tracker } from './types';

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

/** A screenshot as the workflow got it back from the browser queue, or why it did not. */
export interface ScreenshotOutcome {
  url: string;
  result?: ScreenshotResult;
  failure?: string;
}

export interface ReportDeps {
  tracker: Tracker;
  labels: LabelNames;
  /** Where the browser worker stored the screenshots. */
  artifacts: BlobStore;
}

export function createReportActivities({ tracker, labels, artifacts }: ReportDeps) {
  /** The screenshot stored as evidence on the issue, shown inline where the tracker can. */
  const show = async (issue: IssueRef, { url, result, failure }: ScreenshotOutcome): Promise<ShownScreenshot> => {
    if (!result) return { url, status: failure ?? 'failed' };
    const status = result.finding.status;
    if (!result.evidence) return { url, status };
    const data = await artifacts.get(result.evidence.key);
    if (!data) return { url, status: `${status}, but the image is missing from the artifact store` };
    const name = `screenshot-${result.evidence.sha256.slice(0, 16)}.png`;
    const link = await tracker.attachEvidence(issue.number, { name, contentType: result.evidence.contentType, data });
    return { url, status, image: link.markdown };
  };

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

    /** The machines the alert concerns, their public addresses and what exposes them. */
    async commentContext({ workflowId, issue, context }: { workflowId: string; issue: IssueRef; context: ResourceContext }): Promise<void> {
      await tracker.upsertComment(issue.number, `${workflowId}#context`, contextComment(context));
    },

    /** What answered on the exposed ports, the web pages' screenshots, and what was not probed. */
    async commentExposure({
      workflowId,
      issue,
      report,
      screenshots,
    }: {
      workflowId: string;
      issue: IssueRef;
      report: ProbeReport;
      screenshots: ScreenshotOutcome[];
    }): Promise<void> {
      const shown = await Promise.all(screenshots.map((outcome) => show(issue, outcome)));
      const findings = [...report.findings, ...screenshots.flatMap(({ result }) => (result ? [result.finding] : []))];
      await tracker.upsertComment(issue.number, `${workflowId}#exposure`, exposureComment({ findings, skipped: report.skipped, screenshots: shown }));
    },

    /** What changed since the last report; the screenshots shown are those whose picture changed. */
    async commentRecheck({
      workflowId,
      issue,
      check,
      diff,
      screenshots,
    }: {
      workflowId: string;
      issue: IssueRef;
      check: number;
      diff: FindingsDiff;
      screenshots: ScreenshotOutcome[];
    }): Promise<void> {
      const changed = new Set([...diff.added, ...diff.changed.map(({ after }) => after)].map((finding) => finding.key));
      const shown = await Promise.all(screenshots.filter(({ result }) => result && changed.has(result.finding.key)).map((outcome) => show(issue, outcome)));
      await tracker.upsertComment(issue.number, `${workflowId}#recheck/${check}`, recheckComment(check, diff, shown));
    },

    /** Why the watch ended: remediated, or watched for as long as configured. */
    async commentWatchEnded({ workflowId, issue, check, ...end }: { workflowId: string; issue: IssueRef; check: number } & WatchEnd): Promise<void> {
      await tracker.upsertComment(issue.number, `${workflowId}#watch-ended/${check}`, watchEndedComment(end));
    },

    /** The exposure's state in the issue's labels (open or remediated), closing it when asked to. */
    async markExposure({ issue, state, close = false }: { issue: IssueRef; state: 'open' | 'remediated'; close?: boolean }): Promise<void> {
      const [add, remove] = state === 'open' ? [labels.exposureOpen, labels.exposureRemediated] : [labels.exposureRemediated, labels.exposureOpen];
      await tracker.updateLabels(issue.number, { add: [add], remove: [remove] });
      if (close) await tracker.closeIssue(issue.number);
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
