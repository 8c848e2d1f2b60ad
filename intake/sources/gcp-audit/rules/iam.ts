// IAM rules: role bindings granted to everyone, to owners and editors, or to members outside the
// caller's domain, on any resource with an IAM policy (project, bucket, service account, dataset…).
// Granted to everyone on a resource of the public-resource classes, it is an exposure of it.
// They read the delta the service logged, not the method name: Cloud Storage logs
// `storage.setIamPermissions`, Resource Manager `SetIamPolicy`, IAM `google.iam.admin.v1.SetIAMPolicy`.
import type { ResourceRef } from '../../../../lib/alert';
import type { RuleMatch } from '../../rules';
import { str, uniq } from '../../util';
import { publicGcpResource } from '../../public-resources';
import {
  bindingChanges,
  principalOf,
  record,
  resourceNameOf,
  resourceRef,
  serviceOf,
  succeeded,
  thingFingerprint,
  type AuditEntry,
  type BindingChange,
} from '../entry';
import { short, type GcpAuditRule } from './common';

const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);
const BASIC_ROLES = new Set(['roles/owner', 'roles/editor']);

/** The domain of a `user:`, `group:` or `domain:` member (lower case), or undefined for other members. */
function memberDomain(member: string): string | undefined {
  const parsed = /^(user|group|domain):([^?]+)/.exec(member);
  if (!parsed) return undefined;
  const value = parsed[2]!.trim().toLowerCase();
  return parsed[1] === 'domain' ? value : value.includes('@') ? value.slice(value.lastIndexOf('@') + 1) : undefined;
}

/**
 * The caller's domain, taken as the organisation's: Vigil is not told the organisation's domains.
 * A service account's domain (`….gserviceaccount.com`) says nothing of them, so it gives none.
 */
function callerDomain(entry: AuditEntry): string | undefined {
  const email = principalOf(entry)?.toLowerCase();
  const domain = email?.includes('@') ? email.slice(email.lastIndexOf('@') + 1) : undefined;
  return domain && !domain.endsWith('gserviceaccount.com') ? domain : undefined;
}

/** The same domain, or one a subdomain of the other (`eng.example.com` and `example.com`). */
const sameOrganisation = (a: string, b: string) => a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);

/** Google's own service agents, which Google grants roles to as APIs are enabled. */
const isServiceAgent = (member: string) =>
  /^serviceAccount:(?:\d+@cloudservices\.gserviceaccount\.com|service-\d+@[^@]+\.gserviceaccount\.com)$/.test(member);

const changeText = ({ action, role, member }: BindingChange) => `${action} ${role} → ${member}`;

/** `bucket jacks-test-bucket`, `project vigil-prod`, `service account 1234…`. */
function label(ref: ResourceRef): string {
  const kind = ref.type.slice(ref.type.lastIndexOf(':') + 1).replaceAll('-', ' ');
  return `${kind} ${short(ref.name ?? ref.id)}`;
}

/**
 * A match for the changes a rule picked out of an entry: the resource, what changed (every change of
 * the entry is listed), and a fingerprint per resource, role and member, so a repeated grant collapses.
 */
function grantMatch(entry: AuditEntry, picked: BindingChange[], what: string): RuleMatch | undefined {
  if (picked.length === 0) return undefined;
  const resourceName = resourceNameOf(entry);
  const resource = resourceName ? resourceRef(serviceOf(entry), resourceName) : undefined;
  const first = picked[0]!;
  const more = picked.length > 1 ? ` and ${picked.length - 1} more` : '';
  const keys = uniq(picked.map(({ role, member }) => `${role}/${member}`)).sort();
  const all = bindingChanges(entry);
  const inferred = all.some((change) => change.action === 'SET');
  return {
    title: `GCP ${resource ? label(resource) : 'resource'}: ${short(first.role)} granted to ${short(first.member)}${more} (${what})`,
    resources: resource ? [resource] : [],
    fingerprint: thingFingerprint(entry, `iam/${resourceName ?? 'unknown-resource'}/${keys.join(',')}`),
    // One block, so the changes read as a list in the description.
    details: [
      [
        inferred
          ? 'The entry carries no policy delta: these bindings are in the new policy, whether or not they were before:'
          : 'Policy delta (ADD / REMOVE role → member):',
        ...all.slice(0, 20).map((change) => `  ${changeText(change)}`),
        ...(all.length > 20 ? [`  … and ${all.length - 20} more`] : []),
      ].join('\n'),
    ],
  };
}

