import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gcpAuditSource } from '../../../intake/sources/gcp-audit';
import { genericSource } from '../../../intake/sources/generic';
import { prowlerSource } from '../../../intake/sources/prowler';
import { decodePubSubPush, isPubSubPushEnvelope } from '../../../intake/sources/pubsub';
import { sccSource } from '../../../intake/sources/scc';
import { UnrecognizedPayloadError } from '../../../intake/sources/types';

const fixturesDir = (source: string) => path.join(import.meta.dirname, '../../fixtures', source);
const fixture = (name: string, source = 'scc'): any => JSON.parse(readFileSync(path.join(fixturesDir(source), name), 'utf8'));
const fixtureNames = (source: string) => readdirSync(fixturesDir(source)).filter((name) => name.endsWith('.json'));

/** A push envelope as Pub/Sub delivers it, around any JSON. */
const push = (body: unknown) => ({
  message: {
    attributes: {},
    data: Buffer.from(JSON.stringify(body)).toString('base64'),
    messageId: '1',
    message_id: '1',
    publishTime: '2025-11-28T09:00:00Z',
    publish_time: '2025-11-28T09:00:00Z',
  },
  subscription: 'projects/p/subscriptions/s',
});
const decoded = (name: string): any => decodePubSubPush(fixture(name));
const parseOne = (payload: unknown) => {
  const alerts = sccSource.parse(payload);
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
};
/** A notification with one finding, for variations. */
const threat = () => structuredClone(decoded('vigil-bad-ip-threat.push.json'));

const noActors = { ips: [], domains: [], principals: [], userAgents: [] };

