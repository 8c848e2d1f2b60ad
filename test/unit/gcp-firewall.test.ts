import { ruleName } from '../../lib/render/context';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateGcpFirewalls, FIREWALL_ASSET_TYPE, INSTANCE_ASSET_TYPE, subtractPorts, type GcpAsset } from '../../activities/context/gcp/firewall';
import { evaluateRescan } from '../../activities/rescan/evaluate';
import { mergePorts } from '../../lib/ports';
import type { ProviderContext } from '../../lib/context';

interface Exported {
  name: string;
  asset_type: string;
  resource: { data: Record<string, unknown> };
}
const fixture = (file: string) => JSON.parse(readFileSync(new URL(`../fixtures/gcp-asset/${file}`, import.meta.url), 'utf8')) as Exported[];
const asAsset = (exported: Exported): GcpAsset => ({ name: exported.name, assetType: exported.asset_type, data: structuredClone(exported.resource.data) });
const fixtureFirewalls = () => fixture('firewall-protocol-and-port.json').map(asAsset);
const fixtureInstances = () => fixture('vm-external-ip.json').map(asAsset);

const PROJECT = 'cf-gcp-challenge-dev';
const NETWORK = `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/networks/default`;
const TARGET_ACCOUNT = `${PROJECT}-sa@${PROJECT}.iam.gserviceaccount.com`;
const PUBLIC_V4 = '34.120.7.9';

function firewall(name: string, data: Record<string, unknown>): GcpAsset {
  return {
    name: `//compute.googleapis.com/projects/${PROJECT}/global/firewalls/${name}`,
    assetType: FIREWALL_ASSET_TYPE,
    data: { name, network: NETWORK, direction: 'INGRESS', priority: 1000, sourceRanges: ['0.0.0.0/0'], ...data },
  };
}

function instance(name: string, data: Record<string, unknown> = {}): GcpAsset {
  return {
    name: `//compute.googleapis.com/projects/${PROJECT}/zones/europe-west1-b/instances/${name}`,
    assetType: INSTANCE_ASSET_TYPE,
    data: {
      name,
      status: 'RUNNING',
      networkInterfaces: [{ network: NETWORK, networkIP: '10.0.0.2', accessConfigs: [{ type: 'ONE_TO_ONE_NAT', natIP: PUBLIC_V4 }] }],
      serviceAccounts: [{ email: TARGET_ACCOUNT }],
      ...data,
    },
  };
}

/** `rule:protocol:from-to` of each exposure, sorted, for compact comparisons. */
const opened = (context: ProviderContext) =>
  context.exposures.map((exposure) => `${exposure.rule.split('/').at(-1)}:${exposure.protocol}:${exposure.ports.from}-${exposure.ports.to}`).sort();

/** The fixture's instance `vm-external-ip`, moved into the fixture firewalls' network and started. */
function fixtureVmInFirewallNetwork(serviceAccount = TARGET_ACCOUNT): GcpAsset {
  const vm = fixtureInstances().find((asset) => asset.name.endsWith('/instances/vm-external-ip'))!;
  const data = vm.data as { status: string; networkInterfaces: { network: string }[]; serviceAccount: { email: string }[] };
  data.status = 'RUNNING';
  data.networkInterfaces[0]!.network = NETWORK;
  data.serviceAccount[0]!.email = serviceAccount;
  return { ...vm, name: vm.name.replace('projects/test-project/', `projects/${PROJECT}/`) };
}

