import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gcpAuditSource } from '../../../intake/sources/gcp-audit';
import { genericSource } from '../../../intake/sources/generic';
import { prowlerSource } from '../../../intake/sources/prowler';
import { sccSource } from '../../../intake/sources/scc';
import { UnrecognizedPayloadError } from '../../../intake/sources/types';

const fixturesDir = (source: string) => path.join(import.meta.dirname, '../../fixtures', source);
const fixture = (name: string, source = 'prowler'): any => JSON.parse(readFileSync(path.join(fixturesDir(source), name), 'utf8'));
const fixtureNames = (source: string) => readdirSync(fixturesDir(source)).filter((name) => name.endsWith('.json'));

/** One finding of the written exposure report, as a base for variations. */
const sshFinding = () => structuredClone(fixture('vigil-exposure.ocsf.json')[0]);

describe('prowler source', () => {
  it('parses every fixture without throwing', () => {
    for (const name of fixtureNames('prowler')) {
      expect(() => prowlerSource.parse(fixture(name)), name).not.toThrow();
    }
  });

  it('turns only the FAIL findings of the shared sample into alerts', () => {
    const report = fixture('example_output_aws.ocsf.json');
    const statuses = report.map((finding: any) => finding.status_code);
    // The sample (prowler-cloud/prowler examples/output) has 2 FAIL and 3 MANUAL findings.
    expect(statuses.filter((status: string) => status === 'FAIL')).toHaveLength(2);
    expect(statuses.filter((status: string) => status === 'MANUAL')).toHaveLength(3);
    const alerts = prowlerSource.parse(report);
    expect(alerts).toHaveLength(2);
    expect(alerts.map((alert) => alert.title)).toEqual([
      'Prowler FAIL: Check if IAM Access Analyzer is enabled (<resource_name>)',
      'Prowler FAIL: Maintain different contact details to security, billing and operations. (<account_uid>)',
    ]);
  });

  it('extracts the fields of a FAIL finding of the shared sample', () => {
    const [, contacts] = prowlerSource.parse(fixture('example_output_aws.ocsf.json'));
    expect(contacts).toEqual({
      kind: 'resource',
      // The sample is anonymised: every finding_info.uid is the placeholder "<finding_uid>", which is
      // no identity, so the fingerprint is what a real uid says: provider, check, account, region, resource.
      fingerprint: 'prowler:aws:account_maintain_different_contact_details_to_security_billing_and_operations:<account_uid>:<region>:arn:aws:iam::<account_uid>:root',
      title: 'Prowler FAIL: Maintain different contact details to security, billing and operations. (<account_uid>)',
      severity: 'medium',
      // From `time` (epoch seconds), not the zone-less local `time_dt` (14:27:03).
      occurredAt: '2025-02-14T13:27:03.000Z',
      description: expect.stringContaining('SECURITY, BILLING and OPERATIONS contacts not found'),
      cloud: { provider: 'aws', account: '<account_uid>', region: '<region>' },
      resources: [{ type: 'aws:account', id: 'arn:aws:iam::<account_uid>:root', name: '<account_uid>' }],
      network: { ips: [], cidrs: [], ports: [] },
      actors: { ips: [], domains: [], principals: [], userAgents: [] },
    });
    expect(contacts!.description).toContain('Risk: Ensure contact email and telephone details');
    expect(contacts!.description).toContain('Prowler check: account_maintain_different_contact_details_to_security_billing_and_operations');
  });

  it('reads an internet-exposure check as an exposure, with ports, ranges and addresses', () => {
    // 5 findings: FAIL ssh, FAIL rdp, PASS all-ports (a resolution: see resolutions.test.ts), muted
    // (Suppressed) FAIL network ACL, FAIL s3.
    const alerts = prowlerSource.parse(fixture('vigil-exposure.ocsf.json')).filter((alert) => !alert.resolution);
    expect(alerts.map((alert) => alert.fingerprint)).toEqual([
      'prowler-aws-ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22-111122223333-eu-west-1-sg-0ssh22open0000000',
      'prowler-aws-ec2_instance_port_rdp_exposed_to_internet-111122223333-eu-west-1-i-0abc12345def67890',
      'prowler-aws-s3_bucket_public_access-111122223333-eu-west-1-vigil-demo-public-assets',
    ]);
    const [ssh, rdp, bucket] = alerts;
    expect(ssh).toEqual({
      kind: 'exposure',
      fingerprint: 'prowler-aws-ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22-111122223333-eu-west-1-sg-0ssh22open0000000',
      title: 'Prowler FAIL: Security group does not allow ingress from 0.0.0.0/0 or ::/0 to SSH port 22 (sg-0ssh22open0000000)',
      severity: 'high',
      occurredAt: '2025-11-28T09:34:03.000Z',
      description: expect.stringMatching(/^Security group bastion-ssh \(sg-0ssh22open0000000\) has SSH port 22 open to the Internet\./),
      cloud: { provider: 'aws', account: '111122223333', region: 'eu-west-1' },
      resources: [
        { type: 'aws:ec2:security-group', id: 'arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0ssh22open0000000', name: 'sg-0ssh22open0000000' },
      ],
      // The group's own rules: 0.0.0.0/0 and ::/0 on 22 (10.0.0.0/8 and 203.0.113.0/24 are not internet-wide).
      network: { ips: [], cidrs: ['0.0.0.0/0', '::/0'], ports: [{ from: 22, to: 22 }], protocol: 'tcp' },
      actors: { ips: [], domains: [], principals: [], userAgents: [] },
    });
    expect(rdp).toMatchObject({
      kind: 'exposure',
      severity: 'critical',
      resources: [{ type: 'aws:ec2:instance', id: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc12345def67890' }],
      network: { ips: ['203.0.113.25'], cidrs: [], ports: [{ from: 3389, to: 3389 }], protocol: 'tcp' },
    });
    // A public bucket is an exposure of the bucket, named by its name as the S3 reader lists it.
    expect(bucket).toMatchObject({
      kind: 'exposure',
      severity: 'critical',
      resources: [{ type: 'aws:s3:bucket', id: 'vigil-demo-public-assets' }],
      network: { ips: [], cidrs: [], ports: [] },
    });
  });

  it('gives each FAIL of the shared GCP sample its own issue, though all share the uid "<finding_uid>"', () => {
    const report = fixture('example_output_gcp.ocsf.json');
    expect(new Set(report.map((finding: any) => finding.finding_info.uid))).toEqual(new Set(['<finding_uid>']));
    const alerts = prowlerSource.parse(report);
    const failed = alerts.filter((alert) => !alert.resolution);
    expect(failed.map((alert) => [alert.fingerprint, alert.kind, alert.severity])).toEqual([
      ['prowler:gcp:artifacts_container_analysis_enabled:<project_id>:global:containeranalysis.googleapis.com', 'resource', 'medium'],
      ['prowler:gcp:compute_firewall_rdp_access_from_the_internet_allowed:<project_id>:global:<uid>', 'exposure', 'critical'],
    ]);
    // The critical one: RDP open to the internet, an exposure of 3389/tcp (the sample anonymises the source range).
    expect(failed[1]).toMatchObject({
      title: 'Prowler FAIL: Ensure That RDP Access Is Restricted From the Internet (<resource_id>)',
      cloud: { provider: 'gcp', account: '<project_id>', region: 'global' },
      resources: [{ type: 'gcp:compute:firewall', id: '<uid>', name: '<resource_id>' }],
      network: { ips: [], cidrs: [], ports: [{ from: 3389, to: 3389 }], protocol: 'tcp' },
    });
    // The sample's two RDP PASSes name the same anonymised firewall as its RDP FAIL: the report
    // itself says that failure goes on, so they resolve nothing. The other PASS is a resolution.
    expect(alerts.filter((alert) => alert.resolution).map((alert) => alert.fingerprint)).toEqual([
      'prowler:gcp:apikeys_key_exists:<project_id>:global:<project_id>',
    ]);
  });

  it('keeps a genuine uid as the fingerprint, and folds in the identity for any other', () => {
    const withUid = (uid: unknown) => prowlerSource.parse({ ...sshFinding(), finding_info: { ...sshFinding().finding_info, uid } })[0]!.fingerprint;
    const genuine = 'prowler-aws-ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22-111122223333-eu-west-1-sg-0ssh22open0000000';
    const folded = 'prowler:aws:ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22:111122223333:eu-west-1:arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0ssh22open0000000';
    expect(withUid(genuine)).toBe(genuine);
    // One uid of the Azure sample is genuine (it names its check), the others are placeholders.
    const azure = prowlerSource.parse(fixture('example_output_azure.ocsf.json')).map((alert) => alert.fingerprint);
    expect(azure).toContain('prowler-azure-defender_container_images_scan_enabled-<subscription_uid>-global-Defender plan for Containers');
    expect(new Set(azure).size).toBe(5);
    for (const placeholder of ['<finding_uid>', ' <uid> ', '', '   ', 'prowler', 'finding-1', 42, undefined]) {
      expect(withUid(placeholder), String(placeholder)).toBe(folded);
    }
  });

  it('classifies the exposure checks of GCP with their ports, ranges and addresses', () => {
    const [ssh, rdp, passed, sql] = prowlerSource.parse(fixture('vigil-gcp-exposure.ocsf.json'));
    expect(ssh).toMatchObject({
      kind: 'exposure',
      fingerprint: 'prowler-gcp-compute_firewall_ssh_access_from_the_internet_allowed-vigil-prod-global-allow-ssh-anywhere',
      severity: 'critical',
      cloud: { provider: 'gcp', account: 'vigil-prod', region: 'global' },
      resources: [{ type: 'gcp:compute:firewall', id: '4695668982209007937', name: 'allow-ssh-anywhere' }],
      network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 22, to: 22 }], protocol: 'tcp' },
    });
    // A rule for every protocol fails the RDP check: 3389 is the port at stake, 203.0.113.0/24 is not the internet.
    expect(rdp!.network).toEqual({ ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 3389, to: 3389 }], protocol: 'tcp' });
    expect(passed).toMatchObject({ kind: 'exposure', resolution: expect.stringMatching(/^Prowler status_code PASS: Firewall allow-internal/) });
    expect(passed!.network.cidrs).toEqual([]);
    // A firewall open to the internet on other ports only: no internet range for the SSH check.
    const web = fixture('vigil-gcp-exposure.ocsf.json')[0];
    web.resources[0].data.metadata.allowed_rules = [{ IPProtocol: 'tcp', ports: ['80', '443-8443'] }, { IPProtocol: 'udp' }];
    expect(prowlerSource.parse(web)[0]!.network.cidrs).toEqual([]);
    web.resources[0].data.metadata.allowed_rules = [{ IPProtocol: 'tcp', ports: ['20-23'] }];
    expect(prowlerSource.parse(web)[0]!.network.cidrs).toEqual(['0.0.0.0/0']);
    web.resources[0].data.metadata.allowed_rules = [{ IPProtocol: 'tcp' }];
    expect(prowlerSource.parse(web)[0]!.network.cidrs).toEqual(['0.0.0.0/0']);
    // Cloud SQL open to 0.0.0.0/0: PostgreSQL's port, the public (PRIMARY) address only.
    expect(sql).toMatchObject({
      kind: 'exposure',
      resources: [{ type: 'gcp:sql:instance', id: '//sqladmin.googleapis.com/projects/vigil-prod/instances/orders-db', name: 'orders-db' }],
      network: { ips: ['203.0.113.61'], cidrs: ['0.0.0.0/0'], ports: [{ from: 5432, to: 5432 }], protocol: 'tcp' },
    });
    const engine = (version: string) => {
      const finding = fixture('vigil-gcp-exposure.ocsf.json')[3];
      finding.resources[0].data.metadata.version = version;
      return prowlerSource.parse(finding)[0]!.network.ports;
    };
    expect(engine('MYSQL_8_0')).toEqual([{ from: 3306, to: 3306 }]);
    expect(engine('SQLSERVER_2019_STANDARD')).toEqual([{ from: 1433, to: 1433 }]);
    expect(engine('SPANNER')).toEqual([]);
  });

  it('classifies the exposure checks of Azure with their ports and the rules open to the internet', () => {
    const [rdp, ssh, udp, sql] = prowlerSource.parse(fixture('vigil-azure-exposure.ocsf.json'));
    const nsg = {
      type: 'azure:network:network-security-group',
      id: '/subscriptions/11112222-3333-4444-5555-666677778888/resourceGroups/web-rg/providers/Microsoft.Network/networkSecurityGroups/web-nsg',
      name: 'web-nsg',
    };
    expect(rdp).toMatchObject({
      kind: 'exposure',
      severity: 'high',
      cloud: { provider: 'azure', account: '11112222-3333-4444-5555-666677778888', region: 'westeurope' },
      resources: [nsg],
      // The "Internet" service tag on 3389.
      network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 3389, to: 3389 }], protocol: 'tcp' },
    });
    // SSH is open to an office range only: a resolution, with no internet range.
    expect(ssh).toMatchObject({ kind: 'exposure', resources: [nsg], network: { cidrs: [], ports: [{ from: 22, to: 22 }] } });
    expect(ssh!.resolution).toMatch(/has SSH internet access restricted/);
    // The UDP check names no port: the ports of the UDP rules open to the internet.
    expect(udp!.network).toEqual({ ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 51820, to: 51820 }], protocol: 'udp' });
    expect(sql).toMatchObject({
      kind: 'exposure',
      severity: 'critical',
      resources: [{ type: 'azure:sql:server', name: 'orders-sql' }],
      network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 1433, to: 1433 }], protocol: 'tcp' },
    });
  });

  it('classifies the exposure checks of Kubernetes with their ports, and knows a Kubernetes finding', () => {
    const [scheduler, manager, kubelet] = prowlerSource.parse(fixture('vigil-kubernetes-exposure.ocsf.json'));
    expect(scheduler).toMatchObject({
      kind: 'exposure',
      fingerprint: 'prowler-kubernetes-scheduler_bind_address-vigil-cluster-namespace: kube-system-kube-scheduler-cp-1',
      cloud: { provider: 'kubernetes', account: 'vigil-cluster' },
      resources: [{ type: 'kubernetes:prowler:Pod', id: '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f', name: 'kube-scheduler-cp-1' }],
      // The pod is on the host network: the node's address is where it listens.
      network: { ips: ['198.51.100.20'], cidrs: [], ports: [{ from: 10259, to: 10259 }], protocol: 'tcp' },
    });
    // --secure-port in the command moves the controller manager off its default 10257.
    expect(manager!.network.ports).toEqual([{ from: 10357, to: 10357 }]);
    expect(kubelet).toMatchObject({ kind: 'exposure', network: { ips: [], ports: [{ from: 10255, to: 10255 }] } });
    const movedKubelet = fixture('vigil-kubernetes-exposure.ocsf.json')[2];
    movedKubelet.resources[0].data.metadata.kubelet_args.readOnlyPort = 10266;
    expect(prowlerSource.parse(movedKubelet)[0]!.network.ports).toEqual([{ from: 10266, to: 10266 }]);
    // Older output has neither cloud nor unmapped.provider, only the "container" profile.
    const older = prowlerSource.parse(fixture('example_output_kubernetes.ocsf.json'));
    expect(older.map((alert) => alert.cloud)).toEqual(older.map(() => ({ provider: 'kubernetes' })));
    expect(older[0]!.fingerprint).toBe('prowler:kubernetes:apiserver_always_pull_images_plugin:<namespace>:<resource_uid>');
    expect(older.every((alert) => alert.kind === 'resource')).toBe(true);
  });

  it('finds nothing inherited for check ids and types that name Object properties', () => {
    const finding = sshFinding();
    finding.metadata.event_code = 'ec2_instance_port_constructor_exposed_to_internet';
    finding.resources[0].type = 'constructor';
    const [alert] = prowlerSource.parse(finding);
    expect(alert).toMatchObject({ kind: 'exposure', network: { ports: [] } });
    expect(alert!.resources[0]!.type).toBe('aws:prowler:constructor');
    for (const checkId of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const other = sshFinding();
      other.metadata.event_code = checkId;
      expect(prowlerSource.parse(other)[0]!.kind, checkId).toBe('resource');
    }
  });

  it('gives no alert for MANUAL or muted findings, only resolutions for PASS', () => {
    expect(prowlerSource.parse(fixture('vigil-all-pass.ocsf.json')).map((alert) => Boolean(alert.resolution))).toEqual([true, true]);
    const muted = fixture('vigil-exposure.ocsf.json')[3];
    expect(muted).toMatchObject({ status_code: 'FAIL', status: 'Suppressed', status_id: 3 });
    // A muted FAIL matched Prowler's mutelist: an exception the operator already accepted.
    expect(prowlerSource.parse(muted)).toEqual([]);
    expect(prowlerSource.parse({ ...muted, status: 'New', status_id: 1 })).toHaveLength(1);
    expect(prowlerSource.parse({ ...sshFinding(), status_code: 'MANUAL' })).toEqual([]);
    expect(prowlerSource.parse([])).toEqual([]);
  });

  it('accepts a single finding object', () => {
    const [alert] = prowlerSource.parse(sshFinding());
    expect(alert!.fingerprint).toMatch(/^prowler-aws-ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22-/);
  });

  it('maps severity_id, then the severity word, fatal to critical', () => {
    const severity = (change: object) => prowlerSource.parse({ ...sshFinding(), ...change })[0]!.severity;
    expect(severity({ severity_id: 1, severity: 'Informational' })).toBe('informational');
    expect(severity({ severity_id: 2, severity: 'Low' })).toBe('low');
    expect(severity({ severity_id: 3, severity: 'Medium' })).toBe('medium');
    expect(severity({ severity_id: 4, severity: 'High' })).toBe('high');
    expect(severity({ severity_id: 5, severity: 'Critical' })).toBe('critical');
    expect(severity({ severity_id: 6, severity: 'Fatal' })).toBe('critical');
    expect(severity({ severity_id: 99, severity: 'Fatal' })).toBe('critical');
    expect(severity({ severity_id: 0, severity: 'Low' })).toBe('low');
    expect(severity({ severity_id: 'x', severity: 'whatever' })).toBe('medium');
    expect(severity({ severity_id: undefined, severity: undefined })).toBe('medium');
  });

  it('reads ports from the check id only where it states them', () => {
    const network = (checkId: string) => {
      const finding = sshFinding();
      finding.metadata.event_code = checkId;
      return prowlerSource.parse(finding)[0]!;
    };
    expect(network('ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_mongodb_27017_27018').network).toMatchObject({
      ports: [{ from: 27017, to: 27017 }, { from: 27018, to: 27018 }],
      protocol: 'tcp',
    });
    expect(network('ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_sql_server_1433_1434').network.ports).toEqual([
      { from: 1433, to: 1433 },
      { from: 1434, to: 1434 },
    ]);
    expect(network('ec2_securitygroup_allow_ingress_from_internet_to_all_ports').network).toMatchObject({
      ports: [{ from: 0, to: 65535 }],
      protocol: 'all',
    });
    expect(network('ec2_networkacl_allow_ingress_tcp_port_3389').network.ports).toEqual([{ from: 3389, to: 3389 }]);
    expect(network('ec2_instance_port_kerberos_exposed_to_internet').network.ports).toHaveLength(4);
    // "any port" of a security group means some port: an exposure whose ports are not stated.
    const anyPort = network('ec2_securitygroup_allow_ingress_from_internet_to_any_port');
    expect(anyPort.kind).toBe('exposure');
    expect(anyPort.network.ports).toEqual([]);
    const other = network('ec2_instance_imdsv2_enabled');
    expect(other.kind).toBe('resource');
    expect(other.network).toEqual({ ips: [], cidrs: [], ports: [] });
  });

  it('maps obvious resource types and keeps the others under aws:prowler', () => {
    const typeOf = (type: unknown, uid = 'arn:aws:iam::111122223333:user/alice') => {
      const finding = sshFinding();
      finding.resources[0] = { ...finding.resources[0], type, uid };
      return prowlerSource.parse(finding)[0]!.resources[0]!.type;
    };
    expect(typeOf('AwsIamUser')).toBe('aws:iam:user');
    expect(typeOf('AwsEc2NetworkAcl')).toBe('aws:ec2:network-acl');
    expect(typeOf('AwsLambdaFunction')).toBe('aws:prowler:AwsLambdaFunction');
    expect(typeOf('Other', 'arn:aws:iam::111122223333:root')).toBe('aws:account');
    // Other providers' types; Azure's in Prowler's lower case and in ARM's own casing.
    expect(typeOf('FirewallRule')).toBe('gcp:compute:firewall');
    expect(typeOf('microsoft.network/networksecuritygroups')).toBe('azure:network:network-security-group');
    expect(typeOf('Microsoft.Network/networkSecurityGroups')).toBe('azure:network:network-security-group');
    expect(typeOf(undefined)).toBe('aws:prowler:Other');
  });

  it('never crashes on odd values', () => {
    const finding = sshFinding();
    finding.resources = {};
    finding.cloud = 'aws';
    finding.finding_info = { title: 42 };
    finding.time = 'yesterday';
    finding.remediation = { references: {} };
    const [alert] = prowlerSource.parse(finding);
    expect(alert).toMatchObject({
      kind: 'exposure',
      // The account from unmapped.provider_uid, as Prowler writes it beside `cloud`.
      fingerprint: 'prowler:aws:ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22:111122223333',
      title: 'Prowler FAIL: 42',
      resources: [],
      cloud: { provider: 'aws', account: '111122223333' },
      network: { ips: [], cidrs: [], ports: [{ from: 22, to: 22 }] },
    });
    const odd = sshFinding();
    odd.resources[0].data.metadata = { public_ip: 'AWS Internal', ingress_rules: [{ IpRanges: {}, Ipv6Ranges: [{ CidrIpv6: 'nope' }] }] };
    expect(prowlerSource.parse(odd)[0]!.network).toMatchObject({ ips: [], cidrs: [] });
  });

  it('detects its own output only', () => {
    for (const name of fixtureNames('prowler')) expect(prowlerSource.detect(fixture(name)), name).toBe(true);
    expect(prowlerSource.detect(sshFinding())).toBe(true);
    for (const name of fixtureNames('prowler')) {
      expect(sccSource.detect(fixture(name)), `scc on ${name}`).toBe(false);
      expect(gcpAuditSource.detect(fixture(name)), `gcp-audit on ${name}`).toBe(false);
      expect(genericSource.detect(fixture(name)), `generic on ${name}`).toBe(false);
    }
    for (const [source, names] of [['scc', fixtureNames('scc')], ['gcp-audit', fixtureNames('gcp-audit')]] as const) {
      for (const name of names) expect(prowlerSource.detect(fixture(name, source)), `${source}/${name}`).toBe(false);
    }
    expect(prowlerSource.detect({ title: 'x', severity: 'low' })).toBe(false);
    expect(prowlerSource.detect([])).toBe(false);
    // An OCSF Detection Finding from another product is not Prowler's.
    const other = sshFinding();
    other.metadata.product = { name: 'Security Hub', vendor_name: 'AWS' };
    expect(prowlerSource.detect(other)).toBe(false);
    expect(prowlerSource.detect({ ...sshFinding(), class_uid: 2003 })).toBe(false);
  });

  it('refuses what is not Prowler output, saying what it expected', () => {
    for (const payload of [{ title: 'x', severity: 'low' }, [1, 2], 'FAIL', null, fixture('vigil-insert-ssh.json', 'gcp-audit')]) {
      expect(() => prowlerSource.parse(payload)).toThrow(UnrecognizedPayloadError);
    }
    expect(() => prowlerSource.parse({})).toThrow(/JSON-OCSF.*class_uid 2004/);
  });
});

