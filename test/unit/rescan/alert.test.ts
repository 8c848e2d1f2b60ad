// A re-scan violation as the alert the `vigil-rescan` source reads back from the archive.
import { describe, expect, it } from 'vitest';
import { violationOf } from '../../../activities/rescan';
import { rescanAlert, type MachineViolation, type ResourceViolation } from '../../../activities/rescan/alert';
import { emptyContext } from '../../../lib/context';
import { RESCAN_SOURCE } from '../../../lib/alert';
import { normalizePayload } from '../../../intake/normalize';
import { createSourceAdapters } from '../../../intake/sources';
import { investigationWorkflowId } from '../../../lib/workflow-id';

const archive = { id: '2026/03/15/vigil-rescan/' + 'a'.repeat(64), sha256: 'a'.repeat(64), receivedAt: '2026-03-15T02:00:00.000Z' };
const adapters = createSourceAdapters();
const parsed = (payload: unknown) => normalizePayload(adapters, RESCAN_SOURCE, JSON.parse(JSON.stringify(payload)), archive);

const violation: MachineViolation = {
  instance: { id: 'i-0abc', type: 'aws:ec2:instance', name: 'billing-dashboard' },
  account: '111122223333',
  region: 'eu-west-1',
  publicAddresses: ['198.51.100.7', '2001:db8::7'],
  ports: [{ protocol: 'tcp', ports: [{ from: 22, to: 22 }, { from: 3389, to: 3389 }] }],
  cidrs: ['0.0.0.0/0'],
  rules: [{ id: 'sg-1/ingress/tcp/22-22', name: 'admin (sg-1) tcp 22' }],
};

