// The GCP inventory provider: firewalls and instances read from the Cloud Asset API, judged by
// ./firewall, buckets, databases, load balancers, images, snapshots and serverless entry points
// judged by ./resources, all narrowed to what the alert names by ./references. listAssets (rather
// than searchAllResources) because only it returns each firewall's full data (allowed, denied,
// priority, targets, numeric id) without a read mask per type, and each resource's IAM policy.
// The projects under the configured organizations and folders are discovered by ./hierarchy.
import { AssetServiceClient } from '@google-cloud/asset';
import { OAuth2Client } from 'google-auth-library';
import { resolveSecret } from '../../../lib/config';
import { emptyContext, type ContextProblem, type ProviderContext } from '../../../lib/context';
import { lastingFailure, structToJson, type Struct } from './cloud-asset';
import { discoverHierarchy, type HierarchyDiscovery } from './hierarchy';
import { evaluateGcpFirewalls, FIREWALL_ASSET_TYPE, INSTANCE_ASSET_TYPE } from './firewall';
import { narrowToQuery } from './references';
import { evaluateGcpResources, GCP_RESOURCE_KINDS, kindOfAlertType, type GcpResourceAsset, type GcpResourceKind } from './resources';
import type { ContextQuery, InventoryProvider } from '../types';
import type { GcpInventorySettings } from '.';

/** What one scope gave: assets (with IAM bindings where read) and what could not be read. */
interface ScopeRead {
  assets: GcpResourceAsset[];
  problems: ContextProblem[];
}

/** The references that need firewalls and instances read. */
const MACHINE_TYPES = ['gcp:compute:firewall', 'gcp:compute:instance'];

type ClientOptions = NonNullable<ConstructorParameters<typeof AssetServiceClient>[0]>;

export function clientOptions(settings: GcpInventorySettings, env: NodeJS.ProcessEnv): ClientOptions {
  const auth = settings.accessToken
    ? { authClient: presetTokenClient(resolveSecret(settings.accessToken, 'inventory.gcp.accessToken', env)) }
    : settings.keyFile
      ? { keyFilename: settings.keyFile }
      : {};
  if (!settings.endpoint) return auth;
  const url = new URL(settings.endpoint);
  const protocol = url.protocol.replace(/:$/, '');
  return {
    ...auth,
    // REST: a private endpoint or a test server speaks the API's HTTP/JSON surface.
    fallback: true,
    apiEndpoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(url.port) || (protocol === 'http' ? 80 : 443),
    protocol,
  };
}

function presetTokenClient(token: string): ClientOptions['authClient'] {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: token });
  // google-gax declares the auth types of its own (older) google-auth-library; it only calls
  // getRequestHeaders / fetch, which this one has with the same meaning.
  return client as unknown as ClientOptions['authClient'];
}

