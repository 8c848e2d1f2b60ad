// Reading a Cloud Audit Log entry: what the adapter (./index.ts) and the rules (./rules) need.
// A Cloud Logging `LogEntry` whose `protoPayload` is an `AuditLog`: who (`authenticationInfo`),
// from where (`requestMetadata`), what (`serviceName`, `methodName`, `resourceName`, `request`,
// `response`), whether it worked (`status`), and for IAM policy changes the delta the service
// computed (`serviceData.policyDelta`, in newer entries `metadata`).
import type { Actors, ResourceRef } from '../../../lib/alert';
import { unwrapPubSub } from '../pubsub';
import { asArray, ipOrUndefined, isRecord, numeric, sha256, str, uniq } from '../util';

/** One Cloud Audit Log entry (a LogEntry with an AuditLog protoPayload). */
export type AuditEntry = Record<string, unknown>;
type Fields = Record<string, unknown>;

export const AUDIT_LOG_TYPE = 'type.googleapis.com/google.cloud.audit.AuditLog';

export const record = (value: unknown): Fields => (isRecord(value) ? value : {});

/** An RFC 3339 timestamp, or undefined (a number or a word is no time). */
export const timestamp = (value: unknown): string | undefined =>
  typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? value : undefined;

export function isAuditLogEntry(value: unknown): value is AuditEntry {
  return isRecord(value) && record(value.protoPayload)['@type'] === AUDIT_LOG_TYPE;
}

/** The audit log entries of the payload (bare, listed or in a push envelope), or undefined. */
export function auditEntries(payload: unknown): AuditEntry[] | undefined {
  const body = unwrapPubSub(payload);
  if (isAuditLogEntry(body)) return [body];
  if (Array.isArray(body) && body.length > 0 && body.every(isAuditLogEntry)) return body;
  return undefined;
}

export const auditOf = (entry: AuditEntry): Fields => record(entry.protoPayload);
export const requestOf = (entry: AuditEntry): Fields => record(auditOf(entry).request);
export const responseOf = (entry: AuditEntry): Fields => record(auditOf(entry).response);
export const methodOf = (entry: AuditEntry): string | undefined => str(auditOf(entry).methodName);
export const serviceOf = (entry: AuditEntry): string | undefined => str(auditOf(entry).serviceName);
export const resourceNameOf = (entry: AuditEntry): string | undefined => str(auditOf(entry).resourceName);
export const principalOf = (entry: AuditEntry): string | undefined => str(record(auditOf(entry).authenticationInfo).principalEmail);
/** The caller's address as logged: an IP, or `gce-internal-ip` / `private` for calls from inside Google. */
export const callerIpOf = (entry: AuditEntry): string | undefined => str(record(auditOf(entry).requestMetadata).callerIp);

/** `…Service.DeleteSink` → `DeleteSink`; `v1.compute.firewalls.insert` stays whole. */
export const shortMethod = (method: string): string => (/^google\./.test(method) ? method.slice(method.lastIndexOf('.') + 1) : method);

export const projectIn = (name: string | undefined): string | undefined =>
  name ? /(?:^|\/)projects\/([^/]+)/.exec(name)?.[1] : undefined;

/**
 * The project the entry is about: the monitored resource's label, else the project its resource or
 * log is named under. `_` (buckets) and `-` (service accounts) stand for "any project" and are not one.
 */
export function projectOf(entry: AuditEntry): string | undefined {
  // `_` and `-` stand for "any project" in resource names: the log name then says which.
  const named = [projectIn(resourceNameOf(entry)), projectIn(str(entry.logName))].find((project) => project !== undefined && project !== '_' && project !== '-');
  return str(record(record(entry.resource).labels).project_id) ?? named;
}

/** `gcp:<project>:<id>`: the identity of a thing in a project, so that its repeats collapse. */
export function thingFingerprint(entry: AuditEntry, id: string): string {
  return `gcp:${projectOf(entry) ?? 'unknown-project'}:${id}`;
}

/** One entry's own identity, for an alert about the event rather than a thing: insertId, or a hash. */
export function entryFingerprint(entry: AuditEntry): string {
  const insertId = str(entry.insertId);
  return insertId ? thingFingerprint(entry, `entry/${insertId}`) : `gcp:entry:sha256:${sha256(JSON.stringify(entry) ?? '')}`;
}

export function actorsOf(entry: AuditEntry): Actors {
  return {
    // callerIp is also "gce-internal-ip" or "private" at times: only addresses are actors.
    ips: uniq([ipOrUndefined(callerIpOf(entry))]),
    domains: [],
    principals: uniq([principalOf(entry)]),
    userAgents: uniq([str(record(auditOf(entry).requestMetadata).callerSuppliedUserAgent)]),
  };
}

// --- Whether the call worked ---------------------------------------------------------------------

/** google.rpc.Code names, for the status of a failed call. */
const statusNames: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

export interface Failure {
  /** The google.rpc code, or undefined when the status has a code that is not a number. */
  code?: number;
  /** The code's name (`PERMISSION_DENIED`), `code <n>` for one google.rpc does not name, or `unreadable status code`. */
  name: string;
  message?: string;
}

/**
 * How the call failed (`protoPayload.status`), or undefined when it worked: no status, `{}` or code
 * 0. A code that is not a number cannot say the call worked, so it is a failure of unknown kind (the
 * firewall rules always read it so: such an entry opens nothing).
 */
