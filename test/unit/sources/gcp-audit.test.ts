import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { ParsedAlert } from '../../../lib/alert';
import { ConfigError } from '../../../lib/config';
import { createSourceAdapters } from '../../../intake/sources';
import { createGcpAuditSource, gcpAuditRules, gcpAuditSource } from '../../../intake/sources/gcp-audit';
import { genericSource } from '../../../intake/sources/generic';
import { prowlerSource } from '../../../intake/sources/prowler';
import { decodePubSubPush } from '../../../intake/sources/pubsub';
import { sccSource } from '../../../intake/sources/scc';
import { UnrecognizedPayloadError } from '../../../intake/sources/types';

const fixturesDir = (source: string) => path.join(import.meta.dirname, '../../fixtures', source);
const fixture = (name: string, source = 'gcp-audit'): any => JSON.parse(readFileSync(path.join(fixturesDir(source), name), 'utf8'));
const fixtureNames = (source: string) => readdirSync(fixturesDir(source)).filter((name) => name.endsWith('.json'));

/** A log sink's push: the LogEntry JSON, base64, in a Pub/Sub envelope. */
const push = (entry: unknown) => ({
  message: { attributes: {}, data: Buffer.from(JSON.stringify(entry)).toString('base64'), messageId: '1', publishTime: '2025-11-28T09:00:00Z' },
  subscription: 'projects/p/subscriptions/s',
});
/** The first entry of `gcloud compute firewall-rules create allow-ssh-anywhere --allow tcp:22 --source-ranges 0.0.0.0/0`. */
const sshEntry = () => fixture('vigil-insert-ssh.json');
/** The SSH entry with its request changed. */
const withRequest = (change: object, method?: string) => {
  const entry = sshEntry();
  Object.assign(entry.protoPayload.request, change);
  if (method) entry.protoPayload.methodName = method;
  return entry;
};
/** The entries of a Panther rule file's tests (unchanged copies of panther-analysis), by test name. */
const pantherLogs = (name: string): Record<string, any> =>
  Object.fromEntries(
    (parseYaml(readFileSync(path.join(fixturesDir('gcp-audit'), 'panther', name), 'utf8')).Tests as { Name: string; Log: unknown }[]).map(
      (test) => [test.Name, test.Log],
    ),
  );
