// Logging rules: log sinks, exclusions, log buckets and audit log configuration changed in ways that
// hide what follows, and failed attempts at it (someone tried, and was refused).
import type { ResourceRef } from '../../../../lib/alert';
import type { RuleMatch } from '../../rules';
import { asArray, str, uniq } from '../../util';
import {
  auditConfigChanges,
  failureOf,
  hasPolicyDelta,
  methodOf,
  record,
  requestOf,
  requestSetsAuditConfigs,
  resourceNameOf,
  resourceRef,
  serviceOf,
  succeeded,
  thingFingerprint,
  type AuditConfigChange,
  type AuditEntry,
} from '../entry';
import { short, type GcpAuditRule } from './common';

const CONFIG_SERVICE = /^google\.logging\.v2\.ConfigServiceV2\.([A-Za-z]+)$/;

/** `DeleteSink` for `google.logging.v2.ConfigServiceV2.DeleteSink`, else undefined. */
const configMethod = (entry: AuditEntry): string | undefined => CONFIG_SERVICE.exec(methodOf(entry) ?? '')?.[1];

/** The thing a logging change is about, shared by the rule of the change and the rule of its failure. */
interface Target {
  /** `log sink audit-export`, `audit logging of project vigil-prod`. */
  label: string;
  resources: ResourceRef[];
  fingerprint: string;
}

/**
 * A sink, exclusion or log bucket by its relative name (`projects/P/sinks/NAME`): from the request
 * (`sinkName`, `name`, or `parent` plus the new object's name), else the entry's resourceName.
 */
function configTarget(entry: AuditEntry, kind: 'sink' | 'exclusion' | 'bucket'): Target {
  const request = requestOf(entry);
  const created = record(request[kind]);
  const parent = str(request.parent);
  const named =
    str(request.sinkName) ??
    str(request.name) ??
    (parent && str(created.name) ? `${parent}/${kind === 'bucket' ? 'buckets' : `${kind}s`}/${str(created.name)}` : undefined);
  const relative = named ?? resourceNameOf(entry);
  const words = { sink: 'log sink', exclusion: 'log exclusion', bucket: 'log bucket' }[kind];
  if (!relative) return { label: `${words} (name not recorded)`, resources: [], fingerprint: thingFingerprint(entry, `logging/${kind}/unknown`) };
  const ref = resourceRef('logging.googleapis.com', relative);
  return { label: `${words} ${short(ref.name ?? relative)}`, resources: [ref], fingerprint: thingFingerprint(entry, `logging/${relative}`) };
}

/** The audit logging configuration of the resource whose IAM policy was set (a project, folder, organisation). */
function auditConfigTarget(entry: AuditEntry): Target {
  const resourceName = resourceNameOf(entry);
  const ref = resourceName ? resourceRef(serviceOf(entry), resourceName) : undefined;
  return {
    label: `audit logging of ${ref ? `${ref.type.slice(ref.type.lastIndexOf(':') + 1)} ${short(ref.name ?? ref.id)}` : 'an unnamed resource'}`,
    resources: ref ? [ref] : [],
    fingerprint: thingFingerprint(entry, `audit-config/${resourceName ?? 'unknown-resource'}`),
  };
}

/** What a sink request sets: the fields named in its update mask, and the new destination, filter and exclusions. */
function sinkDetails(entry: AuditEntry): string[] {
  const request = requestOf(entry);
  const sink = record(request.sink);
  const exclusions = uniq(asArray(sink.exclusions).map((exclusion) => str(record(exclusion).name) ?? str(record(exclusion).filter)));
  return [
    str(request.updateMask) && `Fields changed: ${str(request.updateMask)}`,
    str(sink.destination) && `Destination: ${str(sink.destination)}`,
    str(sink.filter) && `Filter: ${str(sink.filter)}`,
    exclusions.length > 0 && `Exclusions: ${exclusions.join(', ')}`,
    sink.disabled === true && 'Disabled: true (the sink exports nothing)',
  ].filter((line): line is string => typeof line === 'string');
}

const matchOf = (target: Target, title: string, details: string[] = []): RuleMatch => ({
  title,
  resources: target.resources,
  fingerprint: target.fingerprint,
  ...(details.length > 0 ? { details } : {}),
});

/** An UpdateSink that sets `disabled: true` (with a mask, only when the mask names it). */
function disablesSink(entry: AuditEntry): boolean {
  const request = requestOf(entry);
  const mask = str(request.updateMask);
  return record(request.sink).disabled === true && (mask === undefined || /\bdisabled\b/.test(mask));
}

const sinkDeleted: GcpAuditRule = {
  id: 'logging-sink-deleted',
  description: 'DeleteSink: a log sink stops exporting logs (to a SIEM, a bucket, BigQuery or Pub/Sub)',
  kind: 'resource',
  severity: 'high',
  match(entry) {
    if (configMethod(entry) !== 'DeleteSink' || !succeeded(entry)) return undefined;
    const target = configTarget(entry, 'sink');
    return matchOf(target, `GCP ${target.label} deleted`);
  },
};

const sinkDisabled: GcpAuditRule = {
  id: 'logging-sink-disabled',
  description: 'UpdateSink that sets disabled to true: a log sink stops exporting logs',
  kind: 'resource',
  severity: 'high',
  match(entry) {
    if (configMethod(entry) !== 'UpdateSink' || !succeeded(entry) || !disablesSink(entry)) return undefined;
    const target = configTarget(entry, 'sink');
    return matchOf(target, `GCP ${target.label} disabled`, sinkDetails(entry));
  },
};

