// Who a GCP principal (an e-mail) is, from the Cloud Asset API over the scopes the GCP inventory
// reads: a service account of the organisation (its display name, whether it is disabled, its
// project), an account of one of the organisation's domains, or an external account, with its
// domain. Loaded only when `inventory.gcp` is configured.
import { AssetServiceClient } from '@google-cloud/asset';
import { OAuth2Client } from 'google-auth-library';
import { resolveSecret } from '../../lib/config';
import type { PrincipalFacts } from '../../lib/intel';
import type { GcpInventorySettings } from '../context/gcp';

export const SERVICE_ACCOUNT_ASSET_TYPE = 'iam.googleapis.com/ServiceAccount';
export const ORGANIZATION_ASSET_TYPE = 'cloudresourcemanager.googleapis.com/Organization';

export interface GcpPrincipalName {
  email: string;
  domain: string;
  serviceAccount: boolean;
}

type ClientOptions = NonNullable<ConstructorParameters<typeof AssetServiceClient>[0]>;

/** The same client options as the GCP inventory's (./context/gcp/inventory.ts): credentials and endpoint. */
function clientOptions(settings: GcpInventorySettings, env: NodeJS.ProcessEnv): ClientOptions {
  let auth: ClientOptions = {};
  if (settings.accessToken) {
    const client = new OAuth2Client();
    client.setCredentials({ access_token: resolveSecret(settings.accessToken, 'inventory.gcp.accessToken', env) });
    auth = { authClient: client as unknown as ClientOptions['authClient'] };
  } else if (settings.keyFile) auth = { keyFilename: settings.keyFile };
  if (!settings.endpoint) return auth;
  const url = new URL(settings.endpoint);
  const protocol = url.protocol.replace(/:$/, '');
  return { ...auth, fallback: true, apiEndpoint: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) || (protocol === 'http' ? 80 : 443), protocol };
}

/** Google's status of a failed call, over REST (a JSON error body as the message) or gRPC (a code). */
function lastingStatus(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : String(error);
  try {
    const status = (JSON.parse(message) as { error?: { status?: unknown } }).error?.status;
    if (status === 'PERMISSION_DENIED' || status === 'NOT_FOUND') return status === 'NOT_FOUND' ? 'not found' : 'access denied';
  } catch {
    // A gRPC error: its code says.
  }
  const code = (error as { code?: unknown }).code;
  return code === 7 ? 'access denied' : code === 5 ? 'not found' : undefined;
}

/** The string fields of an asset's `resource.data` (a protobuf Struct as the client decodes it). */
interface StructFields {
  fields?: Record<string, { stringValue?: string | null; boolValue?: boolean | null } | undefined> | null;
}

interface ServiceAccount {
  email: string;
  displayName?: string;
  disabled: boolean;
  project?: string;
}

/** What the configured scopes hold, read once per batch of principals. */
interface Directory {
  serviceAccounts: Map<string, ServiceAccount>;
  domains: Set<string>;
  /** Scopes that could not be read, with why. */
  unread: string[];
  /** Whether an organisation's domains could be known at all (a scope names an organisation). */
  organisations: number;
}

export function createGcpPrincipals(settings: GcpInventorySettings, env: NodeJS.ProcessEnv = process.env) {
  const client = new AssetServiceClient(clientOptions(settings, env));

  async function list(parent: string, assetType: string, into: (data: StructFields | undefined, name: string) => void): Promise<string | undefined> {
    try {
      const request = { parent, assetTypes: [assetType], contentType: 'RESOURCE' as const, pageSize: 1000 };
      for await (const asset of client.listAssetsAsync(request, { autoPaginate: false })) into(asset.resource?.data as StructFields | undefined, asset.name ?? '');
      return undefined;
    } catch (error) {
      const lasting = lastingStatus(error);
      if (lasting) return `${parent}: ${lasting}`;
      throw error;
    }
  }

  async function directory(wanted: { serviceAccounts: boolean; domains: boolean }): Promise<Directory> {
    const found: Directory = { serviceAccounts: new Map(), domains: new Set(), unread: [], organisations: 0 };
    const text = (data: StructFields | undefined, key: string) => data?.fields?.[key]?.stringValue ?? undefined;
    const reads = settings.scopes.flatMap((scope) => [
      ...(wanted.serviceAccounts
        ? [
            list(scope, SERVICE_ACCOUNT_ASSET_TYPE, (data, name) => {
              const email = text(data, 'email')?.toLowerCase();
              if (!email) return;
              const project = text(data, 'projectId') ?? /\/projects\/([^/]+)\//.exec(name)?.[1];
              const displayName = text(data, 'displayName');
              found.serviceAccounts.set(email, { email, disabled: data?.fields?.disabled?.boolValue === true, ...(displayName ? { displayName } : {}), ...(project ? { project } : {}) });
            }),
          ]
        : []),
      // An organisation's display name is its primary domain.
      ...(wanted.domains && scope.startsWith('organizations/')
        ? [
            list(scope, ORGANIZATION_ASSET_TYPE, (data) => {
              const domain = text(data, 'displayName')?.toLowerCase();
              if (domain) found.domains.add(domain);
            }),
          ]
        : []),
    ]);
    found.organisations = settings.scopes.filter((scope) => scope.startsWith('organizations/')).length;
    found.unread = (await Promise.all(reads)).filter((reason): reason is string => reason !== undefined);
    return found;
  }

  function judge(principal: GcpPrincipalName, { serviceAccounts, domains, unread, organisations }: Directory): PrincipalFacts {
    const { email, domain } = principal;
    const couldNotRead = unread.length > 0 ? ` (could not read ${unread.join('; ')})` : '';
    if (principal.serviceAccount) {
      const account = serviceAccounts.get(email.toLowerCase());
      if (account) return { kind: 'gcp-service-account', ...account };
      if (couldNotRead) return { kind: 'unread', reason: `service account not found in the scopes Vigil could read${couldNotRead}` };
      return { kind: 'external', email, domain, account: 'service-account' };
    }
    if (domains.has(domain)) return { kind: 'organisation-account', email, domain };
    if (couldNotRead || organisations === 0) {
      return { kind: 'unread', reason: `domain ${domain}; the organisation's own domains are unknown${organisations === 0 ? ' (inventory.gcp.scopes names no organisation)' : couldNotRead}` };
    }
    return { kind: 'external', email, domain, account: 'user' };
  }

  return {
    /** Each principal judged against one read of the configured scopes. Transient failures throw. */
    async describe(principals: GcpPrincipalName[]): Promise<PrincipalFacts[]> {
      if (principals.length === 0) return [];
      if (settings.scopes.length === 0) return principals.map(() => ({ kind: 'unread', reason: 'inventory.gcp.scopes is empty' }));
      const found = await directory({ serviceAccounts: principals.some((p) => p.serviceAccount), domains: principals.some((p) => !p.serviceAccount) });
      return principals.map((principal) => judge(principal, found));
    },
    close: () => client.close(),
  };
}

export type GcpPrincipals = ReturnType<typeof createGcpPrincipals>;
