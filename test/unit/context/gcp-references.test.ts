// How alerts name GCP firewalls and instances (numeric id, name, self link, full resource name, path)
// and which of the evaluated firewalls and instances each form keeps. The Cloud Asset client and
// server are in test/integration/gcp-inventory.test.ts; here every form is checked on its own.
import { ruleName } from '../../../lib/render/context';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateGcpFirewalls, FIREWALL_ASSET_TYPE, INSTANCE_ASSET_TYPE, type GcpAsset } from '../../../activities/context/gcp/firewall';
import { narrowToQuery, parseGcpReference, refersTo } from '../../../activities/context/gcp/references';
import type { ContextQuery } from '../../../activities/context/types';

const PROJECT = 'test-project';
const NETWORK = `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/networks/default`;
const SSH = `projects/${PROJECT}/global/firewalls/default-allow-ssh`;
const SSH_ID = '43256709';
const CASSANDRA = `projects/${PROJECT}/global/firewalls/open-cassandra-port-tcp-7199`;
const CASSANDRA_ID = '4695668982209007936';
const WEB = `projects/${PROJECT}/zones/us-central1-a/instances/web`;
const WEB_ID = '6796113316167375355';
const DB = `projects/${PROJECT}/zones/us-central1-a/instances/db`;

function firewall(path: string, id: string | undefined, port: string): GcpAsset {
  const name = path.split('/').at(-1)!;
  return {
    name: `//compute.googleapis.com/${path}`,
    assetType: FIREWALL_ASSET_TYPE,
    data: { ...(id ? { id } : {}), name, network: NETWORK, direction: 'INGRESS', priority: 1000, sourceRanges: ['0.0.0.0/0'], allowed: [{ IPProtocol: 'tcp', ports: [port] }] },
  };
}

function instance(path: string, id: string, natIP: string): GcpAsset {
  return {
    name: `//compute.googleapis.com/${path}`,
    assetType: INSTANCE_ASSET_TYPE,
    data: { id, name: path.split('/').at(-1), status: 'RUNNING', networkInterfaces: [{ network: NETWORK, networkIP: '10.128.0.2', accessConfigs: [{ natIP }] }] },
  };
}

/** Two firewalls open to the internet, each exposing both instances. */
const context = evaluateGcpFirewalls([
  firewall(SSH, SSH_ID, '22'),
  firewall(CASSANDRA, CASSANDRA_ID, '7199'),
  instance(WEB, WEB_ID, '34.120.7.9'),
  instance(DB, '6796113316167375356', '34.120.7.10'),
]);

const query = (type: string, id: string, account: string | undefined = PROJECT): ContextQuery => ({ provider: 'gcp', ...(account ? { account } : {}), resources: [{ type, id }], addresses: [] });
const firewallsFor = (id: string, account?: string) => narrowToQuery(context, query('gcp:compute:firewall', id, account)).rules.map((rule) => rule.id);
const instancesFor = (id: string, account?: string) => narrowToQuery(context, query('gcp:compute:instance', id, account)).instances.map((item) => item.id);

