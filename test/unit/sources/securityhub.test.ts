import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizedSeverity, portsInText, securityHubSource } from '../../../intake/sources/securityhub';
import { UnrecognizedPayloadError } from '../../../intake/sources/types';

const fixturesDir = path.join(import.meta.dirname, '../../fixtures');
const fixture = (name: string): any => JSON.parse(readFileSync(path.join(fixturesDir, 'securityhub', name), 'utf8'));
const jsonFiles = (folder: string) => readdirSync(path.join(fixturesDir, folder)).filter((name) => name.endsWith('.json'));
const guardDutyFixture = (name: string): any => JSON.parse(readFileSync(path.join(fixturesDir, 'guardduty', name), 'utf8'));

const parseOne = (payload: unknown) => {
  const alerts = securityHubSource.parse(payload);
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
};

/** A minimal ASFF finding; tests add what they are about. */
const asff = (extra: object = {}) => ({
  SchemaVersion: '2018-10-08',
  Id: 'arn:aws:securityhub:eu-west-1:111122223333:finding/test',
  ProductArn: 'arn:aws:securityhub:eu-west-1::product/aws/securityhub',
  AwsAccountId: '111122223333',
  Title: 'A finding',
  Severity: { Label: 'MEDIUM' },
  Resources: [],
  ...extra,
});

const emptyActors = { ips: [], domains: [], principals: [], userAgents: [] };

