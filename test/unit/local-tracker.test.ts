import { mkdtemp, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalTracker, type LocalTracker } from '../../activities/tracker/local';

let root: string;
let tracker: LocalTracker;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'vigil-tracker-'));
  tracker = createLocalTracker({ root });
});
afterEach(() => rm(root, { recursive: true, force: true }));

const newIssue = (fingerprint: string) => ({ fingerprint, workflowId: `wf/${fingerprint}`, title: `t ${fingerprint}`, body: 'b', labels: ['vigil', 'vigil'] });

describe('local tracker', () => {
  it('opens one issue per fingerprint, even under concurrent retries', async () => {
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => tracker.findOrCreateIssue(newIssue('fp-a'))),
      ...Array.from({ length: 10 }, () => createLocalTracker({ root }).findOrCreateIssue(newIssue('fp-b'))),
    ]);
    expect(results.filter((result) => result.created)).toHaveLength(2);
    const issues = await tracker.listIssues();
    expect(issues.map(({ number, fingerprint, labels }) => ({ number, fingerprint, labels }))).toEqual(
      expect.arrayContaining([
        { number: expect.any(Number), fingerprint: 'fp-a', labels: ['vigil'] },
        { number: expect.any(Number), fingerprint: 'fp-b', labels: ['vigil'] },
      ]),
    );
    expect(issues).toHaveLength(2);
  });

  it('completes a create that was cut short after reserving its number', async () => {
    const { issue } = await tracker.findOrCreateIssue(newIssue('fp'));
    await unlink(path.join(root, 'issues', `${issue.number}.json`));
    const again = await tracker.findOrCreateIssue(newIssue('fp'));
    expect(again).toEqual({ issue, created: true, state: 'open' });
    expect(await tracker.listIssues()).toHaveLength(1);
    expect((await tracker.findOrCreateIssue(newIssue('other'))).issue.number).toBe(issue.number + 1);
  });

  it('updates a comment posted with the same key instead of adding one', async () => {
    const { issue } = await tracker.findOrCreateIssue(newIssue('fp'));
    expect(await tracker.upsertComment(issue.number, 'wf#step', 'first')).toEqual({ created: true });
    expect(await tracker.upsertComment(issue.number, 'wf#step', 'second')).toEqual({ created: false });
    await tracker.upsertComment(issue.number, 'wf#other', 'third');
    const stored = await tracker.readIssue(issue.number);
    expect(stored!.comments.map((comment) => comment.body)).toEqual(['second', 'third']);
  });

  it('refuses a comment on an issue it does not have', async () => {
    await expect(tracker.upsertComment(42, 'k', 'b')).rejects.toThrow(/no issue #42/);
  });

  it('keeps every write when many issues are written at once, from two trackers sharing the folder', async () => {
    const other = createLocalTracker({ root });
    const issues = await Promise.all(Array.from({ length: 12 }, (_, n) => (n % 2 ? other : tracker).findOrCreateIssue(newIssue(`fp-${n}`))));
    expect(new Set(issues.map(({ issue }) => issue.number)).size).toBe(12);
    await Promise.all(
      issues.flatMap(({ issue }) => Array.from({ length: 8 }, (_, k) => (k % 2 ? other : tracker).upsertComment(issue.number, `key-${k}`, `comment ${k}`))),
    );
    for (const { issue } of issues) {
      expect(((await tracker.readIssue(issue.number))!.comments.map((comment) => comment.key)).sort()).toEqual(Array.from({ length: 8 }, (_, k) => `key-${k}`));
    }
  });
});