export function failureOf(entry: AuditEntry): Failure | undefined {
  const status = record(auditOf(entry).status);
  const code = numeric(status.code ?? 0);
  if (code === 0) return undefined;
  const message = str(status.message);
  const name = code === undefined ? 'unreadable status code' : (statusNames[code] ?? `code ${code}`);
  return { ...(code === undefined ? {} : { code }), name, ...(message ? { message } : {}) };
}

export const succeeded = (entry: AuditEntry): boolean => failureOf(entry) === undefined;

// --- Resources -----------------------------------------------------------------------------------

const singular = (collection: string): string => collection.replace(/ies$/, 'y').replace(/s$/, '');
const kebabCase = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/**
 * The resource an entry names, as a ResourceRef with the full resource name as id
 * (`//storage.googleapis.com/projects/_/buckets/b`) and the type read from it the way the SCC source
 * reads one (`gcp:storage:bucket`, `gcp:iam:service-account`, `gcp:project`).
 */
export function resourceRef(service: string | undefined, resourceName: string): ResourceRef {
  const relative = resourceName.replace(/^\/\/[^/]+\//, '');
  const host = /^\/\/([^/]+)\//.exec(resourceName)?.[1] ?? service ?? 'unknown.googleapis.com';
  const segments = relative.split('/');
  const api = host.replace(/\.googleapis\.com$/, '');
  const type =
    api === 'cloudresourcemanager' && segments.length === 2
      ? `gcp:${singular(segments[0]!)}`
      : `gcp:${api}:${segments.length >= 2 ? kebabCase(singular(segments[segments.length - 2]!)) : 'resource'}`;
  const name = segments.length >= 2 ? segments[segments.length - 1] : undefined;
  return { type, id: `//${host}/${relative}`, ...(name && name !== relative ? { name } : {}) };
}

// --- IAM policy changes --------------------------------------------------------------------------

export interface BindingChange {
  /** ADD or REMOVE from a delta; SET when the entry only shows the new policy, so what changed is unknown. */
  action: 'ADD' | 'REMOVE' | 'SET';
  role: string;
  member: string;
}

/** Where services write the policy delta: `serviceData` (older, most services) or `metadata` (newer). */
function policyDeltas(entry: AuditEntry): Fields[] {
  const audit = auditOf(entry);
  return [record(record(audit.serviceData).policyDelta), record(record(audit.metadata).policyDelta)];
}

/**
 * The role bindings an IAM policy change added or removed: the delta the service logged (in
 * `serviceData.policyDelta`, `metadata.policyDelta`, or BigQuery's `metadata.datasetChange`), else
 * the bindings of the new policy in the request (`request.policy.bindings`), marked SET.
 */
export function bindingChanges(entry: AuditEntry): BindingChange[] {
  const audit = auditOf(entry);
  const deltas = [
    ...policyDeltas(entry).flatMap((delta) => asArray(delta.bindingDeltas)),
    ...asArray(record(record(audit.metadata).datasetChange).bindingDeltas),
  ].map(record);
  const changes = deltas.flatMap((delta): BindingChange[] => {
    const action = str(delta.action)?.toUpperCase();
    const role = str(delta.role);
    const member = str(delta.member);
    return (action === 'ADD' || action === 'REMOVE') && role && member ? [{ action, role, member }] : [];
  });
  // A delta that lists no binding says the bindings did not change, whatever the request restates.
  if (deltas.length > 0 || hasPolicyDelta(entry)) return changes;
  return asArray(record(requestOf(entry).policy).bindings)
    .map(record)
    .flatMap((binding) => {
      const role = str(binding.role);
      return role ? asArray(binding.members).flatMap((member) => (str(member) ? [{ action: 'SET' as const, role, member: str(member)! }] : [])) : [];
    });
}

export interface AuditConfigChange {
  action: 'ADD' | 'REMOVE';
  service: string;
  /** ADMIN_READ, DATA_READ or DATA_WRITE. */
  logType?: string;
  /** A member exempted from (ADD), or no longer exempted from (REMOVE), that log type. */
  exemptedMember?: string;
}

/** The audit logging changes an IAM policy change made (`policyDelta.auditConfigDeltas`). */
export function auditConfigChanges(entry: AuditEntry): AuditConfigChange[] {
  return policyDeltas(entry)
    .flatMap((delta) => asArray(delta.auditConfigDeltas))
    .map(record)
    .flatMap((delta): AuditConfigChange[] => {
      const action = str(delta.action)?.toUpperCase();
      const service = str(delta.service);
      if ((action !== 'ADD' && action !== 'REMOVE') || !service) return [];
      const logType = str(delta.logType);
      const exemptedMember = str(delta.exemptedMember);
      return [{ action, service, ...(logType ? { logType } : {}), ...(exemptedMember ? { exemptedMember } : {}) }];
    });
}

/** Whether the entry carries a policy delta at all (then a change it does not list did not happen). */
export function hasPolicyDelta(entry: AuditEntry): boolean {
  return policyDeltas(entry).some((delta) => Object.keys(delta).length > 0) || isRecord(record(auditOf(entry).metadata).datasetChange);
}

/**
 * Whether an IAM policy request sets audit logging: its update mask names `auditConfigs`, or, with
 * no mask (which replaces the whole policy), its policy has some.
 */
export function requestSetsAuditConfigs(entry: AuditEntry): boolean {
  const request = requestOf(entry);
  const mask = str(request.updateMask);
  if (mask !== undefined) return /\bauditConfigs\b|\baudit_configs\b/.test(mask);
  return asArray(record(request.policy).auditConfigs).length > 0;
}
