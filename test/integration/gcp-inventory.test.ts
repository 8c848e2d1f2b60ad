// The GCP inventory with the real @google-cloud/asset client (REST transport, preset token) against
// a local Cloud Asset server that checks every request and answer against the client's own API
// description. Nothing leaves 127.0.0.1.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createContextActivities } from '../../activities/context';
import type { GcpInventorySettings } from '../../activities/context/gcp';
import { createGcpInventory } from '../../activities/context/gcp/inventory';
import type { ContextQuery } from '../../activities/context/types';
import { sccSource } from '../../intake/sources/scc';
import type { NormalizedAlert } from '../../lib/alert';
import { mergeContexts, type ProviderContext } from '../../lib/context';
import { contextComment, ruleName } from '../../lib/render/context';
import { assetFromExport, startCloudAssetServer, type ApiAsset, type CloudAssetServer } from '../helpers/cloud-asset-server';

const PROJECT = 'cf-gcp-challenge-dev';
const NETWORK = `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/networks/default`;
const TARGET_ACCOUNT = `${PROJECT}-sa@${PROJECT}.iam.gserviceaccount.com`;
const TOKEN = 'ya29.preset-test-token';
const ENV = { VIGIL_TEST_GCP_TOKEN: TOKEN };

const fixture = (file: string) => JSON.parse(readFileSync(new URL(`../fixtures/gcp-asset/${file}`, import.meta.url), 'utf8')) as Record<string, unknown>[];

/** An instance as the current API writes it, in the fixture firewalls' project and network. */
function instance(name: string, natIP: string, serviceAccount: string): ApiAsset {
  return {
    name: `//compute.googleapis.com/projects/${PROJECT}/zones/europe-west1-b/instances/${name}`,
    assetType: 'compute.googleapis.com/Instance',
    ancestors: ['projects/573988288153', 'folders/2', 'organizations/1'],
    updateTime: '2025-01-07T10:00:00.123Z',
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://www.googleapis.com/discovery/v1/apis/compute/v1/rest',
      discoveryName: 'Instance',
      parent: '//cloudresourcemanager.googleapis.com/projects/573988288153',
      location: 'europe-west1-b',
      data: {
        name,
        status: 'RUNNING',
        networkInterfaces: [{ name: 'nic0', network: NETWORK, networkIP: '10.132.0.7', accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT', natIP }] }],
        serviceAccounts: [{ email: serviceAccount, scopes: ['https://www.googleapis.com/auth/cloud-platform'] }],
        tags: { items: ['web'] },
        labels: { team: 'shop' },
      },
    },
  };
}

// The project of the SCC samples (test/fixtures/scc), whose findings name firewalls and instances by
// numeric id. The ids are the samples'; the firewall that SCC's 43256709 is, `default-allow-ssh`,
// is the one of issue 14.
const SCC_PROJECT = 'test-project';
const SCC_NETWORK = `https://www.googleapis.com/compute/v1/projects/${SCC_PROJECT}/global/networks/default`;
const SSH_ID = '43256709';
const CASSANDRA_ID = '4695668982209007936';
const VM_ID = '6796113316167375355';
const VM_NAME = 'integration-test-default-service-account-non-vuln-instance';
const VM_PATH = `projects/${SCC_PROJECT}/zones/us-central1-a/instances/${VM_NAME}`;
const VM_ADDRESS = '34.72.10.5';

/** A Compute Engine resource as the current Cloud Asset API answers it, `id` and `selfLink` included. */
function computeAsset(path: string, discoveryName: 'Firewall' | 'Instance', data: Record<string, unknown>, location?: string): ApiAsset {
  return {
    name: `//compute.googleapis.com/${path}`,
    assetType: `compute.googleapis.com/${discoveryName}`,
    ancestors: ['projects/68478495408', 'organizations/1'],
    updateTime: '2025-01-07T10:00:00.123Z',
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://www.googleapis.com/discovery/v1/apis/compute/v1/rest',
      discoveryName,
      parent: '//cloudresourcemanager.googleapis.com/projects/68478495408',
      ...(location ? { location } : {}),
      data: { kind: `compute#${discoveryName.toLowerCase()}`, name: path.split('/').at(-1), selfLink: `https://www.googleapis.com/compute/v1/${path}`, ...data },
    },
  };
}

