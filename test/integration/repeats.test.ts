// A hundred concurrent deliveries of one GuardDuty finding: one workflow, one issue, the right count.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startTestVigil();
});
afterAll(() => vigil.stop());

describe('repeats of one finding', () => {
  it('collapse into one investigation that counts every distinct delivery once', async () => {
    const event = JSON.parse(
      await readFile(path.resolve(import.meta.dirname, '../fixtures/guardduty/ssh-brute-force.eventbridge.json'), 'utf8'),
    );
    // GuardDuty re-sends a finding as it updates: same id, new count and updatedAt.
    const updates = Array.from({ length: 100 }, (_, n) => ({
      ...event,
      detail: { ...event.detail, updatedAt: new Date(Date.UTC(2026, 10, 28, 10, 0, n)).toISOString(), service: { ...event.detail.service, count: n + 1 } },
    }));
    // Each update delivered twice (a sender retry), all at once.
    const answers = await Promise.all([...updates, ...updates].map((update) => vigil.post('guardduty', update)));
    expect(answers.every((answer) => answer.status === 202)).toBe(true);
    const workflowIds = new Set(answers.map((answer) => answer.body.alerts[0].workflowId as string));
    expect([...workflowIds]).toEqual([`alert/guardduty/${event.detail.id}`]);

    const progress = await eventually(async () => {
      const current = await queryProgress(vigil.client, [...workflowIds][0]!);
      return current?.occurrences === 100 ? current : undefined;
    }, 60_000);
    expect(new Set(progress.reportedDeliveries).size).toBe(100);

    const issues = await vigil.tracker.listIssues();
    expect(issues).toHaveLength(1);
    const comments = await eventually(async () => {
      const issue = await vigil.tracker.readIssue(issues[0]!.number);
      return issue!.comments.find((comment) => comment.body.startsWith('### Seen 100 times')) ? issue!.comments : undefined;
    });
    // The first delivery's summary, its actors, and the count.
    expect(comments.map((comment) => comment.body.split('\n')[0])).toEqual(['### Alert received', '### Actors', '### Seen 100 times']);
  });
});
