// The tracker interface: where investigations report. Implementations are registered in ./index.ts.
// Every method is safe to retry: Temporal retries activities, and a retry must never double anything.
import type { IssueRef } from '../../lib/investigation';

export interface NewIssue {
  /** Identity of the alerted-on thing: one fingerprint, one issue. */
  fingerprint: string;
  /** The investigation that owns the issue (kept in the issue's hidden marker). */
  workflowId: string;
  title: string;
  body: string;
  labels: string[];
}

export interface IssueState {
  number: number;
  state: 'open' | 'closed';
  labels: string[];
}

/** An open issue as a listing gives it: what identifies it and the body Vigil last wrote. */
export interface ListedIssue extends IssueState {
  fingerprint: string;
  body: string;
}

export interface EvidenceFile {
  /** A file name, unique within the issue (for example `screenshot-203.0.113.10-443.png`). */
  name: string;
  contentType: string;
  data: Buffer;
}

export interface EvidenceLink {
  /** Where a reader of the issue gets the file. */
  url: string;
  /** Markdown that shows it in a comment: an image for images, a link otherwise. */
  markdown: string;
}

export interface Tracker {
  /**
   * The fingerprint's issue, created only when none exists (looking again when a create's answer
   * was lost), with its current state so a caller can reopen a closed one.
   */
  findOrCreateIssue(issue: NewIssue): Promise<{ issue: IssueRef; created: boolean; state: 'open' | 'closed' }>;
  /** The fingerprint's issue, or undefined: nothing is created (a coverage gap's issue, to close it once healed). */
  findIssue(fingerprint: string): Promise<IssueState | undefined>;
  getIssue(number: number): Promise<IssueState>;
  /**
   * Every open issue of Vigil's that carries the label, in one paginated listing (the coverage gaps
   * reconciled once per discovery instead of one lookup per place).
   */
  listOpenIssues(label: string): Promise<ListedIssue[]>;
  /**
   * Replaces the issue's body (the one screen kept current), keeping what identifies the issue
   * (GitHub's hidden marker); writes nothing when the body is already that.
   */
  replaceIssueBody(number: number, body: string): Promise<void>;
  reopenIssue(number: number): Promise<void>;
  closeIssue(number: number): Promise<void>;
  /**
   * Posts a comment identified by `key` (workflow id + step), or updates the one already posted with
   * that key, so a retried step never comments twice.
   */
  upsertComment(number: number, key: string, body: string): Promise<{ created: boolean }>;
  /** Whether a comment with that key was posted (a step's report already on the issue). */
  hasComment(number: number, key: string): Promise<boolean>;
  /** Adds and removes labels (creating missing ones); labels not named are left alone. */
  updateLabels(number: number, change: { add?: string[]; remove?: string[] }): Promise<void>;
  /** Stores an evidence file where readers of the issue can see it. Same name, same place. */
  attachEvidence(number: number, file: EvidenceFile): Promise<EvidenceLink>;
}