function sccProjectAssets(): ApiAsset[] {
  const firewall = (name: string, id: string, ports: string[], targetTags?: string[]) =>
    computeAsset(`projects/${SCC_PROJECT}/global/firewalls/${name}`, 'Firewall', {
      id,
      network: SCC_NETWORK,
      direction: 'INGRESS',
      priority: 1000,
      sourceRanges: ['0.0.0.0/0'],
      allowed: [{ IPProtocol: 'tcp', ports }],
      ...(targetTags ? { targetTags } : {}),
    });
  return [
    firewall('default-allow-ssh', SSH_ID, ['22']),
    firewall('open-cassandra-port-tcp-7199', CASSANDRA_ID, ['7199'], ['cassandra']),
    computeAsset(
      VM_PATH,
      'Instance',
      {
        id: VM_ID,
        zone: `https://www.googleapis.com/compute/v1/projects/${SCC_PROJECT}/zones/us-central1-a`,
        status: 'RUNNING',
        tags: { items: ['cassandra'] },
        networkInterfaces: [{ name: 'nic0', network: SCC_NETWORK, networkIP: '10.128.0.5', accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT', natIP: VM_ADDRESS }] }],
      },
      'us-central1-a',
    ),
  ];
}

/** A Security Command Center sample as the workflow hands it to the context activity. */
function sccAlert(file: string): NormalizedAlert {
  const payload = JSON.parse(readFileSync(new URL(`../fixtures/scc/${file}`, import.meta.url), 'utf8')) as unknown;
  const [parsed] = sccSource.parse(payload);
  return { ...parsed!, source: 'scc', archive: { id: `2025/01/07/scc/${file}`, sha256: '0'.repeat(64), receivedAt: '2025-01-07T10:00:00.000Z' } };
}

/** The Affected resources comment of one provider's answer. */
const commentOf = (context: ProviderContext) => contextComment(mergeContexts([{ ...context, consulted: ['gcp'] }]));

function seedAssets(): ApiAsset[] {
  const firewalls = fixture('firewall-protocol-and-port.json').map((exported) => ({ ...assetFromExport(exported), ancestors: ['projects/573988288153', 'folders/2', 'organizations/1'] }));
  const others = fixture('vm-external-ip.json').map((exported) => ({ ...assetFromExport(exported), ancestors: ['projects/68478495408', 'organizations/1'] }));
  return [...firewalls, instance('web', '34.120.7.9', TARGET_ACCOUNT), instance('batch', '34.120.7.10', 'batch@example.iam.gserviceaccount.com'), ...others, ...sccProjectAssets()];
}

const query = (overrides: Partial<ContextQuery>): ContextQuery => ({ provider: 'gcp', account: PROJECT, resources: [], addresses: [], ...overrides });
const opened = (exposures: { rule: string; protocol: string; ports: { from: number; to: number } }[]) =>
  exposures.map((exposure) => `${exposure.rule.split('/').at(-1)}:${exposure.protocol}:${exposure.ports.from}-${exposure.ports.to}`).sort();

describe('GCP inventory over the Cloud Asset API', () => {
  let server: CloudAssetServer;
  let settings: GcpInventorySettings;

  beforeEach(async () => {
    server = await startCloudAssetServer({ assets: seedAssets(), pageSize: 3, tokens: [TOKEN], refuse: ['projects/locked-project', 'folders/9'] });
    settings = { scopes: ['organizations/1'], endpoint: server.url, accessToken: { env: 'VIGIL_TEST_GCP_TOKEN' } };
  });

  afterEach(async () => {
    await server.close();
    expect(server.problems).toEqual([]);
  });

  it('reads the alert’s project page by page, with the preset token, and keeps all of a project finding', async () => {
    const context = await createGcpInventory(settings, ENV).collect(query({ resources: [{ type: 'gcp:project', id: `//cloudresourcemanager.googleapis.com/projects/${PROJECT}` }] }));

    // 8 firewalls + 2 instances, 3 a page.
    expect(server.requests.map((request) => [request.status, request.request.pageToken !== undefined])).toEqual([
      [200, false],
      [200, true],
      [200, true],
      [200, true],
    ]);
    for (const request of server.requests) {
      expect(request.request).toMatchObject({ parent: `projects/${PROJECT}`, assetTypes: ['compute.googleapis.com/Firewall', 'compute.googleapis.com/Instance'], contentType: 1 });
      expect(request.authorization).toBe(`Bearer ${TOKEN}`);
    }
    expect(context.problems).toEqual([]);
    expect(context.instances.map((item) => item.name).sort()).toEqual(['batch', 'web']);
    expect(context.rules.map(ruleName)).toEqual(['cf-test-fw-rule-0 (1973316202281532623)', 'cf-test-fw-rule-5 (4881368052243813990)', 'cf-test-fw-rule-6 (1947592599491584449)']);
    expect(context.instances.find((item) => item.name === 'web')).toEqual({
      provider: 'gcp',
      type: 'gcp:compute:instance',
      id: `projects/${PROJECT}/zones/europe-west1-b/instances/web`,
      name: 'web',
      account: PROJECT,
      region: 'europe-west1-b',
      publicAddresses: ['34.120.7.9'],
      privateAddresses: ['10.132.0.7'],
      dnsNames: [],
      tags: { 'tag:web': '', team: 'shop' },
    });
  });

  it('answers a firewall alert with the instances and ports that firewall exposes', async () => {
    const inventory = createGcpInventory(settings, ENV);
    const fullName = await inventory.collect(
      query({ resources: [{ type: 'gcp:compute:firewall', id: `//compute.googleapis.com/projects/${PROJECT}/global/firewalls/cf-test-fw-rule-0`, name: 'cf-test-fw-rule-0' }] }),
    );
    expect(fullName.rules.map((rule) => rule.id)).toEqual([`projects/${PROJECT}/global/firewalls/cf-test-fw-rule-0`]);
    expect(fullName.instances.map((item) => item.name)).toEqual(['web']);
    expect(opened(fullName.exposures)).toEqual(['cf-test-fw-rule-0:icmp:0-65535', 'cf-test-fw-rule-0:tcp:123-123', 'cf-test-fw-rule-0:udp:1000-7000']);
    expect(new Set(fullName.exposures.map((exposure) => exposure.address))).toEqual(new Set(['34.120.7.9']));

    // gcp-audit names a firewall `projects/-/…` when the log entry has no project; the account fills it.
    const bareName = await inventory.collect(query({ resources: [{ type: 'gcp:compute:firewall', id: 'cf-test-fw-rule-0' }] }));
    expect(bareName.exposures).toEqual(fullName.exposures);
    const dashed = await inventory.collect(query({ resources: [{ type: 'gcp:compute:firewall', id: '//compute.googleapis.com/projects/-/global/firewalls/cf-test-fw-rule-0' }] }));
    expect(dashed.exposures).toEqual(fullName.exposures);
  });

  it('finds the firewall an SCC finding names by numeric id, and names it by name and id (issue 14)', async () => {
    const inventory = createGcpInventory(settings, ENV);
    const context = await inventory.collect(
      query({ account: SCC_PROJECT, resources: [{ type: 'gcp:compute:firewall', id: `//compute.googleapis.com/projects/${SCC_PROJECT}/global/firewalls/${SSH_ID}` }] }),
    );
    expect(context.problems).toEqual([]);
    expect(context.rules.map(({ id, name, aliases }) => ({ id, name, aliases }))).toEqual([{ id: `projects/${SCC_PROJECT}/global/firewalls/default-allow-ssh`, name: 'default-allow-ssh', aliases: [SSH_ID] }]);
    expect(context.instances.map((item) => item.id)).toEqual([VM_PATH]);
    expect(opened(context.exposures)).toEqual(['default-allow-ssh:tcp:22-22']);
    const comment = commentOf(context);
    expect(comment).not.toContain('No inventory');
    expect(comment).toContain(`| \`${VM_ADDRESS}\` | \`tcp\` | \`22\` | \`default-allow-ssh (${SSH_ID})\` | \`0.0.0.0/0\` |`);

    // Whichever way the alert writes it, the same rule and the same exposures.
    for (const id of [
      SSH_ID,
      'default-allow-ssh',
      `https://www.googleapis.com/compute/v1/projects/${SCC_PROJECT}/global/firewalls/default-allow-ssh`,
      `https://www.googleapis.com/compute/v1/projects/${SCC_PROJECT}/global/firewalls/${SSH_ID}`,
      `//compute.googleapis.com/projects/${SCC_PROJECT}/global/firewalls/default-allow-ssh`,
      `projects/${SCC_PROJECT}/global/firewalls/${SSH_ID}`,
    ]) {
      const other = await inventory.collect(query({ account: SCC_PROJECT, resources: [{ type: 'gcp:compute:firewall', id }] }));
      expect({ id, rules: other.rules, exposures: other.exposures }).toEqual({ id, rules: context.rules, exposures: context.exposures });
    }
  });

  it('finds nothing for the numeric id of a firewall it does not hold, and says so', async () => {
    const context = await createGcpInventory(settings, ENV).collect(
      query({ account: SCC_PROJECT, resources: [{ type: 'gcp:compute:firewall', id: `//compute.googleapis.com/projects/${SCC_PROJECT}/global/firewalls/43256710` }] }),
    );
    expect(context).toMatchObject({ instances: [], rules: [], exposures: [], problems: [] });
    expect(commentOf(context)).toContain('No inventory (`gcp`) knows');
    // The id of the other firewall of the project is that firewall, not default-allow-ssh.
    const cassandra = await createGcpInventory(settings, ENV).collect(query({ account: SCC_PROJECT, resources: [{ type: 'gcp:compute:firewall', id: CASSANDRA_ID }] }));
    expect(cassandra.rules.map(({ name, aliases }) => ({ name, aliases }))).toEqual([{ name: 'open-cassandra-port-tcp-7199', aliases: [CASSANDRA_ID] }]);
  });

  it('answers SCC’s own samples, as the adapter reads them, with the rule or the machine they name by id', async () => {
    const { collectContext } = createContextActivities([createGcpInventory(settings, ENV)]);

    // OPEN_FIREWALL on …/global/firewalls/4695668982209007936: the rule and the port it opens.
    const firewall = await collectContext({ alert: sccAlert('open_firewall-remediated.json') });
    expect(firewall.rules.map(({ name, aliases }) => ({ name, aliases }))).toEqual([{ name: 'open-cassandra-port-tcp-7199', aliases: [CASSANDRA_ID] }]);
    expect(opened(firewall.exposures)).toEqual(['open-cassandra-port-tcp-7199:tcp:7199-7199']);
    expect(contextComment(firewall)).toContain(`| \`${VM_ADDRESS}\` | \`tcp\` | \`7199\` | \`open-cassandra-port-tcp-7199 (${CASSANDRA_ID})\` | \`0.0.0.0/0\` |`);

    // PUBLIC_IP_ADDRESS on …/zones/us-central1-a/instances/6796113316167375355: the machine, and every rule open on it.
    const machine = await collectContext({ alert: sccAlert('public_ip_address-remediated.json') });
    expect(machine.instances.map(({ id, name, aliases }) => ({ id, name, aliases }))).toEqual([{ id: VM_PATH, name: VM_NAME, aliases: [VM_ID] }]);
    expect(opened(machine.exposures)).toEqual(['default-allow-ssh:tcp:22-22', 'open-cassandra-port-tcp-7199:tcp:7199-7199']);
    expect(server.problems).toEqual([]);
  });

  it('answers an alert about an address with that instance and every rule exposing it', async () => {
    const context = await createGcpInventory(settings, ENV).collect(query({ addresses: ['34.120.7.9'] }));
    expect(context.instances.map((item) => item.name)).toEqual(['web']);
    expect(context.rules.map((rule) => rule.id.split('/').at(-1)).sort()).toEqual(['cf-test-fw-rule-0', 'cf-test-fw-rule-5', 'cf-test-fw-rule-6']);

    const batch = await createGcpInventory(settings, ENV).collect(query({ resources: [{ type: 'gcp:compute:instance', id: `//compute.googleapis.com/projects/${PROJECT}/zones/europe-west1-b/instances/batch` }] }));
    expect(batch.instances.map((item) => item.name)).toEqual(['batch']);
    expect(batch.exposures).toEqual([]);
    expect(batch.rules).toEqual([]);
  });

  it('reports a project it may not read as a problem, not an error', async () => {
    const context = await createGcpInventory(settings, ENV).collect(query({ account: 'locked-project' }));
    expect(context.instances).toEqual([]);
    expect(context.problems).toEqual([{ provider: 'gcp', scope: 'projects/locked-project', reason: expect.stringMatching(/^access denied \(PERMISSION_DENIED\): The caller does not have permission/) }]);
    expect(server.requests.map((request) => request.status)).toEqual([403]);
  });

  it('reads every configured scope when the alert names no project, each refusal its own problem', async () => {
    const inventory = createGcpInventory({ ...settings, scopes: ['organizations/1', 'folders/9'] }, ENV);
    const context = await inventory.collect(query({ account: undefined, addresses: ['34.120.7.9', '35.196.151.107'] }));
    expect(new Set(server.requests.map((request) => request.request.parent))).toEqual(new Set(['organizations/1', 'folders/9']));
    expect(context.instances.map((item) => item.id).sort()).toEqual([`projects/${PROJECT}/zones/europe-west1-b/instances/web`, 'projects/test-project/zones/us-east1-b/instances/vm-external-ip']);
    expect(context.problems).toEqual([expect.objectContaining({ scope: 'folders/9', reason: expect.stringContaining('PERMISSION_DENIED') })]);
  });

  it('reads a whole configured scope for the re-scan, a refused one as a problem', async () => {
    const inventory = createGcpInventory({ ...settings, scopes: ['organizations/1', 'folders/9'] }, ENV);
    expect(inventory.scopes!()).toEqual(['organizations/1', 'folders/9']);
    const context = await inventory.scan!('organizations/1');
    expect(context.problems).toEqual([]);
    expect(context.instances.map((item) => item.name).sort()).toEqual(expect.arrayContaining(['batch', 'web']));
    expect(opened(context.exposures.filter((exposure) => exposure.instance.endsWith('/web')))).toContain('cf-test-fw-rule-0:tcp:123-123');
    expect((await inventory.scan!('folders/9')).problems).toEqual([expect.objectContaining({ provider: 'gcp', scope: 'folders/9', reason: expect.stringContaining('PERMISSION_DENIED') })]);
  });

  it('throws what retrying may cure, or what no problem explains: a server error, a refused token', async () => {
    server.fail(`projects/${PROJECT}`, 'INTERNAL');
    await expect(createGcpInventory(settings, ENV).collect(query({}))).rejects.toThrow(/INTERNAL/);
    await expect(createGcpInventory(settings, { VIGIL_TEST_GCP_TOKEN: 'ya29.someone-elses-token' }).collect(query({ account: 'other' }))).rejects.toThrow(/authentication credentials/);
    expect(server.requests.map((request) => request.status)).toEqual([500, 401]);
  });

  it('holds the test server itself to the API description, requests and answers alike', async () => {
    const drifted = await fetch(`${server.url}/v1/projects/${PROJECT}/assets?assetType=compute.googleapis.com%2FInstance&contentType=RESOURCE`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(drifted.status).toBe(400);
    expect(server.problems).toEqual(['request: query parameter assetType is not a field of google.cloud.asset.v1.ListAssetsRequest']);

    server.problems.length = 0;
    server.assets.unshift({ ...server.assets[0]!, asset_type: 'compute.googleapis.com/Firewall' });
    await expect(createGcpInventory(settings, ENV).collect(query({}))).rejects.toThrow(/API description refuses/);
    expect(server.problems).toEqual(['answer.assets[0].asset_type: no such field in google.cloud.asset.v1.Asset']);
    server.problems.length = 0;
  });

  it('leaves queries about other providers alone', async () => {
    const context = await createGcpInventory(settings, ENV).collect({ provider: 'aws', account: '123456789012', resources: [], addresses: ['34.120.7.9'] });
    expect(context).toMatchObject({ instances: [], rules: [], exposures: [], problems: [] });
    expect(server.requests).toEqual([]);
  });
});