describe('GCP references: the forms alerts write', () => {
  it('reads a firewall reference in every form, with the project from the alert when it names none', () => {
    const cases: [string, object][] = [
      [SSH_ID, { project: PROJECT, key: SSH_ID }],
      ['default-allow-ssh', { project: PROJECT, key: 'default-allow-ssh' }],
      [`//compute.googleapis.com/projects/p/global/firewalls/${SSH_ID}`, { project: 'p', key: SSH_ID }],
      ['//compute.googleapis.com/projects/p/global/firewalls/default-allow-ssh', { project: 'p', key: 'default-allow-ssh' }],
      ['https://www.googleapis.com/compute/v1/projects/p/global/firewalls/default-allow-ssh', { project: 'p', key: 'default-allow-ssh' }],
      ['https://compute.googleapis.com/compute/beta/projects/p/global/firewalls/default-allow-ssh', { project: 'p', key: 'default-allow-ssh' }],
      ['projects/p/global/firewalls/default-allow-ssh', { project: 'p', key: 'default-allow-ssh' }],
      ['global/firewalls/default-allow-ssh', { project: PROJECT, key: 'default-allow-ssh' }],
      ['//compute.googleapis.com/projects/-/global/firewalls/default-allow-ssh', { project: PROJECT, key: 'default-allow-ssh' }],
    ];
    for (const [id, expected] of cases) expect(parseGcpReference(id, 'firewalls', PROJECT), id).toEqual({ collection: 'firewalls', ...expected });
    // Without the alert's project, any project.
    expect(parseGcpReference('projects/-/global/firewalls/x', 'firewalls')).toEqual({ collection: 'firewalls', key: 'x' });
    expect(parseGcpReference(SSH_ID, 'firewalls')).toEqual({ collection: 'firewalls', key: SSH_ID });
  });

  it('reads an instance reference in every form, a `-` zone standing for any', () => {
    const cases: [string, object][] = [
      [WEB_ID, { project: PROJECT, key: WEB_ID }],
      [`//compute.googleapis.com/projects/p/zones/us-central1-a/instances/${WEB_ID}`, { project: 'p', zone: 'us-central1-a', key: WEB_ID }],
      ['https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a/instances/web', { project: 'p', zone: 'us-central1-a', key: 'web' }],
      ['projects/p/zones/-/instances/web', { project: 'p', key: 'web' }],
      ['zones/us-central1-a/instances/web', { project: PROJECT, zone: 'us-central1-a', key: 'web' }],
    ];
    for (const [id, expected] of cases) expect(parseGcpReference(id, 'instances', PROJECT), id).toEqual({ collection: 'instances', ...expected });
  });

  it('reads no reference from another collection’s path or an empty one', () => {
    expect(parseGcpReference(`//compute.googleapis.com/${WEB}`, 'firewalls', PROJECT)).toBeUndefined();
    expect(parseGcpReference(`//compute.googleapis.com/${SSH}`, 'instances', PROJECT)).toBeUndefined();
    expect(parseGcpReference('//compute.googleapis.com/projects/p/global/networks/default', 'firewalls', PROJECT)).toBeUndefined();
    expect(parseGcpReference('//compute.googleapis.com/', 'firewalls', PROJECT)).toBeUndefined();
  });
});

