// Sigma rules through the whole path: intake loads `detections.sigma` at start, its decoding judges a
// CloudTrail log file and GCP audit entries by the built-in and the Sigma rules, the answer counts
// what no rule matched, and each issue names every rule that found its alert, with ATT&CK labels.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestVigil, type TestVigil } from '../helpers/vigil';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');
const fixture = async (name: string) => JSON.parse(await readFile(path.join(fixtures, name), 'utf8'));

let vigil: TestVigil;
beforeAll(async () => {
  // Large enough for a whole log file: the limits are not what is tested here.
  vigil = await startTestVigil({ sigma: [path.join(fixtures, 'sigma', 'sigmahq-cloud')], intake: { maxBodyBytes: 4 * 1024 * 1024 } });
});
afterAll(() => vigil.stop());

async function issueOf(workflowId: string) {
  return eventually(async () => {
    const issue = (await vigil.tracker.listIssues()).find((candidate) => candidate.workflowId === workflowId);
    const read = issue && (await vigil.tracker.readIssue(issue.number));
    return read && read.comments.length > 0 ? read : undefined;
  }, 60_000);
}

describe('Sigma rules at intake', () => {
  it('turns the records of a CloudTrail log file the rules match into alerts, counts the rest, and names every rule on the issue', async () => {
    // A real log file, records written for Vigil (whose AssumeRole calls SigmaHQ's rule matches and
    // no built-in rule does) and a real StopLogging.
    const logFile = await fixture('cloudtrail/1230Z_ZtUNbBkwAu98FPZb.json');
    const accountChanges = await fixture('cloudtrail/vigil-account-changes.json');
    const [stop] = await fixture('cloudtrail/aws.defense-evasion.cloudtrail-stop.json');
    const records = [...logFile.Records, ...accountChanges.Records, stop];
    const answer = await vigil.post('cloudtrail', { Records: records });
    expect(answer.status).toBe(202);
    const { alerts, unmatched } = answer.body as { alerts: { workflowId: string; fingerprint: string; dispatched: boolean }[]; unmatched: number };
    expect(alerts.every((alert) => alert.dispatched)).toBe(true);
    // Records only SigmaHQ's rules match: alerts of their own.
    expect(alerts.some((alert) => alert.fingerprint.startsWith('sigma:'))).toBe(true);
    expect(unmatched).toBeGreaterThan(0);
    expect(unmatched).toBeLessThan(records.length);

    const stopped = alerts.find((alert) => alert.fingerprint.includes('trail/'))!;
    const issue = await issueOf(stopped.workflowId);
    expect(issue.labels).toEqual(expect.arrayContaining(['severity:high', 'attack:defense-impairment', 'attack:T1685.002']));
    const summary = issue.comments[0]!.body;
    expect(summary).toContain('- **Found by**:');
    expect(summary).toContain('Built-in rule `StopLogging or DeleteTrail: a CloudTrail trail stops recording` (`cloudtrail-logging-stopped`, level `high`)');
    expect(summary).toContain('Sigma rule `AWS CloudTrail Important Change` (`4db60cc0-36fb-42b7-9b58-a5b53019fb74`, level `medium`) · ATT&CK `defense-impairment`, [T1685.002](https://attack.mitre.org/techniques/T1685/002/)');
    expect(summary).toContain('- False positives: `Valid change in a Trail`');
  });

  it('turns a GCP audit entry only a Sigma rule matches into an alert, and answers an unmatched one with a count', async () => {
    const entry = await fixture('gcp-audit/vigil-storage-buckets-list.json');
    const matched = await vigil.post('gcp-audit', entry);
    expect(matched.status).toBe(202);
    expect(matched.body.alerts).toHaveLength(1);
    const issue = await issueOf(matched.body.alerts[0].workflowId);
    // Titles keep a word joiner after `@`, so that they mention no one.
    expect(issue.title).toBe('[low] Google Cloud Storage Buckets Enumeration: storage.buckets.list on acme-logs by mallory@\u2060example.com');
    expect(issue.comments[0]!.body).toContain('Sigma rule `Google Cloud Storage Buckets Enumeration` (`e2feb918-4e77-4608-9697-990a1aaf74c3`, level `low`)');

    const unmatched = await vigil.post('gcp-audit', { ...entry, insertId: 'sigma-intake-2', protoPayload: { ...entry.protoPayload, methodName: 'storage.objects.get' } });
    expect(unmatched.status).toBe(202);
    expect(unmatched.body).toMatchObject({ alerts: [], unmatched: 1 });
  });
});
