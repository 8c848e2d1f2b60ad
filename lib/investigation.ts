// The investigation workflow's contract: its name, signals, query and progress, shared by the
// workflow and everything that starts, signals or inspects it (intake, re-scans, the CLI, tests).
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { NormalizedAlert } from './alert';
import type { Finding } from './finding';
import type { Verdict } from './intel';

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

export interface InvestigationProgress {
  issue?: IssueRef;
  /** The first delivery's whole report (context, exposure checks, actors) is on the issue. */
  firstReportComplete?: boolean;
  issueState?: 'open' | 'closed';
  /** How many machines the inventory found, and how many exposures of them, once collected. */
  context?: { instances: number; exposures: number; problems: number };
  /** Endpoints that answered the exposure checks (`203.0.113.10:22`), once probed. */
  openEndpoints?: string[];
  watch?: WatchProgress;
  /** The worst actor verdict, once the actors are checked. */
  verdict?: Verdict;
  suppressed: boolean;
  /** Distinct deliveries seen (a resent body is one delivery). */
  occurrences: number;
  firstSeen?: string;
  lastSeen?: string;
  /** Delivery ids (sha256 of the body) already reported on the issue, oldest first. */
  reportedDeliveries: string[];
}

export const progressQuery = defineQuery<InvestigationProgress>('progress');

/** What a run hands to the next when it continues as new: compact, bounded state only. */
export interface CarriedInvestigation {
  /** The first delivery: what every re-check re-examines. */
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