describe('securityhub source: fixtures', () => {
  it.each(jsonFiles('securityhub'))('%s is detected and parses', (name) => {
    const payload = fixture(name);
    expect(securityHubSource.detect(payload)).toBe(true);
    const alerts = securityHubSource.parse(payload);
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) expect(alert.fingerprint).toMatch(/^arn:aws:(securityhub|guardduty):|^prowler-/);
  });

  it('makes the default security group control (EC2.2) an exposure of the group', () => {
    expect(parseOne(fixture('afsbp-ec2.2.json'))).toEqual({
      kind: 'exposure',
      fingerprint:
        'arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/EC2.2/finding/835974e0-d335-49a1-af89-e47a5954d46b',
      title: 'EC2.2 The VPC default security group should not allow inbound and outbound traffic',
      severity: 'informational',
      occurredAt: '2021-02-17T08:56:24.497Z',
      description:
        'This AWS control checks that the default security group of a VPC does not allow inbound or outbound traffic.\n\n' +
        'Control: EC2.2\nProduct: Security Hub (AWS)\n' +
        'Types: Software and Configuration Checks/Industry and Regulatory Standards/AWS-Foundational-Security-Best-Practices\n' +
        'Compliance: FAILED\n' +
        'Remediation: For directions on how to fix this issue, please consult the AWS Security Hub Foundational Security Best Practices documentation.\n' +
        'Remediation URL: https://docs.aws.amazon.com/console/securityhub/EC2.2/remediation',
      // No Region on the finding itself: the resource's.
      cloud: { provider: 'aws', account: '111111111111', region: 'us-east-1' },
      resources: [{ type: 'aws:ec2:security-group', id: 'sg-1234123f', name: 'default' }],
      // The default group's rules are not in the finding, and the control names no port.
      network: { ips: [], cidrs: [], ports: [] },
      actors: emptyActors,
    });
  });

  it('reads an EventBridge "Findings - Imported" event (EC2.7 on the account)', () => {
    expect(parseOne(fixture('afsbp-ec2.7.json'))).toMatchObject({
      kind: 'resource',
      fingerprint:
        'arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/EC2.7/finding/0003b335-cf3f-4f93-a025-6b1a7baced06',
      title: 'EC2.7 EBS default encryption should be enabled',
      severity: 'informational',
      occurredAt: '2021-02-17T14:56:11.440Z',
      cloud: { provider: 'aws', account: '111111111111', region: 'us-east-1' },
      resources: [{ type: 'aws:account', id: '111111111111' }],
      network: { ips: [], cidrs: [], ports: [] },
      actors: emptyActors,
    });
  });

  it('makes CIS 1.2 rule 4.2 an exposure of 3389 from 0.0.0.0/0 on the group', () => {
    const alert = parseOne(fixture('cis-42.json'));
    expect(alert).toMatchObject({
      kind: 'exposure',
      fingerprint:
        'arn:aws:securityhub:us-east-1:111111111111:subscription/cis-aws-foundations-benchmark/v/1.2.0/4.2/finding/89b052cd-dd2d-4319-9cee-7a73f5f55ba8',
      title: '4.2 Ensure no security groups allow ingress from 0.0.0.0/0 to port 3389',
      severity: 'high',
      occurredAt: '2022-04-19T15:22:22.014Z',
      cloud: { provider: 'aws', account: '111111111111', region: 'us-east-1' },
      resources: [{ type: 'aws:ec2:security-group', id: 'sg-3d10bb58e8b1355ed', name: 'my-insecure-group' }],
      // The egress rule to 0.0.0.0/0 is not an exposure.
      network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 3389, to: 3389 }], protocol: 'tcp' },
      actors: emptyActors,
    });
    expect(alert.description).toContain('Control: 4.2');
  });

  it('says why a CIS control failed (shared sample: Compliance.StatusReasons) and how to fix it', () => {
    const alert = parseOne(fixture('cis-31.json'));
    expect(alert).toMatchObject({
      kind: 'resource',
      title: '3.1 Ensure a log metric filter and alarm exist for unauthorized API calls',
      severity: 'low',
      resources: [{ type: 'aws:account', id: '111111111111' }],
    });
    expect(alert.description).toBe(
      [
        'Real-time monitoring of API calls can be achieved by directing CloudTrail Logs to CloudWatch Logs and establishing ' +
          'corresponding metric filters and alarms. It is recommended that a metric filter and alarm be established for unauthorized API calls.',
        '',
        'Control: 3.1',
        'Product: Security Hub (AWS)',
        'Types: Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark',
        'Compliance: FAILED',
        'Reason: CLOUDTRAIL_MULTI_REGION_NOT_PRESENT: Multi region CloudTrail with the required configuration does not exist in the account',
        'Remediation: For directions on how to fix this issue, consult the AWS Security Hub CIS documentation.',
        'Remediation URL: https://docs.aws.amazon.com/console/securityhub/standards-cis-3.1/remediation',
      ].join('\n'),
    );
  });

  it('says why a control could not be checked (shared sample: WARNING, CONFIG_ACCESS_DENIED, in an event)', () => {
    const alert = parseOne(fixture('CIS-1.3.json'));
    expect(alert.resolution).toBeUndefined();
    expect(alert.description).toContain(
      'Compliance: WARNING\nReason: CONFIG_ACCESS_DENIED: Unable to describe the supporting AWS Config Rule, Please verify that you have enabled AWS Config.\n',
    );
  });

  it('gives one line per reason, and the ProductFields address when Remediation has none', () => {
    const finding = fixture('cis-31.json');
    finding.Compliance.StatusReasons = [
      { ReasonCode: 'FIRST_REASON' },
      { Description: 'A reason without a code' },
      {},
      'not a reason',
      { ReasonCode: { nested: 1 }, Description: 'Only the description is text' },
    ];
    delete finding.Remediation;
    const lines = parseOne(finding).description!.split('\n');
    expect(lines.slice(lines.indexOf('Compliance: FAILED'))).toEqual([
      'Compliance: FAILED',
      'Reason: FIRST_REASON',
      'Reason: A reason without a code',
      'Reason: Only the description is text',
      'Remediation URL: https://docs.aws.amazon.com/console/securityhub/standards-cis-3.1/remediation',
    ]);
    finding.Compliance.StatusReasons = {};
    delete finding.ProductFields.RecommendationUrl;
    expect(parseOne(finding).description).not.toMatch(/Reason:|Remediation/);
  });

  it('reads consolidated control findings from GetFindings, skipping the suppressed', () => {
    // The passed EC2.13 is a resolution (see resolutions.test.ts).
    const alerts = securityHubSource.parse(fixture('get-findings.ec2-controls.json')).filter((alert) => !alert.resolution);
    expect(alerts.map((alert) => alert.fingerprint.split('/')[1])).toEqual(['EC2.19', 'EC2.21']);
    const [highRisk, networkAcl] = alerts;
    expect(highRisk).toMatchObject({
      kind: 'exposure',
      severity: 'critical',
      title: 'Security groups should not allow unrestricted access to ports with high risk',
      cloud: { provider: 'aws', account: '111122223333', region: 'eu-west-1' },
      resources: [{ type: 'aws:ec2:security-group', id: 'sg-0c0ffee0c0ffee000', name: 'reporting-db' }],
      // Only the rule open to the internet: 22 from 10.0.0.0/8 and 443 from a group are not exposures.
      network: { ips: [], cidrs: ['0.0.0.0/0', '::/0'], ports: [{ from: 5432, to: 5432 }], protocol: 'tcp' },
    });
    expect(networkAcl).toMatchObject({
      kind: 'exposure',
      severity: 'medium',
      resources: [{ type: 'aws:ec2:network-acl', id: 'acl-0b1c2d3e4f5a6b7c8' }],
      network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 22, to: 22 }, { from: 3389, to: 3389 }], protocol: 'all' },
    });
  });

  it('reads a GuardDuty finding in ASFF: the remote address is the actor', () => {
    const alert = parseOne(fixture('guardduty-ssh-brute-force.asff.json'));
    expect(alert).toEqual({
      kind: 'actor',
      fingerprint:
        'arn:aws:guardduty:eu-west-1:111122223333:detector/36c5e1f2a3b4c5d6e7f8a9b0c1d2e3f4/finding/62c7f3a1b0d94e5f8a2b6c1d0e9f8a7b',
      title: '198.51.100.23 is performing SSH brute force attacks against i-0a1b2c3d4e5f60718.',
      severity: 'low',
      occurredAt: '2026-11-28T09:14:03.000Z',
      description:
        '198.51.100.23 is performing SSH brute force attacks against i-0a1b2c3d4e5f60718. Brute force attacks are used ' +
        'to gain unauthorized access to your instance by guessing the SSH password.\n\n' +
        'Product: GuardDuty (Amazon)\nTypes: TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce',
      cloud: { provider: 'aws', account: '111122223333', region: 'eu-west-1' },
      resources: [{ type: 'aws:ec2:instance', id: 'i-0a1b2c3d4e5f60718', name: 'web-1' }],
      network: { ips: ['10.0.1.15'], cidrs: [], ports: [{ from: 22, to: 22 }], protocol: 'tcp' },
      actors: { ips: ['198.51.100.23'], domains: [], principals: [], userAgents: [] },
    });
  });
});