/** The rule an alert came from, as its description names it. */
const ruleOf = (alert: ParsedAlert) => /^Rule: ([a-z0-9-]+) \(/m.exec(alert.description ?? '')?.[1];
const alsoMatched = (alert: ParsedAlert) => /^Also matched: (.+)$/m.exec(alert.description ?? '')?.[1]?.split(', ') ?? [];
const only = (payload: unknown, source = gcpAuditSource): ParsedAlert => {
  const alerts = source.parse(payload);
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
};
const GCLOUD_AGENT = expect.stringMatching(/^google-cloud-sdk gcloud\/497\.0\.0 command\/gcloud\.compute\.firewall-rules\.create /);

describe('gcp-audit source', () => {
  it('parses every firewall fixture without throwing', () => {
    for (const name of fixtureNames('gcp-audit').filter((name) => name !== 'vigil-instance-insert.push.json')) {
      expect(() => gcpAuditSource.parse(fixture(name)), name).not.toThrow();
    }
  });

  it('turns a firewall insert opening SSH to 0.0.0.0/0 into a critical exposure', () => {
    expect(gcpAuditSource.parse(sshEntry())).toEqual([
      {
        kind: 'exposure',
        fingerprint: 'gcp:vigil-prod:firewall/allow-ssh-anywhere',
        detections: [{ engine: 'built-in', id: 'firewall-admin-open-to-internet', level: 'critical', title: 'A Compute Engine firewall rule allowing every port, SSH (22) or RDP (3389) from 0.0.0.0/0 or ::/0' }],
        title: 'GCP firewall rule allow-ssh-anywhere allows tcp:22 from 0.0.0.0/0',
        severity: 'critical',
        occurredAt: '2025-11-28T09:14:03.512Z',
        description: expect.stringMatching(/^alice@example\.com called v1\.compute\.firewalls\.insert on projects\/vigil-prod\/global\/firewalls\/allow-ssh-anywhere\./),
        cloud: { provider: 'gcp', account: 'vigil-prod' },
        resources: [
          { type: 'gcp:compute:firewall', id: '//compute.googleapis.com/projects/vigil-prod/global/firewalls/allow-ssh-anywhere', name: 'allow-ssh-anywhere' },
        ],
        network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 22, to: 22 }], protocol: 'tcp' },
        actors: { ips: ['198.51.100.23'], domains: [], principals: ['alice@example.com'], userAgents: [GCLOUD_AGENT] },
      },
    ]);
    expect(gcpAuditSource.parse(sshEntry())[0]!.description).toContain('Applies to: bastion of https://www.googleapis.com/compute/v1/projects/vigil-prod/global/networks/default, priority 1000.');
  });

  it('gives the same alert for the log sink push and the bare entry', () => {
    const enveloped = fixture('vigil-insert-ssh.push.json');
    expect(decodePubSubPush(enveloped)).toEqual(sshEntry());
    expect(gcpAuditSource.parse(enveloped)).toEqual(gcpAuditSource.parse(sshEntry()));
  });

  it('collapses repeated edits of one rule into one fingerprint', () => {
    const [update] = gcpAuditSource.parse(fixture('vigil-update-all.json'));
    expect(update).toMatchObject({
      fingerprint: 'gcp:vigil-prod:firewall/allow-ssh-anywhere',
      title: 'GCP firewall rule allow-ssh-anywhere allows all protocols and ports from 0.0.0.0/0',
      severity: 'critical',
      occurredAt: '2025-11-28T11:20:01.802Z',
      network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 0, to: 65535 }], protocol: 'all' },
    });
    expect(update!.fingerprint).toBe(gcpAuditSource.parse(sshEntry())[0]!.fingerprint);
  });

  it('reads a beta patch opening web ports to ::/0, without the internal caller "IP"', () => {
    expect(gcpAuditSource.parse(fixture('vigil-patch-ipv6-web.push.json'))).toEqual([
      {
        kind: 'exposure',
        fingerprint: 'gcp:vigil-prod:firewall/web-ipv6',
        detections: [{ engine: 'built-in', id: 'firewall-open-to-internet', level: 'high', title: 'A Compute Engine firewall rule inserted, patched or updated to allow ingress from 0.0.0.0/0 or ::/0' }],
        title: 'GCP firewall rule web-ipv6 allows tcp:443,8000-8080 from ::/0',
        severity: 'high',
        occurredAt: '2025-11-28T10:20:02.240Z',
        description: expect.stringContaining('Caller IP: gce-internal-ip'),
        cloud: { provider: 'gcp', account: 'vigil-prod' },
        resources: [{ type: 'gcp:compute:firewall', id: '//compute.googleapis.com/projects/vigil-prod/global/firewalls/web-ipv6', name: 'web-ipv6' }],
        network: { ips: [], cidrs: ['::/0'], ports: [{ from: 443, to: 443 }, { from: 8000, to: 8080 }], protocol: 'tcp' },
        actors: {
          ips: [],
          domains: [],
          principals: ['deployer@vigil-prod.iam.gserviceaccount.com'],
          userAgents: [expect.stringContaining('Terraform/1.9.8')],
        },
      },
    ]);
    // A patch that names no targets keeps the rule's targets: the description does not claim "every instance".
    expect(gcpAuditSource.parse(fixture('vigil-patch-ipv6-web.push.json'))[0]!.description).not.toContain('every instance');
  });

  it('treats an insert that names no source as open to 0.0.0.0/0, as GCP does', () => {
    const [alert] = gcpAuditSource.parse(fixture('vigil-insert-default-source.json'));
    expect(alert).toMatchObject({
      fingerprint: 'gcp:vigil-prod:firewall/allow-http',
      title: 'GCP firewall rule allow-http allows tcp:80, icmp from 0.0.0.0/0',
      severity: 'high',
      network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 80, to: 80 }] },
      actors: { ips: ['2001:db8:4a::17'] },
    });
    // tcp and icmp together have no single protocol name.
    expect(alert!.network).not.toHaveProperty('protocol');
    expect(alert!.description).toContain('GCP applies its default source range 0.0.0.0/0');
    // Source tags or service accounts are a source: then nothing is opened to the internet.
    const tagged = fixture('vigil-insert-default-source.json');
    tagged.protoPayload.request.sourceTags = ['web'];
    expect(gcpAuditSource.parse(tagged)).toEqual([]);
    // A patch without sourceRanges keeps the rule's ranges, which the entry does not show.
    expect(gcpAuditSource.parse(withRequest({ sourceRanges: undefined }, 'beta.compute.firewalls.patch'))).toEqual([]);
  });

  it('gives zero alerts for firewall changes that do not open to the internet', () => {
    expect(gcpAuditSource.parse(fixture('vigil-insert-internal.json'))).toEqual([]);
    // The operation's last entry repeats only the request's @type.
    expect(gcpAuditSource.parse(fixture('vigil-insert-ssh-last.json'))).toEqual([]);
    expect(gcpAuditSource.parse(withRequest({ direction: 'EGRESS', destinationRanges: ['0.0.0.0/0'] }))).toEqual([]);
    expect(gcpAuditSource.parse(withRequest({ disabled: true }))).toEqual([]);
    expect(gcpAuditSource.parse(withRequest({ alloweds: undefined, denieds: [{ IPProtocol: 'all' }] }))).toEqual([]);
    expect(gcpAuditSource.parse(withRequest({ sourceRanges: ['0.0.0.0/1', '128.0.0.0/1'] }))).toEqual([]);
    const failed = sshEntry();
    failed.protoPayload.status = { code: 7, message: 'Required permission compute.firewalls.create' };
    expect(gcpAuditSource.parse(failed)).toEqual([]);
  });

  it('is critical for every port, SSH or RDP, and high otherwise', () => {
    const severity = (alloweds: unknown) => gcpAuditSource.parse(withRequest({ alloweds }))[0]!.severity;
    expect(severity([{ IPProtocol: 'tcp', ports: ['443'] }])).toBe('high');
    expect(severity([{ IPProtocol: 'icmp' }])).toBe('high');
    expect(severity([{ IPProtocol: 'tcp', ports: ['3000-4000'] }])).toBe('critical');
    expect(severity([{ IPProtocol: 'udp' }])).toBe('critical');
    expect(severity([{ IPProtocol: 'all' }])).toBe('critical');
    expect(severity([{ IPProtocol: '6', ports: ['22'] }])).toBe('critical');
    // Ports that cannot be read are unknown, not every port.
    expect(severity([{ IPProtocol: 'tcp', ports: ['http'] }])).toBe('high');
  });

  it('accepts the API spelling `allowed` and a list of entries', () => {
    const [alert] = gcpAuditSource.parse(withRequest({ alloweds: undefined, allowed: [{ IPProtocol: 'tcp', ports: ['8443'] }] }));
    expect(alert!.network.ports).toEqual([{ from: 8443, to: 8443 }]);
    const list = [sshEntry(), fixture('vigil-insert-internal.json'), decodePubSubPush(fixture('vigil-instance-insert.push.json'))];
    expect(gcpAuditSource.parse(list).map((alert) => alert.fingerprint)).toEqual(['gcp:vigil-prod:firewall/allow-ssh-anywhere']);
  });

  // Changed deliberately (issue 14): a well-formed audit log entry that no rule matches was refused
  // (an "unparsed" issue); a log sink sends every kind of entry, so it is now no alert, counted.
  it('gives no alert for an audit entry no rule matches, and counts it', () => {
    const instance = fixture('vigil-instance-insert.push.json');
    const tally = { unmatched: 0 };
    expect(gcpAuditSource.parse(instance, tally)).toEqual([]);
    expect(gcpAuditSource.parse([decodePubSubPush(instance)], tally)).toEqual([]);
    expect(tally.unmatched).toBe(2);
  });

  it('refuses what is not an audit log entry', () => {
    for (const payload of [{ title: 'x', severity: 'low' }, [], null, fixture('open_firewall-remediated.json', 'scc')]) {
      expect(() => gcpAuditSource.parse(payload)).toThrow(UnrecognizedPayloadError);
    }
    expect(() => gcpAuditSource.parse(fixture('vigil-open-firewall.push.json', 'scc'))).toThrow(/Pub\/Sub push envelope.*not an audit log entry/);
    const notAudit = sshEntry();
    notAudit.protoPayload['@type'] = 'type.googleapis.com/google.cloud.audit.Other';
    expect(() => gcpAuditSource.parse(notAudit)).toThrow(/not a Cloud Audit Log entry/);
  });

  it('never crashes on odd values', () => {
    const odd = sshEntry();
    odd.protoPayload.request.alloweds = [{ IPProtocol: 'tcp', ports: ['99999', 'x', {}, 22] }, 'tcp', null];
    odd.protoPayload.request.sourceRanges = {};
    odd.protoPayload.requestMetadata = { callerIp: 'private', callerSuppliedUserAgent: {} };
    odd.protoPayload.authenticationInfo = [];
    odd.resource = null;
    odd.timestamp = 1764321243;
    // sourceRanges `{}` is no range: an insert without a source gets 0.0.0.0/0.
    expect(gcpAuditSource.parse(odd)).toEqual([
      expect.objectContaining({
        fingerprint: 'gcp:vigil-prod:firewall/allow-ssh-anywhere',
        occurredAt: '2025-11-28T09:14:04.187652311Z',
        network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 22, to: 22 }], protocol: 'tcp' },
        actors: { ips: [], domains: [], principals: [], userAgents: [] },
      }),
    ]);
    const nameless = sshEntry();
    delete nameless.protoPayload.resourceName;
    delete nameless.protoPayload.request.name;
    expect(() => gcpAuditSource.parse(nameless)).toThrow(UnrecognizedPayloadError);
  });

  // Changed deliberately (issue 14): every Cloud Audit Log entry is this source's (the `auto` route),
  // not only firewall changes.
  it('detects every audit log entry, and nothing else', () => {
    for (const name of fixtureNames('gcp-audit')) {
      expect(gcpAuditSource.detect(fixture(name)), name).toBe(true);
      expect(sccSource.detect(fixture(name)), `scc on ${name}`).toBe(false);
      expect(prowlerSource.detect(fixture(name)), `prowler on ${name}`).toBe(false);
      expect(genericSource.detect(fixture(name)), `generic on ${name}`).toBe(false);
    }
    expect(gcpAuditSource.detect(push(sshEntry()))).toBe(true);
    for (const [source, names] of [['scc', fixtureNames('scc')], ['prowler', fixtureNames('prowler')]] as const) {
      for (const name of names) expect(gcpAuditSource.detect(fixture(name, source)), `${source}/${name}`).toBe(false);
    }
    expect(gcpAuditSource.detect({ title: 'x', severity: 'low' })).toBe(false);
    expect(gcpAuditSource.detect(push({ title: 'x', severity: 'low' }))).toBe(false);
    expect(gcpAuditSource.detect({ protoPayload: { methodName: 'v1.compute.firewalls.insert' } })).toBe(false);
  });
});

