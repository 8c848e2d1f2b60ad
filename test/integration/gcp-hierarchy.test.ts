// GCP hierarchy discovery with the real @google-cloud/asset client (REST transport, preset token)
// against the local Cloud Asset server, which holds every request and answer to the client's own API
// description: the projects under configured organizations and folders, each read once, what cannot
// be read as a coverage gap, the re-scan scopes that follow, and collect for a discovered project.
// Nothing leaves 127.0.0.1 and nothing is probed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GcpInventorySettings } from '../../activities/context/gcp';
import { createGcpInventory } from '../../activities/context/gcp/inventory';
import type { ContextQuery } from '../../activities/context/types';
import { PROJECT_ASSET_TYPE, startCloudAssetServer, type ApiAsset, type CloudAssetServer } from '../helpers/cloud-asset-server';

const TOKEN = 'ya29.preset-hierarchy-token';
const ENV = { VIGIL_TEST_GCP_TOKEN: TOKEN };
const COMPUTE_TYPES = ['compute.googleapis.com/Firewall', 'compute.googleapis.com/Instance'];

/**
 * A project asset as ListAssets answers it: Cloud Resource Manager v1's Project in `resource.data`,
 * named by number, its ancestors from itself up to its organization.
 */
function project(id: string, number: string, displayName: string, above: string[], lifecycleState = 'ACTIVE'): ApiAsset {
  const [parentType, parentId] = above[0]!.split('/') as [string, string];
  return {
    name: `//cloudresourcemanager.googleapis.com/projects/${number}`,
    assetType: PROJECT_ASSET_TYPE,
    ancestors: [`projects/${number}`, ...above],
    updateTime: '2026-11-02T09:00:00.000Z',
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://cloudresourcemanager.googleapis.com/$discovery/rest',
      discoveryName: 'Project',
      parent: `//cloudresourcemanager.googleapis.com/${above[0]}`,
      location: 'global',
      data: { projectNumber: number, projectId: id, lifecycleState, name: displayName, parent: { type: parentType.replace(/s$/, ''), id: parentId }, createTime: '2024-03-01T10:00:00.000Z' },
    },
  };
}

// organizations/100
// ├── folders/200 Prod
// │   ├── folders/210 Payments ── pay-prod (1001)
// │   └── shop-prod (1002)
// ├── folders/300 Sandbox
// │   ├── sandbox-old (1003, deleted)
// │   └── locked-proj (1004, Vigil may not read it)
// └── shared-host (1005)
// organizations/900 (Vigil may not list it) ── hidden-proj (1008)
// organizations/800 (not configured)
// ├── folders/500 Partners ── partner-app (1006)
// └── lone-project (1007)
const PAY = ['folders/210', 'folders/200', 'organizations/100'];
const projects = (): ApiAsset[] => [
  project('pay-prod', '1001', 'Payments (prod)', PAY),
  project('shop-prod', '1002', 'Shop (prod)', ['folders/200', 'organizations/100']),
  project('sandbox-old', '1003', 'Old sandbox', ['folders/300', 'organizations/100'], 'DELETE_REQUESTED'),
  project('locked-proj', '1004', 'Locked', ['folders/300', 'organizations/100']),
  project('shared-host', '1005', 'Shared VPC host', ['organizations/100']),
  project('partner-app', '1006', 'Partner app', ['folders/500', 'organizations/800']),
  project('lone-project', '1007', 'Lone project', ['organizations/800']),
  project('hidden-proj', '1008', 'Hidden', ['organizations/900']),
];

