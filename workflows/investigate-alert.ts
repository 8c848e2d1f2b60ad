// The investigation runbook for one alert identity (workflow id `alert/<source>/<fingerprint>`).
import {
  condition,
  continueAsNew,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ScreenshotActivities } from '../activities/screenshot';
import type { ScreenshotOutcome } from '../activities/tracker/report';
import type { NormalizedAlert } from '../lib/alert';
import { emptyContext, type ResourceContext } from '../lib/context';
import { compactFindings, diffFindings, isEmptyDiff, type Finding } from '../lib/finding';
import { worstVerdict } from '../lib/intel';
import { VigilExposure, VigilVerdict } from '../lib/search-attributes';
import { browserTaskQueue } from '../lib/task-queues';
import {
  alertReceived,
  issueChanged,
  progressQuery,
  recheckNow,
  type InvestigationProgress,
  type WatchProgress,
} from './definitions';

const {
  openIssueForAlert,
  reopenIssue,
  commentAlertSummary,
  commentOccurrences,
  commentActors,
  commentContext,
  commentExposure,
  commentRecheck,
  commentWatchEnded,
  markExposure,
} = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Feeds are local copies, but providers answer over the internet within their rate limits.
const { checkActors } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

// Cloud APIs across accounts and regions, retried by the SDK first.
const { collectContext } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

// A sweep of every exposed port: long, so it heartbeats, and a retry starts it over.
const { checkExposures } = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

// The watch settings are configuration, which workflow code cannot read.
const { watchPolicy } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds' });

/** How long an investigation waits for repeats after the last one, when it is not watching. */
const REPEAT_WINDOW = '10 minutes';
/** Deliveries remembered across runs to recognise a resent body. */
const REMEMBERED_DELIVERIES = 200;

/** What a run hands to the next when it continues as new: compact, bounded state only. */
export interface CarriedInvestigation {
  /** The first delivery: what every re-check re-examines. */
  alert: NormalizedAlert;
  progress: InvestigationProgress;
  /** The last reported findings, without their detail. */
  lastFindings: Finding[];
}