describe('GCP firewall evaluation: the policy-library fixtures', () => {
  it('reads every instance, with its addresses, project and zone, from the older export form', () => {
    const context = evaluateGcpFirewalls(fixtureInstances());
    expect(context.problems).toEqual([]);
    expect(context.instances).toHaveLength(6);
    expect(context.instances.find((item) => item.id === 'projects/test-project/zones/us-east1-b/instances/vm-external-ip')).toEqual({
      provider: 'gcp',
      type: 'gcp:compute:instance',
      id: 'projects/test-project/zones/us-east1-b/instances/vm-external-ip',
      aliases: ['108591614595134928'],
      name: 'vm-external-ip',
      account: 'test-project',
      region: 'us-east1-b',
      publicAddresses: ['35.196.151.107'],
      privateAddresses: ['10.142.0.2'],
      dnsNames: [],
      tags: {},
    });
    expect(context.instances.find((item) => item.name === 'vm-no-ip')?.publicAddresses).toEqual([]);
  });

  it('counts only the enabled ingress allow rules open to the internet', () => {
    const context = evaluateGcpFirewalls(fixtureFirewalls());
    expect(context.rules.map(ruleName)).toEqual(['cf-test-fw-rule-0 (1973316202281532623)', 'cf-test-fw-rule-5 (4881368052243813990)', 'cf-test-fw-rule-6 (1947592599491584449)']);
    expect(context.rules[0]).toEqual({
      id: `projects/${PROJECT}/global/firewalls/cf-test-fw-rule-0`,
      name: 'cf-test-fw-rule-0',
      aliases: ['1973316202281532623'],
      protocol: 'icmp,tcp,udp',
      ports: [{ from: 0, to: 65535 }],
      sources: ['0.0.0.0/0'],
    });
    expect(context.exposures).toEqual([]);
  });

  it('exposes a running instance that runs as the rules’ target service account, on every allowed port', () => {
    const context = evaluateGcpFirewalls([...fixtureFirewalls(), fixtureVmInFirewallNetwork()]);
    expect(opened(context)).toEqual(
      [
        'cf-test-fw-rule-0:icmp:0-65535',
        'cf-test-fw-rule-0:tcp:123-123',
        'cf-test-fw-rule-0:udp:1000-7000',
        'cf-test-fw-rule-5:all:0-65535',
        'cf-test-fw-rule-6:tcp:0-65535',
        'cf-test-fw-rule-6:udp:5200-5200',
        'cf-test-fw-rule-6:ah:0-65535',
        'cf-test-fw-rule-6:sctp:0-65535',
        'cf-test-fw-rule-6:icmp:0-65535',
      ].sort(),
    );
    expect(new Set(context.exposures.map((exposure) => exposure.address))).toEqual(new Set(['35.196.151.107']));
    expect(new Set(context.exposures.map((exposure) => exposure.instance))).toEqual(new Set([`projects/${PROJECT}/zones/us-east1-b/instances/vm-external-ip`]));
  });

  it('exposes nothing of an instance running as another service account, or of a stopped one', () => {
    expect(evaluateGcpFirewalls([...fixtureFirewalls(), fixtureVmInFirewallNetwork('other@example.iam.gserviceaccount.com')]).exposures).toEqual([]);
    const stopped = fixtureVmInFirewallNetwork();
    (stopped.data as { status: string }).status = 'TERMINATED';
    const context = evaluateGcpFirewalls([...fixtureFirewalls(), stopped]);
    expect(context.exposures).toEqual([]);
    expect(context.instances).toHaveLength(1);
  });

  it('closes everything once the fixture’s deny-all rule is enabled: it comes first or ties (deny wins a tie)', () => {
    const firewalls = fixtureFirewalls();
    const denyAll = firewalls.find((asset) => asset.name.endsWith('/cf-test-fw-rule-3'))!;
    (denyAll.data as { disabled: boolean }).disabled = false;
    expect(evaluateGcpFirewalls([...firewalls, fixtureVmInFirewallNetwork()]).exposures).toEqual([]);

    (denyAll.data as { priority: number }).priority = 1001;
    const later = evaluateGcpFirewalls([...firewalls, fixtureVmInFirewallNetwork()]);
    expect(new Set(later.exposures.map((exposure) => exposure.rule.split('/').at(-1)))).toEqual(new Set(['cf-test-fw-rule-5', 'cf-test-fw-rule-6']));
  });
});

