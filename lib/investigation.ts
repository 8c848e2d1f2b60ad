// The investigation workflow's contract: its name, signals, query and progress, shared by the
// workflow and everything that starts, signals or inspects it (intake, re-scans, the CLI, tests).
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { NormalizedAlert } from './alert';
import type { Finding } from './finding';
import type { Verdict } from './intel';
import type { ResponseProgress } from './response';

/** The issue an investigation reports on, in whichever tracker. */
export interface IssueRef {
  number: number;
  /** Where a person reads the issue (its web page, or the local tracker's page). */
  url: string;
}

export const INVESTIGATE_ALERT = 'investigateAlert';

/** A delivery of the alert; repeats of the same alert identity arrive as further signals. */
export const alertReceived = defineSignal<[NormalizedAlert]>('alertReceived');

/** The watch over an exposure: re-checked on a timer while anything answers. */
export interface WatchProgress {
  /** `clean`: nothing ever answered; `stopped`: the issue was closed or silenced. */
  state: 'watching' | 'remediated' | 'clean' | 'stopped' | 'aged-out';
  /** When the current watch started (it ages out from there). */
  since: string;
  /** Re-checks done so far, over every run. */
  checks: number;
  /** Consecutive re-checks with nothing answering. */
  cleanStreak: number;
}

/** An exposure as its issue's label says it: see the `exposure:*` labels in docs/trackers.md. */
export type ExposureState = 'open' | 'unconfirmed' | 'none' | 'remediated';

export interface InvestigationProgress {
  issue?: IssueRef;
  /**
   * The run that made the first report: comments are keyed by it, so a later investigation of the
   * same alert identity adds its own rather than overwriting these.
   */
  reportRun?: string;
  /** The first delivery's whole report (context, exposure checks, actors) is on the issue. */
  firstReportComplete?: boolean;
  issueState?: 'open' | 'closed';
  /** How many machines the inventory found, and how many exposures of them, once collected. */
  context?: { instances: number; exposures: number; problems: number };
  /** Endpoints that answered the exposure checks (`203.0.113.10:22`), once probed. */
  openEndpoints?: string[];
  /** The exposure as last checked and labelled. */
  exposure?: ExposureState;
  /** Steps that failed after their retries, and said so on the issue. */
  failedSteps?: string[];
  /** Actor addresses and domains already checked (a repeat's new ones are checked too). */
  checkedActors?: string[];
  watch?: WatchProgress;
  /** The worst actor verdict, once the actors are checked. */
  verdict?: Verdict;
  suppressed: boolean;
  /** Alerts seen: each alert of each body (a resent body counts once, copies within one each). */
  occurrences: number;
  firstSeen?: string;
  lastSeen?: string;
  /** Occurrence keys (`<body sha256>#<position>`) already reported on the issue, oldest first. */
  reportedDeliveries: string[];
  /** Each checked actor's verdict, for the issue's body (bounded). */
  actorVerdicts?: { actor: string; verdict: Verdict }[];
  /** When the exposure was last checked (the first report or a re-check). */
  lastCheck?: string;
  /** Other investigations about the same resource or actor, as linked so far (bounded). */
  related?: RelatedInvestigation[];
  /** When the watch's next timed re-check is due (carried across continue-as-new). */
  nextCheckDue?: string;
  /** A digest of the body last written to the issue: an unchanged body is not written again. */
  bodyDigest?: string;
  /** The remediations proposed, asked for and carried out, and a risk accepted (carried across continue-as-new). */
  response?: ResponseProgress;
}

/** Another investigation that shares a resource or an actor with this one. */
export interface RelatedInvestigation {
  workflowId: string;
  issue: IssueRef;
  /** Its issue's title, as the tracker shows it (rendered inert). */
  title: string;
  source: string;
  kind: string;
  /** The resource and actor keywords both carry (`aws:ec2:instance:i-0abc`, `ip:203.0.113.7`). */
  shared: string[];
}

/**
 * Another investigation found this one shares a resource or an actor with it: link it on the issue.
 * Told by whichever of the two saw the other first, so both end up linked.
 */
export const relatedFound = defineSignal<[RelatedInvestigation]>('relatedFound');

export const progressQuery = defineQuery<InvestigationProgress>('progress');

/**
 * What a run hands to the next when it continues as new, and what it returns when it ends (so a
 * person's action on the issue can start it again where it stopped): compact, bounded state only.
 */
export interface CarriedInvestigation {
  /** Every delivery merged (worst severity, every port and actor): what every re-check re-examines. */
  alert: NormalizedAlert;
  progress: InvestigationProgress;
  /** The last reported findings, without their detail. */
  lastFindings: Finding[];
}

/** A person acted on the issue (GitHub webhook, or the local tracker's page and API). */
export interface IssueChange {
  state: 'open' | 'closed';
  /** The suppress label is on the issue: no more comments. */
  suppressed: boolean;
}

export const issueChanged = defineSignal<[IssueChange]>('issueChanged');

/** Re-check the exposure now rather than at the next timer (a person changed something). */
export const recheckNow = defineSignal('recheckNow');