describe('gcp-audit: firewall rules', () => {
  it('reads a real firewall insert opening RDP to everyone (plaso sample) as critical', () => {
    const alert = only(fixture('plaso-firewall-insert-rdp.json'));
    expect(alert).toMatchObject({
      kind: 'exposure',
      severity: 'critical',
      fingerprint: 'gcp:fake-project:firewall/test',
      title: 'GCP firewall rule test allows tcp:3389 from 0.0.0.0/0',
      network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [{ from: 3389, to: 3389 }], protocol: 'tcp' },
      actors: { ips: ['1.1.1.1'], principals: ['fakeemailxyz@gmail.com'], userAgents: ['UserAgent'] },
    });
    // The critical rule wins; the rule for any opening matched too, and says so.
    expect(ruleOf(alert)).toBe('firewall-admin-open-to-internet');
    expect(alsoMatched(alert)).toEqual(['firewall-open-to-internet']);
  });

  it('reads a status code that is not a number as a failure: the change opens nothing', () => {
    const odd = sshEntry();
    odd.protoPayload.status = { code: { toString: 1 } };
    expect(gcpAuditSource.parse(odd)).toEqual([]);
    odd.protoPayload.status = { code: '0' };
    expect(gcpAuditSource.parse(odd)).toHaveLength(1);
  });

  it('names the high rule alone for other ports', () => {
    const alert = only(fixture('vigil-patch-ipv6-web.push.json'));
    expect(ruleOf(alert)).toBe('firewall-open-to-internet');
    expect(alsoMatched(alert)).toEqual([]);
  });
});

