// Alerts merged into one picture, and bounded before they travel: the pure parts of "every event
// reaches the issue" and "every accepted alert fits in Temporal".
import { describe, expect, it } from 'vitest';
import { boundAlert } from '../../intake/bound-alert';
import { emptyActors, emptyNetwork, type NormalizedAlert } from '../../lib/alert';
import { collapseCopies, mergeAlerts } from '../../lib/alert-merge';

const alert = (overrides: Partial<NormalizedAlert> = {}): NormalizedAlert => ({
  kind: 'exposure',
  fingerprint: 'sg-1',
  title: 'Security group opened',
  severity: 'medium',
  source: 'cloudtrail',
  resources: [{ type: 'aws:ec2:security-group', id: 'sg-1' }],
  network: { ...emptyNetwork(), ports: [{ from: 443, to: 443 }], protocol: 'tcp' },
  actors: emptyActors(),
  archive: { id: 'rec', sha256: 'body', receivedAt: '2026-11-30T10:00:00Z' },
  ...overrides,
});

describe('merging alerts', () => {
  it('keeps every port, address, actor and resource, and the worst severity', () => {
    const merged = mergeAlerts(
      alert({ actors: { ...emptyActors(), ips: ['203.0.113.5'] } }),
      alert({
        severity: 'critical',
        network: { ...emptyNetwork(), ports: [{ from: 22, to: 22 }], protocol: 'tcp' },
        actors: { ...emptyActors(), ips: ['198.51.100.7', '203.0.113.5'] },
        resources: [{ type: 'aws:ec2:instance', id: 'i-1' }],
      }),
    );
    expect(merged.severity).toBe('critical');
    expect(merged.network.ports).toEqual([{ from: 22, to: 22 }, { from: 443, to: 443 }]);
    expect(merged.actors.ips).toEqual(['203.0.113.5', '198.51.100.7']);
    expect(merged.resources.map(({ id }) => id)).toEqual(['sg-1', 'i-1']);
    expect(merged.title).toBe('Security group opened');
    expect(mergeAlerts(alert({ severity: 'high' }), alert({ severity: 'low' })).severity).toBe('high');
  });

  it('keeps every rule that found either, once each, in the order first seen', () => {
    const builtIn = { engine: 'built-in' as const, id: 'security-group-ingress-open', title: 'Ingress opened', level: 'high' as const };
    const sigma = { engine: 'sigma' as const, id: '6fb77778', title: 'Security Group Modification', level: 'medium' as const, tags: ['attack.t1190'] };
    const other = { engine: 'sigma' as const, id: 'security-group-ingress-open', title: 'A Sigma rule sharing a built-in id', level: 'low' as const };
    expect(mergeAlerts(alert({ detections: [builtIn] }), alert({ detections: [sigma, builtIn, other] })).detections).toEqual([builtIn, sigma, other]);
    expect(mergeAlerts(alert(), alert({ detections: [sigma] })).detections).toEqual([sigma]);
    expect(mergeAlerts(alert(), alert())).not.toHaveProperty('detections');
  });

  it('collapses the copies of a body by fingerprint, counting them, each keeping its first position', () => {
    const body = [alert(), alert({ fingerprint: 'sg-2' }), ...Array.from({ length: 9_998 }, () => alert())];
    const collapsed = collapseCopies(body);
    expect(collapsed.map(({ fingerprint, index, copies }) => ({ fingerprint, index, copies }))).toEqual([
      { fingerprint: 'sg-1', index: 0, copies: 9_999 },
      { fingerprint: 'sg-2', index: 1, copies: undefined },
    ]);
  });
});

describe('bounding alerts', () => {
  it('cuts texts and lists, names what it cut, and hashes a fingerprint too long to be an identity', () => {
    const huge = alert({
      title: 'A'.repeat(3 * 1024 * 1024),
      fingerprint: 'f'.repeat(5000),
      actors: { ...emptyActors(), ips: Array.from({ length: 5000 }, (_, n) => `10.0.${n >> 8}.${n & 255}`) },
    });
    const bounded = boundAlert(huge);
    expect(JSON.stringify(bounded).length).toBeLessThan(64 * 1024);
    expect(bounded.title).toMatch(/^A{500}… \(cut at 500 of 3145728 characters; the archive holds the whole alert\)$/);
    expect(bounded.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(boundAlert(huge).fingerprint).toBe(bounded.fingerprint);
    expect(bounded.truncated).toEqual(['title', 'actors.ips']);
  });

  it('keeps within what Temporal takes when every character is escaped or wide, search attributes included', () => {
    const wide = '漢'.repeat(900);
    const control = '\u0001'.repeat(1000);
    const bounded = boundAlert(
      alert({
        fingerprint: wide,
        cloud: { provider: 'aws', account: control },
        title: control.repeat(10),
        description: control.repeat(100),
        actors: { ...emptyActors(), userAgents: Array.from({ length: 100 }, () => control), principals: Array.from({ length: 100 }, () => wide) },
      }),
    );
    expect(Buffer.byteLength(JSON.stringify(bounded))).toBeLessThan(256 * 1024);
    expect(bounded.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(bounded.cloud?.account).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(bounded.truncated).toContain('all');
  });

  it('collapses a resolution apart from the sightings of its fingerprint, after them', () => {
    const end = alert({ resolution: 'CloudTrail Insights state End' });
    expect(collapseCopies([end, alert(), alert()]).map(({ resolution, index, copies }) => ({ resolution, index, copies }))).toEqual([
      { resolution: undefined, index: 1, copies: 2 },
      { resolution: 'CloudTrail Insights state End', index: 0, copies: undefined },
    ]);
  });

  it("cuts the texts of the rules that found an alert, naming them as cut", () => {
    const long = 'r'.repeat(5_000);
    const bounded = boundAlert(alert({ detections: [{ engine: 'sigma', id: 'x', title: long, level: 'low', references: Array.from({ length: 150 }, (_, n) => `https://example.com/${n}`) }] }));
    expect(bounded.detections![0]!.title.length).toBeLessThan(1_100);
    expect(bounded.detections![0]!.references).toHaveLength(100);
    expect(bounded.truncated).toEqual(['detections']);
  });

  it('leaves an ordinary alert exactly as it was', () => {
    expect(boundAlert(alert())).toEqual(alert());
  });
});