export async function investigateAlert(carried?: CarriedInvestigation): Promise<InvestigationProgress> {
  const { workflowId, runId, taskQueue } = workflowInfo();
  // Screenshots run on the browser worker's queue; one that no worker takes is given up in time.
  const { takeScreenshot } = proxyActivities<ScreenshotActivities>({
    taskQueue: browserTaskQueue(taskQueue),
    scheduleToCloseTimeout: '10 minutes',
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '5 seconds', maximumAttempts: 3 },
  });
  const progress: InvestigationProgress = carried?.progress ?? { occurrences: 0, reportedDeliveries: [], suppressed: false };
  const inbox: NormalizedAlert[] = [];
  let recheckRequested = false;

  setHandler(alertReceived, (alert) => {
    const delivery = alert.archive.sha256;
    // A resent body (sender retry, sweeper, replay) is one delivery.
    if (progress.reportedDeliveries.includes(delivery) || inbox.some((queued) => queued.archive.sha256 === delivery)) return;
    inbox.push(alert);
  });
  setHandler(progressQuery, () => progress);
  // Read through a function: the signal handler changes it between awaits.
  const isClosed = () => progress.issueState === 'closed';
  setHandler(issueChanged, ({ state, suppressed }) => {
    progress.issueState = state;
    progress.suppressed = suppressed;
  });
  setHandler(recheckNow, () => {
    recheckRequested = true;
  });

  const account = (alerts: NormalizedAlert[]) => {
    for (const { archive } of alerts) {
      progress.occurrences += 1;
      progress.firstSeen ??= archive.receivedAt;
      if (!progress.lastSeen || archive.receivedAt > progress.lastSeen) progress.lastSeen = archive.receivedAt;
      progress.reportedDeliveries.push(archive.sha256);
    }
  };

  // Started by signalWithStart, so the first delivery is already waiting (or carried over).
  if (!carried) await condition(() => inbox.length > 0);
  const first = carried?.alert ?? inbox[0]!;
  const policy = await watchPolicy({ severity: first.severity });

  /** Context, then probes, then screenshots of the web pages that answered. */
  const examine = async (context: ResourceContext) => {
    const report = await checkExposures({ alert: first, context });
    const screenshots: ScreenshotOutcome[] = await Promise.all(
      report.webPages.map((url) =>
        takeScreenshot({ url }).then(
          (result) => ({ url, result }),
          () => ({ url, failure: 'no browser worker took it within 10 minutes, or it failed every attempt' }),
        ),
      ),
    );
    const findings = [...report.findings, ...screenshots.flatMap(({ result }) => (result ? [result.finding] : []))];
    const open = findings.filter((finding) => finding.check === 'tcp' && finding.status === 'open').map((finding) => finding.target);
    progress.openEndpoints = open;
    upsertSearchAttributes([{ key: VigilExposure, value: open.length > 0 ? 'open' : 'none' }]);
    return { report, screenshots, findings, open };
  };

  let lastFindings: Finding[] = carried?.lastFindings ?? [];
  const startWatching = (): WatchProgress => ({ state: 'watching', since: new Date().toISOString(), checks: 0, cleanStreak: 0 });

  if (!carried) {
    // 1. Open (or find, or reopen) the issue and report the first delivery on it, unless a person
    //    has silenced the issue.
    const opened = await openIssueForAlert({ alert: first, workflowId });
    progress.issue = opened.issue;
    progress.issueState = 'open';
    progress.suppressed ||= opened.suppressed;
    if (!progress.suppressed) {
      await commentAlertSummary({ alert: first, workflowId, issue: opened.issue, recurrence: opened.reopened });
    }
    account(inbox.splice(0, 1));
    const issue = opened.issue;

    // 2. Which machines the alert is about, from the inventories: their public addresses and the
    //    rules that open their ports to the internet.
    const names = first.resources.length + first.network.ips.length > 0;
    const context = names ? await collectContext({ alert: first }) : emptyContext();
    progress.context = { instances: context.instances.length, exposures: context.exposures.length, problems: context.problems.length };
    if (context.consulted.length > 0 && !progress.suppressed) await commentContext({ workflowId, issue, context });

    // 3. In parallel: what really answers on the exposed ports (and what its web pages show), and
    //    who acted (the actors' addresses and domains against blocklists and threat intelligence).
    const exposureChecks = async () => {
      if (first.kind !== 'exposure') return;
      const { report, screenshots, findings, open } = await examine(context);
      lastFindings = compactFindings(findings);
      if (open.length > 0) {
        await markExposure({ issue, state: 'open' });
        if (policy.enabled) progress.watch = startWatching();
      }
      if (!progress.suppressed) await commentExposure({ workflowId, issue, report, screenshots });
    };
    const actorChecks = async () => {
      const { ips, domains } = first.actors;
      if (ips.length + domains.length === 0) return;
      const reports = await checkActors({ ips, domains });
      progress.verdict = worstVerdict(reports.map((report) => report.verdict));
      upsertSearchAttributes([{ key: VigilVerdict, value: progress.verdict }]);
      if (!progress.suppressed) await commentActors({ workflowId, issue, reports });
    };
    await Promise.all([exposureChecks(), actorChecks()]);
  }
  progress.firstReportComplete = true;
  const issue = progress.issue!;

  // 4. A re-check: context and probes again, compared with the last report on stable keys; a
  //    comment only when something changed. Enough clean checks in a row end the exposure.
  const recheck = async () => {
    // A re-check asked for although nothing answered at first starts a watch only if something does now.
    const watch = (progress.watch ??= { ...startWatching(), state: 'clean' });
    const context = await collectContext({ alert: first });
    const { findings, screenshots, open } = await examine(context);
    watch.checks += 1;
    const diff = diffFindings(lastFindings, findings);
    if (!isEmptyDiff(diff) && !progress.suppressed) await commentRecheck({ workflowId, issue, check: watch.checks, diff, screenshots });
    lastFindings = compactFindings(findings);
    watch.cleanStreak = open.length > 0 ? 0 : watch.cleanStreak + 1;
    if (open.length > 0 && watch.state !== 'watching') {
      // Exposed (again, or for the first time): the watch starts over.
      Object.assign(watch, { state: 'watching', since: new Date().toISOString(), cleanStreak: 0 });
      await markExposure({ issue, state: 'open' });
    } else if (watch.state === 'watching' && watch.cleanStreak >= policy.cleanChecks) {
      watch.state = 'remediated';
      await markExposure({ issue, state: 'remediated', close: policy.autoClose });
      if (!progress.suppressed) await commentWatchEnded({ workflowId, issue, check: watch.checks, reason: 'remediated', cleanChecks: watch.cleanStreak });
      if (policy.autoClose) progress.issueState = 'closed';
    }
  };

  // 5. Repeats and re-checks: however many repeats arrive, one comment per run counts them,
  //    updated in place; open exposures are re-checked on a timer (or at once on `recheckNow`)
  //    until remediated, closed, silenced or aged out. Without anything to watch, the
  //    investigation stays a while for repeats and ends; the inbox is always drained first.
  let checksThisRun = 0;
  const watching = () => progress.watch?.state === 'watching';
  for (;;) {
    if (inbox.length > 0) {
      const batch = [...inbox];
      const latest = batch.reduce((a, b) => (b.archive.receivedAt > a.archive.receivedAt ? b : a));
      if (isClosed()) {
        // A recurrence after a person closed the issue: reopen it, say so, and look again.
        await reopenIssue({ issue });
        progress.issueState = 'open';
        if (!progress.suppressed) await commentAlertSummary({ alert: latest, workflowId, issue, recurrence: true });
        if (first.kind === 'exposure') recheckRequested = true;
      }
      if (!progress.suppressed) {
        await commentOccurrences({
          alert: latest,
          workflowId,
          runId,
          issue,
          occurrences: progress.occurrences + batch.length,
          firstSeen: progress.firstSeen!,
          lastSeen: latest.archive.receivedAt > progress.lastSeen! ? latest.archive.receivedAt : progress.lastSeen!,
        });
      }
      account(inbox.splice(0, batch.length));
      continue;
    }
    if (watching() && (isClosed() || progress.suppressed)) progress.watch!.state = 'stopped';
    if (watching() && Date.now() - Date.parse(progress.watch!.since) >= policy.maxAgeMs) {
      progress.watch!.state = 'aged-out';
      if (!progress.suppressed) await commentWatchEnded({ workflowId, issue, check: progress.watch!.checks, reason: 'aged-out', maxAge: policy.maxAge });
    }
    if (workflowInfo().continueAsNewSuggested || checksThisRun >= policy.checksPerRun) {
      if (!watching()) return progress;
      progress.reportedDeliveries = progress.reportedDeliveries.slice(-REMEMBERED_DELIVERIES);
      await continueAsNew<typeof investigateAlert>({ alert: first, progress, lastFindings });
    }
    const woken = await condition(
      () => inbox.length > 0 || recheckRequested || (watching() && (isClosed() || progress.suppressed)),
      watching() ? policy.everyMs : REPEAT_WINDOW,
    );
    if (inbox.length > 0) continue;
    if (recheckRequested || (!woken && watching())) {
      recheckRequested = false;
      if (first.kind === 'exposure' && !isClosed()) {
        await recheck();
        checksThisRun += 1;
      }
      continue;
    }
    if (!woken) return progress;
  }
}
