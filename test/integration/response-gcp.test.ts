// The GCP remediation executor against a local Compute + Cloud Storage JSON API server that checks
// every request and answer against Google's Discovery documents and verifies the service account's
// self-signed JWTs. The context is the inventory's own evaluation of the same firewalls and
// instances. Nothing leaves 127.0.0.1.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluateGcpFirewalls, FIREWALL_ASSET_TYPE, INSTANCE_ASSET_TYPE, type GcpAsset } from '../../activities/context/gcp/firewall';
import { evaluateGcpResources } from '../../activities/context/gcp/resources';
import { createGcpExecutor } from '../../activities/response/gcp';
import type { ProposeInput, RemediationExecutor } from '../../activities/response/types';
import type { NormalizedAlert } from '../../lib/alert';
import type { ResourceContext } from '../../lib/context';
import type { RemediationAction } from '../../lib/response';
import { createServiceAccountKey, startGoogleRestServer, type GoogleRestServer, type SeedFirewall, type ServiceAccountKey } from '../helpers/google-rest-server';

const PROJECT = 'vigil-prod';
const NETWORK = `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/networks/default`;
const MIXED_RANGES = ['10.8.0.0/16', '0.0.0.0/0', '198.51.100.0/24', '::/0'];

const firewalls: SeedFirewall[] = [
  { project: PROJECT, name: 'allow-ssh-anywhere', network: NETWORK, sourceRanges: ['0.0.0.0/0'], targetTags: ['ssh'], allowed: [{ IPProtocol: 'tcp', ports: ['22'] }] },
  { project: PROJECT, name: 'allow-https-mixed', network: NETWORK, sourceRanges: MIXED_RANGES, sourceTags: ['bastion'], allowed: [{ IPProtocol: 'tcp', ports: ['443'] }] },
  { project: PROJECT, name: 'allow-rdp-anywhere', network: NETWORK, sourceRanges: ['0.0.0.0/0'], allowed: [{ IPProtocol: 'tcp', ports: ['3389'] }] },
];

function instanceAsset(name: string, natIP: string, tags: string[]): GcpAsset {
  return {
    name: `//compute.googleapis.com/projects/${PROJECT}/zones/europe-west1-b/instances/${name}`,
    assetType: INSTANCE_ASSET_TYPE,
    data: { name, status: 'RUNNING', tags: { items: tags }, networkInterfaces: [{ network: NETWORK, networkIP: '10.132.0.9', accessConfigs: [{ type: 'ONE_TO_ONE_NAT', natIP }] }] },
  };
}

/** The context as the GCP inventory judges these firewalls, instances and buckets. */
function inventoryContext(): ResourceContext {
  const assets: GcpAsset[] = [
    ...firewalls.map(({ project, name, ...data }) => ({ name: `//compute.googleapis.com/projects/${project}/global/firewalls/${name}`, assetType: FIREWALL_ASSET_TYPE, data: { name, ...data } })),
    instanceAsset('web-1', '203.0.113.10', ['ssh']),
    instanceAsset('web-2', '203.0.113.11', ['ssh']),
    instanceAsset('api-1', '203.0.113.20', []),
  ];
  const bucket = (name: string) => ({
    name: `//storage.googleapis.com/projects/_/buckets/${name}`,
    assetType: 'storage.googleapis.com/Bucket',
    data: { name, location: 'US', iamConfiguration: { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: 'inherited' } },
    bindings: [{ role: 'roles/storage.objectViewer', members: ['allUsers'] }],
  });
  return { consulted: ['gcp'], ...evaluateGcpFirewalls(assets), resources: evaluateGcpResources([bucket('vigil-public-assets'), bucket('vigil-other-public')]) };
}

const alert: NormalizedAlert = {
  kind: 'exposure',
  fingerprint: 'gcp-open-firewall',
  title: 'Open firewall',
  severity: 'high',
  resources: [],
  network: { ips: [], cidrs: [], ports: [] },
  actors: { ips: [], domains: [], principals: [], userAgents: [] },
  source: 'scc',
  archive: { id: 'x', sha256: '0'.repeat(64), receivedAt: new Date().toISOString() },
};

const disable: RemediationAction = { kind: 'gcp-firewall-disable', project: PROJECT, firewall: 'allow-ssh-anywhere' };
const narrow: RemediationAction = { kind: 'gcp-firewall-narrow', project: PROJECT, firewall: 'allow-https-mixed', removeRanges: ['0.0.0.0/0', '::/0'] };
const enforce: RemediationAction = { kind: 'gcp-bucket-public-access-prevention', project: '_', bucket: 'vigil-public-assets' };

/** The failure the executor threw, for its kind to be checked. */
async function failureOf(work: Promise<unknown>): Promise<Error> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error('expected a failure');
  return error;
}

