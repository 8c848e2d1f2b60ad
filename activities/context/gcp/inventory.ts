// The GCP inventory provider: firewalls and instances read from the Cloud Asset API, judged by
// ./firewall and narrowed to what the alert names by ./references. listAssets (rather than
// searchAllResources) because only it returns each firewall's full data (allowed, denied, priority,
// targets, numeric id) without a read mask per type. The projects under the configured organizations
// and folders are discovered by ./hierarchy.
import { AssetServiceClient } from '@google-cloud/asset';
import { OAuth2Client } from 'google-auth-library';
import { resolveSecret } from '../../../lib/config';
import { emptyContext, type ContextProblem } from '../../../lib/context';
import { lastingFailure, structToJson, type Struct } from './cloud-asset';
import { discoverHierarchy, type HierarchyDiscovery } from './hierarchy';
import { evaluateGcpFirewalls, FIREWALL_ASSET_TYPE, INSTANCE_ASSET_TYPE, type GcpAsset } from './firewall';
import { narrowToQuery } from './references';
import type { ContextQuery, InventoryProvider } from '../types';
import type { GcpInventorySettings } from '.';

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
  const fromRefs = query.resources.map((ref) => /(?:^|\/)projects\/([^/]+)\//.exec(ref.id)?.[1]).filter((project) => project !== undefined && project !== '-');
  return [...new Set([...(query.account ? [query.account] : []), ...fromRefs])] as string[];
}

export function createGcpInventory(settings: GcpInventorySettings, env: NodeJS.ProcessEnv = process.env): InventoryProvider {
  const client = new AssetServiceClient(clientOptions(settings, env));

  async function readParent(parent: string): Promise<GcpAsset[] | ContextProblem> {
    const assets: GcpAsset[] = [];
    try {
      const request = { parent, assetTypes: [FIREWALL_ASSET_TYPE, INSTANCE_ASSET_TYPE], contentType: 'RESOURCE' as const, pageSize: 1000 };
      // The async iterator follows nextPageToken itself (autoPaginate only concerns the callback forms).
      for await (const asset of client.listAssetsAsync(request, { autoPaginate: false })) {
        assets.push({ name: asset.name ?? '', assetType: asset.assetType ?? '', data: structToJson(asset.resource?.data as Struct | null | undefined) });
      }
    } catch (error) {
      const lasting = lastingFailure(error);
      if (!lasting) throw error;
      return { provider: 'gcp', scope: parent, reason: `${lasting.words} (${lasting.status}): ${lasting.message}` };
    }
    return assets;
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
      const reads = await Promise.all(parents.map(readParent));
      const problems = reads.filter((read): read is ContextProblem => !Array.isArray(read));
      // One evaluation over everything read, so that a scope holding a shared VPC judges the
      // service projects' instances by the host project's firewalls. Overlapping scopes (an
      // organization and one of its folders) list the same asset twice: it counts once.
      const assets = new Map(reads.filter((read) => Array.isArray(read)).flatMap((read) => read.map((asset) => [asset.name, asset] as const)));
      const context = evaluateGcpFirewalls([...assets.values()]);
      return narrowToQuery({ ...context, problems: [...context.problems, ...problems] }, query);
    },
    // Until the first discovery, the configured scopes; afterwards those discovery keeps (./hierarchy).
    scopes: () => discovered?.scopes ?? settings.scopes,
    async discover() {
      discovered = await discoverHierarchy(client, settings.scopes);
      const { accounts, gaps, scopes, incomplete } = discovered;
      return { accounts, gaps, scopes, ...(incomplete ? { incomplete } : {}) };
    },
    async scan(scope) {
      const read = await readParent(scope);
      if (!Array.isArray(read)) return { ...emptyContext(), problems: [read] };
      return evaluateGcpFirewalls(read);
    },
  };
}
