// Who a GCP principal (an e-mail) is, from the Cloud Asset API: a service account of the configured
// scopes (its display name, whether it is disabled, its project), an account of one of the
// organisation's domains, or an external account, with its domain. Loaded only when
// `inventory.gcp` is configured.
//
// ListAssets has a small quota (about 100 calls a minute) that context collection and re-scans
// share, so a service account is read from the one project its e-mail names, never over every
// scope, and what was read is kept for a while: an alert storm naming one account asks once.
import { AssetServiceClient } from '@google-cloud/asset';
import { mapConcurrent } from '../../lib/concurrency';
import type { PrincipalFacts } from '../../lib/intel';
import type { GcpInventorySettings } from '../context/gcp';
import { lastingFailure } from '../context/gcp/cloud-asset';
import { clientOptions } from '../context/gcp/inventory';
import { createTtlCache } from './cache';

export const SERVICE_ACCOUNT_ASSET_TYPE = 'iam.googleapis.com/ServiceAccount';
export const ORGANIZATION_ASSET_TYPE = 'cloudresourcemanager.googleapis.com/Organization';
/** How long a project's service accounts and an organisation's domain are kept. */
export const GCP_PRINCIPALS_TTL_MS = 10 * 60_000;
/** Projects read at once for one batch of principals. */
const PROJECTS_AT_ONCE = 4;

export interface GcpPrincipalName {
  email: string;
  domain: string;
  serviceAccount: boolean;
}

/**
 * Where a service account's e-mail says it lives. A user-managed account (`x@<project>.iam…`), a
 * project's default Compute Engine account (`<number>-compute@developer…`) and its App Engine one
 * (`<project>@appspot…`) are assets of that project. Google's service agents (`…@gcp-sa-….iam…`,
 * `<number>@cloudservices…`, `@cloudbuild…`, any other `@<one word>.gserviceaccount.com`) live in
 * Google's own projects: no read of yours lists them. Any other form names no project Vigil can tell.
 */