/** The projects the query names (its account, and the projects in its resource ids). */
function projectsOf(query: ContextQuery): string[] {
  const fromRefs = query.resources.map((ref) => /(?:^|\/)projects\/([^/]+)\//.exec(ref.id)?.[1]).filter((project) => project !== undefined && project !== '-' && project !== '_');
  return [...new Set([...(query.account ? [query.account] : []), ...fromRefs])] as string[];
}

export function createGcpInventory(settings: GcpInventorySettings, env: NodeJS.ProcessEnv = process.env): InventoryProvider {
  const client = new AssetServiceClient(clientOptions(settings, env));

  /** Every asset of `assetTypes` below `parent`, with `contentType`'s part: the resource's data or its IAM policy. */
  async function readParent(parent: string, assetTypes: string[], contentType: 'RESOURCE' | 'IAM_POLICY'): Promise<GcpResourceAsset[] | ContextProblem> {
    const assets: GcpResourceAsset[] = [];
    try {
      const request = { parent, assetTypes, contentType, pageSize: 1000 };
      // The async iterator follows nextPageToken itself (autoPaginate only concerns the callback forms).
      for await (const asset of client.listAssetsAsync(request, { autoPaginate: false })) {
        assets.push({
          name: asset.name ?? '',
          assetType: asset.assetType ?? '',
          data: structToJson(asset.resource?.data as Struct | null | undefined),
          bindings: (asset.iamPolicy?.bindings ?? []).map((binding) => ({ role: binding.role ?? '', members: binding.members ?? [] })),
        });
      }
    } catch (error) {
      const lasting = lastingFailure(error);
      if (!lasting) throw error;
      return { provider: 'gcp', scope: parent, reason: `${lasting.words} (${lasting.status}): ${lasting.message}` };
    }
    return assets;
  }

  /**
   * Firewalls and instances when `machines`, and the resources of `kinds` with, for those judged by
   * IAM, their policies (a second listing, contentType IAM_POLICY, joined by asset name). When the
   * policies are refused, the resources they judge are left out rather than called private.
   */
  async function readScope(parent: string, kinds: readonly GcpResourceKind[], machines: boolean): Promise<ScopeRead> {
    const types = [...(machines ? [FIREWALL_ASSET_TYPE, INSTANCE_ASSET_TYPE] : []), ...kinds.flatMap((kind) => kind.assetTypes)];
    const read = await readParent(parent, types, 'RESOURCE');
    if (!Array.isArray(read)) return { assets: [], problems: [read] };
    const iamTypes = kinds.filter((kind) => kind.iam).flatMap((kind) => kind.assetTypes);
    const policies = iamTypes.length > 0 ? await readParent(parent, iamTypes, 'IAM_POLICY') : [];
    if (!Array.isArray(policies)) {
      return { assets: read.filter((asset) => !iamTypes.includes(asset.assetType)), problems: [{ ...policies, reason: `IAM policies: ${policies.reason}` }] };
    }
    const bindings = new Map(policies.map((policy) => [policy.name, policy.bindings]));
    return { assets: read.map((asset) => ({ ...asset, bindings: bindings.get(asset.name) ?? [] })), problems: [] };
  }

  /** One evaluation of everything read, firewalls and instances by ./firewall, the rest by ./resources. */
  function evaluate(reads: readonly ScopeRead[], withResources: boolean): ProviderContext {
    // Overlapping scopes (an organization and one of its folders) list the same asset twice: it counts once.
    const assets = [...new Map(reads.flatMap((read) => read.assets.map((asset) => [asset.name, asset] as const))).values()];
    const context = evaluateGcpFirewalls(assets.filter((asset) => asset.assetType === FIREWALL_ASSET_TYPE || asset.assetType === INSTANCE_ASSET_TYPE));
    return {
      ...context,
      ...(withResources ? { resources: evaluateGcpResources(assets) } : {}),
      problems: [...context.problems, ...reads.flatMap((read) => read.problems)],
    };
  }

  /** The last discovery's findings, once `discover` has run in this process. */
  let discovered: HierarchyDiscovery | undefined;

  return {
    name: 'gcp',
    async collect(alerted) {
      if (alerted.provider !== 'gcp') return emptyContext();
      // An alert may name its project by number (SCC's `projects/123…`), its resources by id: the
      // project's id, as discovery found it, lets references without a project match them.
      const account = alerted.account && discovered?.projectIds.get(alerted.account);
      const query = account ? { ...alerted, account } : alerted;
      // The alert's own project when it names one: a role granted at an organization or folder scope
      // is inherited there, and reading one project is far cheaper than the whole scope.
      const named = projectsOf(query);
      const parents = named.length > 0 ? named.map((project) => `projects/${project}`) : settings.scopes;
      if (parents.length === 0) {
        return { ...emptyContext(), problems: [{ provider: 'gcp', scope: 'inventory.gcp.scopes', reason: 'the alert names no project and no scope is configured' }] };
      }
      // The kinds of resource the alert names are read beside machines, and instead of them when it
      // names neither a firewall, an instance nor an address.
      const kinds = [...new Set(query.resources.map((ref) => kindOfAlertType(ref.type)).filter((kind) => kind !== undefined))];
      const machines = kinds.length === 0 || query.addresses.length > 0 || query.resources.some((ref) => MACHINE_TYPES.includes(ref.type));
      const reads = await Promise.all(parents.map((parent) => readScope(parent, kinds, machines)));
      // One evaluation over everything read, so that a scope holding a shared VPC judges the
      // service projects' instances by the host project's firewalls.
      return narrowToQuery(evaluate(reads, kinds.length > 0), query);
    },
    // Until the first discovery, the configured scopes; afterwards those discovery keeps (./hierarchy).
    scopes: () => discovered?.scopes ?? settings.scopes,
    async discover() {
      discovered = await discoverHierarchy(client, settings.scopes);
      const { accounts, gaps, scopes, incomplete } = discovered;
      return { accounts, gaps, scopes, ...(incomplete ? { incomplete } : {}) };
    },
    // Everything in the scope: machines and every kind of resource.
    scan: async (scope) => evaluate([await readScope(scope, GCP_RESOURCE_KINDS, true)], true),
  };
}
