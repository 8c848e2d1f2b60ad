// Activities that report an investigation on its issue.
import { createHash } from 'node:crypto';
import { occurrenceKey, severities, type NormalizedAlert, type Severity } from '../../lib/alert';
import type { LabelNames } from '../../lib/config';
import type { ContextProblem, ResourceContext } from '../../lib/context';
import type { FindingsDiff } from '../../lib/finding';
import type { ActorReport } from '../../lib/intel';
import { exposuresRemediated, investigationsStarted } from '../../lib/metrics';
import { actorsComment } from '../../lib/render/actors';
import { alertLabels, alertSummary, issueTitle, occurrencesComment } from '../../lib/render/alert-summary';
import { contextComment } from '../../lib/render/context';
import { exposureComment, type SharedResource, type ShownScreenshot } from '../../lib/render/exposure';
import { currentIssueBody, type EndpointState, type IssueBodyState } from '../../lib/render/issue-body';
import { failureComment, recheckComment, resolutionComment, watchEndedComment, type ResolutionOutcome, type WatchEnd } from '../../lib/render/watch';
import type { BlobStore } from '../archive/records';
import type { ProbeReport } from '../probe/types';
import type { ScreenshotResult } from '../screenshot';
import type { ExposureState, IssueRef, RelatedInvestigation } from '../../lib/investigation';
import type { Tracker } from './types';

export interface AlertReportInput {
  alert: NormalizedAlert;
  workflowId: string;
}

/**
 * Which investigation a comment belongs to: the workflow and the run that made the first report.
 * Keyed by both, a later investigation of the same alert adds its comments beside the earlier ones.
 */
export interface ReportRun {
  workflowId: string;
  run: string;
  issue: IssueRef;
}

export const reportKey = ({ workflowId, run }: ReportRun, step: string) => `${workflowId}/${run}#${step}`;

/** The summary of one occurrence: keyed by the occurrence alone, so any investigation finds it. */
const deliveryKey = (workflowId: string, alert: NormalizedAlert) => `${workflowId}#delivery/${occurrenceKey(alert)}`;

export interface OpenedIssue {
  issue: IssueRef;
  /** It was closed: this delivery is a recurrence, and the issue has been reopened. */
  reopened: boolean;
  /** A person put the suppress label on it: Vigil comments no more. */
  suppressed: boolean;
  /** This occurrence is on the issue already: a redelivery, not news. */
  alreadyReported: boolean;
}

/** A screenshot as the workflow got it back from the browser queue, or why it did not. */
export interface ScreenshotOutcome {
  url: string;
  result?: ScreenshotResult;
  failure?: string;
}

/** What the issue's body is rendered from: the state the workflow keeps. */
export interface IssueBodyUpdate {
  issue: IssueRef;
  alert: NormalizedAlert;
  workflowId: string;
  state: IssueBodyState;
  endpoints: EndpointState[];
  related: RelatedInvestigation[];
  nextCheck?: string;
  /** The digest the last body written had: the same body is not written again. */
  digest?: string;
}

