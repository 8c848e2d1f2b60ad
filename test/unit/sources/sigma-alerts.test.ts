// Sigma rules in the CloudTrail and GCP audit sources: a match is an alert that carries the rule
// (title, level, ATT&CK tags, false positives, references, id), a built-in rule and Sigma rules that
// match one event make one alert with every reason, and what no rule matches is counted, not alerted.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSigmaRules, loadSigmaRules, type SigmaRule } from '../../../intake/sigma';
import { createCloudTrailSource } from '../../../intake/sources/cloudtrail';
import { createGcpAuditSource } from '../../../intake/sources/gcp-audit';
import { createSourceAdapters } from '../../../intake/sources';

const fixtures = path.join(import.meta.dirname, '../../fixtures');
const json = (...parts: string[]): any => JSON.parse(readFileSync(path.join(fixtures, ...parts), 'utf8'));
const sigmahq = loadSigmaRules([path.join(fixtures, 'sigma', 'sigmahq-cloud')]).rules;
const sigmaRule = (file: string): SigmaRule => {
  const [rule] = loadSigmaRules([path.join(fixtures, 'sigma', file)]).rules;
  return rule!;
};

/** A rule of our own, for shapes SigmaHQ's rules do not have. */
function rule(yaml: string): SigmaRule {
  const { rules, skipped } = compileSigmaRules(yaml, 'test.yml');
  expect(skipped).toEqual([]);
  return rules[0]!;
}

const stratus = (name: string) => json('cloudtrail', name)[0];
const logFile = (...records: unknown[]) => ({ Records: records });

describe('Sigma rules in the CloudTrail source', () => {
  it('makes one alert of a record a built-in rule and Sigma rules match, with every reason and the worst severity', () => {
    const sigma = [sigmaRule('aws_cloudtrail_security_group_change_ingress_egress.yml'), rule(`
title: Port 22 opened
id: test-ssh-opened
level: critical
tags: [attack.initial-access, attack.t1190]
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventName: AuthorizeSecurityGroupIngress
    requestParameters.fromPort: 22
  condition: selection
`)];
    const source = createCloudTrailSource({ sigma });
    const [alert, ...others] = source.parse(logFile(stratus('aws.exfiltration.ec2-security-group-open-port-22-ingress.json')));
    expect(others).toEqual([]);
    // The built-in rule knows the group and the port: its identity and facts stay.
    expect(alert).toMatchObject({ kind: 'exposure', fingerprint: 'aws:032092706103:us-northeast-1r:sg-003dc7f1f1c686164', severity: 'critical', network: { ports: [{ from: 22, to: 22 }] } });
    expect(alert!.detections!.map(({ engine, id, level }) => ({ engine, id, level }))).toEqual([
      { engine: 'built-in', id: expect.stringMatching(/security-group/), level: 'high' },
      { engine: 'sigma', id: 'test-ssh-opened', level: 'critical' },
      { engine: 'sigma', id: '6fb77778-040f-4015-9440-572aa9b6b580', level: 'medium' },
    ]);
    const sigmahqDetection = alert!.detections![2]!;
    expect(sigmahqDetection.tags).toEqual(['attack.initial-access', 'attack.t1190']);
    expect(sigmahqDetection.falsepositives).toContain('Administrators closing unused ports to reduce the attack surface');
    expect(sigmahqDetection.references).toEqual(['https://www.gorillastack.com/blog/real-time-events/important-aws-cloudtrail-security-events-tracking/']);
    expect(alert!.description).toContain('Sigma rule: Port 22 opened (test-ssh-opened, level critical)');
    expect(alert!.description).toContain('Sigma rule: Ingress/Egress Security Group Modification (6fb77778-040f-4015-9440-572aa9b6b580, level medium): Detects when an account');
  });

  it('makes an alert of a log-file record only a Sigma rule matches: per rule and per thing, so repeats merge', () => {
    const bucketReads = rule(`
title: S3 bucket settings read
id: test-bucket-settings-read
level: low
tags: [attack.discovery, attack.t1619]
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventSource: s3.amazonaws.com
    eventName|startswith: GetBucket
  condition: selection
`);
    const file = json('cloudtrail', '1230Z_ZtUNbBkwAu98FPZb.json');
    const reads = file.Records.filter((record: any) => record.eventName.startsWith('GetBucket'));
    expect(reads.length).toBeGreaterThan(5);
    const tally = { unmatched: 0 };
    const alerts = createCloudTrailSource({ sigma: [bucketReads] }).parse(file, tally);
    const bySigma = alerts.filter((alert) => alert.detections?.[0]?.id === 'test-bucket-settings-read');
    expect(bySigma).toHaveLength(reads.length);
    // Every read of one bucket, whichever API and event: one identity, so one issue per bucket.
    const buckets = new Set(reads.map((record: any) => record.resources[0].ARN));
    expect(buckets.size).toBe(3);
    expect(new Set(bySigma.map((alert) => alert.fingerprint))).toEqual(new Set([...buckets].map((arn) => `sigma:test-bucket-settings-read:aws:123837392027:us-east-1:${arn}`)));
    const [first] = bySigma;
    expect(first).toMatchObject({
      kind: 'actor',
      severity: 'low',
      title: expect.stringMatching(/^S3 bucket settings read: GetBucket\w+ on stratus-red-team-[a-z-]+ by bert-jan$/),
      resources: [{ type: 'aws:s3:bucket', id: 'arn:aws:s3:::stratus-red-team-bdbp-lhfzvgcamn' }],
      actors: { principals: ['arn:aws:iam::123837392027:user/bert-jan'] },
      detections: [{ engine: 'sigma', id: 'test-bucket-settings-read', title: 'S3 bucket settings read', level: 'low', tags: ['attack.discovery', 'attack.t1619'], file: 'test.yml' }],
    });
    expect(first!.description).toContain('Rule: no built-in rule matched');
    // Every other record is either a built-in rule's alert or counted.
    expect(tally.unmatched).toBe(file.Records.length - alerts.length);
    expect(tally.unmatched).toBeGreaterThan(0);
  });

  it('counts the records of a log file no rule matches, and leaves rules of other log sources alone', () => {
    const gcpRule = sigmaRule('gcp_compute_firewall_ingress_allow_all_ssh.yml');
    const source = createCloudTrailSource({ sigma: [gcpRule] });
    const tally = { unmatched: 0 };
    const file = json('cloudtrail', '1205Z_lKy08gyrqqRJyzsn.json');
    expect(source.parse(file, tally)).toEqual([]);
    expect(tally.unmatched).toBe(file.Records.length);
  });

  it('keeps reporting a single event no rule matches, as before, without Sigma details', () => {
    const [alert] = createCloudTrailSource({ sigma: sigmahq }).parse(json('cloudtrail', '1205Z_lKy08gyrqqRJyzsn.json').Records[0]);
    expect(alert).toMatchObject({ kind: 'actor', severity: 'low' });
    expect(alert).not.toHaveProperty('detections');
  });

  it("finds with SigmaHQ's own rules what they are written for, in real records", () => {
    const [stopped] = createCloudTrailSource({ sigma: sigmahq }).parse(logFile(stratus('aws.defense-evasion.cloudtrail-stop.json')));
    expect(stopped!.detections!.map(({ id }) => id)).toEqual(['cloudtrail-logging-stopped', '4db60cc0-36fb-42b7-9b58-a5b53019fb74']);
  });
});