/** The bindings an entry added: ADD in a delta; without a delta, what the new policy has (SET). */
function added(entry: AuditEntry): BindingChange[] {
  return succeeded(entry) ? bindingChanges(entry).filter((change) => change.action !== 'REMOVE') : [];
}

const publicGrants = (entry: AuditEntry) => added(entry).filter((change) => PUBLIC_MEMBERS.has(change.member));

/**
 * The entry's resource when it is one the inventory reads and the exposure checks prove (a bucket,
 * disk image or snapshot, Cloud Run service, Cloud Function), named as the readers match it.
 */
function publicResourceOf(entry: AuditEntry): ResourceRef | undefined {
  const name = resourceNameOf(entry);
  // Cloud Run's v1 API names a service `namespaces/<project>/services/<name>`; the readers know it by
  // its full name with the location, which the entry's resource labels give.
  const location = str(record(record(entry.resource).labels).location);
  const v1 = /^namespaces\/([^/]+)\/services\/([^/]+)$/.exec(name ?? '');
  const full = v1 && location ? `projects/${v1[1]}/locations/${location}/services/${v1[2]}` : name;
  return full ? publicGcpResource(full, serviceOf(entry)) : undefined;
}

const publicAccessGranted: GcpAuditRule = {
  id: 'public-access-granted',
  description: 'A role granted to allUsers or allAuthenticatedUsers on a bucket, disk image or snapshot, Cloud Run service or Cloud Function: the resource is public',
  kind: 'exposure',
  severity: 'high',
  match(entry) {
    const resource = publicResourceOf(entry);
    const match = resource ? grantMatch(entry, publicGrants(entry), 'public') : undefined;
    // One exposure per resource, whichever public member and role made it so.
    return match && resource ? { ...match, resources: [resource], fingerprint: thingFingerprint(entry, `public/${resource.type}/${resource.id}`) } : undefined;
  },
};

const publicMemberGranted: GcpAuditRule = {
  id: 'iam-public-member-granted',
  description:
    'A role granted to allUsers (anyone on the internet) or allAuthenticatedUsers (any Google account) on a project, dataset or other resource public-access-granted does not cover',
  kind: 'resource',
  severity: 'high',
  match: (entry) => (publicResourceOf(entry) ? undefined : grantMatch(entry, publicGrants(entry), 'public')),
};

const ownerOrEditorGranted: GcpAuditRule = {
  id: 'iam-owner-or-editor-granted',
  description: "roles/owner or roles/editor granted (the basic roles that can change almost everything); Google's own service agents excepted",
  kind: 'resource',
  severity: 'high',
  match(entry) {
    // Without a delta every owner of the new policy would look granted, so only a delta counts here.
    const picked = added(entry).filter((change) => change.action === 'ADD' && BASIC_ROLES.has(change.role) && !isServiceAgent(change.member));
    return grantMatch(entry, picked, 'basic role');
  },
};

const externalMemberGranted: GcpAuditRule = {
  id: 'iam-external-member-granted',
  description:
    "A role granted to a user:, group: or domain: member outside the caller's domain (heuristic: Vigil does not know the organisation's domains)",
  kind: 'resource',
  severity: 'medium',
  match(entry) {
    const own = callerDomain(entry);
    if (!own) return undefined;
    const picked = added(entry).filter((change) => {
      const domain = memberDomain(change.member);
      return change.action === 'ADD' && domain !== undefined && !sameOrganisation(domain, own);
    });
    return grantMatch(entry, picked, `outside ${own}`);
  },
};

export const iamRules: readonly GcpAuditRule[] = [publicAccessGranted, publicMemberGranted, ownerOrEditorGranted, externalMemberGranted];
