// GCP coverage gaps through the discovery's activities: the real @google-cloud/asset client against
// the local Cloud Asset server (as test/integration/gcp-hierarchy.test.ts), the local tracker. A
// project Vigil cannot read gets an issue, closed once read (a hand-listed project named by number
// too) or once it is gone; a GCP discovery that fails leaves its issues alone and the other
// providers go on. Nothing leaves 127.0.0.1 and nothing is probed.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsInventory } from '../../activities/context/aws';
import { createAwsInventory } from '../../activities/context/aws/inventory';
import { createGcpInventory } from '../../activities/context/gcp/inventory';
import type { InventoryProvider } from '../../activities/context/types';
import { createCoverageActivities, type GapIssues, type ProviderDiscovery } from '../../activities/coverage';
import { createLocalTracker, type LocalTracker } from '../../activities/tracker/local';
import { configSchema } from '../../lib/config';
import { PROJECT_ASSET_TYPE, startCloudAssetServer, type ApiAsset, type CloudAssetServer } from '../helpers/cloud-asset-server';

const TOKEN = 'ya29.preset-coverage-token';
const ENV = { VIGIL_TEST_GCP_TOKEN: TOKEN };

/** A project asset as ListAssets answers it (Cloud Resource Manager v1's Project), under organizations/100. */
function project(id: string, number: string): ApiAsset {
  return {
    name: `//cloudresourcemanager.googleapis.com/projects/${number}`,
    assetType: PROJECT_ASSET_TYPE,
    ancestors: [`projects/${number}`, 'organizations/100'],
    updateTime: '2026-11-02T09:00:00.000Z',
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://cloudresourcemanager.googleapis.com/$discovery/rest',
      discoveryName: 'Project',
      parent: '//cloudresourcemanager.googleapis.com/organizations/100',
      location: 'global',
      data: { projectNumber: number, projectId: id, lifecycleState: 'ACTIVE', name: id, parent: { type: 'organization', id: '100' }, createTime: '2024-03-01T10:00:00.000Z' },
    },
  };
}

const none: GapIssues = { opened: 0, reopened: 0, open: 0, changed: 0, closed: 0, gone: 0, deferred: 0 };

describe('GCP coverage gaps', () => {
  let server: CloudAssetServer;
  let root: string;
  let tracker: LocalTracker;
  let runs = 0;

  beforeEach(async () => {
    server = await startCloudAssetServer({ assets: [project('shop-prod', '1002'), project('locked-proj', '1004'), project('lone-project', '1007')], tokens: [TOKEN], refuse: ['projects/locked-proj'] });
    root = await mkdtemp(path.join(os.tmpdir(), 'vigil-coverage-gcp-'));
    tracker = createLocalTracker({ root });
  });
  afterEach(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
    expect(server.problems).toEqual([]);
  });

  /** One discovery as the workflow runs it: discovered, then its gaps reported (re-scans are not followed here). */
  async function discover(inventory: InventoryProvider[]): Promise<{ coverage: ProviderDiscovery[]; issues: GapIssues }> {
    const activities = createCoverageActivities({
      inventory,
      tracker,
      labels: configSchema.parse({}).tracker.labels,
      rescans: { follow: () => Promise.reject(new Error('not followed here')), known: () => Promise.resolve([]) },
    });
    const env = new MockActivityEnvironment();
    const coverage = (await env.run(activities.discoverCoverage)) as ProviderDiscovery[];
    runs += 1;
    const issues = (await env.run(activities.reportCoverageGaps, { coverage, workflowId: `discovery-${runs}`, discoveredAt: new Date().toISOString() })) as GapIssues;
    return { coverage, issues };
  }
  const gcp = (scopes: string[]) => createGcpInventory({ scopes, endpoint: server.url, accessToken: { env: 'VIGIL_TEST_GCP_TOKEN' } }, ENV);
  const lastComment = async (fingerprint: string) => (await tracker.findIssue(fingerprint))!.comments.at(-1)?.body;

  it('opens an issue per project it cannot read and closes it once read, a hand-listed project named by number too', async () => {
    // lone-project, hand-listed by its number, is refused once.
    server.fail('projects/1007', 'PERMISSION_DENIED', 1);
    expect((await discover([gcp(['projects/1007'])])).issues).toEqual({ ...none, opened: 1 });
    expect(await tracker.findIssue('coverage/gcp/1007')).toMatchObject({ state: 'open', title: 'Coverage gap: gcp 1007' });

    // Read now: the gap of the number heals under the same key.
    expect((await discover([gcp(['projects/1007'])])).issues).toEqual({ ...none, closed: 1 });
    expect(await lastComment('coverage/gcp/1007')).toMatch(/^Healed: /);

    // Under a configured organization, the project Vigil may not read.
    expect((await discover([gcp(['organizations/100'])])).issues).toEqual({ ...none, opened: 1 });
    expect(await tracker.findIssue('coverage/gcp/locked-proj')).toMatchObject({ state: 'open' });
  });

  it('leaves every GCP issue alone while its discovery fails, and the other providers go on', async () => {
    expect((await discover([gcp(['organizations/100'])])).issues).toEqual({ ...none, opened: 1 });

    // The organization cannot be listed for a moment (no refusal): GCP's discovery fails, AWS's goes on.
    const aws = createAwsInventory(awsInventory.settings.parse({}));
    server.fail('organizations/100', 'INTERNAL');
    const failing = await discover([aws, gcp(['organizations/100'])]);
    expect(failing.coverage).toEqual([
      { provider: 'aws', accounts: [], gaps: [], scopes: [] },
      { provider: 'gcp', failed: expect.stringContaining('INTERNAL') },
    ]);
    expect(failing.issues).toEqual(none);
    expect(await tracker.findIssue('coverage/gcp/locked-proj')).toMatchObject({ state: 'open' });
    // Every provider failing is the run's failure, for Temporal to retry.
    await expect(discover([gcp(['organizations/100'])])).rejects.toThrow(/every discovery failed: gcp: /);
  });

  it('closes the issue of a project deleted since, once every configured scope is listed', async () => {
    expect((await discover([gcp(['organizations/100'])])).issues).toEqual({ ...none, opened: 1 });
    server.assets.splice(server.assets.findIndex((asset) => asset.name.endsWith('/1004')), 1);
    // Another organization cannot be listed: the project may be under it, so its issue stays.
    server.fail('organizations/900', 'PERMISSION_DENIED', 1);
    expect((await discover([gcp(['organizations/100', 'organizations/900'])])).issues).toEqual({ ...none, opened: 1 });
    expect(await tracker.findIssue('coverage/gcp/locked-proj')).toMatchObject({ state: 'open' });
    expect((await discover([gcp(['organizations/100'])])).issues).toEqual({ ...none, gone: 2 });
    expect(await lastComment('coverage/gcp/locked-proj')).toMatch(/^No longer covered: /);
  });
});
