// Resolution from the source: when a source says a finding is over (SCC INACTIVE, Security Hub
// PASSED / RESOLVED / ARCHIVED, a Prowler PASS, the End of a CloudTrail Insights episode, an archived
// GuardDuty finding), its alert carries `resolution` in the source's words, with the fingerprint, kind
// and resources of the active finding, so that it reaches that finding's investigation. Active
// samples carry no `resolution`. The resolution samples are the real (or Vigil-written) active
// samples as the source writes them once the finding is over (see each fixtures folder's SOURCES.md).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ParsedAlert } from '../../../lib/alert';
import { cloudTrailSource } from '../../../intake/sources/cloudtrail';
import { insightsRules } from '../../../intake/sources/cloudtrail/rules/insights';
import { guardDutySource } from '../../../intake/sources/guardduty';
import { prowlerSource } from '../../../intake/sources/prowler';
import { decodePubSubPush } from '../../../intake/sources/pubsub';
import { sccSource } from '../../../intake/sources/scc';
import { securityHubSource } from '../../../intake/sources/securityhub';
import type { SourceAdapter } from '../../../intake/sources/types';

const fixturesDir = (source: string) => path.join(import.meta.dirname, '../../fixtures', source);
const fixture = (source: string, name: string): any => JSON.parse(readFileSync(path.join(fixturesDir(source), name), 'utf8'));
const fixtureNames = (source: string) => readdirSync(fixturesDir(source)).filter((name) => name.endsWith('.json'));

const parseOne = (source: SourceAdapter, payload: unknown): ParsedAlert => {
  const alerts = source.parse(payload);
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
};

/** What must match for a resolution to reach the investigation of the finding it ends. */
const identity = (alert: ParsedAlert) => ({ fingerprint: alert.fingerprint, kind: alert.kind, resources: alert.resources });

const push = (body: unknown) => ({
  message: { attributes: {}, data: Buffer.from(JSON.stringify(body)).toString('base64'), messageId: '1', publishTime: '2025-11-28T09:00:00Z' },
  subscription: 'projects/p/subscriptions/s',
});

describe('resolution: Security Command Center', () => {
  const scc = (payload: unknown) => parseOne(sccSource, payload);

  it('reads state INACTIVE of the shared OPEN_FIREWALL sample as its resolution, on the same investigation', () => {
    const active = scc(fixture('scc', 'open_firewall-remediated.json'));
    const inactive = scc(fixture('scc', 'open_firewall-inactive.json'));
    expect(active.resolution).toBeUndefined();
    expect(inactive.resolution).toBe('SCC state INACTIVE');
    expect(identity(inactive)).toEqual(identity(active));
    expect(identity(active)).toMatchObject({
      fingerprint: 'organizations/0000000000/sources/0000000/findings/2087237f91e4904e344a624c98e52ae6',
      kind: 'exposure',
    });
  });

  it('reads an INACTIVE Pub/Sub notification, and names the mute when the finding is muted too', () => {
    const notification = decodePubSubPush(fixture('scc', 'vigil-open-ssh-port-inactive.push.json')) as any;
    const inactive = scc(push(notification));
    expect(inactive.resolution).toBe('SCC state INACTIVE');
    const active = scc(push({ ...notification, finding: { ...notification.finding, state: 'ACTIVE' } }));
    expect(active.resolution).toBeUndefined();
    expect(identity(inactive)).toEqual(identity(active));

    expect(scc(push({ ...notification, finding: { ...notification.finding, mute: 'MUTED' } })).resolution).toBe('SCC state INACTIVE, mute MUTED');
    // Muted but active is an exception someone accepted, not the end of the finding.
    expect(scc(push({ ...notification, finding: { ...notification.finding, state: 'ACTIVE', mute: 'MUTED' } })).resolution).toBeUndefined();
    // The bare notification, with the state in lower case.
    expect(scc({ ...notification, finding: { ...notification.finding, state: 'inactive' } }).resolution).toBe('SCC state INACTIVE');
  });

  it('gives no resolution for the active samples', () => {
    for (const name of fixtureNames('scc').filter((name) => !/inactive/.test(name))) {
      expect(scc(fixture('scc', name)).resolution, name).toBeUndefined();
    }
  });
});