describe('scc source', () => {
  it('parses every fixture without throwing, one alert each', () => {
    for (const name of fixtureNames('scc')) expect(sccSource.parse(fixture(name)), name).toHaveLength(1);
  });

  it('extracts an OPEN_FIREWALL finding (shared sample: resource nested in the finding)', () => {
    expect(parseOne(fixture('open_firewall-remediated.json'))).toEqual({
      kind: 'exposure',
      fingerprint: 'organizations/0000000000/sources/0000000/findings/2087237f91e4904e344a624c98e52ae6',
      title: 'SCC OPEN_FIREWALL on open-cassandra-port-tcp-7199',
      severity: 'high',
      occurredAt: '2021-06-01T14:57:33.426Z',
      description: expect.stringMatching(/^Firewall rules that allow connections from all IP addresses/),
      cloud: { provider: 'gcp', account: 'test-project' },
      resources: [
        {
          type: 'gcp:compute:firewall',
          id: '//compute.googleapis.com/projects/test-project/global/firewalls/4695668982209007936',
          name: 'open-cassandra-port-tcp-7199',
        },
      ],
      network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 7199, to: 7199 }], protocol: 'tcp' },
      actors: noActors,
    });
  });

  it('gives the same alert for the bare finding, the camelCase push and the snake_case push', () => {
    const bare = parseOne(fixture('open_firewall-remediated.json'));
    const camel = parseOne(fixture('vigil-open-firewall.push.json'));
    const snake = parseOne(fixture('vigil-open-firewall-snake.push.json'));
    expect(decoded('vigil-open-firewall-snake.push.json')).toHaveProperty('finding.source_properties');
    expect(fixture('vigil-open-firewall-snake.push.json').message).not.toHaveProperty('messageId');
    expect(camel.fingerprint).toBe(bare.fingerprint);
    expect(snake.fingerprint).toBe(bare.fingerprint);
    expect(camel).toEqual(bare);
    expect(snake).toEqual(bare);
    // The bare notification (decoded, not enveloped) too.
    expect(parseOne(decoded('vigil-open-firewall.push.json'))).toEqual(bare);
  });

  it('reads OPEN_RDP_PORT ports from OpenPorts, once for TCP and UDP', () => {
    expect(parseOne(fixture('open_rdp_port-remediated.json'))).toMatchObject({
      kind: 'exposure',
      title: 'SCC OPEN_RDP_PORT on default-allow-rdp',
      cloud: { provider: 'gcp', account: 'test-project' },
      resources: [{ type: 'gcp:compute:firewall', id: '//compute.googleapis.com/projects/test-project/global/firewalls/43256709' }],
      // Two protocols have no single name, so no protocol; the sample names no source range.
      network: { ips: [], cidrs: [], ports: [{ from: 3389, to: 3389 }] },
    });
    expect(parseOne(fixture('open_rdp_port-remediated.json')).network).not.toHaveProperty('protocol');
  });

  it('reads PUBLIC_IP_ADDRESS as an exposure of the instance, with its region', () => {
    expect(parseOne(fixture('public_ip_address-remediated.json'))).toMatchObject({
      kind: 'exposure',
      severity: 'high',
      cloud: { provider: 'gcp', account: 'test-project', region: 'us-central1' },
      resources: [
        {
          type: 'gcp:compute:instance',
          id: '//compute.googleapis.com/projects/test-project/zones/us-central1-a/instances/6796113316167375355',
          name: 'integration-test-default-service-account-non-vuln-instance',
        },
      ],
      network: { ips: [], cidrs: [], ports: [] },
    });
  });

  it('reads an older threat finding (no class, no severity) as a medium actor alert', () => {
    expect(parseOne(fixture('bad_ip_scc.json'))).toEqual({
      kind: 'actor',
      fingerprint: 'organizations/0000000000000/sources/0000000000000000000/findings/6a30ce604c11417995b1fa260753f3b5',
      title: 'SCC C2: Bad IP on bad-ip-caller',
      severity: 'medium',
      occurredAt: '2019-11-22T18:34:36.153Z',
      description: expect.stringContaining('Finding: organizations/0000000000000/sources/0000000000000000000/findings/'),
      cloud: { provider: 'gcp', account: '000000000000', region: 'us-central1' },
      resources: [
        { type: 'gcp:project', id: '//cloudresourcemanager.googleapis.com/projects/000000000000' },
        {
          type: 'gcp:compute:instance',
          id: '//compute.googleapis.com/projects/test-project-15511551515/zones/us-central1-a/instances/bad-ip-caller',
          name: 'bad-ip-caller',
        },
      ],
      network: { ips: [], cidrs: [], ports: [] },
      actors: noActors,
    });
  });

  it('puts the bad IPs and domains of a threat finding in actors', () => {
    expect(parseOne(fixture('vigil-bad-ip-threat.push.json'))).toEqual({
      kind: 'actor',
      fingerprint: 'organizations/111122223333/sources/2718281828459045235/findings/3b7c1e0d9a5f4e2c8d6b0a1f2e3d4c5b',
      title: 'SCC Malware: Bad IP on build-runner-7',
      severity: 'high',
      occurredAt: '2025-11-28T09:33:00.120Z',
      description: expect.stringMatching(/^A VM connected to an IP address known to be used by malware\./),
      cloud: { provider: 'gcp', account: 'vigil-prod', region: 'europe-west1' },
      resources: [
        {
          type: 'gcp:compute:instance',
          id: '//compute.googleapis.com/projects/vigil-prod/zones/europe-west1-b/instances/8141592653589793238',
          name: 'build-runner-7',
        },
      ],
      network: { ips: [], cidrs: [], ports: [] },
      // The VM's own side of each connection (10.132.0.7) is not an actor.
      actors: { ips: ['198.51.100.77', '203.0.113.200'], domains: ['c2.example.net'], principals: [], userAgents: [] },
    });
  });

  it('reads an Event Threat Detection grant in the sourceProperties form (shared sample): caller, role, outsider', () => {
    const alert = parseOne(fixture('iam_anomalous_grant-remediated.json'));
    expect(alert).toEqual({
      kind: 'actor',
      fingerprint: 'organizations/0000000000/sources/0000000/findings/12345',
      title: 'SCC Persistence: IAM Anomalous Grant on 12345678',
      severity: 'high',
      description: expect.any(String),
      // The project id the properties name, not only the number of the resource name.
      cloud: { provider: 'gcp', account: 'test-project' },
      resources: [{ type: 'gcp:project', id: '//cloudresourcemanager.googleapis.com/projects/12345678' }],
      network: { ips: [], cidrs: [], ports: [] },
      // Who granted, and the outsider granted roles/owner.
      actors: { ips: [], domains: [], principals: ['test-user@test-project.iam.gserviceaccount.com', 'user:test-user@gmail.com'], userAgents: [] },
    });
    expect(alert.description!.split('\n')).toEqual(
      expect.arrayContaining([
        'Caller: test-user@test-project.iam.gserviceaccount.com',
        'Granted: roles/owner to user:test-user@gmail.com',
        'External members: user:test-user@gmail.com',
        'Detection: iam_anomalous_grant / external_member_added_to_policy (technique persistence, indicator audit_log)',
      ]),
    );
  });

  it('never gives the epoch as the time: the sample says 1970-01-01 for both times, so no time, and says why', () => {
    const alert = parseOne(fixture('iam_anomalous_grant-remediated.json'));
    expect(alert).not.toHaveProperty('occurredAt');
    expect(alert.description).toContain(
      'Time: the finding has no real time (eventTime 1970-01-01T00:00:00Z, createTime 1970-01-01T00:00:00Z); only when it was received is known.',
    );
  });

  it('falls back to the create time when the event time is missing or the epoch, and says so', () => {
    const timed = (times: object) => {
      const notification = decoded('vigil-iam-anomalous-grant.push.json');
      Object.assign(notification.finding, times);
      return parseOne(push(notification));
    };
    const real = timed({});
    expect(real.occurredAt).toBe('2025-11-28T10:12:45.310Z');
    expect(real.description).not.toMatch(/^Time:/m);

    const epoch = timed({ eventTime: '1970-01-01T00:00:00Z' });
    expect(epoch.occurredAt).toBe('2025-11-28T10:12:49.822Z');
    expect(epoch.description).toContain(
      'Time: the finding has no event time (eventTime 1970-01-01T00:00:00Z); the time given is when Security Command Center created the finding (createTime).',
    );
    const missing = timed({ eventTime: undefined });
    expect(missing.occurredAt).toBe('2025-11-28T10:12:49.822Z');
    expect(missing.description).toContain('Time: the finding has no event time (no eventTime);');
    // A second after the epoch is no time either, nor is what is not a date.
    expect(timed({ eventTime: '1970-01-01T00:01:05Z', createTime: 'soon' })).not.toHaveProperty('occurredAt');
    // snake_case, as exports write it.
    expect(timed({ eventTime: undefined, event_time: '1970-01-01T00:00:00Z', createTime: undefined, create_time: '2025-11-28T10:12:49.822Z' }).occurredAt).toBe(
      '2025-11-28T10:12:49.822Z',
    );
  });

  it('reads a brute force in the sourceProperties form (shared sample): source addresses, logins, the VM', () => {
    const alert = parseOne(fixture('ssh_brute_force-remediated.json'));
    expect(alert).toMatchObject({
      kind: 'actor',
      title: 'SCC Brute Force: SSH on instance-1',
      severity: 'high',
      cloud: { provider: 'gcp', account: 'test-project', region: 'us-west1' },
      resources: [
        { type: 'gcp:project', id: '//cloudresourcemanager.googleapis.com/projects/12345678' },
        { type: 'gcp:compute:instance', id: '//compute.googleapis.com/projects/test-project/zones/us-west1-a/instances/1234', name: 'instance-1' },
      ],
      actors: { ips: ['192.0.2.100'], domains: [], principals: [], userAgents: [] },
    });
    expect(alert).not.toHaveProperty('occurredAt');
    expect(alert.description!.split('\n')).toEqual(
      expect.arrayContaining([
        // One of the three attempts succeeded: the line says so.
        'Login attempts from 192.0.2.100: 3, 1 succeeded (users etd_tester, etd_tester-2)',
        'Detection: ssh_brute_force (technique brute_force, indicator flow_log)',
        // mitreAttack in snake_case, as in the sample.
        'MITRE ATT&CK: INITIAL_ACCESS: VALID_ACCOUNTS, LOCAL_ACCOUNTS',
      ]),
    );
    // A long brute force names its first ten users, and counts the rest.
    const long = fixture('ssh_brute_force-remediated.json');
    long.finding.sourceProperties.properties.attempts = Array.from({ length: 300 }, (_, n) => ({ sourceIp: '192.0.2.100', username: `user${n % 15}`, authResult: 'FAIL' }));
    expect(parseOne(long).description).toContain(
      'Login attempts from 192.0.2.100: 300, 0 succeeded (users user0, user1, user2, user3, user4, user5, user6, user7, user8, user9 and 5 more)',
    );
  });

  it('reads a current threat finding in full: access, delegation, IAM bindings, MITRE ATT&CK', () => {
    const alert = parseOne(fixture('vigil-iam-anomalous-grant.push.json'));
    expect(alert).toEqual({
      kind: 'actor',
      fingerprint: 'organizations/111122223333/sources/2718281828459045235/findings/9d4e2a7b1c3f4d5e8a6b0c2d4e6f8a1b',
      title: 'SCC Persistence: IAM Anomalous Grant on vigil-prod',
      severity: 'high',
      occurredAt: '2025-11-28T10:12:45.310Z',
      description: [
        'A member from outside the organization was granted a sensitive role on a project.',
        '',
        'Caller: ci-deployer@vigil-prod.iam.gserviceaccount.com from 203.0.113.45',
        'Delegation chain: ops-lead@example.com',
        'Call: cloudresourcemanager.googleapis.com SetIamPolicy',
        'Granted: roles/owner to user:outsider@example.net',
        'Removed: roles/viewer from user:outsider@example.net',
        'Detection: iam_anomalous_grant / external_member_added_to_policy (technique persistence, indicator audit_log)',
        'MITRE ATT&CK: PERSISTENCE: ACCOUNT_MANIPULATION',
        '',
        'Detected by: Event Threat Detection',
        '',
        'Console: https://console.cloud.google.com/iam-admin/iam?project=vigil-prod',
        '',
        'Finding: organizations/111122223333/sources/2718281828459045235/findings/9d4e2a7b1c3f4d5e8a6b0c2d4e6f8a1b',
      ].join('\n'),
      cloud: { provider: 'gcp', account: 'vigil-prod' },
      resources: [{ type: 'gcp:project', id: '//cloudresourcemanager.googleapis.com/projects/271828182845', name: 'vigil-prod' }],
      network: { ips: [], cidrs: [], ports: [] },
      actors: {
        ips: ['203.0.113.45'],
        domains: [],
        // The caller, who it acted for, and who was granted a role (not who lost one).
        principals: ['ci-deployer@vigil-prod.iam.gserviceaccount.com', 'ops-lead@example.com', 'user:outsider@example.net'],
        userAgents: ['google-cloud-sdk gcloud/502.0.0 command/gcloud.projects.add-iam-policy-binding'],
      },
    });
  });

  it('reads grants under the rule name, as JSON strings, and with numeric actions', () => {
    const notification = threat();
    notification.finding.sourceProperties.properties = JSON.stringify({
      sensitiveRoleGrant: {
        principalEmail: 'admin@example.com',
        bindingDeltas: [
          { action: 1, role: 'roles/editor', member: 'serviceAccount:x@example.iam.gserviceaccount.com' },
          { action: 2, role: 'roles/viewer', member: 'group:old@example.com' },
          { role: 'roles/browser', member: 'domain:example.org' },
          { action: 'ADD', role: 'roles/editor' },
        ],
      },
    });
    const alert = parseOne(push(notification));
    expect(alert.actors.principals).toEqual(['admin@example.com', 'serviceAccount:x@example.iam.gserviceaccount.com']);
    expect(alert.description).toContain(
      [
        'Caller: admin@example.com',
        'Granted: roles/editor to serviceAccount:x@example.iam.gserviceaccount.com',
        'Removed: roles/viewer from group:old@example.com',
        'IAM binding: roles/browser for domain:example.org',
      ].join('\n'),
    );
  });

  it('reads Security Health Analytics findings of both forms (shared samples)', () => {
    expect(parseOne(fixture('non_org_iam_member.json'))).toMatchObject({
      kind: 'resource',
      severity: 'high',
      occurredAt: '2019-10-18T15:30:22.082Z',
      description: expect.stringMatching(/^A user outside of your organization has IAM permissions on a project or organization\.\n\nGo to /),
    });
    // The current form: resource nested in snake_case, OpenPorts for TCP and SCTP.
    expect(parseOne(fixture('open_ssh_port-remediated.json'))).toMatchObject({
      kind: 'exposure',
      title: 'SCC OPEN_SSH_PORT on default-allow-ssh',
      occurredAt: '2021-06-14T14:55:34.789Z',
      cloud: { provider: 'gcp', account: 'test-project' },
      resources: [{ type: 'gcp:compute:firewall', id: '//compute.googleapis.com/projects/test-project/global/firewalls/43256709', name: 'default-allow-ssh' }],
      network: { ips: [], cidrs: [], ports: [{ from: 22, to: 22 }] },
    });
  });

  it('never crashes on odd values of what happened', () => {
    const notification = threat();
    Object.assign(notification.finding, {
      iamBindings: {},
      access: { serviceAccountDelegationInfo: 'x', principalSubject: 'principal://iam.googleapis.com/locations/global/workforcePools/p/subject/s' },
      mitreAttack: [],
    });
    notification.finding.sourceProperties.properties = {
      attempts: [null, { sourceIp: 'nope' }, { sourceIp: '198.51.100.9', authResult: 7 }],
      bindingDeltas: 'garbage',
      externalMembers: {},
      zone: 'us-east1-b/../x',
      projectId: 'p',
      instanceId: 9,
      nested: { bindingDeltas: [[], 5] },
    };
    const alert = parseOne(push(notification));
    expect(alert.actors).toMatchObject({
      ips: ['198.51.100.77', '203.0.113.200', '198.51.100.9'],
      principals: ['principal://iam.googleapis.com/locations/global/workforcePools/p/subject/s'],
    });
    // A zone with a slash names no VM.
    expect(alert.resources.map((ref) => ref.id)).toEqual(['//compute.googleapis.com/projects/vigil-prod/zones/europe-west1-b/instances/8141592653589793238']);
    expect(alert.description).toContain('Login attempts from 198.51.100.9: 1, 0 succeeded');
  });

  // Choice: an INACTIVE finding is a remediation notice. It is still an alert, with the finding's
  // fingerprint, so it lands on the issue of the active finding, and it says "inactive" in its title
  // and description. (The shared `*-remediated` samples carry state ACTIVE, so they read as active.)
  it('parses an INACTIVE finding as a remediation notice on the same issue', () => {
    const inactive = parseOne(fixture('vigil-open-ssh-port-inactive.push.json'));
    expect(inactive).toMatchObject({
      kind: 'exposure',
      fingerprint: 'organizations/111122223333/sources/1618033988749894848/findings/5e1f0a9c8b7d6e5f4a3b2c1d0e9f8a7b',
      title: 'SCC OPEN_SSH_PORT (inactive) on allow-ssh-anywhere',
      severity: 'high',
      cloud: { provider: 'gcp', account: 'vigil-prod' },
      network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 22, to: 22 }], protocol: 'tcp' },
    });
    expect(inactive.description).toMatch(/^State: INACTIVE\. .*remediation notice/);

    const notification = decoded('vigil-open-ssh-port-inactive.push.json');
    notification.finding.state = 'ACTIVE';
    const active = parseOne(push(notification));
    expect(active.fingerprint).toBe(inactive.fingerprint);
    expect(active.title).toBe('SCC OPEN_SSH_PORT on allow-ssh-anywhere');
    expect(active.description).not.toMatch(/INACTIVE/);
    for (const name of ['open_firewall-remediated.json', 'open_rdp_port-remediated.json', 'public_ip_address-remediated.json']) {
      expect(parseOne(fixture(name)).title, name).not.toMatch(/inactive/);
    }
  });

  it('maps CRITICAL/HIGH/MEDIUM/LOW, and unspecified or missing to medium', () => {
    const severity = (value: unknown) => {
      const notification = threat();
      notification.finding.severity = value;
      // Without the older findings' own word for it (see the next test).
      delete notification.finding.sourceProperties.detectionPriority;
      return parseOne(push(notification)).severity;
    };
    expect(severity('CRITICAL')).toBe('critical');
    expect(severity('HIGH')).toBe('high');
    expect(severity('MEDIUM')).toBe('medium');
    expect(severity('LOW')).toBe('low');
    expect(severity('SEVERITY_UNSPECIFIED')).toBe('medium');
    expect(severity(undefined)).toBe('medium');
    expect(severity(7)).toBe('medium');
  });

  it('takes the severity of older findings from detectionPriority or SeverityLevel', () => {
    const severity = (change: object, properties: object) => {
      const notification = threat();
      Object.assign(notification.finding, change);
      notification.finding.sourceProperties = properties;
      return parseOne(push(notification)).severity;
    };
    expect(severity({ severity: undefined }, { detectionPriority: 'LOW' })).toBe('low');
    expect(severity({ severity: 'SEVERITY_UNSPECIFIED' }, { SeverityLevel: 'Critical' })).toBe('critical');
    // The finding's own severity comes first.
    expect(severity({ severity: 'LOW' }, { detectionPriority: 'HIGH' })).toBe('low');
    expect(severity({ severity: undefined }, { detectionPriority: 'whatever' })).toBe('medium');
    // The shared samples: an anomalous grant (detectionPriority HIGH, and severity HIGH) and a
    // Security Health Analytics finding of 2019 with SeverityLevel "High" and no severity.
    expect(parseOne(fixture('non_org_iam_member.json')).severity).toBe('high');
  });

  it('chooses the kind from the category and the finding class', () => {
    const parseFinding = (change: object) => {
      const notification = threat();
      Object.assign(notification.finding, change);
      return parseOne(push(notification));
    };
    const ssh = parseFinding({ category: 'OPEN_SSH_PORT', findingClass: 'MISCONFIGURATION', sourceProperties: {} });
    // Without ports in the source properties, the category's own port.
    expect(ssh).toMatchObject({ kind: 'exposure', network: { ports: [{ from: 22, to: 22 }] } });
    expect(parseFinding({ category: 'OPEN_MONGODB_PORT', sourceProperties: {} }).network.ports).toEqual([{ from: 27017, to: 27019 }]);
    expect(parseFinding({ category: 'PUBLIC_SQL_INSTANCE', findingClass: 'MISCONFIGURATION' }).kind).toBe('exposure');
    expect(parseFinding({ category: 'Persistence: IAM Anomalous Grant', findingClass: 'THREAT' }).kind).toBe('actor');
    expect(parseFinding({ category: 'MFA_NOT_ENFORCED', findingClass: 'MISCONFIGURATION' }).kind).toBe('resource');
    expect(parseFinding({ category: 'Persistence: Project SSH Key Added', findingClass: 'OBSERVATION' }).kind).toBe('resource');
    expect(parseFinding({ category: 'Malware: Bad Domain', findingClass: undefined }).kind).toBe('actor');
  });

  it('reads the older firewall properties: Allowed and SourceRanges, also as JSON strings', () => {
    const notification = decoded('vigil-open-firewall.push.json');
    notification.finding.sourceProperties = {
      Allowed: '[{"IPProtocol":"tcp","ports":["22","8000-8080"]},{"IPProtocol":"udp"}]',
      SourceRanges: ['0.0.0.0/0', '198.51.100.7', 'bogus/99'],
      ExternalIp: ['203.0.113.9', 'not-an-ip'],
    };
    expect(parseOne(push(notification)).network).toEqual({
      ips: ['203.0.113.9'],
      cidrs: ['0.0.0.0/0', '198.51.100.7/32'],
      ports: [{ from: 0, to: 65535 }, { from: 22, to: 22 }, { from: 8000, to: 8080 }],
    });
  });

  it('keeps access callers and filters what is not an address or a domain', () => {
    const notification = threat();
    notification.finding.indicator = { ipAddresses: ['999.1.1.1', '2001:db8::66'], domains: ['bad domain', 'evil.example.'] };
    notification.finding.connections = {};
    notification.finding.access = { principalEmail: 'mallory@example.com', callerIp: '10.0.0.3', userAgent: 'curl/8.5.0' };
    expect(parseOne(push(notification)).actors).toEqual({
      // A caller inside the network is still the caller; only flows drop their private (VM) side.
      ips: ['2001:db8::66', '10.0.0.3'],
      domains: ['evil.example'],
      principals: ['mallory@example.com'],
      userAgents: ['curl/8.5.0'],
    });
  });

  it('names resource types from the asset type or the full resource name', () => {
    const typeOf = (resource: object) => {
      const notification = threat();
      notification.resource = resource;
      return parseOne(push(notification)).resources[0]!.type;
    };
    const name = '//compute.googleapis.com/projects/p/global/firewalls/1';
    expect(typeOf({ name, type: 'google.compute.Firewall' })).toBe('gcp:compute:firewall');
    expect(typeOf({ name, type: 'compute.googleapis.com/Firewall' })).toBe('gcp:compute:firewall');
    expect(typeOf({ name })).toBe('gcp:compute:firewall');
    expect(typeOf({ name: '//iam.googleapis.com/projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com' })).toBe('gcp:iam:service-account');
    expect(typeOf({ name: '//cloudresourcemanager.googleapis.com/projects/123', type: 'google.cloud.resourcemanager.Project' })).toBe('gcp:project');
    expect(typeOf({ name: '//sqladmin.googleapis.com/projects/p/instances/db', type: 'google.cloud.sql.Instance' })).toBe('gcp:sql:instance');
  });

  it('never crashes on odd values', () => {
    const odd = parseOne({
      finding: {
        name: 'organizations/1/sources/2/locations/global/findings/3',
        category: 'OPEN_FIREWALL',
        sourceProperties: [],
        resource: 'nope',
        indicator: { ipAddresses: {} },
        connections: [null, 5],
        eventTime: 17,
      },
      resource: { name: 42, location: 'europe-west4-a' },
    });
    expect(odd).toMatchObject({
      kind: 'exposure',
      fingerprint: 'organizations/1/sources/2/locations/global/findings/3',
      title: 'SCC OPEN_FIREWALL on 42',
      severity: 'medium',
      cloud: { provider: 'gcp', region: 'europe-west4' },
      resources: [{ type: 'gcp:resource', id: '42' }],
      network: { ips: [], cidrs: [], ports: [] },
      actors: noActors,
    });
    expect(odd.occurredAt).toBeUndefined();
  });

  it('detects SCC payloads, bare or enveloped, and nothing else', () => {
    for (const name of fixtureNames('scc')) {
      expect(sccSource.detect(fixture(name)), name).toBe(true);
      expect(prowlerSource.detect(fixture(name)), `prowler on ${name}`).toBe(false);
      expect(gcpAuditSource.detect(fixture(name)), `gcp-audit on ${name}`).toBe(false);
      expect(genericSource.detect(fixture(name)), `generic on ${name}`).toBe(false);
    }
    expect(sccSource.detect(decoded('vigil-open-firewall.push.json'))).toBe(true);
    for (const [source, names] of [['prowler', fixtureNames('prowler')], ['gcp-audit', fixtureNames('gcp-audit')]] as const) {
      for (const name of names) expect(sccSource.detect(fixture(name, source)), `${source}/${name}`).toBe(false);
    }
    expect(sccSource.detect({ title: 'x', severity: 'low' })).toBe(false);
    expect(sccSource.detect(push({ title: 'x', severity: 'low' }))).toBe(false);
    expect(sccSource.detect({ finding: { name: 'findings/1', category: 'OPEN_FIREWALL' } })).toBe(false);
    expect(sccSource.detect({ message: { data: 'not base64 json!' }, subscription: 'projects/p/subscriptions/s' })).toBe(false);
  });

  it('refuses what is not an SCC finding, saying what it expected', () => {
    expect(() => sccSource.parse({ title: 'x', severity: 'low' })).toThrow(UnrecognizedPayloadError);
    expect(() => sccSource.parse(fixture('vigil-insert-ssh.push.json', 'gcp-audit'))).toThrow(/carries something else/);
    expect(() => sccSource.parse({ message: { data: '%%%', messageId: '1' } })).toThrow(/no base64 JSON/);
    expect(() => sccSource.parse([])).toThrow(/notificationConfigName.*finding.*resource/);
  });
});

