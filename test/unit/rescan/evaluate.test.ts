// The re-scan's judgement against a plain restatement of its rules (fast-check), its edges by
// example, and one whole-account-sized scope (checked for what it finds, never for how fast:
// `npm run bench` reports the time).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateRescan, exposedSensitivePorts, type RescanEvaluation, type RescanFinding } from '../../../activities/rescan/evaluate';
import type { RescanSettings } from '../../../lib/config';
import type { ContextInstance, Exposure, ProviderContext, PublicResource } from '../../../lib/context';

const TODAY = '2026-03-15';
type Settings = Pick<RescanSettings, 'sensitivePorts' | 'allow'>;

const instance = (id: string, tags: Record<string, string> = {}, name?: string): ContextInstance => ({
  provider: 'aws',
  type: 'aws:ec2:instance',
  id,
  ...(name ? { name } : {}),
  account: '111122223333',
  region: 'eu-west-1',
  publicAddresses: ['198.51.100.7'],
  privateAddresses: [],
  dnsNames: [],
  tags,
});
const exposure = (id: string, protocol: string, from: number, to = from, rule = `${id}/${protocol}/${from}-${to}`): Exposure => ({
  instance: id,
  address: '198.51.100.7',
  protocol,
  ports: { from, to },
  rule,
});
const context = (instances: ContextInstance[], exposures: Exposure[]): ProviderContext => ({ instances, rules: [], exposures, problems: [] });
/** The machines among the violations. */
const machines = (violations: RescanFinding[]) => violations.flatMap((violation) => ('instance' in violation ? [violation] : []));

/** The rules as docs/watching-and-rescans.md states them, one instance and one allowance at a time. */
function restated(scope: ProviderContext, settings: Settings, today: string): RescanEvaluation {
  const sensitive = (e: Exposure) => ['tcp', 'udp', 'all'].includes(e.protocol) && settings.sensitivePorts.some((port) => port >= e.ports.from && port <= e.ports.to);
  const result: RescanEvaluation = { violations: [], allowed: [] };
  for (const id of new Set(scope.exposures.filter(sensitive).map((e) => e.instance))) {
    const exposures = scope.exposures.filter((e) => e.instance === id && sensitive(e));
    if (exposures.length === 0) continue;
    const machine = scope.instances.find((candidate) => candidate.id === id)!;
    const allowance = settings.allow.find((entry) => {
      if (entry.expires < today) return false;
      if (entry.resource === id) return true;
      if (entry.tag === undefined) return false;
      const [key, ...value] = entry.tag.split('=');
      return Object.hasOwn(machine.tags, key!) && machine.tags[key!] === value.join('=');
    });
    if (allowance) result.allowed.push({ instance: id, reason: allowance.reason, expires: allowance.expires });
    else result.violations.push({ instance: machine, exposures });
  }
  return result;
}

const ids = ['i-1', 'i-2', 'i-3', 'i-4', 'i-5'];
const tagKeys = ['env', 'public', 'team'];
const tagValues = ['prod', 'approved', 'web', ''];
const dates = ['2026-03-14', '2026-03-15', '2026-03-16', '2025-01-01', '2030-12-31'];
const ports = fc.oneof(fc.constantFrom(0, 22, 23, 80, 443, 3389, 5432, 65535), fc.integer({ min: 0, max: 65535 }));

const scopes = fc
  .record({
    tags: fc.array(fc.dictionary(fc.constantFrom(...tagKeys), fc.constantFrom(...tagValues), { maxKeys: 2 }), { minLength: ids.length, maxLength: ids.length }),
    exposures: fc.array(
      fc.record({
        id: fc.constantFrom(...ids),
        protocol: fc.constantFrom('tcp', 'udp', 'all', 'icmp', 'esp'),
        a: ports,
        b: ports,
      }),
      { maxLength: 30 },
    ),
  })
  .map(({ tags, exposures }) =>
    context(
      ids.map((id, index) => instance(id, tags[index])),
      exposures.map(({ id, protocol, a, b }, index) => exposure(id, protocol, Math.min(a, b), Math.max(a, b), `rule-${index}`)),
    ),
  );

