// The investigation runbook for one alert identity (workflow id `alert/<source>/<fingerprint>`).
import { ActivityFailure, condition, continueAsNew, patched, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ScreenshotOutcome } from '../activities/tracker/report';
import { occurrenceKey, type NormalizedAlert } from '../lib/alert';
import { mergeAlerts } from '../lib/alert-merge';
import { emptyContext, inventoryFindings, isResourceFinding, keepUnread, type ResourceContext } from '../lib/context';
import { compactFindings, diffFindings, isEmptyDiff, type Finding } from '../lib/finding';
import { worstVerdict } from '../lib/intel';
import { alertReceived, issueChanged, progressQuery, recheckNow, relatedFound, type CarriedInvestigation, type ExposureState, type InvestigationProgress } from '../lib/investigation';
import { afterRecheck, carriedProgress, exposureEvidence, exposureState, isNewDelivery, provenPublic, latestDelivery, newActors, recordDeliveries, resumes, sharedPublicly, startWatch, watchEnding } from '../lib/investigation-state';
import { linkRelated, recordVerdicts } from '../lib/correlation';
import { issueTitle } from '../lib/render/alert-summary';
import { issueBodyState } from '../lib/render/issue-body';
import {
  actorKeywords,
  investigationResourceKeywords,
  mergedKeyword,
  mergeKeywords,
  VigilActors,
  VigilExposure,
  VigilFailure,
  VigilIssue,
  VigilIssueState,
  VigilMerged,
  VigilResources,
  VigilSeverity,
  VigilVerdict,
} from '../lib/search-attributes';
import { browser, lookups, probes, settings, tracker } from './activity-proxies';

const { openIssueForAlert, reopenIssue, commentAlertSummary, commentOccurrences, commentActors, commentContext, commentExposure, commentRecheck, commentWatchEnded, commentResolution, reportFailure, markExposure, markSeverity, updateIssueBody } = tracker;
const { collectContext, checkActors, correlate } = lookups;

/** How long an investigation waits for repeats after the last one, when it is not watching. */
const REPEAT_WINDOW = '10 minutes';
const REPEAT_WINDOW_MS = 10 * 60_000;
const NO_SCREENSHOT = 'no browser worker took it within 10 minutes, or it failed every attempt';