/** Related issues whose state the body shows (each read from the tracker when the body is rendered). */
const RELATED_READ = 20;

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
    /**
     * Finds the alert's issue by fingerprint, or opens it; a closed one is reopened. An occurrence
     * already reported there (a redelivery after its investigation ended: the sweeper, replay) is no
     * news: nothing is reopened, and the investigation reports nothing again.
     */
    async openIssueForAlert({ alert, workflowId }: AlertReportInput): Promise<OpenedIssue> {
      const { issue, created, state } = await tracker.findOrCreateIssue({
        fingerprint: alert.fingerprint,
        workflowId,
        title: issueTitle(alert),
        body: currentIssueBody({ alert, workflowId, state: { occurrences: 0 }, endpoints: [], related: [] }),
        labels: alertLabels(alert, labels),
      });
      if (created) {
        investigationsStarted.inc({ kind: alert.kind, issue: 'created' });
        return { issue, reopened: false, suppressed: false, alreadyReported: false };
      }
      const alreadyReported = await tracker.hasComment(issue.number, deliveryKey(workflowId, alert));
      if (state === 'closed' && !alreadyReported) await tracker.reopenIssue(issue.number);
      const { labels: current } = await tracker.getIssue(issue.number);
      investigationsStarted.inc({ kind: alert.kind, issue: alreadyReported ? 'already_reported' : state === 'closed' ? 'reopened' : 'existing' });
      return { issue, reopened: state === 'closed' && !alreadyReported, suppressed: current.includes(labels.suppress), alreadyReported };
    },

    /**
     * The issue's body rewritten with the current state; the related issues' states are read now,
     * so a related issue closed since shows closed. Returns the body's digest, which the workflow
     * hands back next time: when nothing changed, nothing is written.
     */
    async updateIssueBody({ issue, alert, workflowId, state, endpoints, related, nextCheck, digest }: IssueBodyUpdate): Promise<string> {
      const states = await Promise.all(
        related.slice(0, RELATED_READ).map(async (entry) => {
          const known = await tracker.getIssue(entry.issue.number).then(({ state: current }) => current, () => undefined);
          return known ? { ...entry, state: known } : entry;
        }),
      );
      const body = currentIssueBody({ alert, workflowId, state, endpoints, related: [...states, ...related.slice(RELATED_READ)], ...(nextCheck ? { nextCheck } : {}) });
      const written = createHash('sha256').update(body).digest('hex');
      if (written !== digest) await tracker.replaceIssueBody(issue.number, body);
      return written;
    },

    /** What is known about the alert's actors, as one comment (and one per repeat that names new ones). */
    async commentActors(input: ReportRun & { reports: ActorReport[]; repeat?: string }): Promise<void> {
      const step = input.repeat ? `actors/${input.repeat}` : 'actors';
      await tracker.upsertComment(input.issue.number, reportKey(input, step), actorsComment(input.reports));
    },

    /** The machines the alert concerns, their public addresses and what exposes them. */
    async commentContext(input: ReportRun & { context: ResourceContext }): Promise<void> {
      await tracker.upsertComment(input.issue.number, reportKey(input, 'context'), contextComment(input.context));
    },

    /** What answered on the exposed ports and the buckets and URLs asked as an outsider, the snapshots shared with everyone, the web pages' screenshots, and what was not probed. */
    async commentExposure(input: ReportRun & { report: ProbeReport; screenshots: ScreenshotOutcome[]; shared?: SharedResource[] }): Promise<void> {
      const { issue, report, screenshots, shared } = input;
      const shown = await Promise.all(screenshots.map((outcome) => show(issue, outcome)));
      const findings = [...report.findings, ...screenshots.flatMap(({ result }) => (result ? [result.finding] : []))];
      await tracker.upsertComment(issue.number, reportKey(input, 'exposure'), exposureComment({ findings, skipped: report.skipped, screenshots: shown, ...(shared ? { shared } : {}) }));
    },

    /** What changed since the last report; the screenshots shown are those whose picture changed. */
    async commentRecheck(input: ReportRun & { check: number; diff: FindingsDiff; screenshots: ScreenshotOutcome[]; problems?: ContextProblem[] }): Promise<void> {
      const { issue, check, diff, screenshots, problems = [] } = input;
      const changed = new Set([...diff.added, ...diff.changed.map(({ after }) => after)].map((finding) => finding.key));
      const shown = await Promise.all(screenshots.filter(({ result }) => result && changed.has(result.finding.key)).map((outcome) => show(issue, outcome)));
      await tracker.upsertComment(issue.number, reportKey(input, `recheck/${check}`), recheckComment(check, diff, shown, problems));
    },

    /** Why the watch ended: remediated, resolved at the source, or watched for as long as configured. */
    async commentWatchEnded({ workflowId, run, issue, check, ...end }: ReportRun & { check: number } & WatchEnd): Promise<void> {
      await tracker.upsertComment(issue.number, reportKey({ workflowId, run, issue }, `watch-ended/${check}`), watchEndedComment(end));
    },

    /** The source says the finding is over: what the re-check made of it. */
    async commentResolution(input: ReportRun & { occurrence: string; resolution: string; outcome: ResolutionOutcome }): Promise<void> {
      await tracker.upsertComment(input.issue.number, reportKey(input, `resolution/${input.occurrence}`), resolutionComment(input.resolution, input.outcome));
    },

    /** A step that failed after its retries: labelled so it can be found, and said on the issue unless silenced. */
    async reportFailure(input: ReportRun & { step: string; attempt: string; reason: string; comment: boolean }): Promise<void> {
      if (input.comment) await tracker.upsertComment(input.issue.number, reportKey(input, `failed/${input.step}/${input.attempt}`), failureComment(input.step, input.reason));
      await tracker.updateLabels(input.issue.number, { add: [labels.failed] });
    },

    /** The exposure's state in the issue's labels (open, unconfirmed, remediated; none for `none`), closing it when asked to. */
    async markExposure({ issue, state, close = false }: { issue: IssueRef; state: ExposureState; close?: boolean }): Promise<void> {
      const byState: Record<ExposureState, string | undefined> = { open: labels.exposureOpen, unconfirmed: labels.exposureUnconfirmed, remediated: labels.exposureRemediated, none: undefined };
      const add = byState[state];
      const remove = [labels.exposureOpen, labels.exposureUnconfirmed, labels.exposureRemediated].filter((label) => label !== add);
      await tracker.updateLabels(issue.number, { ...(add ? { add: [add] } : {}), remove });
      if (close) await tracker.closeIssue(issue.number);
      if (state === 'remediated') exposuresRemediated.inc();
    },

    /** A later delivery was worse: the issue's severity label follows the worst. */
    async markSeverity({ issue, to }: { issue: IssueRef; to: Severity }): Promise<void> {
      const label = (severity: Severity) => `${labels.severityPrefix}${severity}`;
      await tracker.updateLabels(issue.number, { add: [label(to)], remove: severities.filter((severity) => severity !== to).map(label) });
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
      await tracker.upsertComment(issue.number, deliveryKey(workflowId, alert), alertSummary(alert, { recurrence }));
    },

    /**
     * The repeats of the alert, counted in one comment per investigation that each batch of repeats
     * updates, with everything they named merged (a later investigation, after this one ended, counts
     * its own period in a comment of its own).
     */
    async commentOccurrences(input: ReportRun & { alert: NormalizedAlert; latest: NormalizedAlert; occurrences: number; firstSeen: string; lastSeen: string }): Promise<void> {
      await tracker.upsertComment(input.issue.number, reportKey(input, 'occurrences'), occurrencesComment(input));
    },
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