describe('GCP remediation executor over the Compute and Storage JSON APIs', () => {
  let dir: string;
  let key: ServiceAccountKey;
  let server: GoogleRestServer;
  let executor: RemediationExecutor;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vigil-response-gcp-'));
    key = await createServiceAccountKey(dir);
    server = await startGoogleRestServer({ serviceAccount: key, firewalls, buckets: [{ name: 'vigil-public-assets' }, { name: 'vigil-other-public' }], operationPolls: 2 });
    executor = createGcpExecutor({ credentialsFile: key.file, computeEndpoint: server.url, storageEndpoint: server.url });
  });

  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
    expect(server.problems).toEqual([]);
  });

  const patches = () => server.requests.filter((request) => request.method === 'PATCH');

  it('refuses to disable a firewall narrowed since the plan: what it admits now was not approved (dry run too)', async () => {
    const narrowed = await startGoogleRestServer({
      serviceAccount: key,
      firewalls: [{ project: PROJECT, name: 'allow-ssh-anywhere', network: NETWORK, sourceRanges: ['198.51.100.0/24'], targetTags: ['ssh'], allowed: [{ IPProtocol: 'tcp', ports: ['22'] }] }],
      buckets: [],
    });
    try {
      const onNarrowed = createGcpExecutor({ credentialsFile: key.file, computeEndpoint: narrowed.url, storageEndpoint: narrowed.url });
      for (const dryRun of [false, true]) {
        const failure = await failureOf(onNarrowed.execute(disable, dryRun));
        expect(failure).toBeInstanceOf(ApplicationFailure);
        expect((failure as ApplicationFailure).type).toBe('RemediationRefused');
        expect(failure.message).toContain('no longer admits the internet (source ranges 198.51.100.0/24)');
      }
      expect(narrowed.requests.filter((request) => request.method === 'PATCH')).toEqual([]);
      expect(narrowed.firewall(PROJECT, 'allow-ssh-anywhere')).not.toHaveProperty('disabled', true);
    } finally {
      await narrowed.close();
    }
    expect(narrowed.problems).toEqual([]);
  });

  it('proposes disabling a firewall open only to the internet and narrowing one that also serves others, for answering endpoints and proven buckets only', async () => {
    const context = inventoryContext();
    const input: ProposeInput = { alert, context, answered: ['203.0.113.10:22', '203.0.113.20:443'], proven: ['vigil-public-assets'] };
    const plans = await executor.propose(input);

    expect(plans.map((plan) => plan.action)).toEqual([disable, narrow, enforce]);
    const [ssh, https, bucket] = plans as [(typeof plans)[number], (typeof plans)[number], (typeof plans)[number]];
    expect(ssh.apiCall).toBe(`compute.firewalls.patch projects/${PROJECT}/global/firewalls/allow-ssh-anywhere {"disabled": true}`);
    expect(ssh.undo).toBe(`compute.firewalls.patch projects/${PROJECT}/global/firewalls/allow-ssh-anywhere {"disabled": false}`);
    // The tag's other machine is said before anyone approves; the untagged one is not behind it.
    expect(ssh.serves).toEqual([
      `Applies to every instance of projects/${PROJECT}/global/networks/default tagged ssh`,
      'Allows tcp 22',
      `web-1 (projects/${PROJECT}/zones/europe-west1-b/instances/web-1) 203.0.113.10`,
      `web-2 (projects/${PROJECT}/zones/europe-west1-b/instances/web-2) 203.0.113.11`,
    ]);
    expect(https.apiCall).toBe(`compute.firewalls.patch projects/${PROJECT}/global/firewalls/allow-https-mixed {"sourceRanges": ["10.8.0.0/16", "198.51.100.0/24"]}`);
    expect(https.title).toContain('keep 10.8.0.0/16, 198.51.100.0/24, tag:bastion');
    expect(https.serves[0]).toBe(`Applies to every instance of projects/${PROJECT}/global/networks/default (no target tags or service accounts)`);
    expect(https.serves).toContain(`api-1 (projects/${PROJECT}/zones/europe-west1-b/instances/api-1) 203.0.113.20`);
    expect(https.undo).toContain('{"sourceRanges": ["10.8.0.0/16", "0.0.0.0/0", "198.51.100.0/24", "::/0"]}');
    expect(bucket.apiCall).toBe('storage.buckets.patch b/vigil-public-assets {"iamConfiguration": {"publicAccessPrevention": "enforced"}}');
    expect(bucket.undo).toBe('storage.buckets.patch b/vigil-public-assets {"iamConfiguration": {"publicAccessPrevention": "inherited"}}');
    // Read with the response's own identity, nothing changed.
    expect(server.requests.map((request) => [request.id, request.caller])).toEqual([
      ['compute.firewalls.get', key.email],
      ['compute.firewalls.get', key.email],
      ['storage.buckets.get', key.email],
    ]);

    // A firewall disabled since the context was read has nothing left to propose.
    await executor.execute(disable, false);
    expect((await executor.propose(input)).map((plan) => plan.action.kind)).toEqual(['gcp-firewall-narrow', 'gcp-bucket-public-access-prevention']);
  });

  it('still proposes from the inventory’s view when the response identity may not read the firewall, saying so', async () => {
    server.fail('compute.firewalls.get', 403, 'forbidden');
    const plans = await executor.propose({ alert, context: inventoryContext(), answered: ['203.0.113.20:443'], proven: [] });
    expect(plans.map((plan) => plan.action)).toEqual([narrow]);
    expect(plans[0]!.serves.slice(0, 2)).toEqual(['Its targets could not be read; the context shows the machines it exposes', `web-1 (projects/${PROJECT}/zones/europe-west1-b/instances/web-1) 203.0.113.10`]);
    expect(plans[0]!.serves).toContainEqual(
      expect.stringMatching(new RegExp(`^Judged from the inventory: GET compute/v1/projects/${PROJECT}/global/firewalls/allow-https-mixed refused for ${key.email}: 403 forbidden`)),
    );
  });

  it('disables a firewall through its long-running operation, then undoes it exactly', async () => {
    const executed = await executor.execute(disable, false);
    expect(executed).toMatchObject({ outcome: 'changed', before: { disabled: false, sourceRanges: ['0.0.0.0/0'] } });
    expect(executed.requestIds).toEqual([expect.stringMatching(/^operation-\d+-/)]);
    expect(server.firewall(PROJECT, 'allow-ssh-anywhere')).toMatchObject({ disabled: true, sourceRanges: ['0.0.0.0/0'], targetTags: ['ssh'] });
    expect(patches().map((request) => request.body)).toEqual([{ name: 'allow-ssh-anywhere', disabled: true }]);
    // The operation stays RUNNING for two reads: waited for, not taken as done.
    expect(server.requests.filter((request) => request.id === 'compute.globalOperations.wait')).toHaveLength(2);

    const undone = await executor.undo(disable, executed, false);
    expect(undone).toMatchObject({ outcome: 'changed', apiCall: `compute.firewalls.patch projects/${PROJECT}/global/firewalls/allow-ssh-anywhere {"disabled": false}` });
    expect(server.firewall(PROJECT, 'allow-ssh-anywhere')).toMatchObject({ disabled: false, sourceRanges: ['0.0.0.0/0'] });
    expect(await executor.undo(disable, executed, false)).toMatchObject({ outcome: 'already', requestIds: [] });
  });

  it('narrows a firewall to its other sources and restores the ranges in their order', async () => {
    const executed = await executor.execute(narrow, false);
    expect(executed).toMatchObject({ outcome: 'changed', before: { disabled: false, sourceRanges: MIXED_RANGES } });
    expect(server.firewall(PROJECT, 'allow-https-mixed')).toMatchObject({ sourceRanges: ['10.8.0.0/16', '198.51.100.0/24'], sourceTags: ['bastion'], disabled: false });
    expect(await executor.execute(narrow, false)).toMatchObject({ outcome: 'already' });

    expect(await executor.undo(narrow, executed, false)).toMatchObject({ outcome: 'changed' });
    expect(server.firewall(PROJECT, 'allow-https-mixed').sourceRanges).toEqual(MIXED_RANGES);
  });

  it('answers already when a retry follows an answer lost after the patch was made, and the undo still restores', async () => {
    server.dropAnswer('compute.firewalls.patch');
    const lost = await failureOf(executor.execute(disable, false));
    // Retried by Temporal: a plain error, not a refusal.
    expect(lost).not.toBeInstanceOf(ApplicationFailure);
    expect(server.firewall(PROJECT, 'allow-ssh-anywhere').disabled).toBe(true);

    const retried = await executor.execute(disable, false);
    expect(retried).toMatchObject({ outcome: 'already', requestIds: [], before: { disabled: false, sourceRanges: ['0.0.0.0/0'] } });
    expect(patches()).toHaveLength(1);
    expect(await executor.undo(disable, retried, false)).toMatchObject({ outcome: 'changed' });
    expect(server.firewall(PROJECT, 'allow-ssh-anywhere').disabled).toBe(false);
  });

  it('changes nothing in dry run, saying what it would do', async () => {
    expect(await executor.execute(narrow, true)).toEqual({
      outcome: 'dry-run',
      apiCall: `compute.firewalls.patch projects/${PROJECT}/global/firewalls/allow-https-mixed {"sourceRanges": ["10.8.0.0/16", "198.51.100.0/24"]}`,
      requestIds: [],
      at: expect.any(String),
    });
    expect(await executor.execute(disable, true)).toMatchObject({ outcome: 'dry-run' });
    expect(await executor.execute(enforce, true)).toMatchObject({ outcome: 'dry-run' });
    const executed = await executor.execute(enforce, false);
    expect(await executor.undo(enforce, executed, true)).toMatchObject({ outcome: 'dry-run', apiCall: expect.stringContaining('"inherited"') });

    expect(patches().map((request) => request.id)).toEqual(['storage.buckets.patch']);
    expect(server.firewall(PROJECT, 'allow-https-mixed').sourceRanges).toEqual(MIXED_RANGES);
    expect(server.firewall(PROJECT, 'allow-ssh-anywhere').disabled).toBe(false);
    expect(server.bucket('vigil-public-assets')).toMatchObject({ iamConfiguration: { publicAccessPrevention: 'enforced' } });
  });

  it('enforces public access prevention on a bucket, guarded by its metageneration, and undoes it to inherited', async () => {
    const executed = await executor.execute(enforce, false);
    expect(executed).toMatchObject({ outcome: 'changed', before: { publicAccessPrevention: 'inherited' } });
    expect(executed.requestIds).toEqual([expect.stringMatching(/^ABPtcPp/)]);
    const [patch] = patches();
    expect(patch).toMatchObject({ query: { ifMetagenerationMatch: '1' }, body: { iamConfiguration: { publicAccessPrevention: 'enforced' } } });
    // The merge patch leaves the rest of the IAM configuration alone.
    expect(server.bucket('vigil-public-assets')).toMatchObject({ metageneration: '2', iamConfiguration: { publicAccessPrevention: 'enforced', uniformBucketLevelAccess: { enabled: true } } });
    expect(await executor.execute(enforce, false)).toMatchObject({ outcome: 'already' });

    expect(await executor.undo(enforce, executed, false)).toMatchObject({ outcome: 'changed' });
    expect(server.bucket('vigil-public-assets')).toMatchObject({ metageneration: '3', iamConfiguration: { publicAccessPrevention: 'inherited' } });
  });

  it('turns refusals into non-retryable RemediationRefused failures and leaves transient ones to Temporal', async () => {
    server.fail('compute.firewalls.patch', 403, 'forbidden', 1);
    const forbidden = await failureOf(executor.execute(disable, false));
    expect(forbidden).toBeInstanceOf(ApplicationFailure);
    expect(forbidden).toMatchObject({ type: 'RemediationRefused', nonRetryable: true });
    expect(forbidden.message).toContain(`refused for ${key.email}: 403 forbidden`);

    // Narrowing a firewall whose only sources are internet-wide would leave it open to everyone.
    const nothingLeft = await failureOf(executor.execute({ kind: 'gcp-firewall-narrow', project: PROJECT, firewall: 'allow-rdp-anywhere', removeRanges: ['0.0.0.0/0'] }, false));
    expect(nothingLeft).toMatchObject({ type: 'RemediationRefused', nonRetryable: true, message: expect.stringContaining('disable it instead') });

    const missing = await failureOf(executor.execute({ kind: 'gcp-firewall-disable', project: PROJECT, firewall: 'gone' }, false));
    expect(missing).toMatchObject({ type: 'RemediationRefused', nonRetryable: true });

    server.fail('storage.buckets.patch', 503, 'backendError', 1);
    const unavailable = await failureOf(executor.execute(enforce, false));
    expect(unavailable).not.toBeInstanceOf(ApplicationFailure);
    expect(unavailable.message).toContain('503 backendError');

    // An operation that ends in a client error: refused, and the firewall is as it was.
    server.failOperation('PERMISSION_DENIED', "Required 'compute.networks.updatePolicy' permission", 403);
    const failedOperation = await failureOf(executor.execute(disable, false));
    expect(failedOperation).toMatchObject({ type: 'RemediationRefused', nonRetryable: true });
    expect(failedOperation.message).toContain('compute.networks.updatePolicy');
    expect(server.firewall(PROJECT, 'allow-ssh-anywhere').disabled).toBe(false);
  });

  it('checks requests against the Discovery documents, so a drift is seen', async () => {
    // A body with an output-only field, an unknown one, and a mistyped one, sent by hand.
    const response = await fetch(`${server.url}compute/v1/projects/${PROJECT}/global/firewalls/allow-ssh-anywhere`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'allow-ssh-anywhere', id: '1', disabledd: true, priority: 'high' }),
    });
    expect(response.status).toBe(400);
    expect(server.problems).toEqual([
      'compute.firewalls.patch: request.id: output only, sent in a request',
      'compute.firewalls.patch: request.disabledd: no such field',
      'compute.firewalls.patch: request.priority: expected an integer, got "high"',
    ]);
    server.problems.length = 0;
  });
});