describe('GCP references: which firewall or instance they name', () => {
  it('finds a firewall by numeric id, name, self link, full resource name or path', () => {
    for (const id of [
      SSH_ID,
      'default-allow-ssh',
      `https://www.googleapis.com/compute/v1/${SSH}`,
      `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/firewalls/${SSH_ID}`,
      `//compute.googleapis.com/${SSH}`,
      `//compute.googleapis.com/projects/${PROJECT}/global/firewalls/${SSH_ID}`,
      SSH,
      `global/firewalls/${SSH_ID}`,
    ]) {
      expect(firewallsFor(id), id).toEqual([SSH]);
    }
    // The rule is named by its name and id whichever the alert used.
    expect(narrowToQuery(context, query('gcp:compute:firewall', SSH_ID)).rules.map(ruleName)).toEqual([`default-allow-ssh (${SSH_ID})`]);
  });

  it('keeps what the firewall named by id exposes, and nothing of the other firewall', () => {
    const narrowed = narrowToQuery(context, query('gcp:compute:firewall', `//compute.googleapis.com/projects/${PROJECT}/global/firewalls/${SSH_ID}`));
    expect(new Set(narrowed.exposures.map((exposure) => `${exposure.rule} ${exposure.ports.from}`))).toEqual(new Set([`${SSH} 22`]));
    expect(narrowed.instances.map((item) => item.id).sort()).toEqual([DB, WEB]);
  });

  it('finds an instance by numeric id, name, self link, full resource name or path', () => {
    for (const id of [
      WEB_ID,
      'web',
      `https://www.googleapis.com/compute/v1/${WEB}`,
      `//compute.googleapis.com/projects/${PROJECT}/zones/us-central1-a/instances/${WEB_ID}`,
      `projects/${PROJECT}/zones/-/instances/${WEB_ID}`,
      WEB,
    ]) {
      expect(instancesFor(id), id).toEqual([WEB]);
    }
  });

  it('does not take one firewall’s numeric id for another, nor a reference in another project or zone', () => {
    expect(firewallsFor(CASSANDRA_ID)).toEqual([CASSANDRA]);
    expect(firewallsFor('43256710')).toEqual([]);
    expect(firewallsFor(`//compute.googleapis.com/projects/other-project/global/firewalls/${SSH_ID}`)).toEqual([]);
    // The alert's project stands for a bare id: the same id from another project's alert is not this rule.
    expect(firewallsFor(SSH_ID, 'other-project')).toEqual([]);
    expect(instancesFor(`projects/${PROJECT}/zones/europe-west1-b/instances/${WEB_ID}`)).toEqual([]);
    // The instance's numeric id names no firewall, and the firewall's no instance.
    expect(firewallsFor(WEB_ID)).toEqual([]);
    expect(instancesFor(SSH_ID)).toEqual([]);
    // A reference that is no firewall at all still narrows, to nothing.
    expect(narrowToQuery(context, query('gcp:compute:firewall', '//compute.googleapis.com/projects/p/global/networks/default'))).toMatchObject({ rules: [], instances: [], exposures: [] });
  });

  it('matches a name that is all digits as a name, as well as ids', () => {
    const digits = evaluateGcpFirewalls([firewall(`projects/${PROJECT}/global/firewalls/1234567`, '99887766', '22'), firewall(SSH, SSH_ID, '22'), instance(WEB, WEB_ID, '34.120.7.9')]);
    const named = (id: string) => narrowToQuery(digits, query('gcp:compute:firewall', id)).rules.map(ruleName);
    expect(named('1234567')).toEqual(['1234567 (99887766)']);
    expect(named('99887766')).toEqual(['1234567 (99887766)']);
    expect(named(SSH_ID)).toEqual([`default-allow-ssh (${SSH_ID})`]);
    expect(refersTo({ collection: 'firewalls', key: '1234567' }, `projects/${PROJECT}/global/firewalls/1234567`)).toBe(true);
  });

  it('takes a firewall’s name and self link from the asset’s name, not from a `selfLink` that says otherwise', () => {
    // The policy-library fixture's cf-test-fw-rule-0 carries the selfLink of `default-allow-rdp` (a copy
    // and paste upstream); the asset's name is what Cloud Asset guarantees.
    const exported = JSON.parse(readFileSync(new URL('../../fixtures/gcp-asset/firewall-protocol-and-port.json', import.meta.url), 'utf8')) as {
      name: string;
      asset_type: string;
      resource: { data: unknown };
    }[];
    const fixture = evaluateGcpFirewalls(exported.map((asset) => ({ name: asset.name, assetType: asset.asset_type, data: asset.resource.data })));
    const found = (id: string) => narrowToQuery(fixture, query('gcp:compute:firewall', id, 'cf-gcp-challenge-dev')).rules.map(ruleName);
    expect(found('https://www.googleapis.com/compute/v1/projects/cf-gcp-challenge-dev/global/firewalls/default-allow-rdp')).toEqual([]);
    expect(found('https://www.googleapis.com/compute/v1/projects/cf-gcp-challenge-dev/global/firewalls/cf-test-fw-rule-0')).toEqual(['cf-test-fw-rule-0 (1973316202281532623)']);
  });

  it('without the alert’s project, finds the firewall in whichever project holds it', () => {
    expect(firewallsFor(SSH_ID, '')).toEqual([SSH]);
    expect(firewallsFor(`//compute.googleapis.com/projects/-/global/firewalls/${SSH_ID}`, '')).toEqual([SSH]);
  });
});