const allowance = fc.oneof(
  fc.record({ resource: fc.constantFrom(...ids), reason: fc.constantFrom('load balancer', 'bastion'), expires: fc.constantFrom(...dates) }),
  fc.record({
    tag: fc.tuple(fc.constantFrom(...tagKeys), fc.constantFrom(...tagValues)).map(([key, value]) => `${key}=${value}`),
    reason: fc.constantFrom('approved by security', 'honeypot'),
    expires: fc.constantFrom(...dates),
  }),
);
const settings: fc.Arbitrary<Settings> = fc.record({
  sensitivePorts: fc.uniqueArray(ports, { minLength: 1, maxLength: 10 }),
  allow: fc.array(allowance, { maxLength: 4 }),
});

describe('re-scan evaluation', () => {
  it('finds exactly the machines the rules name, with the first current allowance that matches', () => {
    fc.assert(
      fc.property(scopes, settings, (scope, rescan) => {
        expect(evaluateRescan(scope, rescan, TODAY)).toEqual(restated(scope, rescan, TODAY));
      }),
      { numRuns: 500 },
    );
  });

  it('lets an allowance lapse: after its expiry the same machine is a violation again', () => {
    fc.assert(
      fc.property(scopes, settings, (scope, rescan) => {
        const lapsed = { ...rescan, allow: rescan.allow.map((entry) => ({ ...entry, expires: '2026-03-14' })) };
        const flagged = evaluateRescan(scope, { ...rescan, allow: [] }, TODAY);
        const result = evaluateRescan(scope, lapsed, TODAY);
        expect(result.allowed).toEqual([]);
        expect(result.violations).toEqual(flagged.violations);
      }),
    );
  });

  it('ignores exposures of no sensitive port (other ports, ICMP)', () => {
    fc.assert(
      fc.property(scopes, settings, (scope, rescan) => {
        const harmless = scope.instances.flatMap((machine) => [exposure(machine.id, 'icmp', 0, 65535), exposure(machine.id, 'tcp', 1, 1, `${machine.id}-one`)]);
        const sensitive = { ...rescan, sensitivePorts: rescan.sensitivePorts.filter((port) => port !== 1 && port !== 0) };
        fc.pre(sensitive.sensitivePorts.length > 0);
        expect(evaluateRescan({ ...scope, exposures: [...scope.exposures, ...harmless] }, sensitive, TODAY)).toEqual(evaluateRescan(scope, sensitive, TODAY));
      }),
    );
  });

  it('names the exposed sensitive ports per protocol as merged ranges, and only those', () => {
    fc.assert(
      fc.property(scopes, settings, (scope, rescan) => {
        const found = exposedSensitivePorts(scope.exposures, rescan.sensitivePorts);
        for (const protocol of ['tcp', 'udp', 'all']) {
          const expected = rescan.sensitivePorts
            .filter((port) => scope.exposures.some((e) => e.protocol === protocol && port >= e.ports.from && port <= e.ports.to))
            .sort((a, b) => a - b);
          const listed = (found.find((entry) => entry.protocol === protocol)?.ports ?? []).flatMap(({ from, to }) => Array.from({ length: to - from + 1 }, (_, i) => from + i));
          expect(listed).toEqual(expected);
        }
        expect(found.map((entry) => entry.protocol).every((protocol) => ['tcp', 'udp', 'all'].includes(protocol))).toBe(true);
      }),
    );
  });

  it('keeps an allowance through its expiry day and matches tags on the whole value', () => {
    const scope = context([instance('i-1', { public: 'approved' }), instance('i-2', { public: 'approved-not' }), instance('i-3')], [
      exposure('i-1', 'tcp', 22),
      exposure('i-2', 'tcp', 0, 65535),
      exposure('i-3', 'all', 0, 65535),
      exposure('i-3', 'tcp', 443),
    ]);
    const result = evaluateRescan(
      scope,
      {
        sensitivePorts: [22, 3389],
        allow: [
          { tag: 'public=approved', reason: 'the bastion', expires: TODAY },
          { resource: 'i-3', reason: 'expired honeypot', expires: '2026-03-14' },
        ],
      },
      TODAY,
    );
    expect(result.allowed).toEqual([{ instance: 'i-1', reason: 'the bastion', expires: TODAY }]);
    expect(machines(result.violations).map((v) => [v.instance.id, v.exposures.map((e) => e.rule)])).toEqual([
      ['i-2', ['i-2/tcp/0-65535']],
      ['i-3', ['i-3/all/0-65535']],
    ]);
    expect(exposedSensitivePorts(machines(result.violations)[0]!.exposures, [3389, 22, 23])).toEqual([{ protocol: 'tcp', ports: [{ from: 22, to: 23 }, { from: 3389, to: 3389 }] }]);
  });

  it('still reports a machine an exposure names but the instances lack', () => {
    const result = evaluateRescan(context([], [exposure('eni-gone', 'tcp', 22)]), { sensitivePorts: [22], allow: [] }, TODAY);
    expect(machines(result.violations).map((v) => [v.instance.id, v.instance.publicAddresses])).toEqual([['eni-gone', ['198.51.100.7']]]);
  });

  it('judges a whole account: 10,000 rules over 5,000 instances', () => {
    const sensitivePorts = [22, 23, 135, 139, 445, 1433, 1521, 2375, 2376, 3306, 3389, 5432, 5601, 5900, 5984, 6379, 6443, 8080, 8443, 9042, 9200, 9300, 10250, 11211, 15672, 27017];
    const instances = Array.from({ length: 5000 }, (_, i) => instance(`i-${i}`, i % 10 === 0 ? { public: 'approved' } : { team: `t${i % 7}` }));
    // Two rules per instance: every third opens a sensitive port, the rest web ports.
    const exposures = instances.flatMap((machine, i) => [
      exposure(machine.id, 'tcp', 443, 443, `r-${i}-a`),
      exposure(machine.id, i % 3 === 0 ? 'tcp' : 'udp', i % 3 === 0 ? 3000 + (i % 500) : 53, i % 3 === 0 ? 3400 + (i % 500) : 53, `r-${i}-b`),
    ]);
    const result = evaluateRescan(context(instances, exposures), { sensitivePorts, allow: [{ tag: 'public=approved', reason: 'load balancers', expires: '2030-01-01' }] }, TODAY);
    expect(result).toEqual(restated(context(instances, exposures), { sensitivePorts, allow: [{ tag: 'public=approved', reason: 'load balancers', expires: '2030-01-01' }] }, TODAY));
    expect(result.violations.length + result.allowed.length).toBeGreaterThan(1000);
    expect(result.allowed.length).toBeGreaterThan(0);
  });

  it('finds every public resource beyond machines, a load balancer only on a sensitive port, less the allowed by id, alias or tag', () => {
    const resource = (id: string, kind: PublicResource['class'], more: Partial<PublicResource> = {}): PublicResource => ({
      provider: 'aws',
      class: kind,
      type: `aws:test:${kind}`,
      id,
      account: '111122223333',
      public: true,
      reasons: ['open to everyone'],
      facts: {},
      proofs: [],
      tags: {},
      ...more,
    });
    const scope: ProviderContext = {
      ...context([], []),
      resources: [
        resource('logs', 'storage'),
        resource('private-logs', 'storage', { public: false }),
        resource('orders', 'database', { proofs: [{ kind: 'endpoint', host: 'orders.example', ports: [5432] }] }),
        resource('arn:web', 'load-balancer', { aliases: ['web'], proofs: [{ kind: 'endpoint', host: 'web.example', ports: [80, 443] }] }),
        resource('arn:admin', 'load-balancer', { proofs: [{ kind: 'endpoint', host: 'admin.example', ports: [443, 8443] }] }),
        resource('arn:unknown', 'load-balancer'),
        resource('snap-1', 'snapshot', { tags: { public: 'approved' } }),
        resource('ami-1', 'snapshot'),
        resource('arn:lb-allowed', 'load-balancer', { aliases: ['lb-allowed'] }),
      ],
    };
    const result = evaluateRescan(
      scope,
      {
        sensitivePorts: [22, 8443],
        allow: [
          { tag: 'public=approved', reason: 'the golden image', expires: TODAY },
          { resource: 'lb-allowed', reason: 'a partner', expires: TODAY },
          { resource: 'ami-1', reason: 'lapsed', expires: '2026-03-14' },
        ],
      },
      TODAY,
    );
    expect(result.violations.map((v) => ('resource' in v ? v.resource.id : v.instance.id))).toEqual(['logs', 'orders', 'arn:admin', 'arn:unknown', 'ami-1']);
    expect(result.allowed).toEqual([
      { instance: 'snap-1', type: 'aws:test:snapshot', reason: 'the golden image', expires: TODAY },
      { instance: 'arn:lb-allowed', type: 'aws:test:load-balancer', reason: 'a partner', expires: TODAY },
    ]);
  });
});
