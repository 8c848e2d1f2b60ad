// Signals and queries of the investigation workflow, shared by the workflow and its callers.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { IssueRef } from '../activities/tracker/types';
import type { NormalizedAlert } from '../lib/alert';
import type { Verdict } from '../lib/intel';

export const INVESTIGATE_ALERT = 'investigateAlert';

/** A delivery of the alert; repeats of the same alert identity arrive as further signals. */
export const alertReceived = defineSignal<[NormalizedAlert]>('alertReceived');

export interface InvestigationProgress {
  issue?: IssueRef;
  issueState?: 'open' | 'closed';
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