const sinkChanged: GcpAuditRule = {
  id: 'logging-sink-changed',
  description: 'CreateSink or UpdateSink: what a log sink exports (filter, exclusions) or where it sends logs changed',
  kind: 'resource',
  severity: 'medium',
  match(entry) {
    const method = configMethod(entry);
    if ((method !== 'CreateSink' && method !== 'UpdateSink') || !succeeded(entry)) return undefined;
    const target = configTarget(entry, 'sink');
    return matchOf(target, `GCP ${target.label} ${method === 'CreateSink' ? 'created' : 'changed'}`, sinkDetails(entry));
  },
};

const exclusionChanged: GcpAuditRule = {
  id: 'logging-exclusion-changed',
  description: 'CreateExclusion or UpdateExclusion: logs matching a filter are dropped before they are stored',
  kind: 'resource',
  severity: 'medium',
  match(entry) {
    const method = configMethod(entry);
    if ((method !== 'CreateExclusion' && method !== 'UpdateExclusion') || !succeeded(entry)) return undefined;
    const target = configTarget(entry, 'exclusion');
    const exclusion = record(requestOf(entry).exclusion);
    const details = [str(exclusion.filter) && `Filter: ${str(exclusion.filter)}`, exclusion.disabled === true && 'Disabled: true'];
    return matchOf(
      target,
      `GCP ${target.label} ${method === 'CreateExclusion' ? 'created' : 'changed'}`,
      details.filter((line): line is string => typeof line === 'string'),
    );
  },
};

const logBucketDeleted: GcpAuditRule = {
  id: 'logging-bucket-deleted',
  description: 'DeleteBucket: a log bucket and the logs it keeps are deleted',
  kind: 'resource',
  severity: 'high',
  match(entry) {
    if (configMethod(entry) !== 'DeleteBucket' || !succeeded(entry)) return undefined;
    const target = configTarget(entry, 'bucket');
    return matchOf(target, `GCP ${target.label} deleted`);
  },
};

/** A change that logs less: a log type removed, or a member exempted from one. */
const reduces = (change: AuditConfigChange) =>
  (change.action === 'REMOVE' && change.exemptedMember === undefined) || (change.action === 'ADD' && change.exemptedMember !== undefined);

function auditChangeText({ action, service, logType, exemptedMember }: AuditConfigChange): string {
  const type = logType ?? 'every log type';
  if (exemptedMember) return `${action === 'ADD' ? 'exempted' : 'no longer exempted'}: ${exemptedMember} from ${type} of ${service}`;
  return `${action === 'ADD' ? 'enabled' : 'disabled'}: ${type} of ${service}`;
}

const auditLoggingReduced: GcpAuditRule = {
  id: 'audit-logging-reduced',
  description:
    'An IAM policy change that removes Data Access audit log types or exempts members (auditConfigDeltas); without a delta, one that replaces auditConfigs',
  kind: 'resource',
  severity: 'medium',
  match(entry) {
    if (!succeeded(entry)) return undefined;
    const changes = auditConfigChanges(entry);
    const target = auditConfigTarget(entry);
    if (changes.some(reduces)) {
      const reduced = changes.filter(reduces);
      return matchOf(
        target,
        `GCP ${target.label} reduced: ${short(auditChangeText(reduced[0]!))}${reduced.length > 1 ? ` and ${reduced.length - 1} more` : ''}`,
        [['Audit log configuration delta:', ...changes.map((change) => `  ${auditChangeText(change)}`)].join('\n')],
      );
    }
    // An entry with a delta that shows no reduction changed nothing that hides activity.
    if (changes.length > 0 || hasPolicyDelta(entry) || !requestSetsAuditConfigs(entry)) return undefined;
    const services = uniq(asArray(record(requestOf(entry).policy).auditConfigs).map((config) => str(record(config).service)));
    return matchOf(target, `GCP ${target.label} replaced`, [
      'The entry carries no policy delta, so what the new audit log configuration removed is not recorded.',
      `Services configured now: ${services.join(', ') || 'none'}`,
    ]);
  },
};

/** The methods whose failure is a failed attempt at hiding activity, with the thing each is about. */
function attempted(entry: AuditEntry): Target | undefined {
  switch (configMethod(entry)) {
    case 'DeleteSink':
    case 'UpdateSink':
      return configTarget(entry, 'sink');
    case 'CreateExclusion':
    case 'UpdateExclusion':
      return configTarget(entry, 'exclusion');
    case 'DeleteBucket':
      return configTarget(entry, 'bucket');
    default:
      return requestSetsAuditConfigs(entry) ? auditConfigTarget(entry) : undefined;
  }
}

const changeFailed: GcpAuditRule = {
  id: 'logging-change-failed',
  description:
    'A failed DeleteSink, UpdateSink, CreateExclusion, UpdateExclusion, DeleteBucket or audit-config SetIamPolicy: someone tried to reduce logging and was refused',
  kind: 'resource',
  severity: 'low',
  match(entry) {
    const failure = failureOf(entry);
    const target = failure ? attempted(entry) : undefined;
    if (!failure || !target) return undefined;
    const method = configMethod(entry) ?? methodOf(entry) ?? 'unknown method';
    // The description's Status line says why it failed, in the service's words.
    return matchOf(target, `Failed attempt: ${short(method)} on GCP ${target.label} (${failure.name})`);
  },
};

export const loggingRules: readonly GcpAuditRule[] = [
  sinkDeleted,
  sinkDisabled,
  logBucketDeleted,
  sinkChanged,
  exclusionChanged,
  auditLoggingReduced,
  changeFailed,
];
