// Every alert is its own occurrence and everything it names reaches the issue: two records of one
// CloudTrail log file about one security group, a scan that repeats one finding ten thousand times,
// a later delivery that is worse or names new actors, and an alert too big for Temporal as it came.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

let vigil: TestVigil;
beforeAll(async () => {
  // Big enough for the 3 MB GuardDuty finding and the ten thousand copies; the limits are not what is tested here.
  vigil = await startTestVigil({ intake: { sources: { guardduty: { maxBodyBytes: 8 * 1024 * 1024 }, prowler: { maxBodyBytes: 64 * 1024 * 1024 } } } });
});
afterAll(() => vigil.stop());

const fixture = async (name: string) => JSON.parse(await readFile(path.resolve(import.meta.dirname, '../fixtures', name), 'utf8'));

async function commentsOf(workflowId: string, accept: (headings: string[]) => boolean) {
  return eventually(async () => {
    const issue = (await vigil.tracker.listIssues()).find((candidate) => candidate.workflowId === workflowId);
    const comments = issue && (await vigil.tracker.readIssue(issue.number))!.comments;
    return comments && accept(comments.map((comment) => comment.body.split('\n')[0]!)) ? { issue: (await vigil.tracker.readIssue(issue.number))!, comments } : undefined;
  }, 60_000);
}

describe('occurrences', () => {
  it('two records of one log file about one security group are two occurrences, and both ports are on the issue', async () => {
    const record = await fixture('cloudtrail/vigil-sg-ingress-flat.json');
    const opening = (port: number, eventID: string) => ({ ...record, eventID, requestParameters: { ...record.requestParameters, fromPort: port, toPort: port } });
    const first = await vigil.post('cloudtrail', { Records: [opening(443, 'event-443'), opening(22, 'event-22')] });
    expect(first.status).toBe(202);
    expect(first.body.alerts).toHaveLength(1);
    const { workflowId } = first.body.alerts[0];
    await eventually(async () => ((await queryProgress(vigil.client, workflowId))?.occurrences === 2 ? true : undefined));
    const { comments } = await commentsOf(workflowId, (headings) => headings[0] === '### Alert received');
    expect(comments[0]!.body).toContain('ports `22`, `443`');
    expect(comments[0]!.body).toContain('**Copies in this delivery**: 2');

    // A later log file opens 3389 on the same group: a third occurrence, all three ports together.
    await vigil.post('cloudtrail', { Records: [opening(3389, 'event-3389')] });
    const later = await commentsOf(workflowId, (headings) => headings.includes('### Seen 3 times'));
    const seen = later.comments.find((comment) => comment.body.startsWith('### Seen 3 times'))!;
    expect(seen.body).toContain('ports `22`, `443`, `3389`');
  });

  it('a body repeating one finding ten thousand times is one signal that counts them all', async () => {
    const [finding] = await fixture('prowler/vigil-exposure.ocsf.json');
    const answer = await vigil.post('prowler', Array.from({ length: 10_000 }, () => finding));
    expect(answer.status).toBe(202);
    expect(answer.body.alerts).toHaveLength(1);
    const { workflowId } = answer.body.alerts[0];
    await eventually(async () => ((await queryProgress(vigil.client, workflowId))?.occurrences === 10_000 ? true : undefined));
    const history = await vigil.client.workflow.getHandle(workflowId).fetchHistory();
    expect(history.events!.length).toBeLessThan(100);
  });

  it('the worst severity wins, and actors new in a repeat are checked too', async () => {
    const alert = (severity: string, ips: string[], n: number) => ({ id: 'worsening', title: `Login attempt ${n}`, severity, actors: { ips } });
    const first = await vigil.post('generic', alert('medium', ['203.0.113.5'], 1));
    const { workflowId } = first.body.alerts[0];
    await commentsOf(workflowId, (headings) => headings.includes('### Actors'));
    await vigil.post('generic', alert('critical', ['203.0.113.5', '198.51.100.7'], 2));
    const { issue, comments } = await commentsOf(workflowId, (headings) => headings.filter((heading) => heading === '### Actors').length === 2 && headings.includes('### Seen 2 times'));
    const actors = comments.filter((comment) => comment.body.startsWith('### Actors'));
    expect(actors[1]!.body).toContain('198.51.100.7');
    expect(actors[1]!.body).not.toContain('203.0.113.5');
    const labels = await eventually(async () => {
      const current = (await vigil.tracker.readIssue(issue.number))!.labels;
      return current.includes('severity:critical') ? current : undefined;
    });
    expect(labels).not.toContain('severity:medium');
  });

  it('an alert too big for Temporal as it came is investigated, cut short, with the archive holding it whole (the comment says so)', async () => {
    const event = await fixture('guardduty/ssh-brute-force.eventbridge.json');
    const title = 'A'.repeat(3 * 1024 * 1024);
    const answer = await vigil.post('guardduty', { ...event, detail: { ...event.detail, id: 'huge-title', title } });
    expect(answer.status).toBe(202);
    expect(answer.body.alerts[0].dispatched).toBe(true);
    const { workflowId } = answer.body.alerts[0];
    const { issue, comments } = await commentsOf(workflowId, (headings) => headings[0] === '### Alert received');
    expect(issue.title.length).toBeLessThan(1000);
    expect(comments[0]!.body).toContain('**Cut short here**');
  });

  it('an Insights episode\'s start and end in one log file: investigated, and the end said on its issue', async () => {
    const { Records } = await fixture('cloudtrail/vigil-insight-start-end.json');
    // Log files are not ordered: the end first.
    const answer = await vigil.post('cloudtrail', { Records: [...Records].reverse() });
    expect(answer.status).toBe(202);
    expect(answer.body.alerts.map((alert: { unwatched?: true }) => alert.unwatched ?? false)).toEqual([false, false]);
    const { workflowId } = answer.body.alerts[0];
    const { comments } = await commentsOf(workflowId, (headings) => headings.includes('### Resolved at the source'));
    expect(comments.find((comment) => comment.body.startsWith('### Resolved at the source'))!.body).toContain('CloudTrail Insights state End');
    expect((await queryProgress(vigil.client, workflowId))?.occurrences).toBe(1);
  });
});
