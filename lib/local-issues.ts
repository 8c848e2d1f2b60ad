// The local tracker's issues as stored and as shown: written by the tracker (a worker activity),
// read and acted on by intake's issue page and API.

interface LocalComment {
  key: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

export interface LocalEvidence {
  /** Relative to the tracker folder. */
  path: string;
  contentType: string;
}

export interface LocalIssue {
  number: number;
  fingerprint: string;
  /** The investigation that owns the issue: people's actions on the issue are signalled to it. */
  workflowId: string;
  title: string;
  state: 'open' | 'closed';
  labels: string[];
  body: string;
  comments: LocalComment[];
  evidence: LocalEvidence[];
  createdAt: string;
  updatedAt: string;
}

/** The public shape of an issue (`GET /v1/issues`, `vigil demo --json`). */
interface IssueView {
  number: number;
  title: string;
  state: 'open' | 'closed';
  labels: string[];
  body: string;
  comments: { body: string; createdAt: string; updatedAt: string }[];
  evidence: LocalEvidence[];
  createdAt: string;
  updatedAt: string;
}

export function issueView(issue: LocalIssue): IssueView {
  const { number, title, state, labels, body, evidence, createdAt, updatedAt } = issue;
  const comments = issue.comments.map(({ body, createdAt, updatedAt }) => ({ body, createdAt, updatedAt }));
  return { number, title, state, labels, body, comments, evidence, createdAt, updatedAt };
}
