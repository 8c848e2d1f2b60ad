// The investigation runbook for one alert identity (workflow id `alert/<source>/<fingerprint>`).
import { ActivityFailure, condition, continueAsNew, patched, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ScreenshotOutcome } from '../activities/tracker/report';
import { occurrenceKey, type NormalizedAlert } from '../lib/alert';
import { mergeAlerts } from '../lib/alert-merge';
import { emptyContext, inventoryFindings, isResourceFinding, keepUnread, PROOF_CHECKS, type ResourceContext } from '../lib/context';
import { compactFindings, diffFindings, isEmptyDiff, type Finding } from '../lib/finding';
import { worstVerdict } from '../lib/intel';
import { investigationCurrentDetails, waitSummary } from '../lib/investigation-details';
import { alertReceived, issueChanged, progressQuery, recheckNow, relatedFound, type CarriedInvestigation, type ExposureState, type InvestigationProgress } from '../lib/investigation';
import { afterRecheck, carriedProgress, exposureEvidence, exposureState, isNewDelivery, provenPublic, latestDelivery, newActors, recordDeliveries, resumes, sharedPublicly, startWatch, watchEnding } from '../lib/investigation-state';
import { linkRelated, recordVerdicts } from '../lib/correlation';
import { responseCommand, type AcceptedRisk, type AuditEntry, type AuditStep, type PlanStatus, type RemediationPlan } from '../lib/response';
import {
  acceptanceEndsMs,
  addPlans,
  applyCommand,
  executed,
  expirePlans,
  hasLivePlan,
  knownActions,
  nextDeadlineMs,
  outcomeWords,
  planInFlight,
  provenResources,
  recheckWords,
  undone,
  validateCommand,
  withPlan,
} from '../lib/response-state';
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
import { browser, lookups, probes, response, settings, tracker } from './activity-proxies';

const { openIssueForAlert, reopenIssue, commentAlertSummary, commentOccurrences, commentActors, commentContext, commentExposure, commentRecheck, commentWatchEnded, commentResolution, reportFailure, markExposure, markSeverity, updateIssueBody } = tracker;
const { collectContext, checkActors, correlate } = lookups;