describe('securityhub source: forms and skipped findings', () => {
  it('gives one alert per finding of an event, with the same fingerprint as the bare finding', () => {
    const event = fixture('afsbp-ec2.7.json');
    const bare = [fixture('afsbp-ec2.2.json'), fixture('cis-42.json')];
    event.detail.findings.push(...bare);
    const fromEvent = securityHubSource.parse(event).map((alert) => alert.fingerprint);
    expect(fromEvent).toHaveLength(3);
    expect(fromEvent.slice(1)).toEqual(bare.map((finding) => parseOne(finding).fingerprint));
    expect(securityHubSource.parse({ Findings: bare }).map((alert) => alert.fingerprint)).toEqual(bare.map((finding) => finding.Id));
  });

  it('takes account, region and time from the event when the finding lacks them', () => {
    const event = fixture('afsbp-ec2.7.json');
    const [finding] = event.detail.findings;
    for (const key of ['AwsAccountId', 'LastObservedAt', 'UpdatedAt', 'CreatedAt']) delete finding[key];
    finding.Resources = [];
    event.account = '444455556666';
    event.region = 'ap-southeast-2';
    expect(parseOne(event)).toMatchObject({
      cloud: { provider: 'aws', account: '444455556666', region: 'ap-southeast-2' },
      occurredAt: '2020-05-27T03:37:40Z',
    });
  });

  // Archived and passed findings are resolutions (see resolutions.test.ts).
  it.each([['suppressed', { Workflow: { Status: 'SUPPRESSED' } }]])('skips a %s finding', (_, change) => {
    const finding = { ...fixture('cis-42.json'), ...change };
    expect(securityHubSource.parse(finding)).toEqual([]);
    expect(securityHubSource.parse({ Findings: [finding, fixture('afsbp-ec2.2.json')] })).toHaveLength(1);
  });

  it('keeps a finding that is new, notified, or failed', () => {
    for (const change of [{ Workflow: { Status: 'NOTIFIED' } }, { RecordState: 'ACTIVE' }, { Compliance: { Status: 'WARNING' } }]) {
      expect(securityHubSource.parse({ ...fixture('cis-42.json'), ...change })).toHaveLength(1);
    }
  });

  it('parses events and lists without findings to no alerts', () => {
    const event = fixture('afsbp-ec2.7.json');
    expect(securityHubSource.parse({ ...event, detail: { findings: [] } })).toEqual([]);
    expect(securityHubSource.parse({ ...event, detail: { findings: {} } })).toEqual([]);
    expect(securityHubSource.parse({ Findings: [] })).toEqual([]);
  });
});

