// The investigation runbook for one alert identity (workflow id `alert/<source>/<fingerprint>`).
import { condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NormalizedAlert } from '../lib/alert';
import { alertReceived, progressQuery, type InvestigationProgress } from './definitions';

const { openIssueForAlert, commentAlertSummary } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function investigateAlert(): Promise<InvestigationProgress> {
  const { workflowId } = workflowInfo();
  const progress: InvestigationProgress = { reportedDeliveries: [] };
  const inbox: NormalizedAlert[] = [];

  setHandler(alertReceived, (alert) => {
    const sha = alert.archive.sha256;
    // A resent delivery (same body) is one delivery.
    if (progress.reportedDeliveries.includes(sha) || inbox.some((queued) => queued.archive.sha256 === sha)) return;
    inbox.push(alert);
  });
  setHandler(progressQuery, () => progress);

  // Started by signalWithStart, so the first delivery is already waiting.
  await condition(() => inbox.length > 0);

  // 1. Open (or find) the issue, then report each delivery on it. Deliveries that arrive while
  //    reporting are drained before the workflow ends, so none is lost.
  while (inbox.length > 0) {
    const alert = inbox[0]!;
    progress.issue ??= await openIssueForAlert({ alert, workflowId });
    await commentAlertSummary({ alert, workflowId, issue: progress.issue });
    progress.reportedDeliveries.push(alert.archive.sha256);
    inbox.shift();
  }
  return progress;
}
