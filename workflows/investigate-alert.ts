// The investigation runbook for one alert identity (workflow id `alert/<source>/<fingerprint>`).
import { condition, continueAsNew, proxyActivities, proxyLocalActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ScreenshotActivities } from '../activities/screenshot';
import type { ScreenshotOutcome } from '../activities/tracker/report';
import type { NormalizedAlert } from '../lib/alert';
import { emptyContext, type ResourceContext } from '../lib/context';
import { compactFindings, diffFindings, isEmptyDiff, type Finding } from '../lib/finding';
import { worstVerdict } from '../lib/intel';
import { alertReceived, issueChanged, progressQuery, recheckNow, type CarriedInvestigation, type InvestigationProgress } from '../lib/investigation';
import { afterRecheck, carriedProgress, isNewDelivery, latestDelivery, recordDeliveries, startWatch, watchEnding } from '../lib/investigation-state';
import { VigilExposure, VigilVerdict } from '../lib/search-attributes';
import { browserTaskQueue } from '../lib/task-queues';

// Issue comments and labels: quick calls to the tracker.
const { openIssueForAlert, reopenIssue, commentAlertSummary, commentOccurrences, commentActors, commentContext, commentExposure, commentRecheck, commentWatchEnded, markExposure } =
  proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });

// Cloud APIs across accounts and regions (retried by the SDK first), and intel providers that
// answer over the internet within their rate limits.
const { collectContext, checkActors } = proxyActivities<Activities>({
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
const NO_SCREENSHOT = 'no browser worker took it within 10 minutes, or it failed every attempt';

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
  let lastFindings: Finding[] = carried?.lastFindings ?? [];

  setHandler(alertReceived, (alert) => {
    if (isNewDelivery(progress, inbox, alert)) inbox.push(alert);
  });
  setHandler(progressQuery, () => progress);
  setHandler(issueChanged, ({ state, suppressed }) => {
    Object.assign(progress, { issueState: state, suppressed });
  });
  setHandler(recheckNow, () => {
    recheckRequested = true;
  });
  // Read through functions: the signal handlers change them between awaits.
  const isClosed = () => progress.issueState === 'closed';
  const watching = () => progress.watch?.state === 'watching';
  const reported = (alerts: NormalizedAlert[]) => Object.assign(progress, recordDeliveries(progress, alerts));

  // Started by signalWithStart, so the first delivery is already waiting (or carried over).
  if (!carried) await condition(() => inbox.length > 0);
  const first = carried?.alert ?? inbox[0]!;
  const policy = await watchPolicy({ severity: first.severity });

  /** Probes, then screenshots of the web pages that answered. */
  const examine = async (context: ResourceContext) => {
    const report = await checkExposures({ alert: first, context });
    const screenshot = (url: string): Promise<ScreenshotOutcome> => takeScreenshot({ url }).then((result) => ({ url, result }), () => ({ url, failure: NO_SCREENSHOT }));
    const screenshots = await Promise.all(report.webPages.map(screenshot));
    const findings = [...report.findings, ...screenshots.flatMap(({ result }) => (result ? [result.finding] : []))];
    const open = findings.filter((finding) => finding.check === 'tcp' && finding.status === 'open').map((finding) => finding.target);
    progress.openEndpoints = open;
    upsertSearchAttributes([{ key: VigilExposure, value: open.length > 0 ? 'open' : 'none' }]);
    return { report, screenshots, findings, open };
  };

  if (!carried) {
    // 1. Open (or find, or reopen) the issue and report the first delivery on it, unless a person
    //    has silenced the issue.
    const { issue, suppressed, reopened } = await openIssueForAlert({ alert: first, workflowId });
    Object.assign(progress, { issue, issueState: 'open', suppressed: progress.suppressed || suppressed });
    if (!progress.suppressed) await commentAlertSummary({ alert: first, workflowId, issue, recurrence: reopened });
    reported(inbox.splice(0, 1));

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
        if (policy.enabled) progress.watch = startWatch(new Date().toISOString());
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
    const { findings, screenshots, open } = await examine(await collectContext({ alert: first }));
    const { watch, change } = afterRecheck(progress.watch, { exposed: open.length > 0, cleanChecks: policy.cleanChecks, now: new Date().toISOString() });
    progress.watch = watch;
    const diff = diffFindings(lastFindings, findings);
    if (!isEmptyDiff(diff) && !progress.suppressed) await commentRecheck({ workflowId, issue, check: watch.checks, diff, screenshots });
    lastFindings = compactFindings(findings);
    if (change === 'exposed') await markExposure({ issue, state: 'open' });
    if (change === 'remediated') {
      await markExposure({ issue, state: 'remediated', close: policy.autoClose });
      if (!progress.suppressed) await commentWatchEnded({ workflowId, issue, check: watch.checks, reason: 'remediated', cleanChecks: watch.cleanStreak });
      if (policy.autoClose) progress.issueState = 'closed';
    }
  };

  // Repeats, however many arrived: one comment per run counts them, updated in place. A recurrence
  // after a person closed the issue reopens it, says so, and looks again.
  const drainInbox = async () => {
    const batch = [...inbox];
    const latest = latestDelivery(batch);
    if (isClosed()) {
      await reopenIssue({ issue });
      progress.issueState = 'open';
      if (!progress.suppressed) await commentAlertSummary({ alert: latest, workflowId, issue, recurrence: true });
      if (first.kind === 'exposure') recheckRequested = true;
    }
    const { occurrences, firstSeen, lastSeen } = recordDeliveries(progress, batch);
    if (!progress.suppressed) await commentOccurrences({ alert: latest, workflowId, runId, issue, occurrences, firstSeen: firstSeen!, lastSeen: lastSeen! });
    reported(inbox.splice(0, batch.length));
  };

  // 5. Open exposures are re-checked on a timer (or at once on `recheckNow`) until remediated,
  //    closed, silenced or aged out. Without anything to watch, the investigation stays a while for
  //    repeats and ends; the inbox is always drained first.
  let checksThisRun = 0;
  for (;;) {
    if (inbox.length > 0) {
      await drainInbox();
      continue;
    }
    const ending = watchEnding(progress.watch, { closed: isClosed(), suppressed: progress.suppressed, nowMs: Date.now(), maxAgeMs: policy.maxAgeMs });
    if (ending) progress.watch!.state = ending;
    if (ending === 'aged-out' && !progress.suppressed) {
      await commentWatchEnded({ workflowId, issue, check: progress.watch!.checks, reason: 'aged-out', maxAge: policy.maxAge });
      continue; // What arrived meanwhile is drained before the run ends or continues as new.
    }
    if (workflowInfo().continueAsNewSuggested || checksThisRun >= policy.checksPerRun) {
      if (!watching()) return progress;
      await continueAsNew<typeof investigateAlert>({ alert: first, progress: carriedProgress(progress), lastFindings });
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