describe('securityhub source: severity', () => {
  it.each([
    [0, 'informational'],
    [0.5, 'informational'],
    [1, 'low'],
    [39, 'low'],
    [40, 'medium'],
    [69, 'medium'],
    [70, 'high'],
    [89, 'high'],
    [90, 'critical'],
    [100, 'critical'],
  ] as const)('normalized %s is %s', (score, expected) => {
    expect(normalizedSeverity(score)).toBe(expected);
  });

  it('prefers the label, then the normalized score, then the product score', () => {
    const severityOf = (Severity: object) => parseOne(asff({ Severity })).severity;
    expect(severityOf({ Label: 'LOW', Normalized: 95, Product: 95 })).toBe('low');
    expect(severityOf({ Label: 'Critical' })).toBe('critical');
    expect(severityOf({ Normalized: 39, Product: 95 })).toBe('low');
    expect(severityOf({ Normalized: 40 })).toBe('medium');
    expect(severityOf({ Product: 89 })).toBe('high');
    expect(severityOf({ Product: 90 })).toBe('critical');
    expect(severityOf({ Original: 'HIGH' })).toBe('high');
    expect(severityOf({})).toBe('medium');
    expect(parseOne({ ...asff(), Severity: undefined }).severity).toBe('medium');
  });
});

