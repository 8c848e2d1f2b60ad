// The GCP hierarchy: the projects under each configured organization and folder, found in the Cloud
// Asset API's project assets, each read once to find those Vigil cannot read (coverage gaps).
// ListAssets rather than SearchAllResources: its project assets carry Cloud Resource Manager's own
// data (projectId, projectNumber, display name, lifecycleState) and their ancestors, and it needs
// the one permission (cloudasset.assets.listResource) that collect and the re-scan need too, so what
// discovery could read, they can.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AssetServiceClient, protos } from '@google-cloud/asset';
import { z } from 'zod';
import { mapConcurrent } from '../../../lib/concurrency';
import type { CoverageGap, CoverageReport, CoveredAccount } from '../types';
import { googleStatus, lastingFailure, structToJson, type LastingFailure, type Struct } from './cloud-asset';
import { FIREWALL_ASSET_TYPE, INSTANCE_ASSET_TYPE } from './firewall';

export const PROJECT_ASSET_TYPE = 'cloudresourcemanager.googleapis.com/Project';

/** A project asset's `resource.data`: Cloud Resource Manager v1's Project (`name` is the display name). */
const projectSchema = z.looseObject({
  projectId: z.string().min(1),
  // An int64, which proto3 JSON writes as a string; a number is read too.
  projectNumber: z.union([z.string(), z.number()]).transform(String),
  name: z.string().nullish(),
  lifecycleState: z.string().nullish(),
});

interface Project {
  id: string;
  number: string;
  name?: string;
  /** ACTIVE, DELETE_REQUESTED (deleted, restorable for 30 days)… */
  lifecycle: string;
  /** `projects/<number>`, `folders/<n>`…, `organizations/<n>`: the project and everything above it. */
  ancestors: string[];
}

/** What discovery found, and what collect needs of it. */
export interface HierarchyDiscovery extends CoverageReport {
  /** Project number → project id, for alerts that name a project by number. */
  projectIds: Map<string, string>;
}

/** Discovered projects read at once: small, as ListAssets allows 100 calls a minute per consumer project. */
const READ_CONCURRENCY = 4;
/**
 * Waits after RESOURCE_EXHAUSTED before reading the same project again: together past ListAssets'
 * one-minute quota window, so a hundred projects are read in a few minutes rather than the whole
 * discovery failing (and starting over, exhausting the quota again) when Temporal retries it.
 */
const QUOTA_WAITS_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000];

async function pacedByQuota<T>(read: () => Promise<T>): Promise<T> {
  for (const wait of QUOTA_WAITS_MS) {
    try {
      return await read();
    } catch (error) {
      if (googleStatus(error).status !== 'RESOURCE_EXHAUSTED') throw error;
      await sleep(wait);
    }
  }
  return read();
}

function projectOf(asset: { resource?: { data?: unknown } | null; ancestors?: string[] | null }): Project | undefined {
  const parsed = projectSchema.safeParse(structToJson(asset.resource?.data as Struct | null | undefined));
  if (!parsed.success) return undefined;
  const { projectId, projectNumber, name, lifecycleState } = parsed.data;
  return { id: projectId, number: projectNumber, ...(name ? { name } : {}), lifecycle: lifecycleState ?? 'LIFECYCLE_STATE_UNSPECIFIED', ancestors: asset.ancestors ?? [] };
}