/** A web machine in pay-prod and the rule that opens 443 to it. */
function payAssets(): ApiAsset[] {
  const network = 'https://www.googleapis.com/compute/v1/projects/pay-prod/global/networks/default';
  const compute = (path: string, discoveryName: 'Firewall' | 'Instance', data: Record<string, unknown>): ApiAsset => ({
    name: `//compute.googleapis.com/${path}`,
    assetType: `compute.googleapis.com/${discoveryName}`,
    ancestors: ['projects/1001', ...PAY],
    updateTime: '2026-11-02T09:00:00.000Z',
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://www.googleapis.com/discovery/v1/apis/compute/v1/rest',
      discoveryName,
      parent: '//cloudresourcemanager.googleapis.com/projects/1001',
      data: { name: path.split('/').at(-1), ...data },
    },
  });
  return [
    compute('projects/pay-prod/global/firewalls/allow-https', 'Firewall', {
      id: '5550001',
      network,
      direction: 'INGRESS',
      priority: 1000,
      sourceRanges: ['0.0.0.0/0'],
      targetTags: ['web'],
      allowed: [{ IPProtocol: 'tcp', ports: ['443'] }],
    }),
    compute('projects/pay-prod/zones/europe-west1-b/instances/pay-web', 'Instance', {
      id: '5550002',
      status: 'RUNNING',
      tags: { items: ['web'] },
      networkInterfaces: [{ name: 'nic0', network, networkIP: '10.132.0.9', accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT', natIP: '34.120.9.9' }] }],
    }),
  ];
}

describe('GCP hierarchy discovery over the Cloud Asset API', () => {
  let server: CloudAssetServer;
  const settings = (scopes: string[]): GcpInventorySettings => ({ scopes, endpoint: server.url, accessToken: { env: 'VIGIL_TEST_GCP_TOKEN' } });
  /** The parents of the requests for `assetTypes`, in order. */
  const parentsAsked = (assetTypes: string[]) => server.requests.filter((request) => JSON.stringify(request.request.assetTypes) === JSON.stringify(assetTypes)).map((request) => request.request.parent);

  beforeEach(async () => {
    server = await startCloudAssetServer({ assets: [...projects(), ...payAssets()], pageSize: 2, tokens: [TOKEN], refuse: ['projects/locked-proj', 'organizations/900'] });
  });

  afterEach(async () => {
    await server.close();
    expect(server.problems).toEqual([]);
  });

  it('finds every active project under an organization, nested folders too, and reads each once', async () => {
    const before = Date.now();
    const report = await createGcpInventory(settings(['organizations/100']), ENV).discover!();

    // The organization's project assets, 2 a page (5 projects: 3 pages), then one small read a project.
    const listing = server.requests.filter((request) => request.request.parent === 'organizations/100');
    expect(listing.map((request) => [request.status, request.request.pageToken !== undefined])).toEqual([
      [200, false],
      [200, true],
      [200, true],
    ]);
    for (const request of listing) {
      expect(request.request).toMatchObject({ assetTypes: [PROJECT_ASSET_TYPE], contentType: 1, pageSize: 1000 });
      expect(request.authorization).toBe(`Bearer ${TOKEN}`);
    }
    const reads = server.requests.filter((request) => request.request.parent !== 'organizations/100');
    expect(reads.map((request) => request.request.parent).sort()).toEqual(['projects/locked-proj', 'projects/pay-prod', 'projects/shared-host', 'projects/shop-prod']);
    for (const request of reads) expect(request.request).toMatchObject({ assetTypes: COMPUTE_TYPES, contentType: 1, pageSize: 1 });

    // The deleted project is left out; the one Vigil may not read is a gap, with its reason. The
    // organization is a row of its own: what closes its gap once it can be listed again.
    expect(report.accounts).toEqual([
      { provider: 'gcp', id: 'locked-proj', name: 'Locked', state: 'cannot list its assets (PERMISSION_DENIED)', reason: expect.stringContaining('does not have permission'), lastRead: null },
      { provider: 'gcp', id: 'organizations/100', name: null, state: 'ok', lastRead: expect.any(String) },
      { provider: 'gcp', id: 'pay-prod', name: 'Payments (prod)', state: 'ok', lastRead: expect.any(String) },
      { provider: 'gcp', id: 'shared-host', name: 'Shared VPC host', state: 'ok', lastRead: expect.any(String) },
      { provider: 'gcp', id: 'shop-prod', name: 'Shop (prod)', state: 'ok', lastRead: expect.any(String) },
    ]);
    for (const account of report.accounts.filter((item) => item.lastRead)) {
      expect(Date.parse(account.lastRead!)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(account.lastRead!)).toBeLessThanOrEqual(Date.now());
    }
    expect(report.gaps).toEqual([{ provider: 'gcp', account: 'locked-proj', reason: 'cannot list its assets (PERMISSION_DENIED)' }]);
    expect(report.scopes).toEqual(['organizations/100']);
  });

  it('reads a folder scope whole, its nested folder included, and nothing outside it', async () => {
    const report = await createGcpInventory(settings(['folders/200']), ENV).discover!();
    expect(report.accounts.map((account) => [account.id, account.state])).toEqual([
      ['folders/200', 'ok'],
      ['pay-prod', 'ok'],
      ['shop-prod', 'ok'],
    ]);
    expect(report.gaps).toEqual([]);
    expect(parentsAsked([PROJECT_ASSET_TYPE])).toEqual(['folders/200']);
    expect(report.scopes).toEqual(['folders/200']);
  });

  it('reads a hand-listed project by itself: its name from its own project asset, a deleted one a gap', async () => {
    const report = await createGcpInventory(settings(['projects/lone-project', 'projects/sandbox-old']), ENV).discover!();
    expect(server.requests.map((request) => request.request)).toEqual([
      expect.objectContaining({ parent: 'projects/lone-project', assetTypes: [PROJECT_ASSET_TYPE], pageSize: 1 }),
      expect.objectContaining({ parent: 'projects/sandbox-old', assetTypes: [PROJECT_ASSET_TYPE], pageSize: 1 }),
    ]);
    expect(report.accounts).toEqual([
      { provider: 'gcp', id: 'lone-project', name: 'Lone project', state: 'ok', lastRead: expect.any(String) },
      { provider: 'gcp', id: 'sandbox-old', name: 'Old sandbox', state: 'configured, but DELETE_REQUESTED', lastRead: null },
    ]);
    expect(report.gaps).toEqual([{ provider: 'gcp', account: 'sandbox-old', reason: 'configured, but DELETE_REQUESTED' }]);
    expect(report.scopes).toEqual(['projects/lone-project', 'projects/sandbox-old']);
  });

  it('makes an organization it may not list a gap of its own, and keeps reading the others', async () => {
    const inventory = createGcpInventory(settings(['organizations/900', 'folders/500', 'projects/locked-proj']), ENV);
    const report = await inventory.discover!();
    expect(report.gaps).toEqual([
      { provider: 'gcp', account: 'locked-proj', reason: 'cannot list its assets (PERMISSION_DENIED)' },
      { provider: 'gcp', account: 'organizations/900', reason: 'cannot list its projects (PERMISSION_DENIED)' },
    ]);
    expect(report.accounts.map((account) => [account.id, account.state])).toEqual([
      ['folders/500', 'ok'],
      ['locked-proj', 'cannot list its assets (PERMISSION_DENIED)'],
      ['organizations/900', 'cannot list its projects (PERMISSION_DENIED)'],
      ['partner-app', 'ok'],
    ]);
    // The project behind the refusal is not guessed at, and the refused scope is still re-scanned:
    // its problem shows there too, and it heals by itself when the grant arrives.
    expect(report.accounts.map((account) => account.id)).not.toContain('hidden-proj');
    expect(report.scopes).toEqual(['organizations/900', 'folders/500', 'projects/locked-proj']);
  });

  it('re-scans the configured scopes, less those inside another one, and from then on', async () => {
    const scopes = ['organizations/100', 'folders/210', 'projects/1002', 'folders/500', 'projects/lone-project', 'organizations/900'];
    const inventory = createGcpInventory(settings(scopes), ENV);
    expect(inventory.scopes!()).toEqual(scopes);
    const report = await inventory.discover!();

    // folders/210 and shop-prod (named by number) lie inside organizations/100, which is read whole:
    // one listing judges a Shared VPC host's firewalls with its service projects' machines.
    expect(report.scopes).toEqual(['organizations/100', 'folders/500', 'projects/lone-project', 'organizations/900']);
    expect(inventory.scopes!()).toEqual(report.scopes);
    // Each project once, however many scopes hold it.
    expect(parentsAsked(COMPUTE_TYPES).sort()).toEqual(['projects/locked-proj', 'projects/partner-app', 'projects/pay-prod', 'projects/shared-host', 'projects/shop-prod']);
    expect([...new Set(parentsAsked([PROJECT_ASSET_TYPE]))].sort()).toEqual(['folders/210', 'folders/500', 'organizations/100', 'organizations/900', 'projects/lone-project']);
    expect(report.accounts.map((account) => account.id)).toEqual([
      'folders/210',
      'folders/500',
      'locked-proj',
      'lone-project',
      'organizations/100',
      'organizations/900',
      'partner-app',
      'pay-prod',
      'shared-host',
      'shop-prod',
    ]);

    const scan = await inventory.scan!('organizations/100');
    expect(scan.problems).toEqual([]);
    expect(scan.exposures.map((exposure) => [exposure.instance, exposure.address, exposure.ports])).toEqual([
      ['projects/pay-prod/zones/europe-west1-b/instances/pay-web', '34.120.9.9', { from: 443, to: 443 }],
    ]);
  });

  it('answers an alert about a discovered project, named by id or, once discovered, by number', async () => {
    const inventory = createGcpInventory(settings(['organizations/100']), ENV);
    const query = (account: string, id: string): ContextQuery => ({ provider: 'gcp', account, resources: [{ type: 'gcp:compute:instance', id }], addresses: [] });
    const byId = query('pay-prod', '//compute.googleapis.com/projects/pay-prod/zones/europe-west1-b/instances/pay-web');
    // SCC may give the project's number as the account and the machine's bare name.
    const byNumber = query('1001', 'pay-web');

    expect((await inventory.collect(byNumber)).instances).toEqual([]);
    await inventory.discover!();
    for (const alert of [byId, byNumber]) {
      server.requests.length = 0;
      const context = await inventory.collect(alert);
      // The alert's project alone, not the whole organization.
      expect(server.requests.map((request) => request.request.parent)).toEqual(['projects/pay-prod']);
      expect(context.problems).toEqual([]);
      expect(context.instances.map((item) => [item.id, item.account])).toEqual([['projects/pay-prod/zones/europe-west1-b/instances/pay-web', 'pay-prod']]);
      expect(context.exposures.map((exposure) => [exposure.rule, exposure.ports])).toEqual([['projects/pay-prod/global/firewalls/allow-https', { from: 443, to: 443 }]]);
    }
  });

  it('makes a project that is not found a gap, waits out an exhausted quota, and throws what retrying may cure', async () => {
    server.fail('projects/shop-prod', 'NOT_FOUND');
    server.fail('projects/shared-host', 'RESOURCE_EXHAUSTED', 1);
    const report = await createGcpInventory(settings(['folders/200', 'organizations/100']), ENV).discover!();
    expect(report.gaps).toEqual([
      { provider: 'gcp', account: 'locked-proj', reason: 'cannot list its assets (PERMISSION_DENIED)' },
      { provider: 'gcp', account: 'shop-prod', reason: 'cannot list its assets (NOT_FOUND)' },
    ]);
    // shared-host was refused once for quota, then read.
    expect(server.requests.filter((request) => request.request.parent === 'projects/shared-host').map((request) => request.status)).toEqual([429, 200]);
    expect(report.accounts.find((account) => account.id === 'shared-host')).toMatchObject({ state: 'ok' });
    // folders/200 lies inside the organization: the organization alone is re-scanned.
    expect(report.scopes).toEqual(['organizations/100']);

    server.fail('projects/pay-prod', 'INTERNAL');
    await expect(createGcpInventory(settings(['organizations/100']), ENV).discover!()).rejects.toThrow(/INTERNAL/);
    server.fail('folders/300', 'UNAVAILABLE');
    await expect(createGcpInventory(settings(['folders/300']), ENV).discover!()).rejects.toThrow(/UNAVAILABLE/);
  });
});