export function serviceAccountHome(email: string): { project: string } | { agent: string } | { unknown: string } {
  const [, domain = ''] = email.toLowerCase().split('@');
  const managed = /^([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$/.exec(domain);
  if (managed && !managed[1]!.startsWith('gcp-sa-')) return { project: managed[1]! };
  const compute = /^(\d+)-compute@developer\.gserviceaccount\.com$/.exec(email.toLowerCase());
  if (compute) return { project: compute[1]! };
  const appEngine = /^([a-z][a-z0-9-]{4,28}[a-z0-9])@appspot\.gserviceaccount\.com$/.exec(email.toLowerCase());
  if (appEngine) return { project: appEngine[1]! };
  if (/^(gcp-sa-[a-z0-9-]+\.iam|[a-z0-9-]+)\.gserviceaccount\.com$/.test(domain)) return { agent: domain };
  return { unknown: domain };
}

/** The fields of an asset's `resource.data` read here (a protobuf Struct as the client decodes it). */
interface StructFields {
  fields?: Record<string, { stringValue?: string | null; boolValue?: boolean | null } | undefined> | null;
}

interface ServiceAccount {
  email: string;
  displayName?: string;
  disabled: boolean;
  project?: string;
  /** The asset's ancestors (`projects/<number>`, `folders/…`, `organizations/…`): whether it is in the scopes. */
  ancestors: string[];
}

/** One read of a parent: what it lists, or why it could not be read (a lasting failure). */
type Read<T> = { found: T } | { unread: string };

export function createGcpPrincipals(settings: GcpInventorySettings, env: NodeJS.ProcessEnv = process.env) {
  const client = new AssetServiceClient(clientOptions(settings, env));
  const projects = createTtlCache<Read<Map<string, ServiceAccount>>>({ ttlMs: GCP_PRINCIPALS_TTL_MS });
  const organisations = createTtlCache<Read<string[]>>({ ttlMs: GCP_PRINCIPALS_TTL_MS });
  const organisationScopes = settings.scopes.filter((scope) => scope.startsWith('organizations/'));

  /** Every asset of one type under `parent` (all pages); a lasting failure as `unread`, others thrown. */
  async function list<T>(parent: string, assetType: string, into: (data: StructFields | undefined, name: string, ancestors: string[]) => T | undefined): Promise<Read<T[]>> {
    const found: T[] = [];
    try {
      const request = { parent, assetTypes: [assetType], contentType: 'RESOURCE' as const, pageSize: 1000 };
      for await (const asset of client.listAssetsAsync(request, { autoPaginate: false })) {
        const item = into(asset.resource?.data as StructFields | undefined, asset.name ?? '', asset.ancestors ?? []);
        if (item !== undefined) found.push(item);
      }
      return { found };
    } catch (error) {
      const lasting = lastingFailure(error);
      if (lasting) return { unread: `${parent}: ${lasting.words}` };
      throw error;
    }
  }

  const text = (data: StructFields | undefined, key: string) => data?.fields?.[key]?.stringValue ?? undefined;

  /** A project's service accounts by e-mail, read once per TTL however many alerts name them. */
  const serviceAccountsOf = (project: string) =>
    projects.get(project, async () => {
      const read = await list(`projects/${project}`, SERVICE_ACCOUNT_ASSET_TYPE, (data, name, ancestors): ServiceAccount | undefined => {
        const email = text(data, 'email')?.toLowerCase();
        if (!email) return undefined;
        const projectId = text(data, 'projectId') ?? /\/projects\/([^/]+)\//.exec(name)?.[1];
        const displayName = text(data, 'displayName');
        return { email, disabled: data?.fields?.disabled?.boolValue === true, ...(displayName ? { displayName } : {}), ...(projectId ? { project: projectId } : {}), ancestors };
      });
      return 'unread' in read ? read : { found: new Map(read.found.map((account) => [account.email, account])) };
    });

  // An organisation's display name is its primary domain.
  const domainsOf = (organisation: string) =>
    organisations.get(organisation, () => list(organisation, ORGANIZATION_ASSET_TYPE, (data) => text(data, 'displayName')?.toLowerCase()));

  /** Whether the configured scopes hold the account: a scope among its ancestors, or its own project. */
  const inScopes = ({ ancestors, project }: ServiceAccount) => settings.scopes.some((scope) => ancestors.includes(scope) || scope === `projects/${project}`);

  async function describeServiceAccount({ email, domain }: GcpPrincipalName): Promise<PrincipalFacts> {
    const external: PrincipalFacts = { kind: 'external', email, domain, account: 'service-account' };
    const home = serviceAccountHome(email);
    if ('agent' in home) return { kind: 'unread', reason: `a Google-managed service agent (${home.agent}): it lives in Google's projects, which no scope lists` };
    if ('unknown' in home) return { kind: 'unread', reason: `a service account whose e-mail (${home.unknown}) names no project Vigil can read` };
    const read = await serviceAccountsOf(home.project);
    if ('unread' in read) {
      // Vigil reads a project through the role granted on the configured scopes: a project it
      // cannot read lies outside them, unless it is itself a configured scope.
      return settings.scopes.includes(`projects/${home.project}`) ? { kind: 'unread', reason: `could not read ${read.unread}` } : external;
    }
    const account = read.found.get(email.toLowerCase());
    if (!account) return { kind: 'unread', reason: `no service account ${email} in project ${home.project} (deleted, or not listed by Cloud Asset yet)` };
    if (!inScopes(account)) return external;
    const { displayName, project, disabled } = account;
    return { kind: 'gcp-service-account', email: account.email, ...(displayName ? { displayName } : {}), disabled, ...(project ? { project } : {}) };
  }

  async function describeAccount({ email, domain }: GcpPrincipalName, reads: Read<string[]>[]): Promise<PrincipalFacts> {
    if (reads.some((read) => 'found' in read && read.found.includes(domain))) return { kind: 'organisation-account', email, domain };
    const unread = reads.flatMap((read) => ('unread' in read ? [read.unread] : []));
    if (organisationScopes.length === 0) return { kind: 'unread', reason: `domain ${domain}; the organisation's own domains are unknown (inventory.gcp.scopes names no organisation)` };
    if (unread.length > 0) return { kind: 'unread', reason: `domain ${domain}; the organisation's own domains are unknown (could not read ${unread.join('; ')})` };
    return { kind: 'external', email, domain, account: 'user' };
  }

  return {
    /** Each principal judged from its project (a service account) or the organisations' domains (an account). Transient failures throw. */
    async describe(principals: GcpPrincipalName[]): Promise<PrincipalFacts[]> {
      if (principals.length === 0) return [];
      if (settings.scopes.length === 0) return principals.map(() => ({ kind: 'unread', reason: 'inventory.gcp.scopes is empty' }));
      const domains = principals.some((principal) => !principal.serviceAccount) ? await Promise.all(organisationScopes.map(domainsOf)) : [];
      // At most one read per project (kept), and a few at a time: they share the inventory's quota.
      return mapConcurrent(principals, PROJECTS_AT_ONCE, (principal) => (principal.serviceAccount ? describeServiceAccount(principal) : describeAccount(principal, domains)));
    },
    close: () => client.close(),
  };
}

export type GcpPrincipals = ReturnType<typeof createGcpPrincipals>;
