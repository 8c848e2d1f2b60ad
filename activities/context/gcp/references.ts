// Which firewalls and instances an alert means, however it writes them. One rule reaches Vigil under
// several names: SCC puts its numeric id in a full resource name
// (`//compute.googleapis.com/projects/p/global/firewalls/43256709`), audit logs and the Cloud Asset
// API its name (`…/firewalls/default-allow-ssh`), the Compute API a self link
// (`https://www.googleapis.com/compute/v1/projects/p/global/firewalls/default-allow-ssh`), Prowler
// the bare id. Pure (no Cloud Asset client), so that every form is tested on its own.
import type { ResourceRef } from '../../../lib/alert';
import type { ProviderContext, PublicResource } from '../../../lib/context';
import type { ContextQuery } from '../types';
import { kindOfAlertType } from './resources';

export type GcpCollection = 'firewalls' | 'instances';

/** What a reference says: the project and zone when it names them, and a name or a numeric id. */
export interface GcpReference {
  collection: GcpCollection;
  /** Undefined: any project (the alert names none, or writes `projects/-`). */
  project?: string;
  /** Instances only. Undefined: any zone (none named, or `zones/-`). */
  zone?: string;
  /** The last segment: a name (`default-allow-ssh`) or a numeric id (`43256709`). */
  key: string;
}

/** A full resource name's service, or a self link's API root (any version). */
const PREFIX = /^(?:\/\/compute\.googleapis\.com\/|https:\/\/(?:www|compute)\.googleapis\.com\/compute\/(?:v1|beta|alpha)\/)/;

/**
 * The path of each collection, the project optional: the Compute API also takes partial URLs
 * (`global/firewalls/x`, `zones/z/instances/x`) that leave the project to the caller.
 */
const PATHS: Record<GcpCollection, RegExp> = {
  firewalls: /^(?:projects\/([^/]+)\/)?global\/firewalls\/([^/]+)$/,
  instances: /^(?:projects\/([^/]+)\/)?zones\/([^/]+)\/instances\/([^/]+)$/,
};

/** `-` is how Google writes "unknown" in a path (audit logs without a project). */
const known = (part: string | undefined) => (part === undefined || part === '-' ? undefined : part);

/**
 * `id` as a reference to one of `collection`: a bare name or numeric id, a path, a partial URL, a
 * full resource name or a self link. The alert's `account` stands for a project the reference does
 * not name. Undefined when it is none of these (another collection's path): it then names nothing.
 */
export function parseGcpReference(id: string, collection: GcpCollection, account?: string): GcpReference | undefined {
  const path = id.trim().replace(PREFIX, '');
  if (path === '') return undefined;
  if (!path.includes('/')) return { collection, ...(account ? { project: account } : {}), key: path };
  const match = PATHS[collection].exec(path);
  if (!match) return undefined;
  const project = known(match[1]) ?? account;
  const zone = collection === 'instances' ? known(match[2]) : undefined;
  return { collection, ...(project ? { project } : {}), ...(zone ? { zone } : {}), key: match.at(-1)! };
}

/**
 * Whether `reference` names the firewall or instance whose path is `id`
 * (`projects/p/global/firewalls/n`, `projects/p/zones/z/instances/n`) and whose other ids are
 * `aliases` (its numeric id). The key is matched against both the name and the numeric id: a
 * digits-only key is most likely an id, but a name may be all digits too, and either way it is
 * the one resource the inventory knows by it.
 */
export function refersTo(reference: GcpReference, id: string, aliases: readonly string[] = []): boolean {
  const match = PATHS[reference.collection].exec(id);
  if (!match?.[1]) return false;
  const project = match[1];
  const zone = reference.collection === 'instances' ? match[2] : undefined;
  const name = match.at(-1)!;
  return (
    (reference.project === undefined || reference.project === project) &&
    (reference.zone === undefined || reference.zone === zone) &&
    (reference.key === name || aliases.includes(reference.key))
  );
}

/**
 * A full resource name (`//storage.googleapis.com/b`, `//sqladmin.googleapis.com/projects/p/…`), a
 * REST self link of any API and version, or a `gs://` URL, without that prefix.
 */