describe('gcp-audit: IAM grants', () => {
  it('reports roles/owner granted outside the caller domain, with the delta and the fingerprint of the grant', () => {
    const alert = only(fixture('vigil-set-iam-policy-owner-external.json'));
    expect(alert).toMatchObject({
      kind: 'resource',
      severity: 'high',
      title: 'GCP project vigil-prod: roles/owner granted to user:mallory@example.net (basic role)',
      fingerprint: 'gcp:vigil-prod:iam/projects/vigil-prod/roles/owner/user:mallory@example.net',
      cloud: { provider: 'gcp', account: 'vigil-prod' },
      resources: [{ type: 'gcp:project', id: '//cloudresourcemanager.googleapis.com/projects/vigil-prod', name: 'vigil-prod' }],
      network: { ips: [], cidrs: [], ports: [] },
      actors: { ips: ['198.51.100.23'], domains: [], principals: ['alice@example.com'] },
    });
    expect(ruleOf(alert)).toBe('iam-owner-or-editor-granted');
    expect(alsoMatched(alert)).toEqual(['iam-external-member-granted']);
    expect(alert.description).toContain('ADD roles/owner → user:mallory@example.net\n  REMOVE roles/viewer → user:bob@example.com');
    expect(alert.description).toMatch(/^alice@example\.com called SetIamPolicy on projects\/vigil-prod\./);
  });

  it('reads a real public bucket grant of Cloud Storage (Panther sample)', () => {
    const alert = only(pantherLogs('gcp_gcs_public.yml')['GCS AllUsers Read Permission']);
    // A public bucket is an exposure of the bucket, named by its name as the GCS reader lists it, one issue per bucket.
    expect(alert).toMatchObject({
      kind: 'exposure',
      severity: 'high',
      title: 'GCP bucket jacks-test-bucket: roles/storage.objectViewer granted to allUsers (public)',
      fingerprint: 'gcp:western-verve-123456:public/gcp:storage:bucket/jacks-test-bucket',
      cloud: { provider: 'gcp', account: 'western-verve-123456' },
      resources: [{ type: 'gcp:storage:bucket', id: 'jacks-test-bucket' }],
      actors: { ips: ['136.24.229.58'], principals: ['user.name@runpanther.io'] },
    });
    expect(ruleOf(alert)).toBe('public-access-granted');
    expect(alsoMatched(alert)).toEqual([]);
  });

  it('reports a member outside the caller domain, and not an in-domain member or a service agent (Panther samples)', () => {
    const logs = pantherLogs('gcp_iam_corp_email.yml');
    const gmail = only(logs['Gmail account added']);
    expect(gmail).toMatchObject({
      severity: 'medium',
      title: 'GCP project western-verve-123456: roles/viewer granted to user:username@gmail.com (outside runpanther.com)',
      fingerprint: 'gcp:western-verve-123456:iam/projects/western-verve-123456/roles/viewer/user:username@gmail.com',
    });
    expect(ruleOf(gmail)).toBe('iam-external-member-granted');
    // The restated policy has owners and editors: only the delta says what changed.
    expect(JSON.stringify(logs['Expected account added'].protoPayload.request.policy)).toContain('roles/owner');
    const tally = { unmatched: 0 };
    expect(gcpAuditSource.parse(logs['Expected account added'], tally)).toEqual([]);
    expect(gcpAuditSource.parse(logs['Expected GCP service account added by Service Agent Manager'], tally)).toEqual([]);
    expect(tally.unmatched).toBe(2);
  });

  it('reads the BigQuery delta in metadata.datasetChange', () => {
    const alert = only(fixture('vigil-bigquery-dataset-public.json'));
    expect(ruleOf(alert)).toBe('iam-public-member-granted');
    expect(alert).toMatchObject({
      title: 'GCP dataset exports: roles/bigquery.dataViewer granted to allAuthenticatedUsers (public)',
      resources: [{ type: 'gcp:bigquery:dataset', id: '//bigquery.googleapis.com/projects/vigil-prod/datasets/exports' }],
      actors: { ips: ['203.0.113.41'], principals: ['bob@example.com'] },
    });
  });

  it('reads the delta in metadata.policyDelta as in serviceData', () => {
    const entry = fixture('vigil-set-iam-policy-owner-external.json');
    entry.protoPayload.metadata = entry.protoPayload.serviceData;
    delete entry.protoPayload.serviceData;
    expect(only(entry).fingerprint).toBe('gcp:vigil-prod:iam/projects/vigil-prod/roles/owner/user:mallory@example.net');
  });

  it('without a delta, reports only public members of the new policy', () => {
    const alert = only(fixture('vigil-bucket-policy-no-delta.push.json'));
    expect(alert).toMatchObject({
      severity: 'high',
      fingerprint: 'gcp:vigil-prod:public/gcp:storage:bucket/vigil-prod-public-assets',
      resources: [{ type: 'gcp:storage:bucket', id: 'vigil-prod-public-assets' }],
      actors: { ips: [], principals: ['deployer@vigil-prod.iam.gserviceaccount.com'] },
    });
    expect(alert.description).toContain('no policy delta');
    expect(alert.description).toContain('Caller IP: gce-internal-ip');
    // An owner restated in a policy without a delta is not a grant; a delta that lists no binding means none changed.
    const owners = fixture('vigil-set-iam-policy-owner-external.json');
    delete owners.protoPayload.serviceData;
    expect(gcpAuditSource.parse(owners)).toEqual([]);
    const publicRestated = decodePubSubPush(fixture('vigil-bucket-policy-no-delta.push.json')) as any;
    publicRestated.protoPayload.serviceData = { policyDelta: { auditConfigDeltas: [{ action: 'ADD', service: 'allServices', logType: 'DATA_READ' }] } };
    expect(gcpAuditSource.parse(publicRestated)).toEqual([]);
  });

  it("judges outside members by the caller's domain only when the caller is a person", () => {
    const grant = (member: string, caller = 'alice@example.com') => {
      const entry = fixture('vigil-set-iam-policy-owner-external.json');
      entry.protoPayload.serviceData.policyDelta.bindingDeltas = [{ action: 'ADD', role: 'roles/viewer', member }];
      entry.protoPayload.authenticationInfo.principalEmail = caller;
      return gcpAuditSource.parse(entry).map(ruleOf);
    };
    expect(grant('user:carol@example.net')).toEqual(['iam-external-member-granted']);
    expect(grant('group:ops@example.net')).toEqual(['iam-external-member-granted']);
    expect(grant('domain:example.net')).toEqual(['iam-external-member-granted']);
    expect(grant('user:Carol@EXAMPLE.com')).toEqual([]);
    expect(grant('user:carol@eng.example.com')).toEqual([]);
    expect(grant('serviceAccount:ci@other-project.iam.gserviceaccount.com')).toEqual([]);
    // A service account's domain says nothing of the organisation's.
    expect(grant('user:carol@example.net', 'deployer@vigil-prod.iam.gserviceaccount.com')).toEqual([]);
    // A removal is listed, but alerts on nothing.
    const removed = fixture('vigil-set-iam-policy-owner-external.json');
    removed.protoPayload.serviceData.policyDelta.bindingDeltas[0].action = 'REMOVE';
    expect(gcpAuditSource.parse(removed)).toEqual([]);
  });

  it("leaves Google's service agents out of the owner rule, and reports a failed grant as nothing", () => {
    const entry = fixture('vigil-set-iam-policy-owner-external.json');
    entry.protoPayload.serviceData.policyDelta.bindingDeltas = [
      { action: 'ADD', role: 'roles/editor', member: 'serviceAccount:123456789012@cloudservices.gserviceaccount.com' },
    ];
    expect(gcpAuditSource.parse(entry)).toEqual([]);
    entry.protoPayload.serviceData.policyDelta.bindingDeltas[0].member = 'serviceAccount:ci@vigil-prod.iam.gserviceaccount.com';
    expect(only(entry).title).toContain('roles/editor granted to serviceAccount:ci@vigil-prod.iam.gserviceaccount.com');
    entry.protoPayload.status = { code: 7, message: 'denied' };
    expect(gcpAuditSource.parse(entry)).toEqual([]);
  });

  it('reports one change that two rules match under the more severe, whatever their order, naming the other', () => {
    // audit-logging-reduced (medium) is listed before iam-owner-or-editor-granted (high).
    const entry = fixture('vigil-set-iam-policy-owner-external.json');
    entry.protoPayload.serviceData.policyDelta.auditConfigDeltas = [{ action: 'REMOVE', service: 'allServices', logType: 'DATA_READ' }];
    const alert = only(entry);
    expect(ruleOf(alert)).toBe('iam-owner-or-editor-granted');
    expect(alert.severity).toBe('high');
    expect(alsoMatched(alert)).toEqual(['audit-logging-reduced', 'iam-external-member-granted']);
  });

  it('collapses one grant repeated, and tells two grants apart', () => {
    const first = only(fixture('vigil-set-iam-policy-owner-external.json'));
    const again = fixture('vigil-set-iam-policy-owner-external.json');
    again.insertId = 'another';
    again.timestamp = '2025-11-29T08:00:00Z';
    expect(only(again).fingerprint).toBe(first.fingerprint);
    const other = fixture('vigil-set-iam-policy-owner-external.json');
    other.protoPayload.serviceData.policyDelta.bindingDeltas[0].member = 'user:eve@example.net';
    expect(only(other).fingerprint).not.toBe(first.fingerprint);
  });
});

