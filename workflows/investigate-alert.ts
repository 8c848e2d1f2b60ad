// The investigation runbook for one alert identity (workflow id `alert/<source>/<fingerprint>`).
import { condition, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NormalizedAlert } from '../lib/alert';
import { worstVerdict } from '../lib/intel';
import { VigilVerdict } from '../lib/search-attributes';
import { alertReceived, issueChanged, progressQuery, type InvestigationProgress } from './definitions';

const { openIssueForAlert, reopenIssue, commentAlertSummary, commentOccurrences, commentActors } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Feeds are local copies, but providers answer over the internet within their rate limits.
const { checkActors } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** How long an investigation waits for repeats after the last one. */
const REPEAT_WINDOW = '10 minutes';

export async function investigateAlert(): Promise<InvestigationProgress> {
  const { workflowId, runId } = workflowInfo();
  const progress: InvestigationProgress = { occurrences: 0, reportedDeliveries: [], suppressed: false };
  const inbox: NormalizedAlert[] = [];

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

  const account = (alerts: NormalizedAlert[]) => {
    for (const { archive } of alerts) {
      progress.occurrences += 1;
      progress.firstSeen ??= archive.receivedAt;
      if (!progress.lastSeen || archive.receivedAt > progress.lastSeen) progress.lastSeen = archive.receivedAt;
      progress.reportedDeliveries.push(archive.sha256);
    }
  };

  // Started by signalWithStart, so the first delivery is already waiting.
  await condition(() => inbox.length > 0);

  // 1. Open (or find, or reopen) the issue and report the first delivery on it, unless a person
  //    has silenced the issue.
  const first = inbox[0]!;
  const opened = await openIssueForAlert({ alert: first, workflowId });
  progress.issue = opened.issue;
  progress.issueState = 'open';
  progress.suppressed ||= opened.suppressed;
  if (!progress.suppressed) {
    await commentAlertSummary({ alert: first, workflowId, issue: progress.issue, recurrence: opened.reopened });
  }
  account(inbox.splice(0, 1));

  // 2. Who acted: the actors' addresses and domains against blocklists and threat intelligence.
  const { ips, domains } = first.actors;
  if (ips.length + domains.length > 0) {
    const reports = await checkActors({ ips, domains });
    progress.verdict = worstVerdict(reports.map((report) => report.verdict));
    upsertSearchAttributes([{ key: VigilVerdict, value: progress.verdict }]);
    if (!progress.suppressed) await commentActors({ workflowId, issue: progress.issue, reports });
  }

  // 3. Repeats: however many arrive meanwhile, one comment counts them, updated in place. The
  //    investigation stays a while for them, and the inbox is drained before the workflow ends,
  //    so no delivery is lost. A run whose history grows too long ends (after draining); the next
  //    delivery starts a fresh run that counts in a comment of its own.
  while (inbox.length > 0 || (!workflowInfo().continueAsNewSuggested && (await condition(() => inbox.length > 0, REPEAT_WINDOW)))) {
    const batch = [...inbox];
    const latest = batch.reduce((a, b) => (b.archive.receivedAt > a.archive.receivedAt ? b : a));
    if (isClosed()) {
      // A recurrence after a person closed the issue: reopen it and say so.
      await reopenIssue({ issue: progress.issue });
      progress.issueState = 'open';
      if (!progress.suppressed) await commentAlertSummary({ alert: latest, workflowId, issue: progress.issue, recurrence: true });
    }
    if (!progress.suppressed) {
      await commentOccurrences({
        alert: latest,
        workflowId,
        runId,
        issue: progress.issue,
        occurrences: progress.occurrences + batch.length,
        firstSeen: progress.firstSeen!,
        lastSeen: latest.archive.receivedAt > progress.lastSeen! ? latest.archive.receivedAt : progress.lastSeen!,
      });
    }
    account(inbox.splice(0, batch.length));
  }
  return progress;
}