/** How long an investigation waits for repeats after the last one, when it is not watching. */
const REPEAT_WINDOW = '10 minutes';
const REPEAT_WINDOW_MS = 10 * 60_000;
const NO_SCREENSHOT = 'no browser worker took it within 10 minutes, or it failed every attempt';
/** `response.planTtl`'s default, for a run whose recorded watch policy predates it. */
const DEFAULT_PLAN_TTL_MS = 24 * 60 * 60_000;

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
  // Remediation from the issue (`/vigil remediate p1`…) and accepted risks: runs recorded before do without.
  const responding = patched('response');
  /** Steps people took with a command, said on the issue by the main loop (an update handler does no I/O). */
  const announcements: { step: AuditStep; plan?: string; actor: string; at: string; commentUrl?: string }[] = [];
  let planTtlMs = DEFAULT_PLAN_TTL_MS;
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

  // Read through functions: the signal handlers change them between awaits. Defined before the
  // handlers, which run as soon as they are set for a signal that started the run.
  const isClosed = () => progress.issueState === 'closed';
  const watching = () => progress.watch?.state === 'watching';
  const reported = (alerts: NormalizedAlert[]) => Object.assign(progress, recordDeliveries(progress, alerts));
  /**
   * Where things stand, as the Temporal UI's current details: written wherever the progress changes
   * (the UI reads them with a query; they make no command, so replay is unaffected).
   */
  const showProgress = () => setCurrentDetails(investigationCurrentDetails(progress, watching() && progress.nextCheckDue ? { nextCheck: progress.nextCheckDue } : {}));

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
    showProgress();
  });
  setHandler(relatedFound, (related) => {
    if (correlating && linkRelated(progress, [related])) bodyStale = true;
  });
  setHandler(recheckNow, () => {
    recheckRequested = true;
  });
  /** A risk accepted: the watch is silent and the issue stays closed until it runs out. */
  const paused = () => responding && progress.response?.accepted !== undefined;
  /** A request or an acceptance that runs out on a timer: the run waits for it, however idle. */
  const waitingOnResponse = () => responding && nextDeadlineMs(progress.response) !== undefined;
  /** Something the main loop must do for the response now: say a command's step, expire, carry out, end an acceptance. */
  const responseDue = () => {
    if (!responding) return false;
    const deadline = nextDeadlineMs(progress.response);
    return announcements.length > 0 || planInFlight(progress.response) !== undefined || (deadline !== undefined && deadline <= Date.now());
  };

  // A command from the issue, as intake delivers it: refused with the reason (intake says it on the
  // issue), or recorded and answered at once; the main loop, woken, does the work and reports it.
  if (responding) {
    setHandler(
      responseCommand,
      (request) => {
        const { response: next, said } = applyCommand(progress.response, request, new Date(), planTtlMs);
        progress.response = next;
        const { command, author, commentUrl } = request;
        const step = ({ remediate: 'requested', approve: 'approved', cancel: 'cancelled', accept: 'accepted', undo: undefined } as const)[command.verb];
        // An undo is said once it is done (`undone`, by its author).
        if (step) announcements.push({ step, ...(command.verb !== 'accept' ? { plan: command.plan } : {}), actor: author, at: new Date().toISOString(), ...(commentUrl ? { commentUrl } : {}) });
        return { said };
      },
      {
        validator: (request) => {
          const reason = validateCommand(progress.response, request, new Date(), { exposure: progress.exposure, watching: watching() });
          if (reason) throw new Error(reason);
        },
      },
    );
  }

  // Started by signalWithStart, so the first delivery is already waiting (or carried over). The
  // subject is every delivery merged: the worst severity, every port, address and actor named.
  if (!carried) await condition(() => inbox.length > 0);
  let subject = carried?.alert ?? inbox[0]!;
  ownFingerprint = subject.fingerprint;
  const policy = await settings.watchPolicy({ severity: subject.severity });
  planTtlMs = policy.planTtlMs ?? DEFAULT_PLAN_TTL_MS;
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
      showProgress();
      await reportFailure({ ...run(), step, attempt, reason: (err.cause ?? err).message.slice(0, 2000), comment: !progress.suppressed });
      return undefined;
    }
  };

  /** One step of the response, audited and said on the issue (only audited on a silenced one). */
  const report = (entry: Omit<AuditEntry, 'workflowId' | 'issue' | 'at'> & { at?: string }, about: { plans?: RemediationPlan[]; status?: PlanStatus; accepted?: AcceptedRisk } = {}) =>
    response.reportResponse({
      ...run(),
      entry: { workflowId, issue: progress.issue!.number, at: new Date().toISOString(), ...entry },
      ...about,
      suppressed: progress.suppressed,
    });
  const planStatus = (id: string) => progress.response?.plans.find((status) => status.plan.id === id);

  /**
   * Remediations for an exposure the checks proved, when no plan is live (none waits on a person or
   * on the workflow) and no risk is accepted: the new ones numbered and shown on the issue.
   */
  const proposeFor = async (context: ResourceContext, findings: Finding[], attempt: string) => {
    if (!responding || hasLivePlan(progress.response) || paused()) return;
    const input = { alert: subject, context, answered: progress.openEndpoints ?? [], proven: provenResources(findings, context), known: knownActions(progress.response) };
    const proposed = await orReported('proposeRemediations', attempt, () => response.proposeRemediations(input));
    if (!proposed || proposed.length === 0) return;
    const { response: next, plans } = addPlans(progress.response, proposed, new Date());
    progress.response = next;
    await report({ step: 'proposed', actor: 'vigil' }, { plans });
  };

  const markState = async (state: ExposureState, close = false) => {
    if (state !== progress.exposure || close) await markExposure({ issue: progress.issue!, state, close });
    progress.exposure = state;
    upsertSearchAttributes([{ key: VigilExposure, value: state }]);
    showProgress();
  };

  /** Probes, then screenshots of the web pages that answered; the inventory's exposures as findings too. */
  const examine = async (context: ResourceContext, attempt: string) => {
    // What was probed last time is asked again, so that a rule revoked since shows as the machine's
    // answer (closed), and stays shown so rather than vanishing from the next look.
    const answeredBefore = lastFindings.filter((finding) => finding.check === 'tcp').map((finding) => finding.target);
    const report = await orReported('checkExposures', attempt, () => probes.checkExposures({ alert: subject, context, ...(answeredBefore.length > 0 ? { answeredBefore } : {}) }));
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
    showProgress();
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
    showProgress();
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
      if (context && examined?.state === 'open') await proposeFor(context, examined.findings, 'first');
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
    // Still proven: plans for it, unless some are waiting already.
    if (examined.state === 'open') await proposeFor(context, examined.findings, attempt);
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
      // A risk accepted keeps its issue closed until it runs out: a repeat is counted there, not reopened.
      if (isClosed() && !paused()) {
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

  /** A re-check right after a change to the cloud, its result audited: which endpoints closed, which still answer. */
  const recheckAfter = async (plan: string) => {
    const before = progress.openEndpoints ?? [];
    const found = await recheck();
    const stillPublic = lastFindings.filter((finding) => PROOF_CHECKS.has(finding.check) && (finding.status === 'public' || finding.status === 'listable')).map((finding) => finding.target);
    const result = found === undefined ? 'the re-check could not be made (its failure is said above)' : recheckWords(before, progress.openEndpoints ?? [], stillPublic);
    await report({ step: 'rechecked', plan, actor: 'vigil', result }, { status: planStatus(plan)! });
  };

  /** Why an activity failed after its retries (a refusal at once), in words. */
  const failureReason = (err: unknown) => {
    if (!(err instanceof ActivityFailure)) throw err;
    return (err.cause ?? err).message.slice(0, 2000);
  };

  /**
   * The response's work, in order: the steps people's commands took, requests not approved in time,
   * the plan approved (or asked to undo), and an accepted risk that ran out. Each is audited and
   * said on the issue; a change to the cloud is followed by a re-check at once (not in a dry run).
   */
  const respond = async () => {
    for (let said = announcements.shift(); said; said = announcements.shift()) {
      const { step, plan, actor, at, commentUrl } = said;
      const entry = { step, actor, at, ...(plan ? { plan } : {}), ...(commentUrl ? { commentUrl } : {}) };
      const accepted = progress.response?.accepted;
      if (step === 'accepted' && accepted) {
        await report(entry, { accepted });
        await response.acceptRisk({ ...run(), alert: subject, accepted });
        markIssueState('closed');
        progress.issueState = 'closed';
      } else if (plan) {
        await report(entry, { status: planStatus(plan)! });
      }
    }

    const { response: afterExpiry, expired } = expirePlans(progress.response!, new Date());
    progress.response = afterExpiry;
    for (const status of expired) await report({ step: 'expired', plan: status.plan.id, actor: 'vigil', result: status.reason! }, { status });

    const flight = planInFlight(progress.response);
    if (flight?.state === 'executing') {
      const { plan } = flight;
      try {
        const record = await response.executeRemediation({ plan });
        progress.response = withPlan(progress.response!, plan.id, (status) => executed(status, record));
        const { apiCall, requestIds, outcome } = record;
        await report({ step: 'executed', plan: plan.id, actor: 'vigil', dryRun: outcome === 'dry-run', apiCall, requestIds, result: outcomeWords(record) }, { status: planStatus(plan.id)! });
        if (outcome !== 'dry-run') await recheckAfter(plan.id);
      } catch (err) {
        const reason = failureReason(err);
        progress.response = withPlan(progress.response!, plan.id, (status) => ({ ...status, state: 'failed', reason }));
        await report({ step: 'failed', plan: plan.id, actor: 'vigil', result: reason }, { status: planStatus(plan.id)! });
      }
    } else if (flight?.state === 'undoing') {
      const { plan, execution, undoneBy = 'vigil' } = flight;
      try {
        // The validator lets only an executed plan with a change recorded be undone.
        const record = await response.undoRemediation({ plan, execution: execution! });
        progress.response = withPlan(progress.response!, plan.id, (status) => undone(status, record));
        const { apiCall, requestIds, outcome } = record;
        await report({ step: 'undone', plan: plan.id, actor: undoneBy, dryRun: outcome === 'dry-run', apiCall, requestIds, result: outcomeWords(record, true) }, { status: planStatus(plan.id)! });
        if (outcome !== 'dry-run') await recheckAfter(plan.id);
      } catch (err) {
        // Still executed: the undo may be asked for again.
        const reason = `undo failed: ${failureReason(err)}`;
        progress.response = withPlan(progress.response!, plan.id, (status) => ({ ...status, state: 'executed', reason }));
        await report({ step: 'failed', plan: plan.id, actor: 'vigil', result: reason }, { status: planStatus(plan.id)! });
      }
    }

    const accepted = progress.response?.accepted;
    if (accepted && Date.now() >= acceptanceEndsMs(accepted)) {
      await response.endAcceptedRisk({ ...run(), alert: subject, accepted });
      const { plans, nextPlan } = progress.response!;
      progress.response = { plans, nextPlan };
      markIssueState('open');
      progress.issueState = 'open';
      await report({ step: 'acceptance-expired', actor: 'vigil' }, { accepted });
      // The watch starts over from now (the acceptance may have outlasted its age), and looks at once.
      if (policy.enabled) progress.watch = { ...startWatch(new Date().toISOString()), checks: progress.watch?.checks ?? 0 };
      if (subject.kind === 'exposure') await recheck();
    }
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
    // Before the run may end or continue as new: nothing the response owes is left behind.
    if (responseDue()) {
      await respond();
      quietUntilMs = undefined;
      continue;
    }
    // An accepted risk closed the issue: that closing is Vigil's, not an end of the watch.
    const ending = paused() ? undefined : watchEnding(progress.watch, { closed: isClosed(), suppressed: progress.suppressed, nowMs: Date.now(), maxAgeMs: policy.maxAgeMs });
    if (ending) progress.watch!.state = ending;
    if (ending === 'aged-out' && !progress.suppressed) {
      await commentWatchEnded({ ...run(), check: progress.watch!.checks, reason: 'aged-out', maxAge: policy.maxAge });
      continue; // What arrived meanwhile is drained before the run ends or continues as new.
    }
    // A re-check asked for (a person reopening, a re-scan) is made before the run ends or continues.
    if ((workflowInfo().continueAsNewSuggested || checksThisRun >= policy.checksPerRun) && !recheckRequested) {
      if (!watching() && !waitingOnResponse()) return carry();
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
    // A request's expiry or an acceptance's end wakes the run too; while a risk is accepted, only that
    // (and repeats) do, and an idle run waits for it rather than ending.
    const deadline = responding ? nextDeadlineMs(progress.response) : undefined;
    const untilResponse = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
    const untilWatch = watching() ? untilCheck : untilQuiet;
    const timeout = untilResponse === undefined ? untilWatch : paused() || !watching() ? untilResponse : Math.min(untilResponse, untilCheck);
    const endsAt = Date.now() + (typeof timeout === 'number' ? timeout : REPEAT_WINDOW_MS);
    const waitingFor = timeout === untilResponse ? 'response deadline' : watching() ? 'next check' : 'quiet';
    showProgress();
    const woken = await condition(
      () => inbox.length > 0 || recheckRequested || bodyStale || (watching() && !paused() && (isClosed() || progress.suppressed)) || responseDue(),
      timeout,
      { summary: waitSummary(waitingFor, endsAt) },
    );
    if (inbox.length > 0 || responseDue()) continue;
    if (!woken && timeout === untilResponse) continue;
    if (bodyStale && !recheckRequested) {
      await refreshBody();
      continue;
    }
    // What an accepted risk silences: re-checks asked for meanwhile are made when it runs out.
    if (paused()) {
      recheckRequested = false;
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
