// The GCP inventory's buckets, Cloud SQL instances, forwarding rules, images, snapshots, Cloud Run
// services and Cloud Functions, read with the real @google-cloud/asset client (REST, preset token)
// from the local Cloud Asset server: their data (contentType RESOURCE) and their IAM policies
// (contentType IAM_POLICY), both checked against the client's own API description. Nothing leaves
// 127.0.0.1 and nothing is probed.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextActivities } from '../../activities/context';
import { createGcpInventory } from '../../activities/context/gcp/inventory';
import type { ContextQuery } from '../../activities/context/types';
import { prowlerSource } from '../../intake/sources/prowler';
import type { NormalizedAlert } from '../../lib/alert';
import type { PublicResource } from '../../lib/context';
import { assetFromExport, PROJECT_ASSET_TYPE, startCloudAssetServer, type ApiAsset, type CloudAssetServer } from '../helpers/cloud-asset-server';

// The project of the Prowler sample (test/fixtures/prowler/vigil-gcp-exposure.ocsf.json), whose
// Cloud SQL finding names `orders-db` by its short name.
const PROJECT = 'vigil-prod';
const NUMBER = '417220011187';
const TOKEN = 'ya29.preset-test-token';
const ENV = { VIGIL_TEST_GCP_TOKEN: TOKEN };
const ANCESTORS = [`projects/${NUMBER}`, 'organizations/1'];

const fixture = (file: string) => JSON.parse(readFileSync(new URL(`../fixtures/gcp-asset/${file}`, import.meta.url), 'utf8')) as unknown;

/** An asset as the current API writes it: its data, and its IAM policy's bindings when it has one. */
function asset(name: string, assetType: string, data: Record<string, unknown>, bindings?: Record<string, string[]>): ApiAsset {
  const [service, discoveryName] = assetType.split('/') as [string, string];
  return {
    name,
    assetType,
    ancestors: ANCESTORS,
    updateTime: '2025-01-07T10:00:00.123Z',
    resource: {
      version: 'v1',
      discoveryDocumentUri: `https://www.googleapis.com/discovery/v1/apis/${service.split('.')[0]}/v1/rest`,
      discoveryName,
      parent: `//cloudresourcemanager.googleapis.com/projects/${NUMBER}`,
      data,
    },
    ...(bindings ? { iamPolicy: { version: 1, etag: 'BwYQ3j8x0xE=', bindings: Object.entries(bindings).map(([role, members]) => ({ role, members })) } } : {}),
  };
}

function bucket(name: string, prevention: 'inherited' | 'enforced', policy: unknown): ApiAsset {
  const data = {
    kind: 'storage#bucket',
    id: name,
    name,
    projectNumber: NUMBER,
    location: 'EU',
    storageClass: 'STANDARD',
    iamConfiguration: { bucketPolicyOnly: { enabled: true }, uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: prevention },
    selfLink: `https://www.googleapis.com/storage/v1/b/${name}`,
  };
  return { ...asset(`//storage.googleapis.com/${name}`, 'storage.googleapis.com/Bucket', data), iamPolicy: policy };
}

function sqlInstance(name: string, network: string): ApiAsset {
  return asset(`//cloudsql.googleapis.com/projects/${PROJECT}/instances/${name}`, 'sqladmin.googleapis.com/Instance', {
    kind: 'sql#instance',
    name,
    project: PROJECT,
    region: 'europe-west1',
    databaseVersion: 'POSTGRES_15',
    connectionName: `${PROJECT}:europe-west1:${name}`,
    state: 'RUNNABLE',
    ipAddresses: [
      { type: 'PRIMARY', ipAddress: name === 'orders-db' ? '203.0.113.61' : '203.0.113.62' },
      { type: 'PRIVATE', ipAddress: '10.20.0.5' },
    ],
    settings: { tier: 'db-custom-2-7680', ipConfiguration: { ipv4Enabled: true, requireSsl: false, authorizedNetworks: [{ kind: 'sql#aclEntry', name: 'net', value: network }] } },
  });
}

const compute = (path: string) => `//compute.googleapis.com/projects/${PROJECT}/${path}`;
const FUNCTION = `projects/${PROJECT}/locations/europe-west1/functions/webhook`;