export async function investigateAlert(carried?: CarriedInvestigation): Promise<CarriedInvestigation> {
  const { workflowId, runId, taskQueue } = workflowInfo();
  const { takeScreenshot } = browser(taskQueue);
  const progress: InvestigationProgress = carried?.progress ?? { occurrences: 0, reportedDeliveries: [], suppressed: false };
  const inbox: NormalizedAlert[] = [];
  let recheckRequested = false;
  let lastFindings: Finding[] = carried?.lastFindings ?? [];
  // Correlation (related investigations, the issue and its state in search attributes, exposures of
  // one resource merged) and the issue's body kept current: runs recorded before do without.
  const correlating = patched('correlation-and-issue-body');
  /** The alert's own identity, once known: an alert of another identity was merged here by dispatch. */
  let ownFingerprint = carried?.alert.fingerprint;
  /** A related investigation told of itself, or something else the body shows changed. */
  let bodyStale = false;
  /** `suppressed` for a silenced issue, whatever its state: nothing is posted there, so nothing is routed there. */
  const issueStateOf = (state: 'open' | 'closed' | undefined, suppressed: boolean) => (suppressed ? 'suppressed' : state);
  const markIssueState = (state: 'open' | 'closed', suppressed = progress.suppressed) => {
    const value = issueStateOf(state, suppressed);
    if (correlating && progress.issue && value && value !== issueStateOf(progress.issueState, progress.suppressed)) upsertSearchAttributes([{ key: VigilIssueState, value }]);
  };

  setHandler(alertReceived, (alert) => {
    if (!isNewDelivery(progress, inbox, alert)) return;
    inbox.push(alert);
    // Another exposure of the same resource (a re-scan, another source): looked at again now.
    if (correlating && ownFingerprint !== undefined && alert.fingerprint !== ownFingerprint && alert.kind === 'exposure' && !alert.resolution) recheckRequested = true;
  });
  setHandler(progressQuery, () => progress);
  setHandler(issueChanged, (change) => {
    if (resumes(progress, change)) recheckRequested = true;
    markIssueState(change.state, change.suppressed);
    Object.assign(progress, { issueState: change.state, suppressed: change.suppressed });
  });
  setHandler(relatedFound, (related) => {
    if (correlating && linkRelated(progress, [related])) bodyStale = true;
  });
  setHandler(recheckNow, () => {
    recheckRequested = true;
  });
  // Read through functions: the signal handlers change them between awaits.
  const isClosed = () => progress.issueState === 'closed';
  const watching = () => progress.watch?.state === 'watching';
  const reported = (alerts: NormalizedAlert[]) => Object.assign(progress, recordDeliveries(progress, alerts));

  // Started by signalWithStart, so the first delivery is already waiting (or carried over). The
  // subject is every delivery merged: the worst severity, every port, address and actor named.
  if (!carried) await condition(() => inbox.length > 0);
  let subject = carried?.alert ?? inbox[0]!;
  ownFingerprint = subject.fingerprint;
  const policy = await settings.watchPolicy({ severity: subject.severity });
  progress.reportRun ??= runId;
  const run = () => ({ workflowId, run: progress.reportRun!, issue: progress.issue! });
  const carry = (): CarriedInvestigation => ({ alert: subject, progress: carriedProgress(progress), lastFindings });

  /** A step that fails after its retries is said on the issue and surfaced; the rest goes on. */
  const orReported = async <T>(step: string, attempt: string, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      progress.failedSteps = [...new Set([...(progress.failedSteps ?? []), step])];
      upsertSearchAttributes([{ key: VigilFailure, value: step }]);
      await reportFailure({ ...run(), step, attempt, reason: (err.cause ?? err).message.slice(0, 2000), comment: !progress.suppressed });
      return undefined;
    }
  };

  const markState = async (state: ExposureState, close = false) => {
    if (state !== progress.exposure || close) await markExposure({ issue: progress.issue!, state, close });
    progress.exposure = state;
    upsertSearchAttributes([{ key: VigilExposure, value: state }]);
  };

  /** Probes, then screenshots of the web pages that answered; the inventory's exposures as findings too. */
  const examine = async (context: ResourceContext, attempt: string) => {
    const report = await orReported('checkExposures', attempt, () => probes.checkExposures({ alert: subject, context }));
    if (!report) return undefined;
    const screenshot = (url: string): Promise<ScreenshotOutcome> => takeScreenshot({ url }).then((result) => ({ url, result }), () => ({ url, failure: NO_SCREENSHOT }));
    const screenshots = await Promise.all(report.webPages.map(screenshot));
    const findings = [...inventoryFindings(context), ...report.findings, ...screenshots.flatMap(({ result }) => (result ? [result.finding] : []))];
    const open = findings.filter((finding) => finding.check === 'tcp' && finding.status === 'open').map((finding) => finding.target);
    progress.openEndpoints = open.slice(0, 100);
    progress.lastCheck = new Date().toISOString();
    const answered = open.length > 0 || provenPublic(findings, context);
    const evidence = exposureEvidence(answered, context);
    // Watched while exposed, or while an inventory that was asked could not tell.
    const watchable = evidence === 'exposed' || (evidence === 'unknown' && context.consulted.length > 0);
    return { report, screenshots, findings, evidence, watchable, state: exposureState(answered, evidence) };
  };

  /** Who acted: the actors' addresses and domains against blocklists and threat intelligence. */
  const actorChecks = async (alerts: NormalizedAlert[], repeat?: string) => {
    const { ips, domains, principals, checked } = newActors(progress, alerts, patched('actor-shares'));
    // Alerts naming only principals were not checked before: histories recorded then do without.
    if (ips.length + domains.length === 0 && (principals.length === 0 || !patched('actor-principals'))) return;
    const reports = await orReported('checkActors', repeat ?? 'first', () => checkActors({ ips, domains, principals }));
    if (!reports) return; // Not remembered as checked: the next delivery naming them tries again.
    progress.checkedActors = checked;
    progress.verdict = worstVerdict([...(progress.verdict ? [progress.verdict] : []), ...reports.map((report) => report.verdict)]);
    recordVerdicts(progress, reports);
    upsertSearchAttributes([{ key: VigilVerdict, value: progress.verdict }]);
    if (!progress.suppressed) await commentActors({ ...run(), reports, ...(repeat ? { repeat } : {}) });
  };

  /** Finds the investigations sharing these keywords and tells them of this one; links them here. */
  const relate = async (keywords: { resources: string[]; actors: string[] }, attempt: string) => {
    if (!correlating || keywords.resources.length + keywords.actors.length === 0) return;
    const self = { workflowId, issue: progress.issue!, title: issueTitle(subject), source: subject.source, kind: subject.kind };
    const known = (progress.related ?? []).map((related) => related.workflowId);
    const found = await orReported('correlate', attempt, () => correlate({ self, ...keywords, known }));
    if (found && linkRelated(progress, found)) bodyStale = true;
  };

  /** What the merged alert names that the search attributes do not carry yet: added, then related. */
  const relateNewKeywords = async (attempt: string, context?: ResourceContext) => {
    if (!correlating) return;
    const carriedNow = workflowInfo().typedSearchAttributes;
    const before = { resources: carriedNow.get(VigilResources) ?? [], actors: carriedNow.get(VigilActors) ?? [] };
    // Only what fits the lists counts as added: a full list is not looked up again at every re-check.
    const resources = mergeKeywords(before.resources, investigationResourceKeywords(subject, context));
    const actors = mergeKeywords(before.actors, actorKeywords(subject.actors));
    const added = {
      resources: resources.filter((keyword) => !before.resources.includes(keyword)),
      actors: actors.filter((keyword) => !before.actors.includes(keyword)),
    };
    if (added.resources.length > 0) upsertSearchAttributes([{ key: VigilResources, value: resources }]);
    if (added.actors.length > 0) upsertSearchAttributes([{ key: VigilActors, value: actors }]);
    await relate(added, attempt);
  };

  /** Alerts of other identities merged here: listed, so that dispatch sends their resolutions here. */
  const recordMerged = (alerts: NormalizedAlert[]) => {
    if (!correlating) return;
    const before = workflowInfo().typedSearchAttributes.get(VigilMerged) ?? [];
    const merged = mergeKeywords(before, alerts.filter((alert) => alert.fingerprint !== ownFingerprint).map(mergedKeyword));
    if (merged.length > before.length) upsertSearchAttributes([{ key: VigilMerged, value: merged }]);
  };

  /**
   * The issue's body rewritten from the state kept here (written only when it changed). Not on a
   * silenced issue: a person asked Vigil to stay quiet there.
   */
  const refreshBody = async () => {
    bodyStale = false;
    if (!correlating || !progress.issue || progress.suppressed) return;
    const { issue, related = [], bodyDigest } = progress;
    const state = issueBodyState(progress);
    const endpoints = lastFindings.filter((finding) => finding.check === 'tcp').map(({ target, status }) => ({ target, status }));
    // Buckets, databases, snapshots…: the inventory's verdict on each, and each outsider's proof.
    const resources = lastFindings.filter(isResourceFinding).map(({ check, target, status }) => ({ target: `${check} ${target}`, status }));
    const since = progress.lastCheck ?? progress.watch?.since;
    const nextCheck = watching() && since ? new Date(Date.parse(since) + policy.everyMs).toISOString() : undefined;
    const input = { issue: issue!, alert: subject, workflowId, state, endpoints, ...(resources.length > 0 ? { resources } : {}), related, ...(nextCheck ? { nextCheck } : {}), ...(bodyDigest ? { digest: bodyDigest } : {}) };
    // A body that cannot be written (a person removed GitHub's marker) is said once; the rest goes on.
    const digest = await orReported('updateIssueBody', 'body', () => updateIssueBody(input));
    if (digest) progress.bodyDigest = digest;
  };

  if (!carried) {
    // 1. Open (or find, or reopen) the issue and report the first delivery on it, unless a person
    //    has silenced the issue.
    const { issue, suppressed, reopened, alreadyReported } = await openIssueForAlert({ alert: subject, workflowId });
    Object.assign(progress, { issue, issueState: 'open', suppressed: progress.suppressed || suppressed });
    if (alreadyReported) return carry(); // A redelivery of what an earlier investigation reported.
    if (correlating) upsertSearchAttributes([{ key: VigilIssue, value: String(issue.number) }, { key: VigilIssueState, value: issueStateOf('open', progress.suppressed)! }]);
    if (!progress.suppressed) await commentAlertSummary({ alert: subject, workflowId, issue, recurrence: reopened });
    reported(inbox.splice(0, 1));

    // 2. Which machines the alert is about, from the inventories: their public addresses and the
    //    rules that open their ports to the internet.
    const names = subject.resources.length + subject.network.ips.length > 0;
    const context = names ? await orReported('collectContext', 'first', () => collectContext({ alert: subject })) : emptyContext();
    if (context) progress.context = { instances: context.instances.length, exposures: context.exposures.length, problems: context.problems.length };
    if (context && context.consulted.length > 0 && !progress.suppressed) await commentContext({ ...run(), context });
    // The machines and rules the inventory found, in the alerts' words: what other sources name.
    const resources = investigationResourceKeywords(subject, context);
    if (correlating && resources.length > 0) upsertSearchAttributes([{ key: VigilResources, value: resources }]);

    // 3. In parallel: what really answers on the exposed ports (and what its web pages show), and
    //    who acted. What could not be examined is watched, so that the re-checks try again.
    const exposureChecks = async () => {
      if (subject.kind !== 'exposure') return;
      const examined = context && (await examine(context, 'first'));
      if (examined) lastFindings = compactFindings(examined.findings);
      await markState(examined?.state ?? 'unconfirmed');
      if (policy.enabled && (examined?.watchable ?? true)) progress.watch = startWatch(new Date().toISOString());
      // Snapshots and images shared with everyone: the sharing read again is their check, said too
      // (an activity's input only, which replay does not compare: no patch needed).
      const shared = context && examined ? { shared: sharedPublicly(context).map(({ class: kind, type, id, name, reasons }) => ({ class: kind, type, id, ...(name ? { name } : {}), reasons })) } : {};
      if (examined && !progress.suppressed) await commentExposure({ ...run(), report: examined.report, screenshots: examined.screenshots, ...shared });
    };
    const related = () => relate({ resources, actors: actorKeywords(subject.actors) }, 'first');
    await Promise.all([exposureChecks(), actorChecks([subject]), related()]);
  }
  progress.firstReportComplete = true;
  if (!carried) await refreshBody();
  // A run carried from one recorded before correlation, or resumed by a person, may lack what
  // correlation and routing find it by: set here, once.
  if (carried && correlating && progress.issue && !workflowInfo().typedSearchAttributes.get(VigilIssue)) {
    const state = issueStateOf(progress.issueState ?? 'open', progress.suppressed)!;
    upsertSearchAttributes([{ key: VigilIssue, value: String(progress.issue.number) }, { key: VigilIssueState, value: state }]);
  }
  const issue = progress.issue!;

  // 4. A re-check: context and probes again, compared with the last report on stable keys (the
  //    inventory's exposures included); a comment only when something changed. Enough clean checks
  //    in a row end the exposure, or one when the source says it is resolved. Says what it found, or
  //    nothing when a step failed (then it does not count, and the next tries again).
  const recheck = async ({ resolving = false } = {}): Promise<'exposed' | 'clean' | 'unknown' | undefined> => {
    const attempt = `recheck/${(progress.watch?.checks ?? 0) + 1}`;
    // The next timed re-check counts from this one, whatever asked for it (a resolution, a re-scan).
    checkDueMs = undefined;
    delete progress.nextCheckDue;
    const context = await orReported('collectContext', attempt, () => collectContext({ alert: subject }));
    // What the inventory resolves the alert to now (a run from before correlation never carried it).
    if (context) await relateNewKeywords(attempt, context);
    const examined = context && (await examine(context, attempt));
    if (!examined) return undefined;
    const { evidence } = examined;
    const { watch, change } = afterRecheck(progress.watch, { exposed: evidence === 'unknown' ? undefined : evidence === 'exposed', cleanChecks: resolving ? 1 : policy.cleanChecks, now: new Date().toISOString() });
    // What the inventory could not read this time is not gone: its last findings stand, and the comment says why.
    const unread = context.problems.length > 0 && patched('unread-inventory-kept');
    const findings = unread ? keepUnread(lastFindings, examined.findings) : examined.findings;
    const diff = diffFindings(lastFindings, findings);
    const problems = unread ? { problems: context.problems } : {};
    if (!isEmptyDiff(diff) && !progress.suppressed) await commentRecheck({ ...run(), check: watch.checks, diff, screenshots: examined.screenshots, ...problems });
    lastFindings = compactFindings(findings);
    const remediated = change === 'remediated' || (resolving && evidence === 'clean');
    // Remediated stays remediated while nothing comes back.
    await markState(remediated || (watch.state === 'remediated' && evidence !== 'exposed') ? 'remediated' : examined.state, remediated && policy.autoClose);
    if (remediated) {
      if (!progress.suppressed && !resolving) await commentWatchEnded({ ...run(), check: watch.checks, reason: 'remediated', cleanChecks: watch.cleanStreak });
      if (policy.autoClose) {
        markIssueState('closed');
        progress.issueState = 'closed';
      }
    }
    // Counted once reported, so that whoever reads the count (the Temporal UI, a test) finds the issue up to date.
    progress.watch = remediated ? { ...watch, state: 'remediated' } : watch;
    await refreshBody();
    return evidence;
  };

  // Repeats, however many arrived: one comment per investigation counts them and shows everything
  // they named; new actors are checked; a worse severity relabels the issue; a resolution from the
  // source is re-checked at once. A recurrence after a person closed the issue reopens it.
  const drainInbox = async () => {
    const batch = [...inbox];
    const sightings = batch.filter((alert) => !alert.resolution);
    if (sightings.length > 0) {
      const latest = latestDelivery(sightings);
      if (isClosed()) {
        await reopenIssue({ issue });
        markIssueState('open');
        progress.issueState = 'open';
        if (!progress.suppressed) await commentAlertSummary({ alert: latest, workflowId, issue, recurrence: true });
        if (subject.kind === 'exposure') recheckRequested = true;
      }
      const before = subject;
      subject = sightings.reduce(mergeAlerts, subject);
      if (subject.severity !== before.severity) {
        await markSeverity({ issue, to: subject.severity });
        upsertSearchAttributes([{ key: VigilSeverity, value: subject.severity }]);
      }
      recordMerged(sightings);
      const { occurrences, firstSeen, lastSeen } = recordDeliveries(progress, sightings);
      if (!progress.suppressed) await commentOccurrences({ ...run(), alert: subject, latest, occurrences, firstSeen: firstSeen!, lastSeen: lastSeen! });
      await actorChecks(sightings, occurrenceKey(latest));
      await relateNewKeywords(occurrenceKey(latest));
      bodyStale = true;
    }
    reported(inbox.splice(0, batch.length));
    // A resolution is said on the issue whatever the kind; an exposure is re-checked to confirm it.
    const resolution = batch.find((alert) => alert.resolution);
    if (resolution) {
      const found = subject.kind === 'exposure' && !isClosed() ? await recheck({ resolving: true }) : undefined;
      const outcome = found === 'clean' ? 'agreed' : found === undefined ? 'not-rechecked' : 'disputed';
      if (!progress.suppressed) await commentResolution({ ...run(), occurrence: occurrenceKey(resolution), resolution: resolution.resolution!, outcome });
    }
    if (bodyStale) await refreshBody();
  };

  // 5. Open exposures are re-checked on a timer (or at once on `recheckNow`) until remediated,
  //    closed, silenced or aged out. Without anything to watch, the investigation stays a while for
  //    repeats and ends; the inbox is always drained first.
  let checksThisRun = 0;
  /** When the watch's next re-check is due (workflow time); set once the run starts waiting for it. */
  let checkDueMs: number | undefined;
  /** When an idle run ends (workflow time): only repeats put it off, not a related investigation's news. */
  let quietUntilMs: number | undefined;
  for (;;) {
    if (inbox.length > 0) {
      await drainInbox();
      quietUntilMs = undefined;
      continue;
    }
    const ending = watchEnding(progress.watch, { closed: isClosed(), suppressed: progress.suppressed, nowMs: Date.now(), maxAgeMs: policy.maxAgeMs });
    if (ending) progress.watch!.state = ending;
    if (ending === 'aged-out' && !progress.suppressed) {
      await commentWatchEnded({ ...run(), check: progress.watch!.checks, reason: 'aged-out', maxAge: policy.maxAge });
      continue; // What arrived meanwhile is drained before the run ends or continues as new.
    }
    // A re-check asked for (a person reopening, a re-scan) is made before the run ends or continues.
    if ((workflowInfo().continueAsNewSuggested || checksThisRun >= policy.checksPerRun) && !recheckRequested) {
      if (!watching()) return carry();
      await continueAsNew<typeof investigateAlert>(carry());
    }
    // The watch's re-check is due a fixed time after the last one: repeats and related investigations
    // arriving in between wake the run without putting it off (runs recorded before waited afresh).
    // Kept in the progress, so that a run continued as new keeps the time it was due.
    if (watching() && checkDueMs === undefined) {
      checkDueMs = correlating && progress.nextCheckDue ? Date.parse(progress.nextCheckDue) : Date.now() + policy.everyMs;
      if (correlating) progress.nextCheckDue = new Date(checkDueMs).toISOString();
    }
    const untilCheck = correlating && checkDueMs !== undefined ? Math.max(1, checkDueMs - Date.now()) : policy.everyMs;
    if (watching()) quietUntilMs = undefined;
    else quietUntilMs ??= Date.now() + REPEAT_WINDOW_MS;
    const untilQuiet = correlating && quietUntilMs !== undefined ? Math.max(1, quietUntilMs - Date.now()) : REPEAT_WINDOW;
    const woken = await condition(
      () => inbox.length > 0 || recheckRequested || bodyStale || (watching() && (isClosed() || progress.suppressed)),
      watching() ? untilCheck : untilQuiet,
    );
    if (inbox.length > 0) continue;
    if (bodyStale && !recheckRequested) {
      await refreshBody();
      continue;
    }
    if (recheckRequested || (!woken && watching())) {
      recheckRequested = false;
      if (subject.kind === 'exposure' && !isClosed()) {
        await recheck();
        checksThisRun += 1;
      }
      continue;
    }
    if (!woken) return carry();
  }
}
