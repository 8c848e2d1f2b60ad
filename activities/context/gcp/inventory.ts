// The GCP inventory provider: firewalls and instances read from the Cloud Asset API, judged by
// ./firewall and narrowed to what the alert names by ./references. listAssets (rather than
// searchAllResources) because only it returns each firewall's full data (allowed, denied, priority,
// targets, numeric id) without a read mask per type.
import { AssetServiceClient } from '@google-cloud/asset';
import { OAuth2Client } from 'google-auth-library';
import { resolveSecret } from '../../../lib/config';
import { emptyContext, type ContextProblem } from '../../../lib/context';
import { evaluateGcpFirewalls, FIREWALL_ASSET_TYPE, INSTANCE_ASSET_TYPE, type GcpAsset } from './firewall';
import { narrowToQuery } from './references';
import type { ContextQuery, InventoryProvider } from '../types';
import type { GcpInventorySettings } from '.';

/** Google's error statuses that retrying will not change, in words. */
const LASTING_ERRORS: Record<string, string> = { PERMISSION_DENIED: 'access denied', NOT_FOUND: 'not found' };
/** The same, by gRPC code. */
const GRPC_STATUS_NAMES: Record<number, string> = { 5: 'NOT_FOUND', 7: 'PERMISSION_DENIED' };

/**
 * Google's status name and message of a failed call. Over gRPC the client rejects with the gRPC
 * code; over REST the auth client's fetch rejects any non-2xx answer with Google's JSON error body
 * (`{"error": {"code": 403, "status": "PERMISSION_DENIED", "message": …}}`) as the message.
 */
function googleStatus(error: unknown): { status?: string; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  try {
    const body = JSON.parse(message) as { error?: { status?: unknown; message?: unknown } };
    if (typeof body.error?.status === 'string') return { status: body.error.status, message: typeof body.error.message === 'string' ? body.error.message : message };
  } catch {
    // Not a JSON body: a gRPC error.
  }
  const code = (error as { code?: unknown }).code;
  return { status: typeof code === 'number' ? GRPC_STATUS_NAMES[code] : undefined, message };
}

type ClientOptions = NonNullable<ConstructorParameters<typeof AssetServiceClient>[0]>;

function clientOptions(settings: GcpInventorySettings, env: NodeJS.ProcessEnv): ClientOptions {
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

/** A protobuf Struct as the client hands it over (`{fields: {k: {kind, stringValue…}}}`) → plain JSON. */
interface StructValue {
  kind?: string | null;
  nullValue?: unknown;
  numberValue?: number | null;
  stringValue?: string | null;
  boolValue?: boolean | null;
  structValue?: Struct | null;
  listValue?: { values?: StructValue[] | null } | null;
}
interface Struct {
  fields?: Record<string, StructValue> | null;
}

function structToJson(struct: Struct | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(struct?.fields ?? {}).map(([key, value]) => [key, valueToJson(value)]));
}

function valueToJson(value: StructValue): unknown {
  // The client fills every member with its default, so `kind` (the oneof's case) says which is set.
  switch (value.kind) {
    case 'structValue':
      return structToJson(value.structValue);
    case 'listValue':
      return (value.listValue?.values ?? []).map(valueToJson);
    case 'stringValue':
      return value.stringValue;
    case 'numberValue':
      return value.numberValue;
    case 'boolValue':
      return value.boolValue;
    default:
      return null;
  }
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
      const { status, message } = googleStatus(error);
      const lasting = status ? LASTING_ERRORS[status] : undefined;
      if (!lasting) throw error;
      return { provider: 'gcp', scope: parent, reason: `${lasting} (${status}): ${message}` };
    }
    return assets;
  }

  return {
    name: 'gcp',
    async collect(query) {
      if (query.provider !== 'gcp') return emptyContext();
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
    scopes: () => settings.scopes,
    async scan(scope) {
      const read = await readParent(scope);
      if (!Array.isArray(read)) return { ...emptyContext(), problems: [read] };
      return evaluateGcpFirewalls(read);
    },
  };
}