function seed(): ApiAsset[] {
  // policy-library's two buckets (IAM policies only, in the older export's envelope and type name) with the data the current API adds.
  const [worldReadable, private_] = (fixture('storage-bucket-world-readable.json') as Record<string, unknown>[]).map(assetFromExport);
  const glb = { ...assetFromExport(fixture('glb.json') as Record<string, unknown>), ancestors: ['projects/68478495408', 'organizations/1'] };
  const run = (name: string, ingress: string) =>
    asset(
      `//run.googleapis.com/projects/${PROJECT}/locations/europe-west1/services/${name}`,
      'run.googleapis.com/Service',
      {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Service',
        metadata: { name, namespace: NUMBER, annotations: { 'run.googleapis.com/ingress': ingress }, labels: { 'cloud.googleapis.com/location': 'europe-west1' } },
        status: { url: `https://${name}-x7bq2ma3kq-ew.a.run.app` },
      },
      { 'roles/run.invoker': ['allUsers'] },
    );
  // The project, so that the server finds a bucket (named without its project) below `projects/vigil-prod`.
  const project: ApiAsset = {
    name: `//cloudresourcemanager.googleapis.com/projects/${NUMBER}`,
    assetType: PROJECT_ASSET_TYPE,
    ancestors: ANCESTORS,
    resource: { version: 'v1', discoveryName: 'Project', data: { projectId: PROJECT, projectNumber: NUMBER, lifecycleState: 'ACTIVE' } },
  };
  return [
    project,
    bucket('my-test-bucket', 'inherited', worldReadable!.iamPolicy),
    bucket('my-second-test-bucket', 'inherited', private_!.iamPolicy),
    bucket('vigil-locked-assets', 'enforced', { bindings: [{ role: 'roles/storage.objectViewer', members: ['allUsers'] }] }),
    sqlInstance('orders-db', '0.0.0.0/0'),
    sqlInstance('billing-db', '198.51.100.0/24'),
    glb,
    asset(compute('regions/europe-west1/forwardingRules/internal-api'), 'compute.googleapis.com/ForwardingRule', {
      id: '7012345678901234567',
      name: 'internal-api',
      IPAddress: '10.132.0.50',
      IPProtocol: 'TCP',
      ports: ['8080'],
      loadBalancingScheme: 'INTERNAL',
      backendService: `https://www.googleapis.com/compute/v1/projects/${PROJECT}/regions/europe-west1/backendServices/api`,
    }),
    asset(compute('global/images/shop-base-2025'), 'compute.googleapis.com/Image', { id: '5566778899001122334', name: 'shop-base-2025', family: 'shop-base', diskSizeGb: '10' }, { 'roles/compute.imageUser': ['allAuthenticatedUsers'] }),
    asset(compute('global/snapshots/orders-nightly'), 'compute.googleapis.com/Snapshot', { id: '9988776655443322110', name: 'orders-nightly', diskSizeGb: '50' }),
    run('storefront', 'all'),
    run('ledger', 'internal'),
    asset(
      `//cloudfunctions.googleapis.com/${FUNCTION}`,
      'cloudfunctions.googleapis.com/CloudFunction',
      { name: FUNCTION, status: 'ACTIVE', runtime: 'nodejs20', ingressSettings: 'ALLOW_ALL', httpsTrigger: { url: `https://europe-west1-${PROJECT}.cloudfunctions.net/webhook` } },
      { 'roles/cloudfunctions.invoker': ['allUsers'] },
    ),
  ].map((item) => (item.assetType === 'google.cloud.storage.Bucket' ? { ...item, assetType: 'storage.googleapis.com/Bucket' } : item));
}

const query = (resources: ContextQuery['resources'], account: string | undefined): ContextQuery => ({ provider: 'gcp', account, resources, addresses: [] });
const verdicts = (resources: readonly PublicResource[] = []) => Object.fromEntries(resources.map((resource) => [resource.name, resource.public]));