describe('resolution: Security Hub', () => {
  const hub = (payload: unknown) => parseOne(securityHubSource, payload);
  const cis42 = () => fixture('securityhub', 'cis-42.json');

  it('reads the shared CIS 4.2 finding once passed (Compliance PASSED, Workflow RESOLVED) as its resolution', () => {
    const failed = hub(cis42());
    const passed = hub(fixture('securityhub', 'cis-42.passed.json'));
    expect(failed.resolution).toBeUndefined();
    expect(passed.resolution).toBe('Security Hub Compliance.Status PASSED, Workflow.Status RESOLVED');
    expect(identity(passed)).toEqual(identity(failed));
    expect(identity(failed)).toMatchObject({ kind: 'exposure', resources: [{ type: 'aws:ec2:security-group', id: 'sg-3d10bb58e8b1355ed' }] });
    // The fixed group no longer opens 3389 to the internet: the resolution says so too.
    expect(passed.network.cidrs).toEqual([]);
  });

  it.each([
    ['RecordState ARCHIVED', { RecordState: 'ARCHIVED' }],
    ['Compliance.Status PASSED', { Compliance: { Status: 'PASSED' } }],
    ['Workflow.Status RESOLVED', { Workflow: { Status: 'RESOLVED' } }],
    ['WorkflowState RESOLVED', { WorkflowState: 'RESOLVED', Workflow: undefined }],
    ['Compliance.Status PASSED, RecordState ARCHIVED', { Compliance: { Status: 'PASSED' }, RecordState: 'ARCHIVED' }],
    // A suppressed finding that passes or is archived still ends an open investigation.
    ['RecordState ARCHIVED', { Workflow: { Status: 'SUPPRESSED' }, RecordState: 'ARCHIVED' }],
  ])('names the field that says it is over: %s', (words, change) => {
    const event = fixture('securityhub', 'afsbp-ec2.7.json');
    const active = hub(event);
    Object.assign(event.detail.findings[0], change);
    const over = hub(event);
    expect(over.resolution).toBe(`Security Hub ${words}`);
    expect(identity(over)).toEqual(identity(active));
  });

  it.each([
    ['NEW', { Workflow: { Status: 'NEW' } }],
    ['NOTIFIED', { Workflow: { Status: 'NOTIFIED' } }],
    ['FAILED', { Compliance: { Status: 'FAILED' } }],
    ['WARNING', { Compliance: { Status: 'WARNING' } }],
    ['NOT_AVAILABLE', { Compliance: { Status: 'NOT_AVAILABLE' } }],
    ['ACTIVE', { RecordState: 'ACTIVE' }],
    // Workflow.Status is the field; the deprecated WorkflowState counts only without it.
    ['WorkflowState RESOLVED beside Workflow.Status NOTIFIED', { WorkflowState: 'RESOLVED', Workflow: { Status: 'NOTIFIED' } }],
  ])('keeps %s active', (_, change) => {
    expect(hub({ ...cis42(), ...change }).resolution).toBeUndefined();
  });

  it('still skips a suppressed finding that is not over, and resolves the passed one of GetFindings', () => {
    expect(securityHubSource.parse({ ...cis42(), Workflow: { Status: 'SUPPRESSED' } })).toEqual([]);
    const alerts = securityHubSource.parse(fixture('securityhub', 'get-findings.ec2-controls.json'));
    expect(alerts.map((alert) => [alert.fingerprint.split('/')[1], alert.resolution])).toEqual([
      ['EC2.19', undefined],
      ['EC2.21', undefined],
      ['EC2.13', 'Security Hub Compliance.Status PASSED, Workflow.Status RESOLVED'],
    ]);
  });

  it('gives no resolution for the active samples', () => {
    for (const name of ['afsbp-ec2.2.json', 'afsbp-ec2.7.json', 'cis-42.json', 'guardduty-ssh-brute-force.asff.json']) {
      for (const alert of securityHubSource.parse(fixture('securityhub', name))) expect(alert.resolution, name).toBeUndefined();
    }
  });
});

