// The invariant every fault scenario ends on: every accepted alert identity has exactly one issue,
// with every delivery counted once, and no comment marker appears twice on an issue. Read from the
// tracker itself (the local tracker's files, or the fake GitHub's repository) and from the
// investigations' progress query.
import type { Client } from '@temporalio/client';
import { createLocalTracker } from '../../../activities/tracker/local';
import type { InvestigationProgress } from '../../../lib/investigation';
import { parseCommentMarker, parseIssueMarker } from '../../../lib/markers';
import type { RepoState } from '../../helpers/github-server';
import { queryProgress } from '../../helpers/vigil';

export interface TrackedIssue {
  number: number;
  fingerprint: string;
  state: 'open' | 'closed';
  labels: string[];
  /** Each comment's key (the local tracker's key, or the hidden marker of a GitHub comment) and body. */
  comments: { key: string | undefined; body: string }[];
}

export async function localIssues(dataDir: string): Promise<TrackedIssue[]> {
  const issues = await createLocalTracker({ root: `${dataDir}/tracker` }).listIssues();
  return issues.map(({ number, fingerprint, state, labels, comments }) => ({ number, fingerprint, state, labels, comments: comments.map(({ key, body }) => ({ key, body })) }));
}

/** Issues of the fake GitHub that carry Vigil's marker (every issue Vigil made, duplicates included). */
export function gitHubIssues(repo: RepoState): TrackedIssue[] {
  const comments = [...repo.comments.values()];
  return [...repo.issues.values()].flatMap((issue) => {
    const marker = parseIssueMarker(issue.body);
    if (!marker) return [];
    return [
      {
        number: issue.number,
        fingerprint: marker.fingerprint,
        state: issue.state,
        labels: issue.labels,
        comments: comments.filter((comment) => comment.issueNumber === issue.number).map((comment) => ({ key: parseCommentMarker(comment.body), body: comment.body })),
      },
    ];
  });
}

export interface InvariantReport {
  /** Fingerprints with exactly one issue and no comment key twice on it. */
  held: Set<string>;
  /** What broke the invariant, in words, for the test's failure message. */
  problems: string[];
  byFingerprint: Map<string, TrackedIssue>;
}

/** One issue per expected fingerprint, none for anything else, no comment key twice. */
export function checkIssues(issues: TrackedIssue[], expected: Iterable<string>): InvariantReport {
  const wanted = new Set(expected);
  const problems: string[] = [];
  const grouped = new Map<string, TrackedIssue[]>();
  for (const issue of issues) grouped.set(issue.fingerprint, [...(grouped.get(issue.fingerprint) ?? []), issue]);
  const held = new Set<string>();
  const byFingerprint = new Map<string, TrackedIssue>();
  for (const fingerprint of wanted) {
    const found = grouped.get(fingerprint) ?? [];
    if (found.length === 0) problems.push(`no issue for ${fingerprint}`);
    if (found.length > 1) problems.push(`${found.length} issues for ${fingerprint}: ${found.map((issue) => `#${issue.number}`).join(', ')}`);
    const duplicates = found.flatMap((issue) => repeatedKeys(issue).map((key) => `comment ${key} ${issue.comments.filter((c) => c.key === key).length} times on #${issue.number} (${fingerprint})`));
    problems.push(...duplicates);
    if (found.length === 1) byFingerprint.set(fingerprint, found[0]!);
    if (found.length === 1 && duplicates.length === 0) held.add(fingerprint);
  }
  for (const [fingerprint, found] of grouped) {
    if (!wanted.has(fingerprint)) problems.push(`issue(s) ${found.map((issue) => `#${issue.number}`).join(', ')} for ${fingerprint}, which was never accepted`);
  }
  return { held, problems, byFingerprint };
}

function repeatedKeys(issue: TrackedIssue): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const { key } of issue.comments) {
    if (key === undefined) continue;
    if (seen.has(key)) repeated.add(key);
    seen.add(key);
  }
  return [...repeated];
}

/** Runs `work` over `items`, `concurrency` at a time. */
export async function eachLimited<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}

/**
 * Waits until every investigation's progress satisfies `done` (by default: its first report is
 * complete), and gives their progress. Fails, naming the laggards, after `timeoutMs`: a bound on a
 * stuck test, not a measure.
 */
export async function progressOf(
  client: Client,
  workflowIds: readonly string[],
  {
    done = (progress: InvestigationProgress) => progress.firstReportComplete === true,
    timeoutMs = 180_000,
  }: { done?: (progress: InvestigationProgress, workflowId: string) => boolean; timeoutMs?: number } = {},
): Promise<Map<string, InvestigationProgress>> {
  const settled = new Map<string, InvestigationProgress>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = workflowIds.filter((id) => !settled.has(id));
    await eachLimited(pending, 8, async (id) => {
      const progress = await queryProgress(client, id);
      if (progress && done(progress, id)) settled.set(id, progress);
    });
    if (settled.size === workflowIds.length) return settled;
    if (Date.now() > deadline) {
      const laggards = workflowIds.filter((id) => !settled.has(id));
      throw new Error(`${laggards.length} investigation(s) not done within ${timeoutMs} ms: ${laggards.slice(0, 10).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
