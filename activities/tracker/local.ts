// The built-in tracker: issues kept as JSON files in the data folder, one per issue, written
// atomically under an inter-process lock (the worker writes while intake serves them and takes
// people's actions). Evidence files live beside them and intake serves them.
import { createHash } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { readIfExists, writeFileAtomic } from '../../lib/files';
import type { IssueRef } from '../../lib/investigation';
import { localCommentId, type LocalComment, type LocalIssue } from '../../lib/local-issues';
import type { EvidenceLink, IssueState, ListedIssue, NewIssue, Tracker } from './types';

export interface LocalTrackerOptions {
  /** Folder holding the issues. */
  root: string;
  /** Path of the issues page, for links to issues. */
  pageUrl?: string;
}

export interface LocalTracker extends Tracker {
  listIssues(): Promise<LocalIssue[]>;
  /** The whole stored issue, or undefined. */
  readIssue(number: number): Promise<LocalIssue | undefined>;
  /** The fingerprint's issue, or undefined (a file read, whatever the number of issues). */
  findIssue(fingerprint: string): Promise<LocalIssue | undefined>;
  /** An evidence file's bytes, for intake to serve. */
  readEvidence(number: number, name: string): Promise<{ data: Buffer; contentType: string } | undefined>;
  /** A person's comment (`tracker.local.people`), stored with its author and a new id; undefined when there is no such issue. */
  addPersonComment(number: number, author: string, body: string): Promise<LocalComment | undefined>;
}

const issueFile = /^(\d+)\.json$/;
/** Evidence names are ours (probe targets, check names), but never let one leave its folder. */
const evidenceName = /^[\w.:@+-]{1,200}$/;
/** How long this process keeps the lock while its own writes queue (see `locked`). */
const MAX_HOLD_MS = 200;

export const evidencePath = (number: number, name: string) => `/v1/issues/${number}/evidence/${encodeURIComponent(name)}`;