describe('resolution: Prowler', () => {
  const firstScan = () => prowlerSource.parse(fixture('prowler', 'vigil-exposure.ocsf.json'));
  const nextScan = () => prowlerSource.parse(fixture('prowler', 'vigil-exposure-next-scan.ocsf.json'));

  it('reads a PASS of the next scan as the resolution of the FAIL of the same check and resource', () => {
    const failed = firstScan().filter((alert) => !alert.resolution);
    expect(failed.map((alert) => alert.title)).toEqual([
      'Prowler FAIL: Security group does not allow ingress from 0.0.0.0/0 or ::/0 to SSH port 22 (sg-0ssh22open0000000)',
      'Prowler FAIL: EC2 instance does not allow ingress from the Internet to TCP port 3389 (RDP) (i-0abc12345def67890)',
      'Prowler FAIL: S3 bucket is not publicly accessible (vigil-demo-public-assets)',
    ]);
    const [ssh, rdp, bucket] = failed as [ParsedAlert, ParsedAlert, ParsedAlert];
    const byFingerprint = new Map(nextScan().map((alert) => [alert.fingerprint, alert]));

    for (const fail of [ssh, rdp]) {
      const pass = byFingerprint.get(fail.fingerprint)!;
      expect(pass.resolution).toMatch(/^Prowler status_code PASS: .* does not have (SSH|RDP) port (22|3389) open to the Internet\.$/);
      expect(identity(pass)).toEqual(identity(fail));
      expect(pass.title).toBe(fail.title.replace(/^Prowler FAIL:/, 'Prowler PASS:'));
    }
    expect(byFingerprint.get(ssh.fingerprint)!.resolution).toBe(
      'Prowler status_code PASS: Security group bastion-ssh (sg-0ssh22open0000000) does not have SSH port 22 open to the Internet.',
    );
    // Still failing in the next scan: still no resolution.
    expect(byFingerprint.get(bucket.fingerprint)!.resolution).toBeUndefined();
    // The muted FAIL is neither an alert nor a resolution, in either scan.
    expect([...byFingerprint.keys()].some((fingerprint) => fingerprint.includes('networkacl'))).toBe(false);
  });

  it('makes a PASS of the shared sample resolve its FAIL (the sample shares one placeholder uid)', () => {
    const report = fixture('prowler', 'example_output_aws.ocsf.json');
    const [accessAnalyzer] = prowlerSource.parse(report);
    const passed = report.find((finding: any) => finding.metadata.event_code === 'accessanalyzer_enabled');
    const pass = parseOne(prowlerSource, { ...passed, status_code: 'PASS', status_detail: 'IAM Access Analyzer analyzer-1 is enabled.' });
    expect(accessAnalyzer!.resolution).toBeUndefined();
    expect(pass.resolution).toBe('Prowler status_code PASS: IAM Access Analyzer analyzer-1 is enabled.');
    expect(identity(pass)).toEqual(identity(accessAnalyzer!));
    // The placeholder uid is no identity: both carry the one a real uid would say.
    expect(pass.fingerprint).toBe('prowler:aws:accessanalyzer_enabled:<account_uid>:<region>:<resource_uid>');
    // Without a uid, the fallback identity (provider, check, account, region, resource) matches too.
    const withoutUid = (finding: any) => ({ ...finding, finding_info: { ...finding.finding_info, uid: undefined } });
    const failFallback = parseOne(prowlerSource, withoutUid(passed));
    const passFallback = parseOne(prowlerSource, withoutUid({ ...passed, status_code: 'PASS' }));
    expect(failFallback.fingerprint).toBe('prowler:aws:accessanalyzer_enabled:<account_uid>:<region>:<resource_uid>');
    expect(identity(passFallback)).toEqual(identity(failFallback));
    expect(passFallback.resolution).toBe(`Prowler status_code PASS: ${passed.status_detail}`);
  });

  it('reads a later PASS as the resolution of each FAIL of the shared GCP, Azure and Kubernetes samples', () => {
    for (const name of ['example_output_gcp.ocsf.json', 'example_output_azure.ocsf.json', 'example_output_kubernetes.ocsf.json']) {
      const report = fixture('prowler', name);
      const failed = prowlerSource.parse(report).filter((alert) => !alert.resolution);
      const nextScan = prowlerSource.parse(
        report.filter((finding: any) => finding.status_code === 'FAIL').map((finding: any) => ({ ...finding, status_code: 'PASS' })),
      );
      expect(failed.length, name).toBeGreaterThan(0);
      expect(nextScan.map(identity), name).toEqual(failed.map(identity));
      expect(nextScan.every((alert) => alert.resolution?.startsWith('Prowler status_code PASS')), name).toBe(true);
    }
  });

  it('reads a later PASS of a GCP, Azure or Kubernetes exposure check as its resolution', () => {
    for (const name of ['vigil-gcp-exposure.ocsf.json', 'vigil-azure-exposure.ocsf.json', 'vigil-kubernetes-exposure.ocsf.json']) {
      const [finding] = fixture('prowler', name);
      const fail = parseOne(prowlerSource, finding);
      const pass = parseOne(prowlerSource, { ...finding, status_code: 'PASS', status_detail: 'Fixed.' });
      expect(fail).toMatchObject({ kind: 'exposure' });
      expect(fail.resolution).toBeUndefined();
      expect(pass.resolution).toBe('Prowler status_code PASS: Fixed.');
      expect(identity(pass), name).toEqual(identity(fail));
    }
  });

  it('resolves nothing with a PASS that has the identity of a FAIL of the same report', () => {
    const [finding] = fixture('prowler', 'vigil-gcp-exposure.ocsf.json');
    const fail = parseOne(prowlerSource, finding);
    // One report cannot both fail and pass a check on one resource: the ids do not tell its
    // resources apart, and the failure goes on.
    expect(prowlerSource.parse([finding, { ...finding, status_code: 'PASS' }])).toEqual([fail]);
    expect(prowlerSource.parse([{ ...finding, status_code: 'PASS' }, finding])).toEqual([fail]);
    // A muted FAIL is no alert: the PASS beside it still resolves.
    const muted = { ...finding, status: 'Suppressed', status_id: 3 };
    expect(prowlerSource.parse([muted, { ...finding, status_code: 'PASS' }]).map((alert) => alert.resolution)).toEqual([
      expect.stringMatching(/^Prowler status_code PASS/),
    ]);
  });

  it('gives no resolution for FAILs, nothing for MANUAL, and a resolution for a muted PASS', () => {
    for (const alert of prowlerSource.parse(fixture('prowler', 'example_output_aws.ocsf.json'))) expect(alert.resolution).toBeUndefined();
    const ssh = fixture('prowler', 'vigil-exposure.ocsf.json')[0];
    expect(prowlerSource.parse({ ...ssh, status_code: 'MANUAL' })).toEqual([]);
    expect(parseOne(prowlerSource, { ...ssh, status_code: 'PASS', status: 'Suppressed', status_id: 3 }).resolution).toMatch(/^Prowler status_code PASS/);
  });

  it('turns a report of thousands of PASSes into as many lean resolutions, and nothing else', () => {
    const template = fixture('prowler', 'vigil-all-pass.ocsf.json')[0];
    const report = Array.from({ length: 2000 }, (_, n) => ({
      ...template,
      finding_info: { ...template.finding_info, uid: `${template.finding_info.uid}-${n}` },
    }));
    const alerts = prowlerSource.parse(report);
    expect(alerts).toHaveLength(2000);
    expect(new Set(alerts.map((alert) => alert.fingerprint)).size).toBe(2000);
    for (const alert of alerts) {
      expect(alert.resolution).toMatch(/^Prowler status_code PASS: /);
      // What passed, and the check: no risk, remediation or references to carry 2,000 times.
      expect(alert.description).toBe(`${template.status_detail}\n\nProwler check: ${template.metadata.event_code}`);
    }
  });
});