describe('securityhub source: exposures', () => {
  const groupResource = {
    Type: 'AwsEc2SecurityGroup',
    Id: 'arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0abc',
    Region: 'eu-west-1',
  };

  it('uses the ports a control checks when the finding carries none (EC2.13, EC2.14, EC2.53)', () => {
    const networkOf = (SecurityControlId: string, Title: string) =>
      parseOne(asff({ Title, Compliance: { Status: 'FAILED', SecurityControlId }, Resources: [groupResource] })).network;
    expect(networkOf('EC2.13', 'Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 22')).toEqual({
      ips: [],
      // The control's wording says what it checks, not which range is open.
      cidrs: [],
      ports: [{ from: 22, to: 22 }],
    });
    expect(networkOf('EC2.14', 'Some other wording').ports).toEqual([{ from: 3389, to: 3389 }]);
    expect(networkOf('EC2.53', 'EC2 security groups should not allow ingress from 0.0.0.0/0 to remote server administration ports').ports).toEqual([
      { from: 22, to: 22 },
      { from: 3389, to: 3389 },
    ]);
  });

  it('prefers the Network section of the finding', () => {
    const alert = parseOne(
      asff({
        GeneratorId: 'security-control/EC2.18',
        Network: { Direction: 'IN', Protocol: 'TCP', DestinationIpV4: '203.0.113.5', OpenPortRange: { Begin: 8000, End: 8100 } },
        Resources: [groupResource],
      }),
    );
    expect(alert).toMatchObject({
      kind: 'exposure',
      resources: [{ type: 'aws:ec2:security-group', id: 'sg-0abc' }],
      network: { ips: ['203.0.113.5'], cidrs: [], ports: [{ from: 8000, to: 8100 }], protocol: 'tcp' },
    });
  });

  it('falls back to the group rules open to the internet, all traffic meaning all ports', () => {
    const alert = parseOne(
      asff({
        ProductFields: { ControlId: 'EC2.18' },
        Title: 'EC2.18 Security groups should only allow unrestricted incoming traffic for authorized ports',
        Resources: [
          {
            ...groupResource,
            Details: {
              AwsEc2SecurityGroup: {
                IpPermissions: [
                  { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
                  { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
                  { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: {}, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
                ],
              },
            },
          },
        ],
      }),
    );
    expect(alert.network).toEqual({ ips: [], cidrs: ['0.0.0.0/0', '::/0'], ports: [{ from: 0, to: 65535 }, { from: 443, to: 443 }] });
  });

  it('knows CIS rule numbers only for CIS 1.2, and recognises other ingress checks by their wording', () => {
    const cis14 = fixture('cis-42.json');
    cis14.GeneratorId = 'arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.4.0/rule/4.1';
    cis14.ProductFields = { RuleId: '4.1', StandardsGuideArn: 'arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.4.0' };
    cis14.Title = '4.1 Ensure a log metric filter and alarm exist for unauthorized API calls';
    cis14.Resources = [{ Type: 'AwsAccount', Id: 'AWS::::Account:111111111111' }];
    expect(parseOne(cis14).kind).toBe('resource');

    const prowler = parseOne(
      asff({
        ProductArn: 'arn:aws:securityhub:eu-west-1::product/prowler/prowler',
        GeneratorId: 'prowler-ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22',
        Title: 'Ensure no security groups allow ingress from 0.0.0.0/0 or ::/0 to SSH port 22.',
        Resources: [groupResource],
      }),
    );
    expect(prowler).toMatchObject({ kind: 'exposure', network: { ports: [{ from: 22, to: 22 }] } });
  });

  it('makes an imported GuardDuty unprotected-port probe an exposure of the probed ports', () => {
    const alert = parseOne(
      asff({
        Types: ['TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort'],
        Action: {
          ActionType: 'PORT_PROBE',
          PortProbeAction: {
            PortProbeDetails: [{ LocalPortDetails: { Port: 3389 }, RemoteIpDetails: { IpAddressV4: '192.0.2.44' } }],
            Blocked: false,
          },
        },
      }),
    );
    expect(alert).toMatchObject({ kind: 'exposure', network: { ports: [{ from: 3389, to: 3389 }] }, actors: { ips: ['192.0.2.44'] } });
  });

  it('reads ports from text only where the word port introduces them', () => {
    expect(portsInText('4.2 Ensure no security groups allow ingress from 0.0.0.0/0 to port 3389')).toEqual([{ from: 3389, to: 3389 }]);
    expect(portsInText('Network ACLs should not allow ingress from 0.0.0.0/0 to port 22 or port 3389')).toEqual([
      { from: 22, to: 22 },
      { from: 3389, to: 3389 },
    ]);
    expect(portsInText('open on ports 8000-8100, 9200 and 9300')).toEqual([
      { from: 8000, to: 8100 },
      { from: 9200, to: 9200 },
      { from: 9300, to: 9300 },
    ]);
    expect(portsInText('EC2.19 Security groups should not allow unrestricted access to ports with high risk')).toEqual([]);
    expect(portsInText('CIS 4.1 from 0.0.0.0/0 or ::/0 on port 99999')).toEqual([]);
  });
});

describe('securityhub source: actors, resources and odd values', () => {
  it('takes the actor from the Network section, by direction', () => {
    const inbound = parseOne(asff({ Network: { SourceIpV4: '198.51.100.7', SourceIpV6: '2001:db8::7', SourceDomain: 'scanner.example' } }));
    expect(inbound).toMatchObject({
      kind: 'actor',
      actors: { ips: ['198.51.100.7', '2001:db8::7'], domains: ['scanner.example'], principals: [], userAgents: [] },
    });
    const outbound = parseOne(
      asff({ Network: { Direction: 'OUT', SourceIpV4: '10.0.0.5', DestinationIpV4: '203.0.113.66', DestinationDomain: 'pool.example', DestinationPort: 3333 } }),
    );
    expect(outbound).toMatchObject({
      kind: 'actor',
      network: { ips: ['10.0.0.5'], cidrs: [], ports: [] },
      actors: { ips: ['203.0.113.66'], domains: ['pool.example'] },
    });
  });

  it('takes the actor from Action remote details, and principals only for activity', () => {
    const accessKey = {
      Type: 'AwsIamAccessKey',
      Id: 'AWS::IAM::AccessKey:ASIAIOSFODNN7EXAMPLE',
      Details: { AwsIamAccessKey: { PrincipalName: 'deploy-bot', PrincipalType: 'IAMUser' } },
    };
    const apiCall = parseOne(
      asff({
        Resources: [accessKey],
        Action: {
          ActionType: 'AWS_API_CALL',
          AwsApiCallAction: { Api: 'ListBuckets', RemoteIpDetails: { IpAddressV4: '192.0.2.66' }, DomainDetails: { Domain: 'evil.example' } },
        },
      }),
    );
    expect(apiCall).toMatchObject({
      kind: 'actor',
      resources: [{ type: 'aws:iam:access-key', id: 'ASIAIOSFODNN7EXAMPLE' }],
      actors: { ips: ['192.0.2.66'], domains: ['evil.example'], principals: ['deploy-bot'] },
    });
    const dns = parseOne(asff({ Action: { ActionType: 'DNS_REQUEST', DnsRequestAction: { Domain: 'c2.example', Protocol: 'UDP' } } }));
    expect(dns).toMatchObject({ kind: 'actor', actors: { domains: ['c2.example'] } });

    const rotation = parseOne(asff({ Title: 'IAM.3 IAM users access keys should be rotated every 90 days or less', Resources: [accessKey] }));
    expect(rotation).toMatchObject({ kind: 'resource', actors: emptyActors });
  });

  it('maps resource types and ids, keeping ARNs where there is no shorter native id', () => {
    const alert = parseOne(
      asff({
        Resources: [
          { Type: 'AwsEc2Instance', Id: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc123', Tags: { Name: 'web-2' } },
          { Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::example-logs' },
          { Type: 'AwsIamUser', Id: 'arn:aws:iam::111122223333:user/ops/alice' },
          { Type: 'AwsIamRole', Id: 'arn:aws:iam::111122223333:role/ci' },
          { Type: 'AwsCloudTrailTrail', Id: 'arn:aws:cloudtrail:eu-west-1:111122223333:trail/main' },
          { Type: 'AwsLambdaFunction', Id: 'arn:aws:lambda:eu-west-1:111122223333:function:resize' },
          { Type: 'AwsEc2SecurityGroup', Id: 'sg-0plainid' },
          { Type: 'AwsEc2SecurityGroup', Id: 'sg-0plainid' },
          { Type: 'Other' },
          'not a resource',
        ],
      }),
    );
    expect(alert.resources).toEqual([
      { type: 'aws:ec2:instance', id: 'i-0abc123', name: 'web-2' },
      { type: 'aws:s3:bucket', id: 'example-logs' },
      { type: 'aws:iam:user', id: 'arn:aws:iam::111122223333:user/ops/alice' },
      { type: 'aws:iam:role', id: 'arn:aws:iam::111122223333:role/ci' },
      { type: 'aws:cloudtrail:trail', id: 'arn:aws:cloudtrail:eu-west-1:111122223333:trail/main' },
      { type: 'aws:lambda:function', id: 'resize' },
      { type: 'aws:ec2:security-group', id: 'sg-0plainid' },
    ]);
  });

  it('survives {} for lists, missing sections and invalid addresses', () => {
    const odd = parseOne(
      asff({
        Resources: {},
        Types: {},
        Network: { SourceIpV4: '999.1.1.1', SourceIpV6: 'AWS Internal', DestinationPort: 'x' },
        Action: { NetworkConnectionAction: { RemoteIpDetails: { IpAddressV4: '10.0.0.256' } }, PortProbeAction: { PortProbeDetails: {} } },
        Compliance: 'FAILED',
        Workflow: null,
      }),
    );
    expect(odd).toMatchObject({ kind: 'resource', resources: [], network: { ips: [], cidrs: [], ports: [] }, actors: emptyActors });

    const group = fixture('cis-42.json');
    group.Resources[0].Details.AwsEc2SecurityGroup.IpPermissions = [{ IpProtocol: 'tcp', FromPort: 3389, ToPort: 3389, IpRanges: {} }, null];
    expect(parseOne(group).network).toEqual({ ips: [], cidrs: [], ports: [{ from: 3389, to: 3389 }] });
  });
});

describe('securityhub source: payload words that name Object properties', () => {
  it('finds nothing inherited for control ids, resource types and protocols', () => {
    const alert = parseOne(
      asff({
        ProductFields: { ControlId: 'constructor' },
        Resources: [{ Type: 'toString', Id: 'r-1' }],
        Network: { Protocol: 'constructor', Direction: 'IN', DestinationPort: 443 },
      }),
    );
    // Not an exposure of a control called "constructor", a resource of an ASFF type, a protocol as written.
    expect(alert).toMatchObject({
      kind: 'resource',
      resources: [{ type: 'aws:asff:toString', id: 'r-1' }],
      network: { ips: [], cidrs: [], ports: [{ from: 443, to: 443 }], protocol: 'constructor' },
    });
    const cis = fixture('cis-42.json');
    cis.ProductFields.RuleId = 'hasOwnProperty';
    cis.Title = 'A check';
    expect(parseOne(cis).kind).toBe('resource');
  });
});

describe('securityhub source: detection and refusal', () => {
  it('detects its own shapes, including GuardDuty findings in ASFF', () => {
    const event = fixture('afsbp-ec2.7.json');
    const finding = fixture('cis-42.json');
    const guardDutyAsff = fixture('guardduty-ssh-brute-force.asff.json');
    const customAction = { ...event, 'detail-type': 'Security Hub Findings - Custom Action' };
    for (const payload of [event, customAction, finding, guardDutyAsff, { Findings: [finding, guardDutyAsff] }]) {
      expect(securityHubSource.detect(payload)).toBe(true);
    }
  });

  it.each(jsonFiles('guardduty'))('does not claim the GuardDuty fixture %s', (name) => {
    expect(securityHubSource.detect(guardDutyFixture(name))).toBe(false);
  });

  it('does not claim other payloads', () => {
    const event = fixture('afsbp-ec2.7.json');
    const notSecurityHub = [
      { title: 'x', severity: 'low' },
      { Findings: [] },
      { Findings: [fixture('cis-42.json'), { Id: 'x' }] },
      // The newer OCSF events are a different format.
      { ...event, 'detail-type': 'Findings Imported V2' },
      { ...event, 'detail-type': 'Security Hub Insight Results', detail: { actionName: 'x', insightResults: [] } },
      { ...fixture('cis-42.json'), ProductArn: undefined },
      null,
      [fixture('cis-42.json')],
    ];
    for (const payload of notSecurityHub) expect(securityHubSource.detect(payload), JSON.stringify(payload)?.slice(0, 80)).toBe(false);
  });

  it('refuses what is not ASFF, saying what it expected', () => {
    const expectRefusal = (payload: unknown, message: RegExp) => {
      expect(() => securityHubSource.parse(payload)).toThrow(UnrecognizedPayloadError);
      expect(() => securityHubSource.parse(payload)).toThrow(message);
    };
    expectRefusal({ title: 'x', severity: 'low' }, /not a Security Hub finding; expected a Security Hub finding in ASFF/);
    expectRefusal(guardDutyFixture('tor-ip-caller.finding.json'), /not a Security Hub finding/);
    expectRefusal(guardDutyFixture('get-findings.sdk.json'), /Findings\[0\] is not an ASFF finding/);
    const event = fixture('afsbp-ec2.7.json');
    expectRefusal({ ...event, detail: { findings: [event.detail.findings[0], { Title: 'x' }] } }, /detail\.findings\[1\] is not an ASFF finding/);
    expectRefusal({ ...event, detail: {} }, /Security Hub event without detail\.findings/);
  });
});

describe('securityhub source: public resources', () => {
  it('makes the FSBP public-resource controls exposures of the resource, named as the readers match it (shared samples)', () => {
    const parsed = (name: string) => {
      const alert = parseOne(fixture(name));
      expect(alert.kind, name).toBe('exposure');
      expect(alert.resolution, name).toBeUndefined();
      expect(alert.network, name).toEqual({ ips: [], cidrs: [], ports: [] });
      return alert.resources;
    };
    expect(parsed('afsbp-rds.1.json')).toEqual([{ type: 'aws:rds:db-cluster-snapshot', id: 'rds-snapshot-for-sharr-testing' }]);
    expect(parsed('afsbp-rds.2.json')).toEqual([{ type: 'aws:rds:db-instance', id: 'database-1' }]);
    expect(parsed('afsbp-redshift.1.json')).toEqual([{ type: 'aws:redshift:cluster', id: 'redshift-cluster-1' }]);
    expect(parsed('afsbp-lambda.1.json')).toEqual([{ type: 'aws:lambda:function', id: 'TAEBSVolumeSnapDelete' }]);
    expect(parsed('afsbp-s3.8.json')).toEqual([{ type: 'aws:s3:bucket', id: 'example' }]);
    // EC2.1 is judged per account: the exposure names the account and every snapshot in it (`*`),
    // which the inventory answers with the public ones.
    expect(parsed('afsbp-ec2.1.json')).toEqual([
      { type: 'aws:account', id: '111111111111' },
      { type: 'aws:ec2:snapshot', id: '*', name: 'every snapshot of the account' },
    ]);
  });

  it('makes a PASSED public-resource control a resolution (shared sample S3.2)', () => {
    const alert = parseOne(fixture('afsbp-s3.2.json'));
    expect(alert.resolution).toBe('Security Hub Compliance.Status PASSED, Workflow.Status RESOLVED');
    expect(alert.fingerprint).toBe(
      'arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/S3.2/finding/ef33c951-94b7-4d92-acd2-99c2a3e3a78a',
    );
    expect(alert.resources).toEqual([{ type: 'aws:s3:bucket', id: 'so0111-aws-cloudtrail-111111111111' }]);
  });

  it('reads consolidated controls and imported Prowler checks about public resources; other S3 controls stay resources', () => {
    const [search, uploads, ssl, alb, api] = securityHubSource.parse(fixture('get-findings.public-resources.json'));
    expect(search).toMatchObject({ kind: 'exposure', severity: 'critical', resources: [{ type: 'aws:opensearch:domain', id: 'search-public' }] });
    expect(uploads).toMatchObject({ kind: 'exposure', resources: [{ type: 'aws:s3:bucket', id: 'vigil-demo-uploads' }] });
    // S3.5 (SSL only) fails on the same bucket, but says nothing about who can reach it.
    expect(ssl).toMatchObject({ kind: 'resource', resources: [{ type: 'aws:s3:bucket', id: 'vigil-demo-uploads' }] });
    // An ALB is named by ARN with its name beside it; imported Prowler findings by their check (GeneratorId).
    expect(alb).toMatchObject({
      kind: 'exposure',
      fingerprint: 'prowler-elbv2_internet_facing-111122223333-eu-west-1-8c3f2a91',
      resources: [
        { type: 'aws:elbv2:load-balancer', id: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web-public/50dc6c495c0c9188', name: 'web-public' },
      ],
    });
    expect(api).toMatchObject({ kind: 'exposure', resources: [{ type: 'aws:apigateway:rest-api', id: 'k9x8w7v6u5' }] });
  });

  it.each([
    ['AwsRdsDbInstance', 'arn:aws:rds:eu-west-1:111122223333:db:orders', { type: 'aws:rds:db-instance', id: 'orders' }],
    ['AwsRdsDbCluster', 'arn:aws:rds:eu-west-1:111122223333:cluster:orders-aurora', { type: 'aws:rds:db-cluster', id: 'orders-aurora' }],
    ['AwsRdsDbSnapshot', 'arn:aws:rds:eu-west-1:111122223333:snapshot:rds:orders-2025-11-28-03-10', { type: 'aws:rds:db-snapshot', id: 'rds:orders-2025-11-28-03-10' }],
    ['AwsElasticsearchDomain', 'arn:aws:es:eu-west-1:111122223333:domain/legacy-search', { type: 'aws:opensearch:domain', id: 'legacy-search' }],
    ['AwsElbLoadBalancer', 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/legacy-web', { type: 'aws:elb:load-balancer', id: 'legacy-web' }],
    ['AwsEc2Snapshot', 'arn:aws:ec2:eu-west-1::snapshot/snap-0a1b2c3d4e5f60718', { type: 'aws:ec2:snapshot', id: 'snap-0a1b2c3d4e5f60718' }],
    ['AwsEc2Image', 'arn:aws:ec2:eu-west-1::image/ami-0123456789abcdef0', { type: 'aws:ec2:image', id: 'ami-0123456789abcdef0' }],
    ['AwsLambdaFunction', 'arn:aws:lambda:eu-west-1:111122223333:function:pay:live', { type: 'aws:lambda:function', id: 'pay' }],
    ['AwsApiGatewayStage', 'arn:aws:apigateway:eu-west-1::/restapis/k9x8w7v6u5/stages/prod', { type: 'aws:apigateway:rest-api', id: 'k9x8w7v6u5' }],
    ['AwsApiGatewayV2Api', 'arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5', { type: 'aws:apigateway:http-api', id: 'a1b2c3d4e5' }],
    // Not a bucket: an access point keeps its ASFF type and ARN.
    ['AwsS3AccessPoint', 'arn:aws:s3:eu-west-1:111122223333:accesspoint/uploads', { type: 'aws:asff:AwsS3AccessPoint', id: 'arn:aws:s3:eu-west-1:111122223333:accesspoint/uploads' }],
  ])('names a %s by what its ARN says', (Type, Id, expected) => {
    expect(parseOne(asff({ Resources: [{ Type, Id }] })).resources).toEqual([expected]);
  });

  it('keeps a control that is not about public resources, and an unknown one, out of the exposures', () => {
    const bucket = { Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::vigil-logs' };
    expect(parseOne(asff({ Compliance: { Status: 'FAILED', SecurityControlId: 'S3.9' }, Resources: [bucket] })).kind).toBe('resource');
    expect(parseOne(asff({ GeneratorId: 'prowler-s3_bucket_default_encryption', Resources: [bucket] })).kind).toBe('resource');
    expect(parseOne(asff({ Compliance: { Status: 'FAILED', SecurityControlId: 'S3.2' }, Resources: [bucket] })).kind).toBe('exposure');
  });
});
