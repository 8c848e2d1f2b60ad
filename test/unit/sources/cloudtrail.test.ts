import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ParsedAlert } from '../../../lib/alert';
import { cloudTrailRules, cloudTrailSource, createCloudTrailSource } from '../../../intake/sources/cloudtrail';
import { UnrecognizedPayloadError } from '../../../intake/sources/types';

const fixtureDir = path.join(import.meta.dirname, '../../fixtures/cloudtrail');
const fixture = (name: string): any => JSON.parse(readFileSync(path.join(fixtureDir, name), 'utf8'));
const parse = (payload: unknown) => cloudTrailSource.parse(payload);
const only = (payload: unknown): ParsedAlert => {
  const alerts = parse(payload);
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
};
/** The rule an alert came from, as its description names it (undefined: no rule matched). */
const ruleOf = (alert: ParsedAlert) => /^Rule: ([a-z0-9-]+) \(/m.exec(alert.description ?? '')?.[1];
const rulesOf = (alerts: ParsedAlert[]) => alerts.map(ruleOf);
const countByRule = (alerts: ParsedAlert[]) => {
  const counts: Record<string, number> = {};
  for (const rule of rulesOf(alerts)) counts[rule ?? 'none'] = (counts[rule ?? 'none'] ?? 0) + 1;
  return counts;
};
const records = (name: string): any[] => fixture(name).Records;
const byEventName = (list: any[], name: string) => list.find((record) => record.eventName === name);
const envelope = (detailType: string, detail: unknown) => ({
  version: '0',
  id: '6f1a0d39-0000-4000-8000-000000000001',
  'detail-type': detailType,
  source: 'aws.ec2',
  account: '111122223333',
  time: '2025-11-20T09:14:03Z',
  region: 'eu-west-1',
  resources: [],
  detail,
});

const stratus = {
  stop: 'aws.defense-evasion.cloudtrail-stop.json',
  sg22: 'aws.exfiltration.ec2-security-group-open-port-22-ingress.json',
  snapshot: 'aws.exfiltration.ec2-share-ebs-snapshot.json',
  login: 'aws.initial-access.console-login-without-mfa.json',
  admin: 'aws.persistence.iam-create-admin-user.json',
  trailDeleted: 'aws.defense-evasion.cloudtrail-delete.json',
  eventSelectors: 'aws.defense-evasion.cloudtrail-event-selectors.json',
  flowLogs: 'aws.defense-evasion.vpc-remove-flow-logs.json',
  lambdaBackdoor: 'aws.persistence.lambda-backdoor-function.json',
  amiShare: 'aws.exfiltration.ec2-share-ami.json',
  rdsShare: 'aws.exfiltration.rds-share-snapshot.json',
};
const invictus = ['1205Z_lKy08gyrqqRJyzsn.json', '1215Z_dTTFsx4I2m3om5Oy.json', '1230Z_ZtUNbBkwAu98FPZb.json'];

describe('cloudtrail: payload shapes', () => {
  it('detects EventBridge events, single records, log files and arrays', () => {
    const sgEvent = fixture('vigil-eventbridge-sg-ingress-nested.json');
    const insight = records('vigil-insight-start-end.json')[0];
    const positives = [
      sgEvent,
      sgEvent.detail,
      fixture('vigil-eventbridge-console-login-failure.json'),
      envelope('AWS Insight via CloudTrail', insight),
      insight,
      fixture('vigil-sg-ingress-flat.json'),
      ...Object.values(stratus).map(fixture),
      ...invictus.map(fixture),
    ];
    for (const payload of positives) expect(cloudTrailSource.detect(payload)).toBe(true);
  });

  it('does not claim GuardDuty, Security Hub, S3 notifications, generic alerts or junk', () => {
    const guardDuty = {
      version: '0',
      'detail-type': 'GuardDuty Finding',
      source: 'aws.guardduty',
      account: '111122223333',
      region: 'eu-west-1',
      time: '2025-11-20T09:14:03Z',
      detail: { id: 'abc', type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 5, updatedAt: '2025-11-20T09:14:03Z' },
    };
    const securityHub = {
      ...guardDuty,
      'detail-type': 'Security Hub Findings - Imported',
      source: 'aws.securityhub',
      detail: { findings: [{ SchemaVersion: '2018-10-08', Id: 'x' }] },
    };
    const asff = { Findings: [{ SchemaVersion: '2018-10-08', Id: 'x', ProductArn: 'arn', Title: 't' }] };
    const s3Notification = {
      Records: [
        { eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'eu-west-1', eventTime: '2025-11-20T09:14:03Z', eventName: 'ObjectCreated:Put', s3: {} },
      ],
    };
    const cloudTrailTypeWithoutRecord = envelope('AWS API Call via CloudTrail', { hello: 'world' });
    const generic = { title: 'x', severity: 'low' };
    const negatives = [guardDuty, securityHub, asff, s3Notification, cloudTrailTypeWithoutRecord, generic, { Records: 'x' }, [], [1, 2, 3], null, 'text', 42];
    for (const payload of negatives) {
      expect(cloudTrailSource.detect(payload)).toBe(false);
      expect(() => parse(payload)).toThrow(UnrecognizedPayloadError);
    }
    expect(() => parse(guardDuty)).toThrow(/GuardDuty Finding.*expected an EventBridge "AWS API Call via CloudTrail"/);
    expect(() => parse(s3Notification)).toThrow(/without CloudTrail records/);
    expect(() => parse({ title: 'x', severity: 'low' })).toThrow(/^not a CloudTrail payload: .*a log file \{"Records": \[records\]\}/);
  });

  it('reads an empty log file as no alerts, and skips what is not a record in a list', () => {
    expect(parse({ Records: [] })).toEqual([]);
    // Trails write empty log files: sent to `auto`, one is CloudTrail's (no alert), not an unparsed issue.
    expect(cloudTrailSource.detect({ Records: [] })).toBe(true);
    const sg = fixture('vigil-sg-ingress-flat.json');
    expect(rulesOf(parse([null, 'x', sg, { eventVersion: '1.08' }]))).toEqual(['security-group-open-to-internet']);
  });

  it('turns every single event into an alert, a low actor alert when no rule matches', () => {
    const readOnly = fixture(invictus[0]!).Records[0];
    const alert = only(readOnly);
    expect(alert).toMatchObject({
      kind: 'actor',
      severity: 'low',
      title: 'CloudTrail DescribeNatGateways by bert-jan',
      fingerprint: 'cloudtrail:event:faff91ce-a45b-4eb9-b235-d455c700dfc3',
      occurredAt: '2023-07-10T12:04:05Z',
      cloud: { provider: 'aws', account: '123837392027', region: 'us-east-1' },
      resources: [],
      network: { ips: [], cidrs: [], ports: [] },
      actors: { ips: ['192.168.10.20'], domains: [], principals: ['arn:aws:iam::123837392027:user/bert-jan'] },
    });
    expect(ruleOf(alert)).toBeUndefined();
    expect(alert.description).toMatch(/Rule: none matched/);
    // In a log file the same record is no alert.
    expect(parse(fixture(invictus[0]!))).toEqual([]);
  });
});

describe('cloudtrail: security groups and network ACLs', () => {
  it('reads the nested AuthorizeSecurityGroupIngress shape, keeping only internet ranges', () => {
    const alert = only(fixture('vigil-eventbridge-sg-ingress-nested.json'));
    expect(ruleOf(alert)).toBe('security-group-open-to-internet');
    expect(alert).toMatchObject({
      kind: 'exposure',
      severity: 'high',
      fingerprint: 'aws:111122223333:eu-west-1:sg-0a1b2c3d4e5f60718',
      title: 'Security group sg-0a1b2c3d4e5f60718 opened to the internet (tcp 22; tcp 8000-8100)',
      occurredAt: '2025-11-20T09:14:03Z',
      cloud: { provider: 'aws', account: '111122223333', region: 'eu-west-1' },
      resources: [{ type: 'aws:ec2:security-group', id: 'sg-0a1b2c3d4e5f60718' }],
      actors: {
        ips: ['198.51.100.23'],
        principals: ['arn:aws:sts::111122223333:assumed-role/Admin/bob'],
        userAgents: [expect.stringMatching(/^aws-cli\//)],
      },
    });
    expect(alert.network).toEqual({
      ips: [],
      cidrs: ['0.0.0.0/0', '::/0'],
      ports: [{ from: 22, to: 22 }, { from: 8000, to: 8100 }],
      protocol: 'tcp',
    });
    expect(alert.description).toContain('Event: AuthorizeSecurityGroupIngress (ec2.amazonaws.com)');
    expect(alert.description).not.toContain('443');
  });

  it('reads the older flat shape', () => {
    const alert = only(fixture('vigil-sg-ingress-flat.json'));
    expect(ruleOf(alert)).toBe('security-group-open-to-internet');
    expect(alert.network).toEqual({ ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 3389, to: 3389 }], protocol: 'tcp' });
    expect(alert.actors.ips).toEqual(['203.0.113.50']);
  });

  it('reads ::/0 for every protocol as all ports', () => {
    const alert = only(fixture('vigil-sg-ingress-ipv6-all-traffic.json'));
    expect(alert).toMatchObject({ kind: 'exposure', severity: 'high', title: expect.stringContaining('(all traffic)') });
    expect(alert.network).toEqual({ ips: [], cidrs: ['::/0'], ports: [{ from: 0, to: 65535 }], protocol: 'all' });
    expect(alert.actors.ips).toEqual(['2001:db8::23']);
  });

  it('reads the anonymised Stratus record: any /0 is the internet, odd region kept', () => {
    const alert = only(fixture(stratus.sg22));
    expect(alert).toMatchObject({
      kind: 'exposure',
      severity: 'high',
      fingerprint: 'aws:032092706103:us-northeast-1r:sg-003dc7f1f1c686164',
      cloud: { provider: 'aws', account: '032092706103', region: 'us-northeast-1r' },
      network: { cidrs: ['0.0.0.0/0'], ports: [{ from: 22, to: 22 }], protocol: 'tcp' },
    });
    expect(alert.description).toContain('Opened: tcp 22 from 208.236.235.254/0');
  });

  it('does not fire for a private range or a failed call', () => {
    const privateRange = fixture('vigil-sg-ingress-private.json');
    expect(parse([privateRange])).toEqual([]);
    const single = only(privateRange);
    expect(single).toMatchObject({ kind: 'actor', severity: 'low', network: { cidrs: [], ports: [] } });

    const denied = records('vigil-network-changes.json').find((record) => record.errorCode);
    expect(denied.requestParameters.ipPermissions.items[0].ipRanges.items[0].cidrIp).toBe('0.0.0.0/0');
    expect(parse([denied])).toEqual([]);
    expect(only(denied).description).toContain('Error: Client.UnauthorizedOperation: You are not authorized');
  });

  it('collapses repeated openings of one group into one fingerprint, by id or by name', () => {
    const flat = fixture('vigil-sg-ingress-flat.json');
    const again = structuredClone(fixture('vigil-sg-ingress-private.json'));
    again.requestParameters.ipPermissions.items[0].ipRanges.items[0].cidrIp = '0.0.0.0/0';
    expect(again.eventID).not.toBe(flat.eventID);
    expect(only(again).fingerprint).toBe(only(flat).fingerprint);

    const byName = structuredClone(flat);
    delete byName.requestParameters.groupId;
    byName.requestParameters.groupName = 'default';
    expect(only(byName)).toMatchObject({
      fingerprint: 'aws:111122223333:eu-west-1:security-group/default',
      resources: [{ type: 'aws:ec2:security-group', id: 'default', name: 'default' }],
    });
  });

  it('reads ModifySecurityGroupRules and network ACL entries', () => {
    const alerts = parse(fixture('vigil-network-changes.json'));
    expect(rulesOf(alerts)).toEqual(['security-group-rule-modified-to-internet', 'network-acl-open-to-internet', 'network-acl-open-to-internet']);
    const [modified, naclTcp, naclAll] = alerts as [ParsedAlert, ParsedAlert, ParsedAlert];
    expect(modified).toMatchObject({
      kind: 'exposure',
      severity: 'medium',
      fingerprint: 'aws:111122223333:eu-west-1:sg-0c0ffee0c0ffee000',
      network: { cidrs: ['0.0.0.0/0'], ports: [{ from: 5432, to: 5432 }], protocol: 'tcp' },
    });
    expect(naclTcp).toMatchObject({
      kind: 'exposure',
      severity: 'medium',
      fingerprint: 'aws:111122223333:eu-west-1:acl-0abc1234def567890',
      resources: [{ type: 'aws:ec2:network-acl', id: 'acl-0abc1234def567890' }],
      network: { cidrs: ['0.0.0.0/0'], ports: [{ from: 22, to: 22 }], protocol: 'tcp' },
    });
    expect(naclAll).toMatchObject({ network: { cidrs: ['::/0'], ports: [{ from: 0, to: 65535 }], protocol: 'all' } });
    // Two entries of one ACL are one issue.
    expect(naclAll.fingerprint).toBe(naclTcp.fingerprint);
  });
});

describe('cloudtrail: sign-ins and the root user', () => {
  it('reports a console sign-in without MFA at medium; with MFA at low', () => {
    const record = fixture(stratus.login)[0];
    const withoutMfa = only(record);
    expect(ruleOf(withoutMfa)).toBe('console-login-without-mfa');
    expect(withoutMfa).toMatchObject({
      kind: 'actor',
      severity: 'medium',
      fingerprint: 'cloudtrail:event:865d9377-9c6b-4fd7-8aad-725e95f6a140',
      cloud: { account: '562283505220', region: 'eu-west-2r' },
      resources: [{ type: 'aws:iam:user', name: 'stratus-red-team-nmfalu-jfzdtsvchl' }],
      // 225.01.00.16 is not an IP address (leading zeros): kept in the description only.
      actors: { ips: [], principals: ['arn:aws:iam::562283505220:user/stratus-red-team-nmfalu-jfzdtsvchl'] },
    });
    expect(withoutMfa.description).toContain('Source IP: 225.01.00.16');
    expect(withoutMfa.description).toContain('MFA used: No');

    const withMfa = structuredClone(record);
    withMfa.additionalEventData.MFAUsed = 'Yes';
    expect(only(withMfa)).toMatchObject({ kind: 'actor', severity: 'low', title: 'Console sign-in by stratus-red-team-nmfalu-jfzdtsvchl' });
    expect(ruleOf(only(withMfa))).toBe('console-login');
  });

  it('reads failures, federated sign-ins and the root user, leaving out what AWS does as root', () => {
    const alerts = parse(fixture('vigil-console-logins.json'));
    expect(rulesOf(alerts)).toEqual([
      'console-login-failed',
      'console-login',
      'console-login', // federated: MFA is the identity provider's business
      'root-account-use',
      'console-login-failed', // a wrong root password is an attempt, not use
      'root-account-use',
    ]);
    expect(alerts.map((alert) => alert.severity)).toEqual(['low', 'low', 'low', 'high', 'low', 'high']);
    expect(alerts[0]).toMatchObject({ title: 'Failed console sign-in for alice', description: expect.stringContaining('Failure: Failed authentication') });
    expect(alerts[3]).toMatchObject({
      title: 'Root user signed in to the console without MFA',
      resources: [{ type: 'aws:account', id: '111122223333' }],
      description: expect.stringContaining('Also matched: console-login-without-mfa, console-login'),
    });
    expect(alerts[5]!.title).toBe('Root user used: GetAccountSummary');

    const byAws = records('vigil-console-logins.json').filter((record) => record.userIdentity.invokedBy || record.eventType === 'AwsServiceEvent');
    expect(byAws).toHaveLength(2);
    for (const record of byAws) {
      expect(only(record)).toMatchObject({ severity: 'low', kind: 'actor' });
      expect(ruleOf(only(record))).toBeUndefined();
      // "support.amazonaws.com" and "AWS Internal" are not IP addresses.
      expect(only(record).actors.ips).toEqual([]);
    }
  });

  it('reads the EventBridge "AWS Console Sign In via CloudTrail" envelope', () => {
    const alert = only(fixture('vigil-eventbridge-console-login-failure.json'));
    expect(ruleOf(alert)).toBe('console-login-failed');
    expect(alert).toMatchObject({ severity: 'low', cloud: { account: '111122223333', region: 'us-east-1' }, actors: { ips: ['203.0.113.77'] } });
  });
});

describe('cloudtrail: logging, IAM and sharing', () => {
  it('reports the Stratus StopLogging as logging disabled', () => {
    const alert = only(fixture(stratus.stop));
    expect(ruleOf(alert)).toBe('cloudtrail-logging-stopped');
    expect(alert).toMatchObject({
      kind: 'resource',
      severity: 'high',
      title: 'CloudTrail logging stopped on trail stratus-red-team-ct-stop-trail-buykxbqejv',
      fingerprint: 'aws:143434273843:apiso-centralnorth-2r:trail/stratus-red-team-ct-stop-trail-buykxbqejv',
      resources: [{ type: 'aws:cloudtrail:trail', id: 'stratus-red-team-ct-stop-trail-buykxbqejv' }],
      actors: { ips: ['86.245.153.234'] },
    });
  });

  it('reports the Stratus admin user: policy, key and user', () => {
    const alerts = parse(fixture(stratus.admin));
    expect(rulesOf(alerts)).toEqual(['iam-admin-policy-granted', 'iam-access-key-created', 'iam-user-created']);
    expect(alerts.map((alert) => [alert.kind, alert.severity])).toEqual([['actor', 'high'], ['actor', 'medium'], ['actor', 'medium']]);
    expect(alerts[1]!.resources).toEqual([
      { type: 'aws:iam:user', id: 'malicious-iam-user', name: 'malicious-iam-user' },
      { type: 'aws:iam:access-key', id: 'AKIAXAFZN8JEPF6L682H' },
    ]);
    // 075.050.255.67 is not an IP address.
    expect(alerts[0]!.actors.ips).toEqual([]);
  });

  it('reports trails, flow logs, IAM grants and public or shared snapshots, and not their near misses', () => {
    const alerts = parse(fixture('vigil-account-changes.json'));
    expect(rulesOf(alerts)).toEqual([
      'cloudtrail-logging-stopped', // DeleteTrail
      // Changed deliberately (issue 14): the denied StopLogging was no alert; a failed attempt at
      // switching logging off is now a low alert.
      'logging-change-failed',
      'cloudtrail-trail-changed',
      'cloudtrail-trail-changed',
      'vpc-flow-logs-deleted',
      'iam-admin-policy-granted', // PutUserPolicy "*" (not the S3-only PutRolePolicy)
      'iam-admin-policy-granted', // AttachGroupPolicy AdministratorAccess (not ReadOnlyAccess)
      'iam-login-profile-changed',
      'snapshot-or-image-made-public',
      'snapshot-or-image-made-public',
      'snapshot-or-image-made-public', // RDS (not the removal, not the AMI shared with its own account)
      'snapshot-or-image-shared',
    ]);
    const [deleted, denied, updated, selectors, flowLogs, inline, group, password, snapshot, image, rds, shared] = alerts as ParsedAlert[];
    expect(deleted).toMatchObject({
      kind: 'resource',
      severity: 'high',
      title: 'CloudTrail trail org-trail deleted',
      fingerprint: 'aws:111122223333:eu-west-1:trail/org-trail',
    });
    expect(denied).toMatchObject({ kind: 'resource', severity: 'low', title: 'Failed attempt: StopLogging on CloudTrail trail org-trail (AccessDenied)' });
    expect(denied!.fingerprint).toBe(deleted!.fingerprint);
    expect(updated!.fingerprint).toBe(selectors!.fingerprint);
    expect(flowLogs).toMatchObject({ kind: 'resource', severity: 'medium', resources: [{ type: 'aws:ec2:flow-log', id: 'fl-0e17aa62a21d4bbfe' }] });
    expect(inline).toMatchObject({ kind: 'actor', severity: 'high', resources: [{ type: 'aws:iam:user', id: 'build-bot' }] });
    expect(group).toMatchObject({ title: 'Administrator access granted to IAM group ops', resources: [{ type: 'aws:iam:group', id: 'ops' }] });
    expect(password).toMatchObject({ severity: 'medium', title: 'Console password changed for IAM user alice' });
    expect(snapshot).toMatchObject({
      kind: 'exposure',
      severity: 'high',
      fingerprint: 'aws:111122223333:eu-west-1:snap-0123456789abcdef0',
      resources: [{ type: 'aws:ec2:snapshot', id: 'snap-0123456789abcdef0' }],
    });
    expect(image).toMatchObject({ title: 'AMI ami-0123456789abcdef0 made public', resources: [{ type: 'aws:ec2:image' }] });
    expect(rds).toMatchObject({ resources: [{ type: 'aws:rds:db-snapshot', id: 'orders-2025-11-22' }] });
    expect(shared).toMatchObject({
      kind: 'exposure',
      severity: 'medium',
      resources: [{ type: 'aws:rds:db-cluster-snapshot' }, { type: 'aws:account', id: '444455556666' }],
    });
  });

  it('names a trail the same by name or ARN', () => {
    const [byArn] = records('vigil-account-changes.json');
    const byName = structuredClone(byArn);
    byName.requestParameters.name = 'org-trail';
    byName.eventName = 'StopLogging';
    expect(only(byName).fingerprint).toBe(only(byArn).fingerprint);
  });

  it('reports GuardDuty and AWS Config switched off, and the failed attempts before, on the same issues', () => {
    const alerts = parse(fixture('vigil-visibility-changes.json'));
    expect(alerts.map((alert) => [ruleOf(alert), alert.kind, alert.severity])).toEqual([
      ['logging-change-failed', 'resource', 'low'], // DeleteDetector denied
      ['logging-change-failed', 'resource', 'low'], // DeleteFlowLogs denied
      ['logging-change-failed', 'resource', 'low'], // PutEventSelectors denied
      ['logging-change-failed', 'resource', 'low'], // DeleteConfigurationRecorder denied
      ['logging-change-failed', 'resource', 'low'], // DeleteTrail of a trail that is not there
      ['guardduty-detector-deleted', 'resource', 'high'],
      ['config-recorder-stopped', 'resource', 'medium'],
      ['config-recorder-stopped', 'resource', 'medium'], // (not the ListDetectors read)
    ]);
    const [detectorDenied, flowLogsDenied, selectorsDenied, recorderDenied, trailMissing, detector, stopped, deleted] = alerts as ParsedAlert[];
    expect(detectorDenied).toMatchObject({
      title: 'Failed attempt: DeleteDetector on GuardDuty detector 12abc34d567e8fa901bc2d34e56789f0 (AccessDenied)',
      resources: [{ type: 'aws:guardduty:detector', id: '12abc34d567e8fa901bc2d34e56789f0' }],
      actors: { ips: ['203.0.113.77'], principals: ['arn:aws:sts::111122223333:assumed-role/Admin/mallory'] },
    });
    // Why it failed, in AWS's words.
    expect(detectorDenied!.description).toContain('Error: AccessDenied: User: arn:aws:sts::111122223333:assumed-role/Admin/mallory is not authorized');
    expect(flowLogsDenied).toMatchObject({
      title: 'Failed attempt: DeleteFlowLogs on VPC flow logs fl-0a1b2c3d4e5f60718 (Client.UnauthorizedOperation)',
      fingerprint: 'aws:111122223333:eu-west-1:fl-0a1b2c3d4e5f60718',
    });
    expect(selectorsDenied!.fingerprint).toBe('aws:111122223333:eu-west-1:trail/org-trail');
    expect(trailMissing!.fingerprint).toBe('aws:111122223333:eu-west-1:trail/org-trail');
    expect(trailMissing!.description).toContain('Error: TrailNotFoundException: Unknown trail');
    expect(detector).toMatchObject({
      title: 'GuardDuty detector 12abc34d567e8fa901bc2d34e56789f0 deleted',
      fingerprint: 'aws:111122223333:eu-west-1:guardduty-detector/12abc34d567e8fa901bc2d34e56789f0',
    });
    expect(detectorDenied!.fingerprint).toBe(detector!.fingerprint);
    // A success is not also a failed attempt.
    expect(detector!.description).not.toContain('Also matched');
    expect(stopped).toMatchObject({
      title: 'AWS Config recorder default stopped',
      resources: [{ type: 'aws:config:configuration-recorder', id: 'default' }],
      fingerprint: 'aws:111122223333:eu-west-1:config-recorder/default',
    });
    expect(deleted!.title).toBe('AWS Config recorder default deleted');
    expect(recorderDenied!.fingerprint).toBe(deleted!.fingerprint);
  });

  it('reads a failed EC2 call (`_return: false`) as a failed attempt, and a failed call of another API as nothing', () => {
    const flowLogs = byEventName(records('vigil-account-changes.json'), 'DeleteFlowLogs');
    const refused = structuredClone(flowLogs);
    refused.responseElements._return = false;
    expect(only(refused)).toMatchObject({ severity: 'low', title: 'Failed attempt: DeleteFlowLogs on VPC flow logs fl-0e17aa62a21d4bbfe (error not recorded)' });
    const otherFailure = structuredClone(byEventName(records('vigil-account-changes.json'), 'UpdateTrail'));
    otherFailure.errorCode = 'AccessDenied';
    expect(parse([otherFailure])).toEqual([]);
  });

  it('reads inline policies however they are written', () => {
    const inline = byEventName(records('vigil-account-changes.json'), 'PutUserPolicy');
    const encoded = structuredClone(inline);
    encoded.requestParameters.policyDocument = encodeURIComponent(inline.requestParameters.policyDocument);
    expect(ruleOf(only(encoded))).toBe('iam-admin-policy-granted');
    const listed = structuredClone(inline);
    listed.requestParameters.policyDocument = JSON.stringify({ Statement: { Effect: 'Allow', Action: ['s3:GetObject', '*'], Resource: '*' } });
    expect(ruleOf(only(listed))).toBe('iam-admin-policy-granted');
    const narrow = structuredClone(inline);
    narrow.requestParameters.policyDocument = JSON.stringify({
      Statement: [
        { Effect: 'Allow', Action: 's3:*', Resource: '*' },
        { Effect: 'Deny', Action: '*', Resource: '*' },
      ],
    });
    expect(ruleOf(only(narrow))).toBeUndefined();
    const garbled = structuredClone(inline);
    garbled.requestParameters.policyDocument = '{"Statement": [';
    expect(ruleOf(only(garbled))).toBeUndefined();
  });

  it('reports the Stratus snapshot shared with another account at medium, and made public at high', () => {
    const record = fixture(stratus.snapshot)[0];
    const alert = only(record);
    expect(ruleOf(alert)).toBe('snapshot-or-image-shared');
    expect(alert).toMatchObject({
      kind: 'exposure',
      severity: 'medium',
      title: 'EBS snapshot snap-041993b54a9b3af6f shared with account 098797384747',
      fingerprint: 'aws:756680937392:me-central-3r:snap-041993b54a9b3af6f',
      resources: [{ type: 'aws:ec2:snapshot', id: 'snap-041993b54a9b3af6f' }, { type: 'aws:account', id: '098797384747' }],
    });
    const madePublic = structuredClone(record);
    madePublic.requestParameters.createVolumePermission.add.items = [{ group: 'all' }];
    expect(only(madePublic)).toMatchObject({ severity: 'high', title: 'EBS snapshot snap-041993b54a9b3af6f made public', fingerprint: alert.fingerprint });
  });
});

describe('cloudtrail: Insights', () => {
  it('collapses Start and End into one fingerprint and names the contributors', () => {
    const alerts = parse(fixture('vigil-insight-start-end.json'));
    expect(rulesOf(alerts)).toEqual(['cloudtrail-insight', 'cloudtrail-insight']);
    const [start, end] = alerts as [ParsedAlert, ParsedAlert];
    expect(start).toMatchObject({
      kind: 'actor',
      severity: 'medium',
      title: 'CloudTrail Insight started: unusual API call rate of iam:CreateAccessKey',
      fingerprint: `cloudtrail:insight:${records('vigil-insight-start-end.json')[0].sharedEventID}`,
      cloud: { provider: 'aws', account: '111122223333', region: 'eu-west-1' },
      actors: { ips: [], principals: ['arn:aws:iam::111122223333:user/ci-deployer'], userAgents: [expect.stringMatching(/^aws-cli\//)] },
    });
    expect(end.title).toBe('CloudTrail Insight ended: unusual API call rate of iam:CreateAccessKey');
    expect(end.fingerprint).toBe(start.fingerprint);
    expect(start.description).not.toMatch(/Error code: null/);
    expect(only(envelope('AWS Insight via CloudTrail', records('vigil-insight-start-end.json')[1])).fingerprint).toBe(start.fingerprint);
  });
});

describe('cloudtrail: shared samples', () => {
  it.each([
    [stratus.stop, ['cloudtrail-logging-stopped']],
    [stratus.sg22, ['security-group-open-to-internet']],
    [stratus.snapshot, ['snapshot-or-image-shared']],
    [stratus.login, ['console-login-without-mfa']],
    [stratus.admin, ['iam-admin-policy-granted', 'iam-access-key-created', 'iam-user-created']],
    [stratus.trailDeleted, ['cloudtrail-logging-stopped']],
    [stratus.eventSelectors, ['cloudtrail-trail-changed']],
    [stratus.flowLogs, ['vpc-flow-logs-deleted']],
  ])('Stratus %s gives %j', (name, expected) => {
    expect(rulesOf(parse(fixture(name)))).toEqual(expected);
  });

  it('gives the expected alerts per rule for the Invictus log files', () => {
    expect(parse(fixture(invictus[0]!))).toEqual([]);
    expect(parse(fixture(invictus[1]!))).toEqual([]);
    const alerts = parse(fixture(invictus[2]!));
    expect(fixture(invictus[2]!).Records).toHaveLength(68);
    expect(countByRule(alerts)).toEqual({
      'iam-user-created': 4,
      'iam-login-profile-changed': 1,
      'iam-access-key-created': 2,
      'iam-admin-policy-granted': 2, // AttachUserPolicy and AttachRolePolicy with AdministratorAccess
    });
    // AssumeRole by AWS services, reads and S3 changes are not alerts; every alert is one event.
    expect(new Set(alerts.map((alert) => alert.fingerprint)).size).toBe(9);
  });
});

describe('cloudtrail: identity', () => {
  it('gives a record the same fingerprint bare, enveloped, in a log file and in an array', () => {
    const exposure = fixture('vigil-eventbridge-sg-ingress-nested.json');
    const actor = fixture(stratus.login)[0];
    const noise = fixture(invictus[0]!).Records[0];
    for (const [record, enveloped] of [
      [exposure.detail, exposure],
      [actor, envelope('AWS Console Sign In via CloudTrail', actor)],
    ] as const) {
      const fingerprint = only(record).fingerprint;
      expect(only(enveloped).fingerprint).toBe(fingerprint);
      expect(only({ Records: [noise, record] }).fingerprint).toBe(fingerprint);
      expect(only([record, noise]).fingerprint).toBe(fingerprint);
    }
    const loginFailure = fixture('vigil-eventbridge-console-login-failure.json');
    expect(parse(fixture('vigil-console-logins.json'))[0]!.fingerprint).toBe(only(loginFailure).fingerprint);
  });

  it('hashes a record without an eventID, independent of key order', () => {
    const record = fixture('vigil-sg-ingress-private.json');
    delete record.eventID;
    const reordered = Object.fromEntries(Object.entries(record).reverse());
    expect(only(record).fingerprint).toMatch(/^cloudtrail:record:sha256:[0-9a-f]{64}$/);
    expect(only(reordered).fingerprint).toBe(only(record).fingerprint);
  });

  it('uses the envelope account and region only when the record has none', () => {
    const record = structuredClone(fixture('vigil-sg-ingress-private.json'));
    delete record.recipientAccountId;
    delete record.userIdentity.accountId;
    delete record.awsRegion;
    expect(only(envelope('AWS API Call via CloudTrail', record)).cloud).toEqual({ provider: 'aws', account: '111122223333', region: 'eu-west-1' });
    expect(only(record).cloud).toEqual({ provider: 'aws' });
  });
});

describe('cloudtrail: configuration', () => {
  it('lists every built-in rule with a stable id, a description, a kind and a severity', () => {
    const ids = cloudTrailRules.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of cloudTrailRules) {
      expect(rule.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(rule.description.length).toBeGreaterThan(10);
      expect(['exposure', 'actor', 'resource']).toContain(rule.kind);
      expect(['informational', 'low', 'medium', 'high', 'critical']).toContain(rule.severity);
    }
    expect(cloudTrailSource.name).toBe('cloudtrail');
  });

  it('drops the alerts of a disabled rule', () => {
    const withoutUsers = createCloudTrailSource({ disabledRules: ['iam-user-created'] });
    const alerts = withoutUsers.parse(fixture(invictus[2]!));
    expect(alerts).toHaveLength(5);
    expect(rulesOf(alerts)).not.toContain('iam-user-created');
    expect(withoutUsers.name).toBe('cloudtrail');
  });

  it('still reports a single event of a disabled rule, at low severity', () => {
    const quiet = createCloudTrailSource({ disabledRules: ['security-group-open-to-internet'] });
    const flat = fixture('vigil-sg-ingress-flat.json');
    expect(quiet.parse([flat])).toEqual([]);
    expect(quiet.parse(flat)).toEqual([expect.objectContaining({ kind: 'actor', severity: 'low', network: { ips: [], cidrs: [], ports: [] } })]);
  });

  it('falls back to the next rule that matches', () => {
    const rootLogin = records('vigil-console-logins.json')[3];
    const alert = createCloudTrailSource({ disabledRules: ['root-account-use'] }).parse(rootLogin)[0]!;
    expect(ruleOf(alert)).toBe('console-login-without-mfa');
    expect(alert.severity).toBe('medium');
  });

  it('drops failed attempts from log files when their rule is off', () => {
    const quiet = createCloudTrailSource({ disabledRules: ['logging-change-failed'] });
    expect(rulesOf(quiet.parse(fixture('vigil-visibility-changes.json')))).toEqual([
      'guardduty-detector-deleted',
      'config-recorder-stopped',
      'config-recorder-stopped',
    ]);
  });

  it('refuses an unknown rule id, naming the known ones', () => {
    expect(() => createCloudTrailSource({ disabledRules: ['root-acount-use'] })).toThrow(
      /unknown CloudTrail rule id\(s\): root-acount-use \(known: .*root-account-use/,
    );
  });
});

describe('cloudtrail: odd values', () => {
  const oddValues: unknown[] = [
    ...[null, true, 0, -1, Number.NaN, Number.POSITIVE_INFINITY],
    ...['', ' ', 'x', '-1', '0.0.0.0/0'],
    ...[{}, [], [null], { items: 'x' }, { items: [null, 1] }, { content: {} }],
  ];
  const allRecords = [
    ...Object.values(stratus).flatMap((name) => fixture(name)),
    // One Invictus record per event name: the rest repeat the same shapes.
    ...new Map(invictus.flatMap((name) => fixture(name).Records).map((record: any) => [record.eventName, record])).values(),
    ...['vigil-network-changes.json', 'vigil-console-logins.json', 'vigil-insight-start-end.json', 'vigil-account-changes.json', 'vigil-visibility-changes.json'].flatMap(records),
    fixture('vigil-sg-ingress-flat.json'),
    fixture('vigil-sg-ingress-ipv6-all-traffic.json'),
    fixture('vigil-eventbridge-sg-ingress-nested.json').detail,
  ];

  /** Every object path of a record down to `depth`, so each field can be replaced in turn. */
  const paths = (value: unknown, depth: number, prefix: string[] = []): string[][] =>
    typeof value !== 'object' || value === null || depth === 0
      ? []
      : Object.entries(value).flatMap(([key, child]) => [[...prefix, key], ...paths(child, depth - 1, [...prefix, key])]);

  const replaced = (record: any, fieldPath: string[], value: unknown) => {
    const copy = structuredClone(record);
    let target = copy;
    for (const key of fieldPath.slice(0, -1)) target = target[key];
    target[fieldPath.at(-1)!] = value;
    return copy;
  };

  it('never throws on a record whose fields are replaced by odd values', () => {
    let parsed = 0;
    const malformed: string[] = [];
    for (const record of allRecords) {
      for (const fieldPath of paths(record, 4)) {
        for (const value of oddValues) {
          const odd = replaced(record, fieldPath, value);
          for (const payload of [odd, { Records: [odd] }]) {
            // A record made unrecognisable must be refused as such, never crash.
            if (!cloudTrailSource.detect(payload)) {
              expect(() => parse(payload)).toThrow(UnrecognizedPayloadError);
              continue;
            }
            for (const alert of parse(payload)) {
              parsed += 1;
              if (!alert.title || !alert.fingerprint || !alert.description) malformed.push(`${fieldPath.join('.')}=${JSON.stringify(value)}`);
            }
          }
        }
      }
    }
    expect(malformed).toEqual([]);
    expect(parsed).toBeGreaterThan(10_000);
  });
});

describe('cloudtrail: public access', () => {
  const changes = () => records('vigil-public-access-changes.json');

  it('makes a bucket, database or function public only when the request does, one issue per resource', () => {
    const alerts = parse(fixture('vigil-public-access-changes.json'));
    expect(alerts.map((alert) => [ruleOf(alert), alert.kind, alert.severity, alert.resources])).toEqual([
      ['s3-bucket-policy-public', 'exposure', 'high', [{ type: 'aws:s3:bucket', id: 'vigil-demo-public-assets' }]],
      ['s3-bucket-acl-public', 'exposure', 'high', [{ type: 'aws:s3:bucket', id: 'vigil-demo-public-assets' }]],
      ['s3-block-public-access-disabled', 'exposure', 'medium', [{ type: 'aws:s3:bucket', id: 'vigil-demo-uploads' }]],
      ['s3-block-public-access-disabled', 'exposure', 'medium', [{ type: 'aws:s3:bucket', id: 'vigil-demo-public-assets' }]],
      ['rds-instance-made-public', 'exposure', 'high', [{ type: 'aws:rds:db-instance', id: 'orders-db' }]],
      ['lambda-function-url-public', 'exposure', 'high', [{ type: 'aws:lambda:function', id: 'webhook-receiver' }]],
    ]);
    // Policy, ACL and Block Public Access of one bucket are one exposure of the bucket.
    const bucket = alerts.filter((alert) => alert.resources[0]!.id === 'vigil-demo-public-assets').map((alert) => alert.fingerprint);
    expect(new Set(bucket)).toEqual(new Set(['aws:111122223333:eu-west-1:aws:s3:bucket/vigil-demo-public-assets']));
    expect(alerts[0]!.description).toContain('Allowed to anyone: s3:GetObject');
    expect(alerts[1]!.description).toContain('Granted: READ to AllUsers (anyone)');
    expect(alerts[2]!.description).toContain('Settings off: BlockPublicPolicy, RestrictPublicBuckets');
    expect(alerts[5]!.description).toContain('authType NONE, URL https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/');
  });

  it('leaves what makes nothing public as it was: a policy limited to a VPC endpoint, a private ACL, BPA on, a denied call, a private DB, an IAM URL, a permission for one source', () => {
    const tally = { unmatched: 0 };
    cloudTrailSource.parse(fixture('vigil-public-access-changes.json'), tally);
    expect(tally.unmatched).toBe(7);
    const [, vpce, , privateAcl, , allOn, , denied, , privateDb, , iamUrl, scoped] = changes();
    for (const record of [vpce, privateAcl, allOn, denied, privateDb, iamUrl, scoped]) {
      // Sent on its own it is still an alert, but no rule's: an event about its caller, as before.
      const alert = only(record);
      expect(ruleOf(alert), record.eventName).toBeUndefined();
      expect(alert.kind, record.eventName).toBe('actor');
    }
  });

  it('leaves the real PutBucketPolicy granting one account (Invictus sample) unmatched', () => {
    const record = records('1230Z_ZtUNbBkwAu98FPZb.json').find((entry) => entry.eventName === 'PutBucketPolicy');
    expect(record.requestParameters.bucketPolicy.Statement[0].Principal).toEqual({ AWS: 'arn:aws:iam::193672423079:root' });
    expect(ruleOf(only(record))).toBeUndefined();
    const opened = structuredClone(record);
    opened.requestParameters.bucketPolicy.Statement[0].Principal = { AWS: ['*'] };
    expect(only(opened)).toMatchObject({ kind: 'exposure', resources: [{ type: 'aws:s3:bucket', id: 'stratus-red-team-bdbp-lhfzvgcamn' }] });
  });

  it('reads a policy sent as text, the canned public ACLs and account-level Block Public Access', () => {
    const [policy, , acl, , bpa] = changes();
    const text = structuredClone(policy);
    text.requestParameters.bucketPolicy = JSON.stringify(text.requestParameters.bucketPolicy);
    expect(ruleOf(only(text))).toBe('s3-bucket-policy-public');
    const garbled = structuredClone(policy);
    garbled.requestParameters.bucketPolicy = '{"Statement": [';
    expect(ruleOf(only(garbled))).toBeUndefined();
    const canned = structuredClone(acl);
    delete canned.requestParameters.AccessControlPolicy;
    canned.requestParameters['x-amz-acl'] = ['public-read-write'];
    expect(only(canned).description).toContain('Granted: canned ACL public-read-write');
    const account = structuredClone(bpa);
    account.eventName = 'PutAccountPublicAccessBlock';
    delete account.requestParameters.bucketName;
    account.requestParameters.accountId = '111122223333';
    expect(only(account)).toMatchObject({ kind: 'exposure', title: 'S3 Block Public Access turned off for account 111122223333', resources: [{ type: 'aws:account', id: '111122223333' }] });
  });

  it('makes the Stratus backdoor permission (principal *) an exposure of the function', () => {
    const alert = only(fixture(stratus.lambdaBackdoor)[0]);
    expect(alert).toMatchObject({
      kind: 'exposure',
      severity: 'high',
      title: 'Lambda function stratus-red-team-backdoor-f-func made invocable by anyone',
      resources: [{ type: 'aws:lambda:function', id: 'stratus-red-team-backdoor-f-func' }],
    });
    expect(ruleOf(alert)).toBe('lambda-permission-public');
  });

  it('names a function given by ARN, partial ARN or qualified name by its name', () => {
    const [, , , , , , , , , , url] = changes();
    for (const functionName of ['arn:aws:lambda:eu-west-1:111122223333:function:webhook-receiver:live', '111122223333:function:webhook-receiver', 'webhook-receiver:live']) {
      const record = structuredClone(url);
      record.requestParameters.functionName = functionName;
      expect(only(record).resources, functionName).toEqual([{ type: 'aws:lambda:function', id: 'webhook-receiver' }]);
    }
  });

  it('makes the Stratus AMI and RDS snapshot shared with another account exposures of the image and snapshot', () => {
    expect(only(fixture(stratus.amiShare)[0])).toMatchObject({
      kind: 'exposure',
      resources: [{ type: 'aws:ec2:image', id: 'ami-de1fbCab6ccB03e6D' }, { type: 'aws:account', id: '846424999548' }],
    });
    expect(only(fixture(stratus.rdsShare)[0])).toMatchObject({
      kind: 'exposure',
      resources: [{ type: 'aws:rds:db-snapshot', id: 'exfiltration' }, { type: 'aws:account', id: '503161813013' }],
    });
  });
});