export function createLocalTracker({ root, pageUrl = '/issues' }: LocalTrackerOptions): LocalTracker {
  const issuesDir = path.join(root, 'issues');
  const fileOf = (number: number) => path.join(issuesDir, `${number}.json`);
  // Fingerprint → issue number, so finding an issue does not read every issue.
  const indexFileOf = (fingerprint: string) =>
    path.join(root, 'by-fingerprint', createHash('sha256').update(fingerprint).digest('hex'));
  const counterFile = path.join(root, 'last-number');
  const readText = async (file: string) => (await readIfExists(file))?.toString('utf8');
  const refOf = (number: number): IssueRef => ({ number, url: `${pageUrl}#issue-${number}` });

  async function readIssue(number: number): Promise<LocalIssue | undefined> {
    const text = await readText(fileOf(number));
    if (text === undefined) return undefined;
    const issue = JSON.parse(text) as LocalIssue;
    // Issues written before comments had ids: each gets the id its position gives.
    issue.comments.forEach((comment, index) => (comment.id ??= localCommentId(number, index)));
    return issue;
  }

  async function listIssues(): Promise<LocalIssue[]> {
    const names = await readdir(issuesDir).catch(() => [] as string[]);
    const numbers = names.flatMap((name) => issueFile.exec(name)?.[1] ?? []).map(Number);
    const issues = await Promise.all(numbers.sort((a, b) => a - b).map(readIssue));
    return issues.filter((issue): issue is LocalIssue => issue !== undefined);
  }

  const writeIssue = (issue: LocalIssue) => writeFileAtomic(fileOf(issue.number), JSON.stringify(issue, null, 2));

  // Callers in this process queue here; the lock file only arbitrates between processes, so
  // nobody here polls for it. Whatever is queued when the lock is taken runs under that one hold
  // (taking and releasing it is most of a small write's cost: a burst of alerts queued thousands),
  // for at most MAX_HOLD_MS, so another process waiting for it gets its turn. Work on one key (an
  // issue, or the numbering) runs in order; different keys at once.
  let pending: { key: string; work: () => Promise<unknown>; settle: (outcome: Promise<unknown>) => void }[] = [];
  let draining = false;
  const locked = <T>(key: string, work: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      pending.push({ key, work, settle: (outcome) => void (outcome as Promise<T>).then(resolve, reject) });
      if (!draining) void drain();
    });

  async function runBatch(): Promise<void> {
    const batch = pending;
    pending = [];
    const byKey = new Map<string, typeof batch>();
    for (const job of batch) byKey.set(job.key, [...(byKey.get(job.key) ?? []), job]);
    await Promise.all(
      [...byKey.values()].map(async (jobs) => {
        for (const { work, settle } of jobs) {
          const outcome = work();
          settle(outcome);
          await outcome.catch(() => undefined);
        }
      }),
    );
  }

  async function drain(): Promise<void> {
    draining = true;
    while (pending.length > 0) {
      const waiting = pending.length;
      try {
        await lockedAcrossProcesses(async () => {
          const taken = Date.now();
          do await runBatch();
          while (pending.length > 0 && Date.now() - taken < MAX_HOLD_MS);
        });
      } catch (err) {
        // The lock could not be taken: those that waited for it fail (an activity retries).
        for (const { settle } of pending.splice(0, waiting)) settle(Promise.reject(err));
      }
    }
    draining = false;
  }

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

  /** Reads, changes and writes one issue under the lock. */
  const change = <T>(number: number, edit: (issue: LocalIssue, now: string) => T) =>
    locked(`issue/${number}`, async () => {
      const issue = await readIssue(number);
      if (!issue) throw new Error(`local tracker has no issue #${number}`);
      const now = new Date().toISOString();
      const result = edit(issue, now);
      issue.updatedAt = now;
      await writeIssue(issue);
      return result;
    });

  return {
    listIssues,
    readIssue,

    async findIssue(fingerprint) {
      const known = await readText(indexFileOf(fingerprint));
      return known ? readIssue(Number(known)) : undefined;
    },

    async readEvidence(number, name) {
      const issue = await readIssue(number);
      const entry = issue?.evidence.find((evidence) => evidence.path === `evidence/${number}/${name}`);
      if (!entry || !evidenceName.test(name)) return undefined;
      const data = await readIfExists(path.join(root, entry.path));
      return data && { data, contentType: entry.contentType };
    },

    findOrCreateIssue: ({ fingerprint, workflowId, title, body, labels }: NewIssue) =>
      // One numbering: creates run one after the other (an existing issue is found the same way).
      locked('numbering', async () => {
        // Number reserved, then index, then issue: a create cut short at any point is completed by
        // the retry (index without issue) or leaves only a gap in the numbering, never a duplicate.
        const known = await readText(indexFileOf(fingerprint));
        const existing = known ? await readIssue(Number(known)) : undefined;
        if (existing) return { issue: refOf(existing.number), created: false, state: existing.state };
        const number = known ? Number(known) : Number((await readText(counterFile)) ?? 0) + 1;
        if (!known) {
          await writeFileAtomic(counterFile, String(number));
          await writeFileAtomic(indexFileOf(fingerprint), String(number));
        }
        const now = new Date().toISOString();
        await writeIssue({
          number,
          fingerprint,
          workflowId,
          title,
          state: 'open',
          labels: [...new Set(labels)],
          body,
          comments: [],
          evidence: [],
          createdAt: now,
          updatedAt: now,
        });
        return { issue: refOf(number), created: true, state: 'open' as const };
      }),

    async listOpenIssues(label): Promise<ListedIssue[]> {
      return (await listIssues())
        .filter((issue) => issue.state === 'open' && issue.labels.includes(label))
        .map(({ number, state, labels, fingerprint, body }) => ({ number, state, labels, fingerprint, body }));
    },

    async getIssue(number): Promise<IssueState> {
      const issue = await readIssue(number);
      if (!issue) throw new Error(`local tracker has no issue #${number}`);
      return { number, state: issue.state, labels: issue.labels };
    },

    async replaceIssueBody(number, body) {
      if ((await readIssue(number))?.body === body) return;
      await change(number, (issue) => {
        issue.body = body;
      });
    },

    reopenIssue: (number) =>
      change(number, (issue) => {
        issue.state = 'open';
      }),

    closeIssue: (number) =>
      change(number, (issue) => {
        issue.state = 'closed';
      }),

    hasComment: async (number, key) => ((await readIssue(number))?.comments ?? []).some((comment) => comment.key === key),

    upsertComment: (number, key, body) =>
      change(number, (issue, now) => {
        const existing = issue.comments.find((comment) => comment.key === key);
        if (existing) {
          existing.body = body;
          existing.updatedAt = now;
        } else {
          issue.comments.push({ key, id: localCommentId(number, issue.comments.length), body, createdAt: now, updatedAt: now });
        }
        return { created: !existing };
      }),

    async addPersonComment(number, author, body) {
      if (!(await readIssue(number))) return undefined;
      return change(number, (issue, now) => {
        const id = localCommentId(number, issue.comments.length);
        const comment: LocalComment = { key: `person/${id}`, id, author, body, createdAt: now, updatedAt: now };
        issue.comments.push(comment);
        return comment;
      });
    },

    updateLabels: (number, { add = [], remove = [] }) =>
      change(number, (issue) => {
        issue.labels = [...new Set([...issue.labels.filter((label) => !remove.includes(label)), ...add])];
      }),

    async attachEvidence(number, { name, contentType, data }): Promise<EvidenceLink> {
      if (!evidenceName.test(name)) throw new Error(`not a usable evidence file name: ${JSON.stringify(name)}`);
      const relative = `evidence/${number}/${name}`;
      await writeFileAtomic(path.join(root, relative), data);
      await change(number, (issue) => {
        issue.evidence = [...issue.evidence.filter((entry) => entry.path !== relative), { path: relative, contentType }];
      });
      const url = evidencePath(number, name);
      return { url, markdown: contentType.startsWith('image/') ? `![${name}](${url})` : `[${name}](${url})` };
    },
  };
}