describe('gcp-audit: service-account keys', () => {
  it('reports a key created, naming the account and the key', () => {
    const alert = only(fixture('vigil-create-service-account-key.json'));
    expect(alert).toMatchObject({
      kind: 'resource',
      severity: 'medium',
      title: 'Service account key created for deployer@vigil-prod.iam.gserviceaccount.com',
      fingerprint: 'gcp:vigil-prod:service-account/deployer@vigil-prod.iam.gserviceaccount.com/keys',
      resources: [
        {
          type: 'gcp:iam:service-account',
          id: '//iam.googleapis.com/projects/vigil-prod/serviceAccounts/deployer@vigil-prod.iam.gserviceaccount.com',
        },
        { type: 'gcp:iam:service-account-key', name: '6f0c2b1e9d8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b' },
      ],
      actors: { ips: ['198.51.100.23'], principals: ['alice@example.com'] },
    });
    expect(ruleOf(alert)).toBe('service-account-key-created');
  });

  it('names the account from the resource labels, else from the request, and ignores failures', () => {
    const entry = fixture('vigil-create-service-account-key.json');
    delete entry.protoPayload.response;
    entry.protoPayload.request.name = 'projects/-/serviceAccounts/104835712938475610293';
    entry.protoPayload.methodName = 'google.iam.admin.v1.UploadServiceAccountKey';
    expect(only(entry)).toMatchObject({
      title: 'Service account key uploaded for deployer@vigil-prod.iam.gserviceaccount.com',
      fingerprint: 'gcp:vigil-prod:service-account/deployer@vigil-prod.iam.gserviceaccount.com/keys',
    });
    delete entry.resource.labels.email_id;
    expect(only(entry)).toMatchObject({
      title: 'Service account key uploaded for 104835712938475610293',
      resources: [{ type: 'gcp:iam:service-account', id: '//iam.googleapis.com/projects/-/serviceAccounts/104835712938475610293' }],
    });
    entry.protoPayload.status = { code: 7, message: 'denied' };
    expect(gcpAuditSource.parse(entry)).toEqual([]);
  });

  it('gives nothing for a service account created, or refused (plaso samples), and counts them', () => {
    const tally = { unmatched: 0 };
    expect(gcpAuditSource.parse(fixture('plaso-create-service-account.json'), tally)).toEqual([]);
    expect(gcpAuditSource.parse(fixture('plaso-create-service-account-denied.json'), tally)).toEqual([]);
    expect(tally.unmatched).toBe(2);
  });
});

