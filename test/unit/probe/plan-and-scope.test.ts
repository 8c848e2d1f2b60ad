import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planTargets, wellKnownPorts } from '../../../activities/probe/plan';
import { resolveInScope, scopeVerdict, type ProbeScope } from '../../../activities/probe/scope';
import { configSchema } from '../../../lib/config';
import { emptyContext, type ResourceContext } from '../../../lib/context';

const publicScope: ProbeScope = { allowRanges: [], onlyRanges: [] };
const loopbackOnly: ProbeScope = { allowRanges: ['127.0.0.0/8'], onlyRanges: ['127.0.0.0/8'] };

describe('probe scope', () => {
  it.each([
    ['10.1.2.3', 'private'],
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['::ffff:198.51.100.1', 'IPv4-mapped'],
    ['fd00:ec2::254', 'unique-local'],
    ['::1', 'loopback'],
    ['224.0.0.1', 'multicast'],
    ['203.0.113.9', 'documentation'],
  ])('refuses %s (%s) by default', (address, word) => {
    const verdict = scopeVerdict(address, publicScope);
    expect(verdict.allowed).toBe(false);
    expect(verdict.allowed === false && verdict.reason).toContain(word);
  });

  it('names the fence for public addresses outside it', () => {
    expect(scopeVerdict('8.8.8.8', loopbackOnly)).toEqual({ allowed: false, reason: 'outside the probe fence (127.0.0.0/8)' });
  });

  it('allows public unicast by default, and configured ranges', () => {
    expect(scopeVerdict('8.8.8.8', publicScope)).toEqual({ allowed: true });
    expect(scopeVerdict('2600::1', publicScope)).toEqual({ allowed: true });
    expect(scopeVerdict('10.1.2.3', { allowRanges: ['10.1.0.0/16'], onlyRanges: [] })).toEqual({ allowed: true });
  });

  it('a fence wins over everything: with 127.0.0.0/8 only, no other address is ever allowed', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (address) => {
        const verdict = scopeVerdict(address, loopbackOnly);
        expect(verdict.allowed).toBe(/^127\./.test(address));
      }),
      { numRuns: 2000 },
    );
  });

  it('checks names after resolving them, and literal addresses as they are', async () => {
    await expect(resolveInScope('localhost', { allowRanges: ['127.0.0.0/8', '::1'], onlyRanges: [] })).resolves.toMatch(/^(127\.|::1$)/);
    await expect(resolveInScope('localhost', publicScope)).rejects.toThrow(/resolves only outside the probe scope/);
    await expect(resolveInScope('[::1]', publicScope)).rejects.toThrow(/loopback/);
    await expect(resolveInScope('no-such-host.invalid', publicScope)).rejects.toThrow(/does not resolve/);
  });

  it('takes as probe.resolvers only what Node resolves with: an address and a port from 1 to 65535', () => {
    const resolvers = configSchema.shape.probe.parse({ resolvers: ['9.9.9.9', '1.1.1.1:53', '2620:fe::fe', '[2620:fe::fe]:53'] }).resolvers;
    expect(resolvers).toHaveLength(4);
    // Port 0 aborts Node's resolver; the others it refuses, leaving every name unresolvable.
    for (const bad of ['1.1.1.1:0', '1.1.1.1:65536', '127.1', '0x7f.1', '[1.1.1.1]:53', 'dns.google', '2620:fe::fe:53:']) {
      expect(configSchema.shape.probe.safeParse({ resolvers: [bad] }).success, bad).toBe(false);
    }
  });
});

function context(exposures: ResourceContext['exposures'], addresses: string[] = []): ResourceContext {
  return {
    ...emptyContext(),
    instances: [{ provider: 'static', type: 'static:inventory:resource', id: 'vm', publicAddresses: addresses, privateAddresses: [], dnsNames: [], tags: {} }],
    exposures,
  };
}

describe('probe targets', () => {
  const settings = { maxPortsPerRange: 8, extraTargets: [] };

  it('probes each TCP port of narrow ranges, the well-known ports of wide ones, and lists the rest as skipped', () => {
    const plan = planTargets(
      context([
        { instance: 'vm', address: '127.0.0.1', protocol: 'tcp', ports: { from: 8000, to: 8002 }, rule: 'r1' },
        { instance: 'vm', address: '127.0.0.1', protocol: 'all', ports: { from: 0, to: 65535 }, rule: 'r2' },
        { instance: 'vm', address: '127.0.0.1', protocol: 'udp', ports: { from: 53, to: 53 }, rule: 'r3' },
        { instance: 'vm', address: '169.254.169.254', protocol: 'tcp', ports: { from: 80, to: 80 }, rule: 'r4' },
      ]),
      { addresses: [], ports: [] },
      settings,
      loopbackOnly,
    );
    const ports = plan.targets.map((target) => target.port);
    expect(ports.slice(0, 3)).toEqual([8000, 8001, 8002]);
    expect(new Set(ports)).toEqual(new Set([8001, 8002, ...wellKnownPorts]));
    expect(plan.targets.find((target) => target.port === 8000)).toMatchObject({ instance: 'vm', rule: 'r1' });
    expect(plan.skipped).toEqual([
      { target: '127.0.0.1 tcp/0-65535', reason: `65536 ports: only the ${wellKnownPorts.length} well-known ones inside were probed` },
      { target: '127.0.0.1 udp/53', reason: 'only TCP services are probed' },
      { target: '169.254.169.254:80', reason: 'a link-local address (cloud metadata lives here), not allowed by probe.allowRanges' },
    ]);
  });

  it("probes an alert's own addresses only when the inventory confirms them or configuration allows them", () => {
    const alert = { addresses: ['127.0.0.5', '127.0.0.6', '127.0.0.7'], ports: [{ from: 22, to: 22 }] };
    const plan = planTargets(context([], ['127.0.0.5']), alert, { ...settings, extraTargets: ['127.0.0.6/32'] }, loopbackOnly);
    expect(plan.targets).toEqual([{ address: '127.0.0.6', port: 22 }]);
    expect(plan.skipped).toEqual([{ target: '127.0.0.7', reason: 'named by the alert but not confirmed by any inventory (nor listed in probe.extraTargets)' }]);
  });
});
