// The GCP inventory provider: firewalls and instances read from the Cloud Asset API, judged by
// ./firewall. listAssets (rather than searchAllResources) because only it returns each
// firewall's full data (allowed, denied, priority, targets) without a read mask per type.
import { AssetServiceClient } from '@google-cloud/asset';
import { OAuth2Client } from 'google-auth-library';
import type { ResourceRef } from '../../../lib/alert';
import { resolveSecret } from '../../../lib/config';
import { emptyContext, type ContextProblem, type ProviderContext } from '../../../lib/context';
import { evaluateGcpFirewalls, FIREWALL_ASSET_TYPE, INSTANCE_ASSET_TYPE, type GcpAsset } from './firewall';
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

/** `projects/p/global/firewalls/n` or `projects/p/zones/z/instances/n` from any way alerts write it. */
function resourcePath(ref: ResourceRef, collection: string, account: string | undefined): string {
  const path = ref.id.replace(/^\/\/compute\.googleapis\.com\//, '').replace(/^https:\/\/(?:www|compute)\.googleapis\.com\/compute\/v1\//, '');
  if (path.includes('/')) return account ? path.replace(/^projects\/-\//, `projects/${account}/`) : path;
  return `projects/${account ?? '-'}/${collection}/${path}`;
}

/** Whether a path names `id`, where an unknown project (`projects/-/…`) or zone matches any. */
function sameResource(wanted: string, id: string): boolean {
  const wantedParts = wanted.split('/');
  const parts = id.split('/');
  return wantedParts.length === parts.length && wantedParts.every((part, index) => part === parts[index] || (part === '-' && index % 2 === 1));
}

/**
 * The part of `context` the query is about. Firewall references keep those firewalls and what they
 * expose; instance references and addresses keep those instances and every rule exposing them.
 * A query naming neither (a project finding) keeps everything read.
 */
function narrow(context: ProviderContext, query: ContextQuery): ProviderContext {
  const firewalls = query.resources.filter((ref) => ref.type === 'gcp:compute:firewall').map((ref) => resourcePath(ref, 'global/firewalls', query.account));
  const instanceRefs = query.resources.filter((ref) => ref.type === 'gcp:compute:instance').map((ref) => resourcePath(ref, 'zones/-/instances', query.account));
  const byFirewall = firewalls.length > 0;
  const byInstance = instanceRefs.length > 0 || query.addresses.length > 0;
  if (!byFirewall && !byInstance) return context;

  const rules = new Set(context.rules.filter((rule) => !byFirewall || firewalls.some((wanted) => sameResource(wanted, rule.id))).map((rule) => rule.id));
  const selected = new Set(
    context.instances
      .filter(
        (instance) =>
          !byInstance ||
          instanceRefs.some((wanted) => sameResource(wanted, instance.id)) ||
          [...instance.publicAddresses, ...instance.privateAddresses].some((address) => query.addresses.includes(address)),
      )
      .map((instance) => instance.id),
  );
  const exposures = context.exposures.filter((exposure) => rules.has(exposure.rule) && selected.has(exposure.instance));
  const exposed = new Set(exposures.map((exposure) => exposure.instance));
  const exposing = new Set(exposures.map((exposure) => exposure.rule));
  return {
    instances: context.instances.filter((instance) => (byInstance ? selected.has(instance.id) : exposed.has(instance.id))),
    rules: context.rules.filter((rule) => (byFirewall ? rules.has(rule.id) : exposing.has(rule.id))),
    exposures,
    problems: context.problems,
  };
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
      return narrow({ ...context, problems: [...context.problems, ...problems] }, query);
    },
    scopes: () => settings.scopes,
    async scan(scope) {
      const read = await readParent(scope);
      if (!Array.isArray(read)) return { ...emptyContext(), problems: [read] };
      return evaluateGcpFirewalls(read);
    },
  };
}