describe('GCP buckets, databases, load balancers, images and entry points over the Cloud Asset API', () => {
  let server: CloudAssetServer;
  const settings = () => ({ scopes: ['organizations/1'], endpoint: server.url, accessToken: { env: 'VIGIL_TEST_GCP_TOKEN' } });

  beforeAll(async () => {
    server = await startCloudAssetServer({ assets: seed(), pageSize: 5, tokens: [TOKEN] });
  });

  afterAll(async () => {
    await server.close();
    expect(server.problems).toEqual([]);
  });

  it('finds every class in a re-scan, public or private, and says why', async () => {
    server.requests.length = 0;
    const context = await createGcpInventory(settings(), ENV).scan!('organizations/1');
    expect(context.problems).toEqual([]);
    // Data and policies: two listings, each page by page.
    expect(new Set(server.requests.map((request) => request.request.contentType))).toEqual(new Set([1, 2]));
    expect(verdicts(context.resources)).toEqual({
      'my-test-bucket': true,
      'my-second-test-bucket': false,
      'vigil-locked-assets': false,
      'orders-db': true,
      'billing-db': false,
      'ext-ip': true,
      'internal-api': false,
      'shop-base-2025': true,
      'orders-nightly': false,
      storefront: true,
      ledger: false,
      webhook: true,
    });
    const byName = new Map(context.resources!.map((resource) => [resource.name, resource]));
    expect(byName.get('my-test-bucket')).toMatchObject({
      type: 'gcp:storage:bucket',
      class: 'storage',
      id: 'my-test-bucket',
      aliases: ['//storage.googleapis.com/my-test-bucket', 'projects/_/buckets/my-test-bucket'],
      reasons: ['IAM grants roles/storage.legacyBucketReader to allUsers'],
      proofs: [{ kind: 'bucket', provider: 'gcp', bucket: 'my-test-bucket', baseUrl: 'https://storage.googleapis.com' }],
    });
    expect(byName.get('vigil-locked-assets')).toMatchObject({ reasons: ['IAM grants roles/storage.objectViewer to allUsers', 'public access prevention is enforced: these grants do not apply'], proofs: [] });
    expect(byName.get('orders-db')).toMatchObject({
      type: 'gcp:sql:instance',
      class: 'database',
      account: PROJECT,
      reasons: ['public IP 203.0.113.61 with authorised network 0.0.0.0/0'],
      proofs: [{ kind: 'endpoint', host: '203.0.113.61', ports: [5432] }],
    });
    expect(byName.get('billing-db')).toMatchObject({ reasons: ['public IP 203.0.113.62, but no authorised network is internet-wide (198.51.100.0/24)'], proofs: [] });
    expect(byName.get('ext-ip')).toMatchObject({
      type: 'gcp:compute:forwarding-rule',
      class: 'load-balancer',
      region: 'global',
      facts: { address: '34.95.94.170', ports: '80-80', protocol: 'TCP', backends: 'targetHttpProxies/test-noip-target-proxy' },
      proofs: [{ kind: 'endpoint', host: '34.95.94.170', ports: [80] }],
    });
    expect(byName.get('internal-api')).toMatchObject({ reasons: ['load-balancing scheme INTERNAL: reachable from inside the network only'], facts: { backends: 'backendServices/api' }, proofs: [] });
    expect(byName.get('shop-base-2025')).toMatchObject({ class: 'snapshot', reasons: ['IAM grants roles/compute.imageUser to allAuthenticatedUsers'], proofs: [] });
    expect(byName.get('storefront')).toMatchObject({ class: 'serverless', proofs: [{ kind: 'url', url: 'https://storefront-x7bq2ma3kq-ew.a.run.app' }] });
    expect(byName.get('ledger')).toMatchObject({ reasons: ['IAM grants roles/run.invoker to allUsers', 'ingress internal: not reachable from the internet directly'], proofs: [] });
    expect(byName.get('webhook')).toMatchObject({ type: 'gcp:cloudfunctions:function', proofs: [{ kind: 'url', url: `https://europe-west1-${PROJECT}.cloudfunctions.net/webhook` }] });
    // The firewall and instance evaluation rides beside them, unchanged.
    expect(context).toMatchObject({ instances: [], rules: [], exposures: [] });
  });

  it('keeps the resource an alert names, whichever way it writes it, and reads no machines for it', async () => {
    const inventory = createGcpInventory(settings(), ENV);
    const cases: [ContextQuery['resources'][number], string | undefined, string][] = [
      [{ type: 'gcp:storage:bucket', id: '//storage.googleapis.com/projects/_/buckets/my-test-bucket', name: 'my-test-bucket' }, undefined, 'my-test-bucket'],
      [{ type: 'gcp:storage:bucket', id: '//storage.googleapis.com/my-test-bucket' }, undefined, 'my-test-bucket'],
      [{ type: 'gcp:storage:bucket', id: 'my-second-test-bucket' }, PROJECT, 'my-second-test-bucket'],
      [{ type: 'gcp:sqladmin:instance', id: `//sqladmin.googleapis.com/projects/${PROJECT}/instances/orders-db` }, undefined, 'orders-db'],
      [{ type: 'gcp:cloudsql:instance', id: `//cloudsql.googleapis.com/projects/${PROJECT}/instances/billing-db` }, undefined, 'billing-db'],
      [{ type: 'gcp:sql:instance', id: `${PROJECT}:billing-db` }, PROJECT, 'billing-db'],
      [{ type: 'gcp:compute:forwarding-rule', id: `https://www.googleapis.com/compute/v1/projects/${PROJECT}/regions/europe-west1/forwardingRules/internal-api` }, undefined, 'internal-api'],
      [{ type: 'gcp:compute:forwarding-rule', id: `//compute.googleapis.com/projects/${PROJECT}/regions/europe-west1/forwardingRules/7012345678901234567` }, undefined, 'internal-api'],
      [{ type: 'gcp:compute:image', id: compute('global/images/shop-base-2025') }, undefined, 'shop-base-2025'],
      [{ type: 'gcp:compute:snapshot', id: 'orders-nightly' }, PROJECT, 'orders-nightly'],
      [{ type: 'gcp:run:service', id: `//run.googleapis.com/projects/${PROJECT}/locations/europe-west1/services/storefront` }, undefined, 'storefront'],
      [{ type: 'gcp:run:service', id: `//run.googleapis.com/namespaces/${PROJECT}/services/ledger` }, PROJECT, 'ledger'],
      [{ type: 'gcp:cloudfunctions:cloud-function', id: `//cloudfunctions.googleapis.com/projects/-/locations/europe-west1/functions/webhook` }, PROJECT, 'webhook'],
    ];
    for (const [ref, account, expected] of cases) {
      server.requests.length = 0;
      const context = await inventory.collect(query([ref], account));
      expect({ ref, found: context.resources?.map((resource) => resource.name) }).toEqual({ ref, found: [expected] });
      expect(context).toMatchObject({ instances: [], rules: [], exposures: [], problems: [] });
      for (const { request } of server.requests) expect(request.assetTypes).not.toContain('compute.googleapis.com/Firewall');
    }
    // Another project's resource of the same name is not this one.
    expect((await inventory.collect(query([{ type: 'gcp:sql:instance', id: 'orders-db' }], 'other-project'))).resources).toEqual([]);
  });

  it('leaves out what only a refused IAM policy could judge, and says so', async () => {
    server.fail(`projects/${PROJECT}`, 'PERMISSION_DENIED', 1, 'IAM_POLICY');
    const context = await createGcpInventory(settings(), ENV).collect(
      query(
        [
          { type: 'gcp:storage:bucket', id: 'my-test-bucket' },
          { type: 'gcp:sql:instance', id: 'orders-db' },
        ],
        PROJECT,
      ),
    );
    expect(context.resources?.map((resource) => resource.name)).toEqual(['orders-db']);
    expect(context.problems).toEqual([{ provider: 'gcp', scope: `projects/${PROJECT}`, reason: expect.stringMatching(/^IAM policies: access denied \(PERMISSION_DENIED\)/) }]);
  });

  it('answers the Prowler sample about orders-db with that instance, public on PostgreSQL’s port', async () => {
    const [parsed] = prowlerSource.parse((fixture('../prowler/vigil-gcp-exposure.ocsf.json') as unknown[])[3]);
    const alert: NormalizedAlert = { ...parsed!, source: 'prowler', archive: { id: '2025/01/07/prowler/orders-db', sha256: '0'.repeat(64), receivedAt: '2025-01-07T10:00:00.000Z' } };
    const { collectContext } = createContextActivities([createGcpInventory(settings(), ENV)]);
    const context = await collectContext({ alert });
    expect(context.resources?.map(({ id, public: open, proofs }) => ({ id, open, proofs }))).toEqual([
      { id: `//cloudsql.googleapis.com/projects/${PROJECT}/instances/orders-db`, open: true, proofs: [{ kind: 'endpoint', host: '203.0.113.61', ports: [5432] }] },
    ]);
  });
});
