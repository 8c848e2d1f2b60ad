// The built-in tracker: issues kept as JSON files in the data folder, one per issue, written
// atomically under an inter-process lock (the worker writes while intake serves them).
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { writeFileAtomic } from '../../lib/files';
import type { IssueRef, NewIssue, Tracker } from './types';

export interface LocalComment {
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
export interface IssueView {
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

export interface LocalTrackerOptions {
  /** Folder holding the issues. */
  root: string;
  /** Base URL of the issues page, for links in issue references. */
  pageUrl?: string;
}

export interface LocalTracker extends Tracker {
  listIssues(): Promise<LocalIssue[]>;
  getIssue(number: number): Promise<LocalIssue | undefined>;
}

const issueFile = /^(\d+)\.json$/;

export function createLocalTracker({ root, pageUrl = '/issues' }: LocalTrackerOptions): LocalTracker {
  const issuesDir = path.join(root, 'issues');
  const fileOf = (number: number) => path.join(issuesDir, `${number}.json`);
  // Fingerprint → issue number, so finding an issue does not read every issue.
  const indexFileOf = (fingerprint: string) =>
    path.join(root, 'by-fingerprint', createHash('sha256').update(fingerprint).digest('hex'));
  const counterFile = path.join(root, 'last-number');
  const readText = (file: string) =>
    readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
  const refOf = (number: number): IssueRef => ({ number, url: `${pageUrl}#issue-${number}` });

  async function readIssue(number: number): Promise<LocalIssue | undefined> {
    try {
      return JSON.parse(await readFile(fileOf(number), 'utf8')) as LocalIssue;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async function listIssues(): Promise<LocalIssue[]> {
    const names = await readdir(issuesDir).catch(() => [] as string[]);
    const numbers = names.flatMap((name) => issueFile.exec(name)?.[1] ?? []).map(Number);
    const issues = await Promise.all(numbers.sort((a, b) => a - b).map(readIssue));
    return issues.filter((issue): issue is LocalIssue => issue !== undefined);
  }

  const writeIssue = (issue: LocalIssue) => writeFileAtomic(fileOf(issue.number), JSON.stringify(issue, null, 2));

  // Callers in this process queue here; the lock file only arbitrates between processes, so
  // nobody here polls for it.
  let queue: Promise<unknown> = Promise.resolve();
  const locked = <T>(work: () => Promise<T>): Promise<T> => {
    const turn = queue.then(() => lockedAcrossProcesses(work));
    queue = turn.catch(() => undefined);
    return turn;
  };

  async function lockedAcrossProcesses<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(issuesDir, { recursive: true });
    const release = await lockfile.lock(root, {
      lockfilePath: path.join(root, '.lock'),
      stale: 10_000,
      retries: { retries: 200, minTimeout: 5, maxTimeout: 100 },
    });
    try {
      return await work();
    } finally {
      await release();
    }
  }

  return {
    listIssues,
    getIssue: readIssue,

    findOrCreateIssue: ({ fingerprint, title, body, labels }: NewIssue) =>
      locked(async () => {
        // Number reserved, then index, then issue: a create cut short at any point is completed by
        // the retry (index without issue) or leaves only a gap in the numbering, never a duplicate.
        const known = await readText(indexFileOf(fingerprint));
        if (known && (await readIssue(Number(known)))) return { issue: refOf(Number(known)), created: false };
        const number = known ? Number(known) : Number((await readText(counterFile)) ?? 0) + 1;
        if (!known) {
          await writeFileAtomic(counterFile, String(number));
          await writeFileAtomic(indexFileOf(fingerprint), String(number));
        }
        const now = new Date().toISOString();
        await writeIssue({
          number,
          fingerprint,
          title,
          state: 'open',
          labels: [...new Set(labels)],
          body,
          comments: [],
          evidence: [],
          createdAt: now,
          updatedAt: now,
        });
        return { issue: refOf(number), created: true };
      }),

    upsertComment: (number, key, body) =>
      locked(async () => {
        const issue = await readIssue(number);
        if (!issue) throw new Error(`local tracker has no issue #${number}`);
        const now = new Date().toISOString();
        const existing = issue.comments.find((comment) => comment.key === key);
        if (existing) {
          existing.body = body;
          existing.updatedAt = now;
        } else {
          issue.comments.push({ key, body, createdAt: now, updatedAt: now });
        }
        issue.updatedAt = now;
        await writeIssue(issue);
        return { created: !existing };
      }),
  };
}