describe('gcp-audit: logging switched off', () => {
  it('reports sinks deleted, disabled and changed, exclusions, and the failed attempt first', () => {
    const tally = { unmatched: 0 };
    const alerts = gcpAuditSource.parse(fixture('vigil-logging-changes.json'), tally);
    expect(alerts.map((alert) => [ruleOf(alert), alert.severity, alert.kind])).toEqual([
      ['logging-change-failed', 'low', 'resource'],
      ['logging-sink-deleted', 'high', 'resource'],
      ['logging-sink-disabled', 'high', 'resource'],
      ['logging-sink-changed', 'medium', 'resource'],
      ['logging-exclusion-changed', 'medium', 'resource'],
    ]);
    // The ListSinks read.
    expect(tally.unmatched).toBe(1);
    const [failed, deleted, disabled, changed, exclusion] = alerts as ParsedAlert[];
    expect(failed).toMatchObject({
      title: 'Failed attempt: DeleteSink on GCP log sink siem-export (PERMISSION_DENIED)',
      actors: { ips: ['203.0.113.77'], principals: ['mallory@example.net'] },
    });
    expect(failed!.description).toContain("Status: failed, PERMISSION_DENIED: Permission 'logging.sinks.delete' denied");
    // The attempt and the deletion are about one sink: one issue.
    expect(deleted).toMatchObject({
      title: 'GCP log sink siem-export deleted',
      fingerprint: 'gcp:vigil-prod:logging/projects/vigil-prod/sinks/siem-export',
      resources: [{ type: 'gcp:logging:sink', id: '//logging.googleapis.com/projects/vigil-prod/sinks/siem-export', name: 'siem-export' }],
    });
    expect(failed!.fingerprint).toBe(deleted!.fingerprint);
    expect(alsoMatched(disabled!)).toEqual(['logging-sink-changed']);
    expect(disabled!.description).toContain('Disabled: true');
    expect(changed!.description).toContain('Exclusions: drop-iam');
    expect(changed!.description).toContain('Fields changed: exclusions');
    expect(exclusion).toMatchObject({
      title: 'GCP log exclusion quiet-compute created',
      fingerprint: 'gcp:vigil-prod:logging/projects/vigil-prod/exclusions/quiet-compute',
    });
    expect(exclusion!.description).toContain('Filter: resource.type="gce_instance"');
  });

  it('reads a sink as disabled only when the request sets disabled and its mask, if any, names it', () => {
    const rulesFor = (change: (request: any) => void) => {
      const [, , disabling] = fixture('vigil-logging-changes.json');
      change(disabling.protoPayload.request);
      return gcpAuditSource.parse(disabling).map(ruleOf);
    };
    expect(rulesFor(() => {})).toEqual(['logging-sink-disabled']);
    expect(rulesFor((request) => delete request.updateMask)).toEqual(['logging-sink-disabled']);
    expect(rulesFor((request) => (request.sink.disabled = false))).toEqual(['logging-sink-changed']);
    expect(rulesFor((request) => (request.updateMask = 'filter'))).toEqual(['logging-sink-changed']);
  });

  it('reports audit logging reduced, the refused attempt, and not a change that only adds logging', () => {
    const tally = { unmatched: 0 };
    const alerts = gcpAuditSource.parse(fixture('vigil-audit-config-changes.json'), tally);
    expect(alerts.map((alert) => [ruleOf(alert), alert.severity])).toEqual([
      ['logging-change-failed', 'low'],
      ['audit-logging-reduced', 'medium'],
    ]);
    expect(tally.unmatched).toBe(1);
    const [failed, reduced] = alerts as ParsedAlert[];
    expect(failed).toMatchObject({
      title: 'Failed attempt: SetIamPolicy on GCP audit logging of project vigil-prod (PERMISSION_DENIED)',
      fingerprint: 'gcp:vigil-prod:audit-config/projects/vigil-prod',
    });
    expect(reduced).toMatchObject({
      title: 'GCP audit logging of project vigil-prod reduced: disabled: DATA_READ of allServices and 2 more',
      fingerprint: failed!.fingerprint,
      resources: [{ type: 'gcp:project', id: '//cloudresourcemanager.googleapis.com/projects/vigil-prod' }],
    });
    expect(reduced!.description).toContain(
      'exempted: serviceAccount:deployer@vigil-prod.iam.gserviceaccount.com from DATA_READ of storage.googleapis.com',
    );
  });

  it('reports audit configuration replaced when the entry has no delta', () => {
    const [, reducing] = fixture('vigil-audit-config-changes.json');
    delete reducing.protoPayload.serviceData;
    const alert = only(reducing);
    expect(alert.title).toBe('GCP audit logging of project vigil-prod replaced');
    expect(alert.description).toContain('Services configured now: storage.googleapis.com');
    // Without auditConfigs in the mask, a policy change is not about audit logging.
    reducing.protoPayload.request.updateMask = 'bindings,etag';
    expect(gcpAuditSource.parse(reducing)).toEqual([]);
  });
});

