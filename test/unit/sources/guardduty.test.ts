import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { guardDutySeverity, guardDutySource } from '../../../intake/sources/guardduty';
import { UnrecognizedPayloadError } from '../../../intake/sources/types';

const fixturesDir = path.join(import.meta.dirname, '../../fixtures');
const fixture = (name: string): any => JSON.parse(readFileSync(path.join(fixturesDir, 'guardduty', name), 'utf8'));
const jsonFiles = (folder: string) => readdirSync(path.join(fixturesDir, folder)).filter((name) => name.endsWith('.json'));
const securityHubFixture = (name: string): any => JSON.parse(readFileSync(path.join(fixturesDir, 'securityhub', name), 'utf8'));

const parseOne = (payload: unknown) => {
  const alerts = guardDutySource.parse(payload);
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
};

/** The SSH brute force finding's id, shared by its EventBridge event and its SDK form. */
const SSH_FINDING_ID = '62c7f3a1b0d94e5f8a2b6c1d0e9f8a7b';

describe('guardduty source: fixtures', () => {
  it.each(jsonFiles('guardduty'))('%s is detected and parses', (name) => {
    const payload = fixture(name);
    expect(guardDutySource.detect(payload)).toBe(true);
    const alerts = guardDutySource.parse(payload);
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) {
      expect(alert.fingerprint).toMatch(/^[0-9a-f]{32}$/);
      expect(alert.cloud?.provider).toBe('aws');
    }
  });

  it('normalizes an SSH brute force event: the attacker is the actor, port 22 of the public address the target', () => {
    expect(parseOne(fixture('ssh-brute-force.eventbridge.json'))).toEqual({
      kind: 'actor',
      fingerprint: SSH_FINDING_ID,
      title: '198.51.100.23 is performing SSH brute force attacks against i-0a1b2c3d4e5f60718.',
      severity: 'low',
      occurredAt: '2026-11-28T09:19:58.004Z',
      description:
        '198.51.100.23 is performing SSH brute force attacks against i-0a1b2c3d4e5f60718. Brute force attacks are used ' +
        'to gain unauthorized access to your instance by guessing the SSH password.\n\n' +
        'GuardDuty finding type: UnauthorizedAccess:EC2/SSHBruteForce\nCount: 37\nResource role: TARGET',
      cloud: { provider: 'aws', account: '111122223333', region: 'eu-west-1' },
      resources: [
        { type: 'aws:ec2:instance', id: 'i-0a1b2c3d4e5f60718', name: 'web-1' },
        { type: 'aws:ec2:security-group', id: 'sg-0123456789abcdef0', name: 'web-ssh' },
      ],
      // The private address 10.0.1.15 is left out: nothing outside the VPC reaches it.
      network: { ips: ['203.0.113.10'], cidrs: [], ports: [{ from: 22, to: 22 }], protocol: 'tcp' },
      actors: { ips: ['198.51.100.23'], domains: [], principals: [], userAgents: [] },
    });
  });

  it('turns a probe of an unprotected port into an exposure of the probed ports on the public addresses', () => {
    const alert = parseOne(fixture('port-probe.eventbridge.json'));
    expect(alert).toEqual({
      kind: 'exposure',
      fingerprint: 'a4e1b2c3d4e5f60718293a4b5c6d7e8f',
      title: 'Unprotected port on EC2 instance i-0fedcba9876543210 is being probed.',
      severity: 'low',
      occurredAt: '2026-11-28T11:04:50.377Z',
      description:
        'EC2 instance has an unprotected port which is being probed by a known malicious host.\n\n' +
        'GuardDuty finding type: Recon:EC2/PortProbeUnprotectedPort\nCount: 12\nResource role: TARGET',
      cloud: { provider: 'aws', account: '111122223333', region: 'eu-west-1' },
      resources: [
        { type: 'aws:ec2:instance', id: 'i-0fedcba9876543210', name: 'reporting-db' },
        { type: 'aws:ec2:security-group', id: 'sg-0fedcba9876543210', name: 'reporting-db' },
        { type: 'aws:ec2:security-group', id: 'sg-0aaaabbbbccccdddd', name: 'default' },
      ],
      network: { ips: ['203.0.113.20', '2001:db8:1f70::20'], cidrs: [], ports: [{ from: 3389, to: 3389 }, { from: 5432, to: 5432 }] },
      actors: { ips: ['203.0.113.77', '192.0.2.44'], domains: [], principals: [], userAgents: [] },
    });
  });

  it('names the credentials, their user and the caller of a Tor API call (bare camelCase finding)', () => {
    expect(parseOne(fixture('tor-ip-caller.finding.json'))).toMatchObject({
      kind: 'actor',
      fingerprint: 'd8c6b2a4e0f14937a5b3c1d9e7f5a3b1',
      title: 'The API ListBuckets was invoked from a Tor exit node IP address.',
      severity: 'medium',
      occurredAt: '2026-11-28T03:25:47.210Z',
      cloud: { provider: 'aws', account: '111122223333', region: 'us-east-1' },
      resources: [
        { type: 'aws:iam:access-key', id: 'AKIAIOSFODNN7EXAMPLE' },
        { type: 'aws:iam:user', id: 'deploy-bot' },
      ],
      network: { ips: [], cidrs: [], ports: [] },
      actors: {
        ips: ['192.0.2.66', '2001:db8:dead:beef::66'],
        domains: [],
        principals: ['deploy-bot', 'AIDACKCEVSQ6C2EXAMPLE'],
        // The same agent in the action and in additionalInfo is listed once.
        userAgents: [expect.stringMatching(/^aws-cli\/2\.15\.30 .* command\/s3\.ls$/)],
      },
    });
  });

  it('keeps a sample finding recognisable as one, and its queried domain as the actor', () => {
    const alert = parseOne(fixture('sample-c2-dns.eventbridge.json'));
    expect(alert).toMatchObject({
      kind: 'actor',
      fingerprint: 'f2b9a5c8d1e74a0b9c3d6e8f1a4b7c0d',
      title: '[sample] Command and Control server domain name queried by EC2 instance i-99999999.',
      severity: 'high',
      resources: [
        { type: 'aws:ec2:instance', id: 'i-99999999' },
        { type: 'aws:ec2:security-group', id: 'GeneratedFindingSecurityId', name: 'GeneratedFindingSecurityGroupName' },
      ],
      network: { ips: ['198.51.100.0'], cidrs: [], ports: [] },
      actors: { ips: [], domains: ['GeneratedFindingDomainName'], principals: [], userAgents: [] },
    });
    expect(alert.description).toContain('sample finding (CreateSampleFindings)');
    expect(alert.description).toContain('Resource role: ACTOR');
    expect(parseOne(fixture('ssh-brute-force.eventbridge.json')).description).not.toContain('sample');
    expect(parseOne(fixture('ssh-brute-force.eventbridge.json')).title).not.toMatch(/^\[sample\]/);
  });

  it('reads the PascalCase GetFindings form, one alert per finding', () => {
    const [ssh, s3] = guardDutySource.parse(fixture('get-findings.sdk.json'));
    expect(ssh).toMatchObject({ fingerprint: SSH_FINDING_ID, occurredAt: '2026-11-28T10:36:12.918Z' });
    expect(ssh!.description).toContain('Count: 52');
    expect(s3).toEqual({
      kind: 'actor',
      fingerprint: '4be1c0d9e8f7a6b5c4d3e2f1a0b9c8d7',
      title: 'S3 API GetObject was invoked from a known malicious IP address.',
      severity: 'high',
      occurredAt: '2026-11-28T06:45:01.334Z',
      description:
        'An API was used to access an S3 bucket from a known malicious IP address.\n\n' +
        'GuardDuty finding type: Discovery:S3/MaliciousIPCaller\nCount: 3\nResource role: TARGET',
      cloud: { provider: 'aws', account: '111122223333', region: 'eu-west-1' },
      resources: [
        { type: 'aws:iam:access-key', id: 'ASIAIOSFODNN7EXAMPLE' },
        { type: 'aws:iam:role', id: 'ci-deployer' },
        { type: 'aws:s3:bucket', id: 'example-build-artifacts' },
      ],
      network: { ips: [], cidrs: [], ports: [] },
      actors: {
        ips: ['2001:db8:bad:cafe::7'],
        domains: [],
        principals: ['ci-deployer', 'AROAEXAMPLEROLEID0001:ci-session'],
        userAgents: [expect.stringMatching(/^Boto3\/1\.34\.69 /)],
      },
    });
  });
});

