// Hidden markers that tie issues and comments to Vigil's identities, so trackers that only store
// text (GitHub) can find them again. Values are percent-encoded: nothing in them can end the comment.

const encode = (value: string) => encodeURIComponent(value).replaceAll('-', '%2D');

export function issueMarker(fingerprint: string, workflowId: string): string {
  return `<!-- vigil:issue fingerprint=${encode(fingerprint)} workflow=${encode(workflowId)} -->`;
}

export function commentMarker(key: string): string {
  return `<!-- vigil:comment key=${encode(key)} -->`;
}

const issuePattern = /<!-- vigil:issue fingerprint=(\S+) workflow=(\S+) -->/;
const commentPattern = /<!-- vigil:comment key=(\S+) -->/;

export function parseIssueMarker(body: string | null | undefined): { fingerprint: string; workflowId: string } | undefined {
  const match = issuePattern.exec(body ?? '');
  return match ? { fingerprint: decodeURIComponent(match[1]!), workflowId: decodeURIComponent(match[2]!) } : undefined;
}

export function parseCommentMarker(body: string | null | undefined): string | undefined {
  const match = commentPattern.exec(body ?? '');
  return match ? decodeURIComponent(match[1]!) : undefined;
}