describe('GCP firewall evaluation: rules', () => {
  it('splits an allowed range around the ports a rule before it denies', () => {
    const allow = firewall('allow-low', { allowed: [{ IPProtocol: 'tcp', ports: ['1-1000'] }] });
    const deny = (priority: number) => firewall('deny-ssh', { priority, denied: [{ IPProtocol: 'tcp', ports: ['22'] }] });
    expect(opened(evaluateGcpFirewalls([allow, deny(900), instance('web')]))).toEqual(['allow-low:tcp:1-21', 'allow-low:tcp:23-1000']);
    expect(opened(evaluateGcpFirewalls([allow, deny(1000), instance('web')]))).toEqual(['allow-low:tcp:1-21', 'allow-low:tcp:23-1000']);
    expect(opened(evaluateGcpFirewalls([allow, deny(1100), instance('web')]))).toEqual(['allow-low:tcp:1-1000']);
  });

  it('reads several port specs and protocol numbers, and ignores a deny of another protocol', () => {
    const allow = firewall('allow-web', { allowed: [{ IPProtocol: '6', ports: ['443', '80', '8000-8080', '8081'] }] });
    const denyUdp = firewall('deny-udp', { priority: 10, denied: [{ IPProtocol: 'udp' }] });
    expect(opened(evaluateGcpFirewalls([allow, denyUdp, instance('web')]))).toEqual(['allow-web:tcp:443-443', 'allow-web:tcp:80-80', 'allow-web:tcp:8000-8081']);
  });

  it('judges an `all` allow protocol by protocol once a deny names one', () => {
    const allow = firewall('allow-all', { allowed: [{ IPProtocol: 'all' }] });
    const deny = firewall('deny-ssh', { priority: 100, denied: [{ IPProtocol: 'tcp', ports: ['22'] }] });
    expect(opened(evaluateGcpFirewalls([allow, deny, instance('web')]))).toEqual(
      ['allow-all:tcp:0-21', 'allow-all:tcp:23-65535', 'allow-all:udp:0-65535', 'allow-all:sctp:0-65535', 'allow-all:icmp:0-65535'].sort(),
    );
  });

  it('keeps an exposure that a deny from a narrower source only trims', () => {
    const allow = firewall('allow-ssh', { allowed: [{ IPProtocol: 'tcp', ports: ['22'] }] });
    const denyOne = firewall('deny-one-net', { priority: 10, sourceRanges: ['203.0.113.0/24'], denied: [{ IPProtocol: 'all' }] });
    expect(opened(evaluateGcpFirewalls([allow, denyOne, instance('web')]))).toEqual(['allow-ssh:tcp:22-22']);
  });

  it('applies a rule only to its network, its target tags, ingress, and addresses of its destination ranges', () => {
    const allow = (name: string, data: Record<string, unknown>) => firewall(name, { allowed: [{ IPProtocol: 'tcp', ports: ['22'] }], ...data });
    const context = evaluateGcpFirewalls([
      allow('other-network', { network: `projects/${PROJECT}/global/networks/other` }),
      allow('egress', { direction: 'EGRESS', destinationRanges: ['0.0.0.0/0'] }),
      allow('tagged-db', { targetTags: ['db'] }),
      allow('tagged-web', { targetTags: ['web'] }),
      allow('to-elsewhere', { destinationRanges: ['198.51.100.0/24'] }),
      allow('to-this', { destinationRanges: [`${PUBLIC_V4}/32`] }),
      instance('web', { tags: { items: ['web', 'https'] }, labels: { env: 'prod' } }),
    ]);
    expect(opened(context)).toEqual(['tagged-web:tcp:22-22', 'to-this:tcp:22-22']);
    expect(context.instances[0]!.tags).toEqual({ 'tag:web': '', 'tag:https': '', env: 'prod' });
  });

  it('exposes an external IPv6 address only to rules open to the IPv6 internet', () => {
    const vm = instance('dual', {
      networkInterfaces: [{ network: NETWORK, networkIP: '10.0.0.3', accessConfigs: [{ natIP: PUBLIC_V4 }], ipv6AccessConfigs: [{ externalIpv6: '2600:1900:4010:7a::', publicPtrDomainName: 'dual.example.com.' }] }],
    });
    const context = evaluateGcpFirewalls([
      firewall('v4-ssh', { allowed: [{ IPProtocol: 'tcp', ports: ['22'] }] }),
      firewall('v6-web', { sourceRanges: ['::/0'], allowed: [{ IPProtocol: 'tcp', ports: ['443'] }] }),
      vm,
    ]);
    expect(context.exposures.map((exposure) => `${exposure.address} ${exposure.rule.split('/').at(-1)}`).sort()).toEqual(['2600:1900:4010:7a:: v6-web', `${PUBLIC_V4} v4-ssh`]);
    expect(context.instances[0]).toMatchObject({ publicAddresses: [PUBLIC_V4, '2600:1900:4010:7a::'], privateAddresses: ['10.0.0.3'], dnsNames: ['dual.example.com.'] });
  });

  it('says which asset it could not read instead of skipping it silently', () => {
    const broken = firewall('broken', { allowed: 'tcp:22' });
    expect(evaluateGcpFirewalls([broken]).problems).toEqual([expect.objectContaining({ provider: 'gcp', scope: broken.name, reason: expect.stringContaining('unreadable firewall data') })]);
  });

  it('merges and subtracts port ranges', () => {
    expect(mergePorts([{ from: 30, to: 40 }, { from: 1, to: 10 }, { from: 11, to: 12 }, { from: 35, to: 50 }])).toEqual([{ from: 1, to: 12 }, { from: 30, to: 50 }]);
    expect(subtractPorts([{ from: 0, to: 65535 }], [{ from: 0, to: 0 }, { from: 65535, to: 65535 }, { from: 100, to: 200 }])).toEqual([{ from: 1, to: 99 }, { from: 201, to: 65534 }]);
    expect(subtractPorts([{ from: 22, to: 22 }], [{ from: 1, to: 1000 }])).toEqual([]);
  });
});

