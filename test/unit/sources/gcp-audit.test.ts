import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gcpAuditSource } from '../../../intake/sources/gcp-audit';
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

  it('refuses an audit entry that is not a firewall change, saying which entries it turns into alerts', () => {
    const instance = fixture('vigil-instance-insert.push.json');
    expect(() => gcpAuditSource.parse(instance)).toThrow(UnrecognizedPayloadError);
    expect(() => gcpAuditSource.parse(instance)).toThrow(/v1\.compute\.instances\.insert, not a firewall change: .*firewalls\.insert/);
    expect(() => gcpAuditSource.parse([decodePubSubPush(instance)])).toThrow(UnrecognizedPayloadError);
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

  it('detects firewall change entries only', () => {
    for (const name of fixtureNames('gcp-audit')) {
      const expected = name !== 'vigil-instance-insert.push.json';
      expect(gcpAuditSource.detect(fixture(name)), name).toBe(expected);
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