describe('prowler source: public resources', () => {
  const byCheck = (alerts: ReturnType<typeof prowlerSource.parse>, check: string) => alerts.find((alert) => alert.description?.includes(`Prowler check: ${check}`))!;

  it('makes each public-resource FAIL an exposure of the resource, named as the readers match it', () => {
    const alerts = prowlerSource.parse(fixture('vigil-public-resources.ocsf.json'));
    const named = (check: string) => {
      const alert = byCheck(alerts, check);
      expect(alert.kind, check).toBe('exposure');
      expect(alert.resolution, check).toBeUndefined();
      return alert.resources;
    };
    expect(named('rds_instance_no_public_access')).toEqual([{ type: 'aws:rds:db-instance', id: 'orders-db' }]);
    // Prowler types every RDS snapshot AwsRdsDbSnapshot; the ARN says it is a cluster snapshot.
    expect(named('rds_snapshots_public_access')).toEqual([{ type: 'aws:rds:db-cluster-snapshot', id: 'orders-aurora-final' }]);
    expect(named('elbv2_internet_facing')).toEqual([
      { type: 'aws:elbv2:load-balancer', id: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web-public/50dc6c495c0c9188', name: 'web-public' },
    ]);
    expect(named('elb_internet_facing')).toEqual([{ type: 'aws:elb:load-balancer', id: 'legacy-web' }]);
    // The check types the snapshot AwsEc2Volume and the AMI "Other": the ARN decides.
    expect(named('ec2_ebs_public_snapshot')).toEqual([{ type: 'aws:ec2:snapshot', id: 'snap-0a1b2c3d4e5f60718' }]);
    expect(named('ec2_ami_public')).toEqual([{ type: 'aws:ec2:image', id: 'ami-0123456789abcdef0', name: 'golden-web-2025-11' }]);
    expect(named('awslambda_function_url_public')).toEqual([{ type: 'aws:lambda:function', id: 'webhook-receiver' }]);
    // Prowler writes HTTP API ARNs as `::apis/<id>`.
    expect(named('apigatewayv2_api_authorizers_enabled')).toEqual([{ type: 'aws:apigateway:http-api', id: 'a1b2c3d4e5', name: 'orders-http-api' }]);
    expect(byCheck(alerts, 'rds_instance_no_public_access').network).toEqual({ ips: [], cidrs: [], ports: [] });
  });

  it('makes a PASS of a public-resource check the resolution of its FAIL, not an exposure of its own', () => {
    const passed = byCheck(prowlerSource.parse(fixture('vigil-public-resources.ocsf.json')), 'redshift_cluster_public_access');
    expect(passed.resolution).toBe('Prowler status_code PASS: Redshift Cluster analytics is not publicly accessible.');
    expect(passed.fingerprint).toBe('prowler-aws-redshift_cluster_public_access-111122223333-eu-west-1-analytics');
    expect(passed.resources).toEqual([{ type: 'aws:redshift:cluster', id: 'analytics' }]);
  });

  it('names GCP buckets by name, Cloud SQL instances and images by full resource name in the scanned project', () => {
    const alerts = prowlerSource.parse(fixture('vigil-gcp-public-resources.ocsf.json'));
    expect(alerts.map((alert) => alert.kind)).toEqual(['exposure', 'exposure', 'exposure']);
    expect(byCheck(alerts, 'cloudstorage_bucket_public_access').resources).toEqual([{ type: 'gcp:storage:bucket', id: 'vigil-prod-exports' }]);
    expect(byCheck(alerts, 'cloudsql_instance_public_ip')).toMatchObject({
      resources: [{ type: 'gcp:sql:instance', id: '//sqladmin.googleapis.com/projects/vigil-prod/instances/reports-db', name: 'reports-db' }],
      // A public IP at all: the engine's port on the public (PRIMARY) address.
      network: { ips: ['203.0.113.62'], cidrs: [], ports: [{ from: 3306, to: 3306 }], protocol: 'tcp' },
    });
    // The uid is the image's numeric id; the readers name images by full resource name.
    expect(byCheck(alerts, 'compute_image_not_publicly_shared').resources).toEqual([
      { type: 'gcp:compute:image', id: '//compute.googleapis.com/projects/vigil-prod/global/images/golden-debian-12', name: 'golden-debian-12' },
    ]);
  });

  it('names the account for the account-level Block Public Access check, and leaves other checks as they were', () => {
    const account = sshFinding();
    account.metadata.event_code = 's3_account_level_public_access_blocks';
    account.resources[0] = { ...account.resources[0], type: 'AwsS3AccountPublicAccessBlock', uid: 'arn:aws:s3:eu-west-1:111122223333:account', name: '111122223333' };
    expect(prowlerSource.parse(account)[0]).toMatchObject({
      kind: 'exposure',
      resources: [{ type: 'aws:account', id: 'arn:aws:s3:eu-west-1:111122223333:account', name: '111122223333' }],
    });
    const other = sshFinding();
    other.metadata.event_code = 's3_bucket_secure_transport_policy';
    other.resources[0] = { ...other.resources[0], type: 'AwsS3Bucket', uid: 'arn:aws:s3:::vigil-logs', name: 'vigil-logs' };
    expect(prowlerSource.parse(other)[0]).toMatchObject({ kind: 'resource', resources: [{ type: 'aws:s3:bucket', id: 'vigil-logs' }] });
  });
});