describe('gcp-audit: configuration', () => {
  it('lists every built-in rule with a stable id, a description, a kind and a severity, as the manual does', () => {
    const ids = gcpAuditRules.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of gcpAuditRules) {
      expect(rule.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(rule.description.length).toBeGreaterThan(10);
      expect(['exposure', 'actor', 'resource']).toContain(rule.kind);
    }
    const manual = readFileSync(path.join(import.meta.dirname, '../../../docs/sources.md'), 'utf8');
    const section = manual.slice(manual.indexOf('## GCP audit rules'), manual.indexOf('## The generic alert'));
    const documented = [...section.matchAll(/^\| `([a-z0-9-]+)` \| (\w+) \| (\w+) \| (.+) \|$/gm)].map(([, id, kind, severity, description]) => ({
      id,
      kind,
      severity,
      description,
    }));
    expect(documented).toEqual(gcpAuditRules.map(({ id, kind, severity, description }) => ({ id, kind, severity, description })));
  });

  it('drops the alerts of a disabled rule and falls back to the next that matches', () => {
    const quiet = createGcpAuditSource({ disabledRules: ['firewall-admin-open-to-internet'] });
    const alert = only(sshEntry(), quiet);
    expect(alert.severity).toBe('high');
    expect(ruleOf(alert)).toBe('firewall-open-to-internet');
    const noKeys = createGcpAuditSource({ disabledRules: ['service-account-key-created'] });
    const tally = { unmatched: 0 };
    expect(noKeys.parse(fixture('vigil-create-service-account-key.json'), tally)).toEqual([]);
    expect(tally.unmatched).toBe(1);
    expect(noKeys.name).toBe('gcp-audit');
  });

  it('refuses an unknown rule id, naming the known ones, also from the configuration', () => {
    expect(() => createGcpAuditSource({ disabledRules: ['iam-public-grant'] })).toThrow(
      /unknown GCP audit rule id\(s\): iam-public-grant \(known: .*iam-public-member-granted/,
    );
    expect(() => createSourceAdapters({ 'gcp-audit': { disabledRules: ['iam-public-grant'] } })).toThrow(ConfigError);
    const adapters = createSourceAdapters({ 'gcp-audit': { disabledRules: ['iam-public-member-granted'] } });
    const configured = adapters.find((adapter) => adapter.name === 'gcp-audit')!;
    expect(configured.parse(fixture('vigil-bigquery-dataset-public.json'))).toEqual([]);
  });
});

describe('gcp-audit: odd values', () => {
  const oddValues: unknown[] = [null, true, 0, -1, '', 'x', '0.0.0.0/0', {}, [], [null], { code: 'x' }];
  const entries = fixtureNames('gcp-audit').flatMap((name) => {
    const body = decodePubSubPush(fixture(name)) ?? fixture(name);
    return Array.isArray(body) ? body : [body];
  });
  const paths = (value: unknown, depth: number, prefix: string[] = []): string[][] =>
    typeof value !== 'object' || value === null || depth === 0
      ? []
      : Object.entries(value).flatMap(([key, child]) => [[...prefix, key], ...paths(child, depth - 1, [...prefix, key])]);

  it('never throws on an entry whose fields are replaced by odd values, except to refuse it', () => {
    let alerts = 0;
    const malformed: string[] = [];
    for (const entry of entries) {
      for (const fieldPath of paths(entry, 5)) {
        for (const value of oddValues) {
          const odd = structuredClone(entry);
          let target = odd;
          for (const key of fieldPath.slice(0, -1)) target = target[key];
          target[fieldPath.at(-1)!] = value;
          let parsed: ParsedAlert[] = [];
          try {
            parsed = gcpAuditSource.parse(odd);
          } catch (err) {
            expect(err, fieldPath.join('.')).toBeInstanceOf(UnrecognizedPayloadError);
          }
          for (const alert of parsed) {
            alerts += 1;
            if (!alert.title || !alert.fingerprint || !alert.description?.includes('Rule: ')) malformed.push(`${fieldPath.join('.')}=${JSON.stringify(value)}`);
          }
        }
      }
    }
    expect(malformed).toEqual([]);
    expect(alerts).toBeGreaterThan(1000);
  });
});

describe('gcp-audit: public resources', () => {
  const entries = () => fixture('vigil-public-resources.json') as any[];

  it('makes a public image, a public Cloud Run service and a Cloud SQL instance open to 0.0.0.0/0 exposures, one issue per resource', () => {
    const tally = { unmatched: 0 };
    const alerts = gcpAuditSource.parse(entries(), tally);
    expect(alerts.map((alert) => [ruleOf(alert), alert.kind, alert.severity, alert.resources])).toEqual([
      [
        'public-access-granted',
        'exposure',
        'high',
        [{ type: 'gcp:compute:image', id: '//compute.googleapis.com/projects/vigil-prod/global/images/golden-debian-12', name: 'golden-debian-12' }],
      ],
      // Cloud Run's v1 name has no location: the entry's resource labels give it.
      [
        'public-access-granted',
        'exposure',
        'high',
        [{ type: 'gcp:run:service', id: '//run.googleapis.com/projects/vigil-prod/locations/europe-west1/services/hello', name: 'hello' }],
      ],
      [
        'cloudsql-open-to-internet',
        'exposure',
        'high',
        [{ type: 'gcp:sql:instance', id: '//sqladmin.googleapis.com/projects/vigil-prod/instances/reports-db', name: 'reports-db' }],
      ],
    ]);
    // A Cloud SQL instance open to an office range, and a Cloud Run invoker granted to a service account, are no alert.
    expect(tally.unmatched).toBe(2);
    expect(alerts[2]!.network).toEqual({ ips: [], cidrs: ['0.0.0.0/0'], ports: [] });
    expect(alerts[2]!.fingerprint).toBe('gcp:vigil-prod:public/gcp:sql:instance///sqladmin.googleapis.com/projects/vigil-prod/instances/reports-db');
    // Without a delta (Compute Engine logs the new policy only) the public member of the new policy counts.
    expect(alerts[0]!.description).toContain('SET roles/compute.imageUser → allAuthenticatedUsers');
  });

  it('gives one fingerprint to every public grant on one bucket, and leaves a project grant to iam-public-member-granted', () => {
    const read = pantherLogs('gcp_gcs_public.yml')['GCS AllUsers Read Permission'];
    const write = structuredClone(read);
    write.protoPayload.serviceData.policyDelta.bindingDeltas = [{ action: 'ADD', role: 'roles/storage.objectCreator', member: 'allAuthenticatedUsers' }];
    expect(only(write).fingerprint).toBe(only(read).fingerprint);
    const project = fixture('vigil-set-iam-policy-owner-external.json');
    project.protoPayload.serviceData.policyDelta.bindingDeltas = [{ action: 'ADD', role: 'roles/viewer', member: 'allUsers' }];
    const alert = only(project);
    expect(ruleOf(alert)).toBe('iam-public-member-granted');
    expect(alert.kind).toBe('resource');
  });

  it('reads Cloud SQL settings at the top of the request, ::/0, and no failed or unrelated call', () => {
    const sql = () => structuredClone(entries()[2]);
    const top = sql();
    top.protoPayload.request.settings = top.protoPayload.request.body.settings;
    delete top.protoPayload.request.body;
    expect(ruleOf(only(top))).toBe('cloudsql-open-to-internet');
    const ipv6 = sql();
    ipv6.protoPayload.request.body.settings.ipConfiguration.authorizedNetworks = [{ value: '::/0' }];
    expect(only(ipv6).network.cidrs).toEqual(['::/0']);
    const failed = sql();
    failed.protoPayload.status = { code: 7, message: 'The client is not authorized to make this request.' };
    expect(gcpAuditSource.parse(failed)).toEqual([]);
    const restart = sql();
    restart.protoPayload.methodName = 'cloudsql.instances.restart';
    expect(gcpAuditSource.parse(restart)).toEqual([]);
  });
});
