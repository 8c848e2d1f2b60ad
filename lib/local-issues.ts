// The local tracker's issues as stored and as shown: written by the tracker (a worker activity),
// read and acted on by intake's issue page and API.

export interface LocalComment {
  /** Vigil's key of the comment (workflow id + step); a person's comment has `person/<id>`. */
  key: string;
  /** `<issue>-<n>`, n counting the issue's comments from 1 (comments are never removed): unique in the tracker. */
  id: string;
  /** The person who wrote it (`tracker.local.people`); none for Vigil's own. */
  author?: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

/** The id of the issue's comment at `index` (from 0). Comments stored before ids existed get theirs so. */
export const localCommentId = (issue: number, index: number) => `${issue}-${index + 1}`;

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

/** The public shape of a comment. */
interface CommentView {
  id: string;
  author?: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

export const commentView = ({ id, author, body, createdAt, updatedAt }: LocalComment): CommentView => ({ id, ...(author ? { author } : {}), body, createdAt, updatedAt });

/** The public shape of an issue (`GET /v1/issues`, `vigil demo --json`). */
interface IssueView {
  number: number;
  title: string;
  state: 'open' | 'closed';
  labels: string[];
  body: string;
  comments: CommentView[];
  evidence: LocalEvidence[];
  createdAt: string;
  updatedAt: string;
}

export function issueView(issue: LocalIssue): IssueView {
  const { number, title, state, labels, body, evidence, createdAt, updatedAt } = issue;
  return { number, title, state, labels, body, comments: issue.comments.map(commentView), evidence, createdAt, updatedAt };
}