describe('Sigma rules in the GCP audit source', () => {
  /** The fixture, as another entry of the same log. */
  const bucketList = (insertId: string) => ({ ...json('gcp-audit', 'vigil-storage-buckets-list.json'), insertId });

  it("makes an alert of an entry only a SigmaHQ rule matches, and counts the one no rule matches", () => {
    const source = createGcpAuditSource({ sigma: sigmahq });
    const tally = { unmatched: 0 };
    const other = { ...bucketList('b'), protoPayload: { ...bucketList('b').protoPayload, methodName: 'storage.objects.get' } };
    const alerts = source.parse([bucketList('a'), bucketList('c'), other], tally);
    expect(tally.unmatched).toBe(1);
    expect(alerts).toHaveLength(2);
    const [alert] = alerts;
    expect(alert).toMatchObject({
      kind: 'actor',
      severity: 'low',
      title: 'Google Cloud Storage Buckets Enumeration: storage.buckets.list on acme-logs by mallory@example.com',
      cloud: { provider: 'gcp', account: 'acme-prod' },
      actors: { ips: ['203.0.113.9'], principals: ['mallory@example.com'] },
    });
    expect(alert!.detections).toMatchObject([{ engine: 'sigma', id: 'e2feb918-4e77-4608-9697-990a1aaf74c3', level: 'low' }]);
    expect(alert!.fingerprint).toBe('sigma:e2feb918-4e77-4608-9697-990a1aaf74c3:gcp:acme-prod:projects/_/buckets/acme-logs');
    expect(alerts[1]!.fingerprint).toBe(alert!.fingerprint);
  });

  it('takes the project from the log name when neither the resource labels nor the resource name give it', () => {
    const entry = bucketList('d');
    delete entry.resource.labels;
    entry.protoPayload.resourceName = 'organizations/123/buckets/acme-logs';
    const [alert] = createGcpAuditSource({ sigma: sigmahq }).parse(entry);
    expect(alert!.cloud).toEqual({ provider: 'gcp', account: 'acme-prod' });
    expect(alert!.fingerprint).toBe('sigma:e2feb918-4e77-4608-9697-990a1aaf74c3:gcp:acme-prod:organizations/123/buckets/acme-logs');
  });

  it('makes one alert of an entry the built-in firewall rule and Sigma rules match', () => {
    const source = createGcpAuditSource({ sigma: [...sigmahq, sigmaRule('gcp_compute_firewall_ingress_allow_all_ssh.yml')] });
    const [alert, ...others] = source.parse(json('gcp-audit', 'vigil-insert-ssh.json'));
    expect(others).toEqual([]);
    expect(alert).toMatchObject({ kind: 'exposure', severity: 'critical' });
    expect(alert!.detections!.map(({ engine, id }) => `${engine} ${id}`)).toEqual([
      'built-in firewall-admin-open-to-internet',
      // Both medium: by id.
      'sigma d45e2231-1e8c-4fcc-8b2c-6ab7870a4445',
      'sigma fe513c69-734c-4d4a-8548-ac5f609be82b',
    ]);
  });
});

describe('the configured adapters', () => {
  it('hand the Sigma rules to both rule-judging sources', () => {
    const adapters = createSourceAdapters({}, sigmahq);
    const gcp = adapters.find((adapter) => adapter.name === 'gcp-audit')!;
    const cloudtrail = adapters.find((adapter) => adapter.name === 'cloudtrail')!;
    expect(gcp.parse(json('gcp-audit', 'vigil-insert-ssh.json'))[0]!.detections!.some(({ engine }) => engine === 'sigma')).toBe(true);
    expect(cloudtrail.parse(logFile(stratus('aws.defense-evasion.cloudtrail-stop.json')))[0]!.detections!.some(({ engine }) => engine === 'sigma')).toBe(true);
  });
});