describe('GCP firewall evaluation: numeric ids', () => {
  const ssh = () => firewall('default-allow-ssh', { id: '43256709', allowed: [{ IPProtocol: 'tcp', ports: ['22'] }] });

  it('names a rule by its name and numeric id, and keeps the id as an alias for alerts that use it', () => {
    const context = evaluateGcpFirewalls([ssh(), firewall('allow-web', { allowed: [{ IPProtocol: 'tcp', ports: ['443'] }] }), instance('web', { id: '6796113316167375355' })]);
    expect(context.rules.map(({ id, name, aliases }) => ({ id, name, aliases }))).toEqual([
      { id: `projects/${PROJECT}/global/firewalls/default-allow-ssh`, name: 'default-allow-ssh', aliases: ['43256709'] },
      // Data without an id (assets written by hand) keeps the bare name and no alias.
      { id: `projects/${PROJECT}/global/firewalls/allow-web`, name: 'allow-web', aliases: undefined },
    ]);
    expect(context.instances[0]).toMatchObject({ id: `projects/${PROJECT}/zones/europe-west1-b/instances/web`, name: 'web', aliases: ['6796113316167375355'] });
  });

  it('judges a rule whose id is of another shape all the same, without the id', () => {
    // 2^64 - 1 as a double has lost its last digits: no id at all is better than a wrong one.
    for (const id of [18446744073709552000, 'not-a-number', '']) {
      const context = evaluateGcpFirewalls([firewall('odd-id', { id, allowed: [{ IPProtocol: 'tcp', ports: ['22'] }] }), instance('web', { id })]);
      expect(context.problems).toEqual([]);
      expect(opened(context)).toEqual(['odd-id:tcp:22-22']);
      expect(context.rules[0]).toMatchObject({ name: 'odd-id' });
      expect(context.rules[0]!.aliases).toBeUndefined();
      expect(context.instances[0]!.aliases).toBeUndefined();
    }
  });

  it('lets a re-scan allowance name a GCP instance by its numeric id, and only that instance', () => {
    const context = evaluateGcpFirewalls([ssh(), instance('web', { id: '6796113316167375355' })]);
    const allowed = (resource: string) => evaluateRescan(context, { sensitivePorts: [22], allow: [{ resource, reason: 'bastion', expires: '2099-12-31' }] }, '2026-03-15');
    expect(allowed('6796113316167375355')).toEqual({ violations: [], allowed: [{ instance: `projects/${PROJECT}/zones/europe-west1-b/instances/web`, reason: 'bastion', expires: '2099-12-31' }] });
    expect(allowed(`projects/${PROJECT}/zones/europe-west1-b/instances/web`).allowed).toHaveLength(1);
    // Another instance's id, or the firewall's, allows nothing.
    expect(allowed('6796113316167375356').violations).toHaveLength(1);
    expect(allowed('43256709').violations).toHaveLength(1);
  });
});

