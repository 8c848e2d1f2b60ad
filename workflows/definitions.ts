// Signals and queries of the investigation workflow, shared by the workflow and its callers.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { IssueRef } from '../activities/tracker/types';
import type { NormalizedAlert } from '../lib/alert';
import type { Verdict } from '../lib/intel';

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

/** A person acted on the issue (GitHub webhook, or the local tracker's page and API). */
export interface IssueChange {
  state: 'open' | 'closed';
  /** The suppress label is on the issue: no more comments. */
  suppressed: boolean;
}

export const issueChanged = defineSignal<[IssueChange]>('issueChanged');

/** Re-check the exposure now rather than at the next timer (a person changed something). */
export const recheckNow = defineSignal('recheckNow');
