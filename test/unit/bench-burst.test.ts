// The burst measure: every alert's first comment is seen by watching the tracker's files (issues
// written before and after, other issues beside them), and the figures cover every alert.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalTracker, type LocalTracker } from '../../activities/tracker/local';
import { benchBurst } from '../../scripts/bench-burst';

let root: string;
let tracker: LocalTracker;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'vigil-burst-'));
  tracker = createLocalTracker({ root });
});
afterEach(() => rm(root, { recursive: true, force: true }));

const issueOf = (fingerprint: string) => ({ fingerprint, workflowId: `wf/${fingerprint}`, title: fingerprint, body: 'b', labels: [] });

describe('benchBurst', () => {
  it('sees each alert reported once its issue has a comment, whatever else is written', async () => {
    const other = await tracker.findOrCreateIssue(issueOf('someone-else'));
    // What intake and the worker do, in the order they do it: the issue first, its comment later.
    const post = async (body: object) => {
      const { id } = body as { id: string };
      const { issue } = await tracker.findOrCreateIssue(issueOf(id));
      setTimeout(() => {
        void tracker.upsertComment(other.issue.number, id, 'noise').then(() => tracker.upsertComment(issue.number, 'summary', 'the summary'));
      }, 5);
    };
    const figures = await benchBurst({ post, tracker, trackerRoot: root, alerts: 40, concurrency: 8, serverPid: process.pid });
    expect(figures).toMatchObject({ burstAlerts: 40, burstConcurrency: 8 });
    expect(figures.burstFirstCommentP50Ms).toBeLessThanOrEqual(figures.burstFirstCommentP95Ms);
    expect(figures.burstServerCpuMsPerAlert).toEqual(expect.any(Number));
  });

  it('gives up, saying how many were reported, when comments never come', async () => {
    const post = async (body: object) => void (await tracker.findOrCreateIssue(issueOf((body as { id: string }).id)));
    await expect(benchBurst({ post, tracker, trackerRoot: root, alerts: 3, concurrency: 3, timeoutMs: 500 })).rejects.toThrow(/0 of 3/);
  });
});