describe('Pub/Sub push envelopes', () => {
  it('decode base64 JSON data, camelCase or snake_case', () => {
    expect(decodePubSubPush(push({ a: 1 }))).toEqual({ a: 1 });
    const snake = { message: { data: Buffer.from('[1]').toString('base64'), message_id: '7', publish_time: 'x' } };
    expect(decodePubSubPush(snake)).toEqual([1]);
  });

  it('are undefined when they are not envelopes or carry no JSON', () => {
    expect(isPubSubPushEnvelope({ message: { data: 'e30=' } })).toBe(false);
    expect(decodePubSubPush({ message: { data: 'e30=' } })).toBeUndefined();
    expect(decodePubSubPush({ message: { data: 42, messageId: '1' } })).toBeUndefined();
    expect(decodePubSubPush({ message: { data: Buffer.from('not json').toString('base64'), messageId: '1' } })).toBeUndefined();
    expect(decodePubSubPush({ message: { data: 'ünïcode', messageId: '1' } })).toBeUndefined();
    expect(decodePubSubPush(null)).toBeUndefined();
  });
});

describe('scc source: public resources', () => {
  it('makes PUBLIC_BUCKET_ACL an exposure of the bucket, named by its name, in the project its properties name (shared sample)', () => {
    expect(parseOne(fixture('public_bucket_acl-remediated.json'))).toMatchObject({
      kind: 'exposure',
      severity: 'high',
      cloud: { provider: 'gcp', account: 'test-project' },
      resources: [{ type: 'gcp:storage:bucket', id: 'this-is-public-on-purpose' }],
      network: { ips: [], cidrs: [], ports: [] },
    });
  });

  it('names a Cloud SQL instance by its sqladmin full name, not SCC\'s cloudsql one (shared sample PUBLIC_SQL_INSTANCE)', () => {
    expect(parseOne(fixture('public_sql_instance-remediated.json'))).toMatchObject({
      kind: 'exposure',
      resources: [{ type: 'gcp:sql:instance', id: '//sqladmin.googleapis.com/projects/test-project/instances/postgre-nossl-open-nobackup', name: 'postgre-nossl-open-nobackup' }],
    });
  });

  it('makes PUBLIC_COMPUTE_IMAGE an exposure of the image, with its display name beside the numeric full name', () => {
    expect(parseOne(fixture('vigil-public-compute-image.push.json'))).toMatchObject({
      kind: 'exposure',
      cloud: { provider: 'gcp', account: 'test-project' },
      resources: [{ type: 'gcp:compute:image', id: '//compute.googleapis.com/projects/test-project/global/images/5120937465183745619', name: 'golden-debian-12' }],
    });
  });

  it('makes PUBLIC_LOG_BUCKET an exposure too, and an INACTIVE one its resolution', () => {
    const finding = structuredClone(fixture('public_bucket_acl-remediated.json'));
    finding.finding.category = 'PUBLIC_LOG_BUCKET';
    expect(parseOne(finding).kind).toBe('exposure');
    finding.finding.state = 'INACTIVE';
    const resolved = parseOne(finding);
    expect(resolved.resolution).toMatch(/INACTIVE/);
    expect(resolved.fingerprint).toBe(parseOne(fixture('public_bucket_acl-remediated.json')).fingerprint);
  });

  it('keeps bucket hygiene and public datasets (no reader for them) as resources (shared samples)', () => {
    expect(parseOne(fixture('bucket_policy_only_disabled-remediated.json'))).toMatchObject({
      kind: 'resource',
      resources: [{ type: 'gcp:storage:bucket', id: 'unique-test-bucket' }],
    });
    expect(parseOne(fixture('public_dataset.json'))).toMatchObject({
      kind: 'resource',
      resources: [{ type: 'gcp:bigquery:dataset', id: '//bigquery.googleapis.com/projects/test-project/datasets/public_dataset123' }],
    });
  });
});
