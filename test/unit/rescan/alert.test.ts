// A re-scan violation as the alert the `vigil-rescan` source reads back from the archive.
import { describe, expect, it } from 'vitest';
import { rescanAlert, type RescanViolation } from '../../../activities/rescan/alert';
import { RESCAN_SOURCE } from '../../../lib/alert';
import { normalizePayload } from '../../../intake/normalize';
import { createSourceAdapters } from '../../../intake/sources';
import { investigationWorkflowId } from '../../../lib/workflow-id';

const archive = { id: '2026/03/15/vigil-rescan/' + 'a'.repeat(64), sha256: 'a'.repeat(64), receivedAt: '2026-03-15T02:00:00.000Z' };
const adapters = createSourceAdapters();
const parsed = (payload: unknown) => normalizePayload(adapters, RESCAN_SOURCE, JSON.parse(JSON.stringify(payload)), archive);

const violation: RescanViolation = {
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
});
