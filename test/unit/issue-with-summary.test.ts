// The first report in one activity: the issue opened (or found, or reopened) and the delivery's
// summary on it, made once however often the activity is retried, and never on a suppressed issue.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localBlobStore } from '../../activities/archive/local';
import { createLocalTracker, type LocalTracker } from '../../activities/tracker/local';
import { createReportActivities } from '../../activities/tracker/report';
import type { NormalizedAlert } from '../../lib/alert';
import { configSchema } from '../../lib/config';

let root: string;
let tracker: LocalTracker;
let reports: ReturnType<typeof createReportActivities>;
const labels = configSchema.parse({}).tracker.labels;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'vigil-summary-'));
  tracker = createLocalTracker({ root });
  reports = createReportActivities({ tracker, labels, artifacts: localBlobStore(path.join(root, 'artifacts')) });
});
afterEach(() => rm(root, { recursive: true, force: true }));

const alert = (occurredAt: string): NormalizedAlert => ({
  source: 'generic',
  kind: 'resource',
  fingerprint: 'fp-1',
  title: 'Something happened',
  severity: 'low',
  occurredAt,
  resources: [],
  network: { ips: [], cidrs: [], ports: [] },
  actors: { ips: [], domains: [], principals: [], userAgents: [] },
  // Each delivery its own archive record: that is what tells an occurrence from a redelivery.
  archive: { id: occurredAt, sha256: occurredAt.padEnd(64, '0'), receivedAt: occurredAt },
});
const workflowId = 'alert/generic/fp-1';

describe('openIssueWithSummary', () => {
  it('opens the issue with the summary on it, and a retry makes neither again', async () => {
    const first = await reports.openIssueWithSummary({ alert: alert('2026-01-01T00:00:00Z'), workflowId });
    expect(first).toMatchObject({ reopened: false, suppressed: false, alreadyReported: false });
    const retried = await reports.openIssueWithSummary({ alert: alert('2026-01-01T00:00:00Z'), workflowId });
    expect(retried).toMatchObject({ issue: first.issue, alreadyReported: true });
    const issue = (await tracker.findIssue('fp-1'))!;
    expect(issue.comments).toHaveLength(1);
    expect(issue.comments[0]!.body).toContain('Something happened');
  });

  it('reopens a closed issue with a recurrence summary', async () => {
    const { issue } = await reports.openIssueWithSummary({ alert: alert('2026-01-01T00:00:00Z'), workflowId });
    await tracker.closeIssue(issue.number);
    const again = await reports.openIssueWithSummary({ alert: alert('2026-02-01T00:00:00Z'), workflowId });
    expect(again).toMatchObject({ issue, reopened: true, alreadyReported: false });
    const stored = (await tracker.readIssue(issue.number))!;
    expect(stored.state).toBe('open');
    expect(stored.comments).toHaveLength(2);
  });

  it('says nothing on a suppressed issue', async () => {
    const { issue } = await reports.openIssueWithSummary({ alert: alert('2026-01-01T00:00:00Z'), workflowId });
    await tracker.updateLabels(issue.number, { add: [labels.suppress] });
    const again = await reports.openIssueWithSummary({ alert: alert('2026-02-01T00:00:00Z'), workflowId });
    expect(again).toMatchObject({ suppressed: true, alreadyReported: false });
    expect((await tracker.readIssue(issue.number))!.comments).toHaveLength(1);
  });
});