describe('GCP firewall evaluation: properties', () => {
  const port = fc.integer({ min: 0, max: 65535 });
  const range = fc.tuple(port, port).map(([a, b]) => ({ from: Math.min(a, b), to: Math.max(a, b) }));
  const spec = (r: { from: number; to: number }) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`);
  const priority = fc.integer({ min: 0, max: 65535 });
  const protocol = fc.constantFrom('tcp', 'udp', 'sctp', 'icmp', 'all');
  const inAny = (ranges: readonly { from: number; to: number }[], value: number) => ranges.some((r) => r.from <= value && value <= r.to);

  it('a port is exposed exactly when the allow opens it and no deny before it (or tied) closes it', () => {
    fc.assert(
      fc.property(fc.array(range, { minLength: 1, maxLength: 5 }), fc.array(range, { minLength: 1, maxLength: 5 }), priority, priority, (allowed, denied, allowPriority, denyPriority) => {
        const context = evaluateGcpFirewalls([
          firewall('allow', { priority: allowPriority, allowed: [{ IPProtocol: 'tcp', ports: allowed.map(spec) }] }),
          firewall('deny', { priority: denyPriority, denied: [{ IPProtocol: 'tcp', ports: denied.map(spec) }] }),
          instance('vm'),
        ]);
        const exposed = context.exposures.map((exposure) => exposure.ports);
        const denyFirst = denyPriority <= allowPriority;
        const edges = [...allowed, ...denied].flatMap((r) => [r.from - 1, r.from, r.to, r.to + 1]).filter((value) => value >= 0 && value <= 65535);
        for (const value of edges) expect(inAny(exposed, value)).toBe(inAny(allowed, value) && !(denyFirst && inAny(denied, value)));
      }),
    );
  });

  it('a deny of everything from the whole internet, before or tied with every allow, leaves nothing exposed', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(protocol, fc.array(range, { maxLength: 3 }), priority), { minLength: 1, maxLength: 6 }), priority, (allows, offset) => {
        const lowest = Math.min(...allows.map(([, , p]) => p));
        const assets = allows.map(([name, ports, p], index) => firewall(`allow-${index}`, { priority: p, allowed: [{ IPProtocol: name, ports: ports.map(spec) }] }));
        const deny = firewall('deny-all', { priority: lowest - (offset % (lowest + 1)), denied: [{ IPProtocol: 'all' }] });
        expect(evaluateGcpFirewalls([...assets, instance('vm')]).exposures.length).toBeGreaterThan(0);
        expect(evaluateGcpFirewalls([...assets, deny, instance('vm')]).exposures).toEqual([]);
      }),
    );
  });

  it('disabled rules expose nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(protocol, fc.array(range, { maxLength: 3 }), priority, fc.boolean()), { minLength: 1, maxLength: 6 }), (rules) => {
        const assets = rules.map(([name, ports, p, isAllow], index) =>
          firewall(`rule-${index}`, { priority: p, disabled: true, [isAllow ? 'allowed' : 'denied']: [{ IPProtocol: name, ports: ports.map(spec) }] }),
        );
        const context = evaluateGcpFirewalls([...assets, instance('vm')]);
        expect(context.exposures).toEqual([]);
        expect(context.rules).toEqual([]);
      }),
    );
  });

  it('target tags restrict a rule to the instances that carry one of them', () => {
    const tags = fc.subarray(['web', 'ssh', 'db', 'batch']);
    fc.assert(
      fc.property(tags, tags, (ruleTags, instanceTags) => {
        const context = evaluateGcpFirewalls([
          firewall('tagged', { targetTags: ruleTags, allowed: [{ IPProtocol: 'tcp', ports: ['22'] }] }),
          instance('vm', { tags: { items: instanceTags }, serviceAccounts: [] }),
        ]);
        const targeted = ruleTags.length === 0 || ruleTags.some((tag) => instanceTags.includes(tag));
        expect(context.exposures.length > 0).toBe(targeted);
      }),
    );
  });

  it('source ranges narrower than the internet expose nothing', () => {
    const v4 = fc.tuple(fc.ipV4(), fc.integer({ min: 9, max: 32 })).map(([address, bits]) => `${address}/${bits}`);
    const v6 = fc.tuple(fc.ipV6(), fc.integer({ min: 33, max: 128 })).map(([address, bits]) => `${address}/${bits}`);
    fc.assert(
      fc.property(fc.array(fc.oneof(v4, v6), { minLength: 1, maxLength: 4 }), (sources) => {
        const vm = instance('vm', { networkInterfaces: [{ network: NETWORK, accessConfigs: [{ natIP: PUBLIC_V4 }], ipv6AccessConfigs: [{ externalIpv6: '2600:1900:4010:7a::' }] }] });
        const context = evaluateGcpFirewalls([firewall('narrow', { sourceRanges: sources, allowed: [{ IPProtocol: 'all' }] }), vm]);
        expect(context.exposures).toEqual([]);
        expect(context.rules).toEqual([]);
      }),
    );
  });
});