describe('guardduty source: forms of one finding', () => {
  it('gives the same fingerprint bare, in an EventBridge event, in PascalCase and in a Findings list', () => {
    const event = fixture('ssh-brute-force.eventbridge.json');
    const sdkFinding = fixture('get-findings.sdk.json').Findings[0];
    const fingerprints = [event, event.detail, sdkFinding, { Findings: [sdkFinding] }, { findings: [event.detail] }].map(
      (payload) => parseOne(payload).fingerprint,
    );
    expect(fingerprints).toEqual(Array(5).fill(SSH_FINDING_ID));
  });

  it('extracts the same facts from the camelCase and the PascalCase spelling', () => {
    const camel = parseOne(fixture('ssh-brute-force.eventbridge.json'));
    const pascal = parseOne(fixture('get-findings.sdk.json').Findings[0]);
    for (const key of ['kind', 'title', 'severity', 'cloud', 'resources', 'network', 'actors'] as const) {
      expect(pascal[key], key).toEqual(camel[key]);
    }
  });

  it('takes account, region and time from the event when the finding lacks them', () => {
    const event = fixture('ssh-brute-force.eventbridge.json');
    for (const key of ['accountId', 'region', 'createdAt', 'updatedAt']) delete event.detail[key];
    event.account = '444455556666';
    event.region = 'ap-southeast-2';
    expect(parseOne(event)).toMatchObject({
      cloud: { provider: 'aws', account: '444455556666', region: 'ap-southeast-2' },
      occurredAt: '2026-11-28T09:20:41Z',
    });
  });
});