const projectKey = (scope: string) => scope.replace(/^projects\//, '');

export async function discoverHierarchy(client: AssetServiceClient, configured: readonly string[], now: () => Date = () => new Date()): Promise<HierarchyDiscovery> {
  /** Every project asset under `parent`, all pages; a lasting failure as such, a transient one thrown. */
  async function listProjects(parent: string): Promise<Project[] | LastingFailure> {
    const projects: Project[] = [];
    try {
      const request = { parent, assetTypes: [PROJECT_ASSET_TYPE], contentType: 'RESOURCE' as const, pageSize: 1000 };
      for await (const asset of client.listAssetsAsync(request, { autoPaginate: false })) {
        const project = projectOf(asset);
        if (project) projects.push(project);
      }
    } catch (error) {
      const lasting = lastingFailure(error);
      if (!lasting) throw error;
      return lasting;
    }
    return projects;
  }

  /** The first page of `assetTypes` in `projects/<key>`: proof that the project can be read. */
  async function readOnce(key: string, assetTypes: string[]): Promise<{ assets: protos.google.cloud.asset.v1.IAsset[]; readAt: string } | LastingFailure> {
    try {
      const request = { parent: `projects/${key}`, assetTypes, contentType: 'RESOURCE' as const, pageSize: 1 };
      const [assets] = await pacedByQuota(() => client.listAssets(request, { autoPaginate: false }));
      return { assets, readAt: now().toISOString() };
    } catch (error) {
      const lasting = lastingFailure(error);
      if (!lasting) throw error;
      return lasting;
    }
  }

  const accounts: CoveredAccount[] = [];
  const gaps: CoverageGap[] = [];
  const gap = (account: string, reason: string, name?: string, detail?: string) => {
    gaps.push({ provider: 'gcp', account, reason });
    // Each discovery reads every place afresh and keeps no earlier read: one unreadable now has no time to give.
    accounts.push({ provider: 'gcp', id: account, name: name ?? null, state: reason, ...(detail ? { reason: detail } : {}), lastRead: null });
  };
  const covered = (place: { id: string; name?: string }, readAt: string) => accounts.push({ provider: 'gcp', id: place.id, name: place.name ?? null, state: 'ok', lastRead: readAt });

  // The organizations and folders, each listed whole: nested folders' projects are among them.
  const containers = configured.filter((scope) => !scope.startsWith('projects/'));
  const listings = await Promise.all(containers.map(async (scope) => ({ scope, listing: await listProjects(scope), readAt: now().toISOString() })));
  const found = new Map<string, Project>();
  const listed = new Set<string>();
  for (const { scope, listing, readAt } of listings) {
    // Each organization and folder is a place of its own: its gap, or the row that heals that gap.
    if (!Array.isArray(listing)) {
      gap(scope, `cannot list its projects (${listing.status})`, undefined, listing.message);
      continue;
    }
    covered({ id: scope }, readAt);
    listed.add(scope);
    // Deleted projects (DELETE_REQUESTED) stay listed for 30 days; only active ones are covered.
    for (const project of listing) if (project.lifecycle === 'ACTIVE' && !found.has(project.id)) found.set(project.id, project);
  }
  const byNumber = new Map([...found.values()].map((project) => [project.number, project]));

  // Hand-listed projects that no listing holds are read on their own: their own project asset says
  // what they are called and whether they are still active. Each is named as configured (`projects/<n>`
  // by its number), in its gap and in the row that heals it alike: a project that cannot be read has
  // no id to go by.
  const alone = configured.filter((scope) => scope.startsWith('projects/') && !found.has(projectKey(scope)) && !byNumber.has(projectKey(scope)));
  for (const scope of alone) {
    const key = projectKey(scope);
    const read = await readOnce(key, [PROJECT_ASSET_TYPE]);
    if (!('assets' in read)) {
      gap(key, `cannot list its assets (${read.status})`, undefined, read.message);
      continue;
    }
    const project = read.assets.map(projectOf).find((candidate) => candidate !== undefined);
    if (project && project.lifecycle !== 'ACTIVE') gap(key, `configured, but ${project.lifecycle}`, project.name);
    else covered({ id: key, ...(project?.name ? { name: project.name } : {}) }, read.readAt);
    if (project) byNumber.set(project.number, project);
  }

  // Every discovered project, read once as collect and the re-scan read it.
  const reads = await mapConcurrent([...found.values()], READ_CONCURRENCY, async (project) => ({ project, read: await readOnce(project.id, [FIREWALL_ASSET_TYPE, INSTANCE_ASSET_TYPE]) }));
  for (const { project, read } of reads) {
    if ('assets' in read) covered(project, read.readAt);
    else gap(project.id, `cannot list its assets (${read.status})`, project.name, read.message);
  }

  return {
    accounts: accounts.sort((a, b) => a.id.localeCompare(b.id)),
    gaps: gaps.sort((a, b) => a.account.localeCompare(b.account)),
    scopes: configured.filter((scope) => !insideAnother(scope, listed, found, byNumber)),
    // A project under an organization or folder that could not be listed may still be there.
    ...(listed.size < containers.length ? { incomplete: true } : {}),
    projectIds: new Map([...byNumber.values()].map((project) => [project.number, project.id])),
  };
}

/**
 * Whether a configured scope lies inside another configured scope that was listed whole: a project
 * found by a listing, or a folder that a listed scope above it holds (ancestors run from the project
 * up to its organization). The re-scan reads the outer scope, which holds everything of the inner one.
 */
function insideAnother(scope: string, listed: ReadonlySet<string>, found: ReadonlyMap<string, Project>, byNumber: ReadonlyMap<string, Project>): boolean {
  if (scope.startsWith('projects/')) {
    const project = found.get(projectKey(scope)) ?? byNumber.get(projectKey(scope));
    return project !== undefined && found.has(project.id);
  }
  return [...found.values()].some(({ ancestors }) => {
    const at = ancestors.indexOf(scope);
    return at >= 0 && ancestors.slice(at + 1).some((above) => listed.has(above));
  });
}

/** Node's ways of saying that nothing answered at the endpoint (a REST endpoint's FetchError carries them as `code`). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Why discovery had no answer (a failure that is no refusal), naming what to check: the endpoint
 * setting when nothing answered, where credentials come from when none were found; otherwise the
 * client's own words.
 */
export function noAnswerReason(error: unknown, endpoint: string | undefined): string {
  if (!(error instanceof Error)) return String(error);
  const { code } = error as { code?: unknown };
  const where = endpoint ? `inventory.gcp.endpoint (${endpoint})` : "(Google's own: inventory.gcp.endpoint is unset)";
  if ((typeof code === 'string' && UNREACHABLE.has(code)) || googleStatus(error).status === 'UNAVAILABLE') return `cannot reach the Cloud Asset endpoint ${where}: ${error.message}`;
  if (error.message.startsWith('Could not load the default credentials')) {
    return 'no credentials: set inventory.gcp.accessToken, or GOOGLE_APPLICATION_CREDENTIALS to a key file, or run `gcloud auth application-default login` (or where a service account is attached)';
  }
  return `${error.name}: ${error.message}`;
}
