// The GCP audit source: Cloud Audit Log entries, from a log sink's Pub/Sub push (base64 `data` is one
// LogEntry) or bare (one LogEntry, or a list of them, as `gcloud logging read --format=json` prints).
// Each entry is judged by the built-in rules (./rules): firewall rules opened to the internet, IAM
// grants to everyone, to owners or outside the caller's domain, service-account keys, log sinks and
// audit logging switched off or narrowed, and failed attempts at that; and by the configured Sigma
// rules (../sigma.ts). An entry no rule matches is archived with its body and counted, but is no
// alert: a sink sends every kind of audit entry.
import type { ParsedAlert } from '../../../lib/alert';
import type { SigmaRule } from '../../sigma';
import { isPubSubPushEnvelope } from '../pubsub';
import { alsoMatchedLines, enabledRules, ruleLine } from '../rules';
import { judgedDetections, judgedSeverity, judgeEvent, sigmaFingerprint, sigmaLines, type Judgement } from '../sigma';
import { UnrecognizedPayloadError, type ParseTally, type SourceAdapter } from '../types';
import { str } from '../util';
import {
  actorsOf,
  AUDIT_LOG_TYPE,
  auditEntries,
  callerIpOf,
  entryFingerprint,
  failureOf,
  methodOf,
  principalOf,
  projectOf,
  record,
  resourceNameOf,
  resourceRef,
  serviceOf,
  shortMethod,
  thingFingerprint,
  timestamp,
  type AuditEntry,
} from './entry';
import { gcpAuditRules, type GcpAuditRule } from './rules';

export { gcpAuditRules, type AuditEntry, type GcpAuditRule };

export interface GcpAuditSourceOptions {
  /** Ids of built-in rules to switch off (see `gcpAuditRules`); an unknown id is an error. */
  disabledRules?: string[];
  /** Sigma rules (`detections.sigma`); those for other log sources are left alone. */
  sigma?: readonly SigmaRule[];
}

type Judged = Judgement<AuditEntry>;

const EXPECTED =
  `expected Cloud Audit Log entries (a LogEntry whose protoPayload "@type" is "${AUDIT_LOG_TYPE}"), bare, as a ` +
  'JSON list, or as the Pub/Sub push of a log sink; entries that no built-in rule matches give no alert';

function describe(entry: AuditEntry, judged: Judged): string {
  const { verdict } = judged;
  const failure = failureOf(entry);
  const operation = record(entry.operation);
  const userAgent = actorsOf(entry).userAgents[0];
  return [
    `${principalOf(entry) ?? 'An unknown principal'} called ${methodOf(entry) ?? 'an unknown method'} on ${resourceNameOf(entry) ?? 'an unnamed resource'}.`,
    verdict ? ruleLine(verdict) : 'Rule: no built-in rule matched',
    ...sigmaLines(judged),
    ...(verdict?.match.details ?? []),
    failure && `Status: failed, ${failure.name}${failure.message ? `: ${failure.message}` : ''}`,
    // The raw value: "gce-internal-ip" or "private" say where the call came from too.
    callerIpOf(entry) && `Caller IP: ${callerIpOf(entry)}`,
    userAgent && `User agent: ${userAgent}`,
    `Log entry: ${str(entry.insertId) ?? '?'}${str(operation.id) ? `, operation ${str(operation.id)}` : ''}`,
    ...(verdict ? alsoMatchedLines(verdict) : []),
  ]
    .filter((line): line is string => Boolean(line))
    .join('\n\n');
}

/**
 * What only Sigma rules found: titled by the most severe rule, about the resource the entry names
 * (else its caller), so that the rule's repeats about one thing make one issue.
 */
function sigmaFacts(entry: AuditEntry, rule: SigmaRule) {
  const resourceName = resourceNameOf(entry);
  const thing = resourceName ?? principalOf(entry);
  const method = methodOf(entry);
  const resource = resourceName ? resourceRef(serviceOf(entry), resourceName) : undefined;
  return {
    resources: resource ? [resource] : [],
    title: `${rule.title}: ${method ? shortMethod(method) : 'an audit log entry'}${resource ? ` on ${resource.name ?? resource.id}` : ''} by ${principalOf(entry) ?? 'an unknown principal'}`,
    fingerprint: thing ? sigmaFingerprint(rule, thingFingerprint(entry, thing)) : entryFingerprint(entry),
  };
}

function toAlert(entry: AuditEntry, judged: Judged): ParsedAlert {
  const { verdict } = judged;
  const match = verdict?.match;
  // A judgement without a built-in verdict has a Sigma rule.
  const facts = match ? { ...match, fingerprint: match.fingerprint ?? entryFingerprint(entry) } : sigmaFacts(entry, judged.sigma[0]!);
  const project = projectOf(entry);
  return {
    kind: verdict?.rule.kind ?? 'actor',
    fingerprint: facts.fingerprint,
    title: facts.title,
    severity: judgedSeverity(judged, 'low'),
    occurredAt: timestamp(entry.timestamp) ?? timestamp(entry.receiveTimestamp),
    description: describe(entry, judged),
    cloud: { provider: 'gcp', ...(project ? { account: project } : {}) },
    resources: facts.resources,
    network: {
      ips: [],
      cidrs: match?.network?.cidrs ?? [],
      ports: match?.network?.ports ?? [],
      ...(match?.network?.protocol ? { protocol: match.network.protocol } : {}),
    },
    actors: actorsOf(entry),
    ...(match?.resolution ? { resolution: match.resolution } : {}),
    detections: judgedDetections(judged),
  };
}

function parseWith(rules: readonly GcpAuditRule[], sigma: readonly SigmaRule[], payload: unknown, tally?: ParseTally): ParsedAlert[] {
  const entries = auditEntries(payload);
  if (!entries) {
    const envelope = isPubSubPushEnvelope(payload) ? ' (a Pub/Sub push envelope, but its message.data is not an audit log entry)' : '';
    throw new UnrecognizedPayloadError(`not a Cloud Audit Log entry${envelope}: ${EXPECTED}`);
  }
  return entries.flatMap((entry) => {
    const judged = judgeEvent(entry, rules, sigma, 'gcp-audit');
    if (!judged && tally) tally.unmatched += 1;
    return judged ? [toAlert(entry, judged)] : [];
  });
}

/** A GCP audit adapter with some built-in rules switched off (configuration). */
export function createGcpAuditSource(options: GcpAuditSourceOptions = {}): SourceAdapter {
  const rules = enabledRules(gcpAuditRules, options.disabledRules, 'GCP audit');
  const sigma = options.sigma ?? [];
  return {
    name: 'gcp-audit',
    description:
      'GCP Cloud Audit Logs: firewall rules opened to the internet, public, owner or outside IAM grants, service-account keys, ' +
      'log sinks and audit logging switched off (log sink via Pub/Sub, or bare)',
    // Every audit log entry is this source's, whether or not a rule will match it.
    detect: (payload) => auditEntries(payload) !== undefined,
    parse: (payload, tally) => parseWith(rules, sigma, payload, tally),
  };
}

/** The default GCP audit adapter: every built-in rule on. */
export const gcpAuditSource: SourceAdapter = createGcpAuditSource();