const RESOURCE_PREFIX = /^(?:\/\/[a-z0-9-]+\.googleapis\.com\/|https:\/\/[a-z0-9-]+\.googleapis\.com\/(?:[a-z0-9]+\/)?(?:v\d+\w*|beta|alpha)\/|gs:\/\/)/;

/**
 * Whether `id`, as an alert writes it, names `resource` (a bucket, Cloud SQL instance, forwarding
 * rule, image, snapshot, service or function): a bare name, numeric id or connection name
 * (`p:i`), else a path, full resource name or self link whose last segment is its name or one of
 * its ids and whose other segments are its own (`-` standing for any, as in audit logs). The
 * service host is ignored: Cloud SQL is `cloudsql.` in the Cloud Asset API and `sqladmin.` elsewhere.
 */
export function refersToResource(id: string, resource: PublicResource, account?: string): boolean {
  const path = id.trim().replace(RESOURCE_PREFIX, '').replace(/\/$/, '');
  if (path === '') return false;
  const aliases = resource.aliases ?? [];
  const keys = [resource.id, ...(resource.name ? [resource.name] : []), ...aliases].filter((key) => !key.includes('/'));
  if (!path.includes('/')) return keys.includes(path) && (account === undefined || resource.account === undefined || resource.account === account || path.includes(':'));
  const segments = path.split('/');
  return [resource.id, ...aliases]
    .filter((candidate) => candidate.includes('/'))
    .map((candidate) => candidate.replace(RESOURCE_PREFIX, '').split('/'))
    .some(
      (own) =>
        own.length === segments.length &&
        segments.every((segment, index) => (index === own.length - 1 ? segment === own[index] || keys.includes(segment) : segment === own[index] || segment === '-')),
    );
}

const referencesOf = (resources: readonly ResourceRef[], type: string, collection: GcpCollection, account: string | undefined) =>
  resources.filter((ref) => ref.type === type).map((ref) => parseGcpReference(ref.id, collection, account));

/**
 * The part of `context` the query is about. Firewall references keep those firewalls and what they
 * expose; instance references and addresses keep those instances and every rule exposing them.
 * A query naming neither (a project finding) keeps everything read. A reference that cannot be
 * read as a firewall or an instance still narrows: it keeps nothing rather than everything.
 */
export function narrowToQuery(context: ProviderContext, query: ContextQuery): ProviderContext {
  const firewalls = referencesOf(query.resources, 'gcp:compute:firewall', 'firewalls', query.account);
  const instanceRefs = referencesOf(query.resources, 'gcp:compute:instance', 'instances', query.account);
  const byFirewall = firewalls.length > 0;
  const byInstance = instanceRefs.length > 0 || query.addresses.length > 0;
  // A reference to a bucket, database, load balancer, image, snapshot or entry point keeps that
  // resource (by its canonical type or any other type a source names it by), and no machines
  // unless the query names those too.
  const resourceRefs = query.resources.flatMap((ref) => {
    const kind = kindOfAlertType(ref.type);
    return kind ? [{ ...ref, type: kind.type }] : [];
  });
  const byResource = resourceRefs.length > 0;
  const resources = (context.resources ?? []).filter((resource) =>
    resourceRefs.some((ref) => ref.type === resource.type && [ref.id, ref.name].some((id) => id !== undefined && refersToResource(id, resource, query.account))),
  );
  if (!byFirewall && !byInstance) return byResource ? { instances: [], rules: [], exposures: [], resources, problems: context.problems } : context;

  const named = (references: (GcpReference | undefined)[], id: string, aliases: readonly string[] | undefined) =>
    references.some((reference) => reference !== undefined && refersTo(reference, id, aliases));
  const rules = new Set(context.rules.filter((rule) => !byFirewall || named(firewalls, rule.id, rule.aliases)).map((rule) => rule.id));
  const selected = new Set(
    context.instances
      .filter(
        (instance) =>
          !byInstance ||
          named(instanceRefs, instance.id, instance.aliases) ||
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
    ...(context.resources ? { resources } : {}),
    problems: context.problems,
  };
}