describe('guardduty source: severity', () => {
  it.each([
    [0, 'informational'],
    [0.9, 'informational'],
    [1, 'low'],
    [3.9, 'low'],
    [3.95, 'low'],
    [4, 'medium'],
    [6.9, 'medium'],
    [7, 'high'],
    [8.9, 'high'],
    [9, 'critical'],
    [10, 'critical'],
  ] as const)('%s is %s', (score, expected) => {
    expect(guardDutySeverity(score)).toBe(expected);
  });

  it('reads the severity of a finding, also when written as a string', () => {
    const finding = fixture('tor-ip-caller.finding.json');
    expect(parseOne({ ...finding, severity: 8.9 }).severity).toBe('high');
    expect(parseOne({ ...finding, severity: 9 }).severity).toBe('critical');
    expect(parseOne({ ...finding, severity: '3.9' }).severity).toBe('low');
  });
});

describe('guardduty source: kinds and odd values', () => {
  it('makes only unprotected-port probes exposures', () => {
    const event = fixture('port-probe.eventbridge.json');
    event.detail.type = 'Recon:EC2/PortProbeEMRUnprotectedPort';
    expect(parseOne(event).kind).toBe('exposure');

    event.detail.type = 'UnauthorizedAccess:EC2/MaliciousIPCaller.Custom';
    const probeOfProtectedThing = parseOne(event);
    expect(probeOfProtectedThing.kind).toBe('actor');
    expect(probeOfProtectedThing.network.ports).toEqual([]);
  });

  it('is a resource alert when no actor address or domain is given', () => {
    const finding = fixture('tor-ip-caller.finding.json');
    finding.type = 'Stealth:IAMUser/CloudTrailLoggingDisabled';
    delete finding.service.action.awsApiCallAction.remoteIpDetails;
    const alert = parseOne(finding);
    expect(alert.kind).toBe('resource');
    expect(alert.actors.principals).toEqual(['deploy-bot', 'AIDACKCEVSQ6C2EXAMPLE']);
  });

  it('reads Kubernetes API calls and RDS login attempts', () => {
    const base = fixture('tor-ip-caller.finding.json');
    const kubernetes = parseOne({
      ...base,
      type: 'Discovery:Kubernetes/MaliciousIPCaller',
      resource: {
        resourceType: 'EKSCluster',
        eksClusterDetails: { name: 'prod', arn: 'arn:aws:eks:us-east-1:111122223333:cluster/prod' },
        kubernetesDetails: { kubernetesUserDetails: { username: 'system:anonymous', groups: ['system:unauthenticated'] } },
      },
      service: {
        serviceName: 'guardduty',
        action: {
          actionType: 'KUBERNETES_API_CALL',
          kubernetesApiCallAction: {
            requestUri: '/api/v1/secrets',
            verb: 'list',
            sourceIps: ['203.0.113.99'],
            userAgent: 'kubectl/v1.29.0',
            remoteIpDetails: { ipAddressV4: '203.0.113.99' },
          },
        },
      },
    });
    expect(kubernetes).toMatchObject({
      kind: 'actor',
      resources: [{ type: 'aws:eks:cluster', id: 'prod' }],
      actors: { ips: ['203.0.113.99'], domains: [], principals: ['system:anonymous'], userAgents: ['kubectl/v1.29.0'] },
    });

    const rds = parseOne({
      ...base,
      type: 'CredentialAccess:RDS/MaliciousIPCaller.FailedLogin',
      resource: { resourceType: 'RDSDBInstance', rdsDbInstanceDetails: { dbInstanceIdentifier: 'orders-db', engine: 'postgres' } },
      service: {
        serviceName: 'guardduty',
        action: {
          actionType: 'RDS_LOGIN_ATTEMPT',
          rdsLoginAttemptAction: {
            remoteIpDetails: { ipAddressV4: '192.0.2.200' },
            loginAttributes: [{ user: 'postgres', application: 'psql', failedLoginAttempts: 40, successfulLoginAttempts: 0 }],
          },
        },
      },
    });
    expect(rds).toMatchObject({
      kind: 'actor',
      resources: [{ type: 'aws:rds:db-instance', id: 'orders-db' }],
      actors: { ips: ['192.0.2.200'], principals: ['postgres'] },
    });
  });

  it('survives {} for lists, missing sections and invalid or anonymised addresses', () => {
    const finding = fixture('port-probe.eventbridge.json').detail;
    finding.resource.instanceDetails.networkInterfaces = [
      { publicIp: 'GeneratedFindingPublicIp', ipv6Addresses: {}, securityGroups: {} },
      { publicIp: '203.0.113.300' },
      {},
    ];
    finding.resource.instanceDetails.tags = {};
    finding.service.action.portProbeAction.portProbeDetails = [
      { localPortDetails: { port: 'x' }, remoteIpDetails: { ipAddressV4: '999.1.2.3', ipAddressV6: '' } },
      { localPortDetails: { port: 70000 }, remoteIpDetails: {} },
      { localPortDetails: { port: 8080 }, remoteIpDetails: { ipAddressV4: '198.51.100.9' } },
      null,
    ];
    const alert = parseOne(finding);
    expect(alert.network).toEqual({ ips: [], cidrs: [], ports: [{ from: 8080, to: 8080 }] });
    expect(alert.actors.ips).toEqual(['198.51.100.9']);
    expect(alert.resources).toEqual([{ type: 'aws:ec2:instance', id: 'i-0fedcba9876543210' }]);

    const bare = parseOne({
      id: 'abc',
      type: 'Policy:IAMUser/RootCredentialUsage',
      severity: 2,
      arn: 'arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/abc',
    });
    expect(bare).toEqual({
      kind: 'resource',
      fingerprint: 'abc',
      title: 'Policy:IAMUser/RootCredentialUsage',
      severity: 'low',
      occurredAt: undefined,
      description: 'GuardDuty finding type: Policy:IAMUser/RootCredentialUsage',
      cloud: { provider: 'aws' },
      resources: [],
      network: { ips: [], cidrs: [], ports: [] },
      actors: { ips: [], domains: [], principals: [], userAgents: [] },
    });
  });
});