describe('resolution: CloudTrail Insights', () => {
  const [start, end] = fixture('cloudtrail', 'vigil-insight-start-end.json').Records;
  const [insight] = insightsRules;
  const match = (record: Record<string, unknown>) => insight!.match(record);

  it('reads the End event as the resolution of the Start, with the same fingerprint', () => {
    const started = match(start);
    const ended = match(end);
    expect(started).toBeDefined();
    expect(started!.resolution).toBeUndefined();
    expect(ended!.resolution).toBe('CloudTrail Insights state End after 10 minutes');
    expect(ended!.fingerprint).toBe(started!.fingerprint);
    expect(ended!.fingerprint).toBe(`cloudtrail:insight:${start.sharedEventID}`);
    const withoutDuration = structuredClone(end);
    delete withoutDuration.insightDetails.insightContext.statistics.insightDuration;
    expect(match(withoutDuration)!.resolution).toBe('CloudTrail Insights state End');
  });

  it('gives the End alert the identity of the Start alert', () => {
    const [started, ended] = cloudTrailSource.parse({ Records: [start, end] }) as [ParsedAlert, ParsedAlert];
    expect(identity(ended)).toEqual(identity(started));
    expect(started.resolution).toBeUndefined();
    expect(ended.resolution).toBe('CloudTrail Insights state End after 10 minutes');
  });
});

describe('resolution: GuardDuty', () => {
  it('reads an archived finding (service.archived true) as the resolution of the active one', () => {
    const active = parseOne(guardDutySource, fixture('guardduty', 'ssh-brute-force.eventbridge.json'));
    const [sdkActive] = guardDutySource.parse(fixture('guardduty', 'get-findings.sdk.json'));
    const archived = parseOne(guardDutySource, fixture('guardduty', 'get-findings.archived.sdk.json'));
    expect(archived.resolution).toBe('GuardDuty service.archived true');
    expect(identity(archived)).toEqual(identity(sdkActive!));
    expect(archived.fingerprint).toBe(active.fingerprint);
    expect(archived.kind).toBe(active.kind);

    const event = fixture('guardduty', 'ssh-brute-force.eventbridge.json');
    event.detail.service.archived = true;
    const archivedEvent = parseOne(guardDutySource, event);
    expect(archivedEvent.resolution).toBe('GuardDuty service.archived true');
    expect(identity(archivedEvent)).toEqual(identity(active));
  });

  it('gives no resolution for the active samples', () => {
    for (const name of fixtureNames('guardduty').filter((name) => !/archived/.test(name))) {
      for (const alert of guardDutySource.parse(fixture('guardduty', name))) expect(alert.resolution, name).toBeUndefined();
    }
  });
});
