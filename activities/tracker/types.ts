// The tracker interface: where investigations report. Implementations are registered in ./index.ts.

export interface IssueRef {
  number: number;
  /** Where a person reads the issue (web page, or the local tracker's page). */
  url: string;
}

export interface NewIssue {
  /** Identity of the alerted-on thing: one fingerprint, one issue. */
  fingerprint: string;
  title: string;
  body: string;
  labels: string[];
}

export interface Tracker {
  /** Returns the fingerprint's issue, creating it only when none exists. Safe to retry. */
  findOrCreateIssue(issue: NewIssue): Promise<{ issue: IssueRef; created: boolean }>;
  /**
   * Posts a comment identified by `key` (workflow id + step), or updates the one already posted with
   * that key, so a retried step never comments twice.
   */
  upsertComment(issueNumber: number, key: string, body: string): Promise<{ created: boolean }>;
}