describe('guardduty source: detection and refusal', () => {
  it('detects its own shapes', () => {
    const event = fixture('ssh-brute-force.eventbridge.json');
    const sdk = fixture('get-findings.sdk.json');
    for (const payload of [event, event.detail, sdk, sdk.Findings[1], { findings: [event.detail] }]) {
      expect(guardDutySource.detect(payload)).toBe(true);
    }
  });

  it.each(jsonFiles('securityhub'))('does not claim the Security Hub fixture %s', (name) => {
    expect(guardDutySource.detect(securityHubFixture(name))).toBe(false);
  });

  it('does not claim a GuardDuty finding imported into Security Hub (ASFF), nor other payloads', () => {
    const asff = securityHubFixture('guardduty-ssh-brute-force.asff.json');
    const finding = fixture('tor-ip-caller.finding.json');
    const notGuardDuty = [
      asff,
      { Findings: [asff] },
      { title: 'x', severity: 'low' },
      { Findings: [] },
      { Findings: [finding, { title: 'x' }] },
      // GuardDuty's own API calls, as CloudTrail reports them, are not findings.
      { version: '0', source: 'aws.guardduty', 'detail-type': 'AWS API Call via CloudTrail', detail: { eventName: 'CreateDetector' } },
      { ...finding, arn: 'arn:aws:securityhub:us-east-1:111122223333:finding/x', service: {} },
      { ...finding, severity: 'high' },
      null,
      'GuardDuty Finding',
      [finding],
    ];
    for (const payload of notGuardDuty) expect(guardDutySource.detect(payload), JSON.stringify(payload)?.slice(0, 80)).toBe(false);
  });

  it('refuses what is not a GuardDuty finding, saying what it expected', () => {
    const expectRefusal = (payload: unknown, message: RegExp) => {
      expect(() => guardDutySource.parse(payload)).toThrow(UnrecognizedPayloadError);
      expect(() => guardDutySource.parse(payload)).toThrow(message);
    };
    expectRefusal({ title: 'x', severity: 'low' }, /not a GuardDuty finding; expected a GuardDuty finding/);
    expectRefusal(securityHubFixture('guardduty-ssh-brute-force.asff.json'), /expected .*EventBridge "GuardDuty Finding" event/);
    expectRefusal({ source: 'aws.guardduty', 'detail-type': 'GuardDuty Finding', detail: {} }, /without a usable finding in detail/);
    expectRefusal({ Findings: [fixture('tor-ip-caller.finding.json'), { Id: 'x' }] }, /Findings\[1\] is not a GuardDuty finding/);
  });

  it('parses an empty Findings list to no alerts', () => {
    expect(guardDutySource.parse({ Findings: [] })).toEqual([]);
  });
});