describe('re-scan alerts', () => {
  it('read back through the vigil-rescan source as one exposure per resource', () => {
    const [alert, ...rest] = parsed(rescanAlert('aws', '111122223333/eu-west-1', violation, '2026-03-15T02:00:00.000Z'));
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({
      source: 'vigil-rescan',
      kind: 'exposure',
      fingerprint: 'aws:111122223333:i-0abc',
      title: 'billing-dashboard (i-0abc) exposes 22/tcp, 3389/tcp to the internet',
      severity: 'critical',
      occurredAt: '2026-03-15T02:00:00.000Z',
      cloud: { provider: 'aws', account: '111122223333', region: 'eu-west-1' },
      resources: [{ type: 'aws:ec2:instance', id: 'i-0abc', name: 'billing-dashboard' }],
      network: { ips: ['198.51.100.7', '2001:db8::7'], cidrs: ['0.0.0.0/0'], ports: [{ from: 22, to: 22 }, { from: 3389, to: 3389 }], protocol: 'tcp' },
    });
    expect(alert!.description).toContain('admin (sg-1) tcp 22');
    expect(investigationWorkflowId(alert!.source, alert!.fingerprint)).toBe('alert/vigil-rescan/aws:111122223333:i-0abc');
  });

  it('is high for remote access, critical for a database or remote desktop, and says every protocol', () => {
    const ssh = parsed(rescanAlert('gcp', 'projects/p', { ...violation, instance: { id: 'projects/p/zones/z/instances/vm', type: 'gcp:compute:instance' }, account: 'p', ports: [{ protocol: 'tcp', ports: [{ from: 22, to: 23 }] }] }, '2026-03-15T02:00:00Z'))[0]!;
    expect(ssh).toMatchObject({ severity: 'high', title: 'projects/p/zones/z/instances/vm exposes 22-23/tcp to the internet', resources: [{ type: 'gcp:compute:instance', id: 'projects/p/zones/z/instances/vm' }] });
    const mixed = parsed(rescanAlert('static', 'static', { ...violation, account: undefined, instance: { id: 'db-1', type: 'static:inventory:resource' }, ports: [{ protocol: 'all', ports: [{ from: 5432, to: 5432 }] }, { protocol: 'udp', ports: [{ from: 5432, to: 5432 }] }] }, '2026-03-15T02:00:00Z'))[0]!;
    expect(mixed).toMatchObject({
      severity: 'critical',
      fingerprint: 'static:-:db-1',
      title: 'db-1 exposes 5432/all, 5432/udp to the internet',
      resources: [{ type: 'static:inventory:resource', id: 'db-1' }],
      network: { ports: [{ from: 5432, to: 5432 }] },
    });
    expect(mixed.network.protocol).toBeUndefined();
  });

  it('keeps a title of many ports within the schema by counting the rest', () => {
    const ports = [{ protocol: 'tcp', ports: Array.from({ length: 20 }, (_, i) => ({ from: 1000 + 2 * i, to: 1000 + 2 * i })) }];
    const [alert] = parsed(rescanAlert('aws', 'a/r', { ...violation, ports }, '2026-03-15T02:00:00Z'));
    expect(alert).toMatchObject({ kind: 'exposure', title: expect.stringMatching(/1014\/tcp and 12 more to the internet$/) });
  });

  it('says a public resource beyond machines: fingerprint by type and id, why in the title, its endpoint addresses and ports', () => {
    const bucket: ResourceViolation = {
      resource: { type: 'aws:s3:bucket', id: 'vigil-logs', name: 'vigil-logs', class: 'storage' },
      account: '111122223333',
      region: 'us-east-1',
      reasons: ['the bucket policy allows s3:GetObject to everyone'],
      publicAddresses: [],
      ports: [],
    };
    const [alert] = parsed(rescanAlert('aws', '111122223333/us-east-1', bucket, '2026-03-15T02:00:00Z'));
    expect(alert).toMatchObject({
      source: 'vigil-rescan',
      kind: 'exposure',
      fingerprint: 'aws:111122223333:aws:s3:bucket:vigil-logs',
      title: 'bucket vigil-logs is public: the bucket policy allows s3:GetObject to everyone',
      severity: 'high',
      cloud: { provider: 'aws', account: '111122223333', region: 'us-east-1' },
      resources: [{ type: 'aws:s3:bucket', id: 'vigil-logs', name: 'vigil-logs' }],
      network: { ips: [], cidrs: [], ports: [] },
    });
    expect(alert!.description).toContain('- the bucket policy allows s3:GetObject to everyone');

    const database: ResourceViolation = {
      resource: { type: 'aws:rds:db-instance', id: 'orders', class: 'database' },
      account: '111122223333',
      reasons: ['publicly accessible', 'its security group opens 5432 to 0.0.0.0/0'],
      publicAddresses: ['198.51.100.30'],
      ports: [5432],
    };
    expect(parsed(rescanAlert('aws', 'a/r', database, '2026-03-15T02:00:00Z'))[0]).toMatchObject({
      fingerprint: 'aws:111122223333:aws:rds:db-instance:orders',
      title: 'database orders is public: publicly accessible; its security group opens 5432 to 0.0.0.0/0',
      severity: 'critical',
      network: { ips: ['198.51.100.30'], ports: [{ from: 5432, to: 5432 }], protocol: 'tcp' },
    });
    const image = parsed(rescanAlert('aws', 'a/r', { ...database, resource: { type: 'aws:ec2:image', id: 'ami-1', name: 'golden', class: 'snapshot' }, reasons: [] }, '2026-03-15T02:00:00Z'))[0]!;
    expect(image).toMatchObject({ title: 'image golden (ami-1) is public', severity: 'critical' });

    // An id too long for the schema keeps one identity, within the bound.
    const long = { ...bucket, resource: { ...bucket.resource, type: 'gcp:storage:bucket', id: `//storage.googleapis.com/${'b'.repeat(600)}` } };
    const [first] = parsed(rescanAlert('gcp', 'projects/p', long, '2026-03-15T02:00:00Z'));
    const [again] = parsed(rescanAlert('gcp', 'projects/p', long, '2026-03-16T02:00:00Z'));
    expect(first!.fingerprint.length).toBeLessThanOrEqual(512);
    expect(again!.fingerprint).toBe(first!.fingerprint);
  });

  it('reads back whatever name the cloud gave: blank names left out, long ones cut to the schema', () => {
    const blank: ResourceViolation = { resource: { type: 'aws:s3:bucket', id: 'logs', name: '   ', class: 'storage' }, reasons: [], publicAddresses: [], ports: [] };
    expect(parsed(rescanAlert('aws', 'a/r', blank, '2026-03-15T02:00:00Z'))[0]!.resources).toEqual([{ type: 'aws:s3:bucket', id: 'logs' }]);
    const [long] = parsed(rescanAlert('aws', 'a/r', { ...violation, instance: { ...violation.instance, name: ` ${'n'.repeat(600)}` } }, '2026-03-15T02:00:00Z'));
    expect(long!.resources[0]!.name).toBe('n'.repeat(512));
  });

  it('takes a resource violation\'s addresses and ports from its endpoints, leaving names to the investigation', () => {
    const violation = violationOf(
      {
        resource: {
          provider: 'aws',
          class: 'database',
          type: 'aws:rds:db-cluster',
          id: 'orders',
          account: '111122223333',
          region: 'eu-west-1',
          public: true,
          reasons: ['publicly accessible'],
          facts: { engine: 'aurora-postgresql' },
          proofs: [
            { kind: 'endpoint', host: 'orders.cluster-abc.eu-west-1.rds.amazonaws.com', ports: [5432] },
            { kind: 'endpoint', host: '198.51.100.30', ports: [5432, 5433] },
            // A name of digits is an IPv4 address to some parsers, never to the schema.
            { kind: 'endpoint', host: '3325256734', ports: [5432] },
          ],
          tags: {},
        },
      },
      emptyContext(),
      [22],
    );
    expect(violation).toEqual({
      resource: { type: 'aws:rds:db-cluster', id: 'orders', class: 'database' },
      account: '111122223333',
      region: 'eu-west-1',
      reasons: ['publicly accessible'],
      publicAddresses: ['198.51.100.30'],
      ports: [5432, 5433],
    });
    expect(parsed(rescanAlert('aws', '111122223333/eu-west-1', violation, '2026-03-15T02:00:00Z'))[0]).toMatchObject({
      network: { ips: ['198.51.100.30'], ports: [{ from: 5432, to: 5432 }, { from: 5433, to: 5433 }], protocol: 'tcp' },
    });
  });
});
