// Names the response's records are kept under: a workflow id (any text a source's fingerprint made)
// turned into one safe path segment, and the audit record's key.
import { createHash } from 'node:crypto';
import type { AuditEntry, RemediationPlan } from '../../lib/response';

/** Long enough to read, short enough for any file system's name limit with the rest of the key. */
const SEGMENT_LIMIT = 120;

/**
 * The text as one file name or S3 key segment: characters other than letters, digits, `.`, `_`
 * and `-` become `_`; when anything was changed or cut, a hash of the whole keeps two ids apart.
 */
export function safeSegment(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  if (cleaned === text && text.length > 0 && text.length <= SEGMENT_LIMIT) return text;
  return `${cleaned.slice(0, SEGMENT_LIMIT)}~${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/** What an audited step is about: its plan, the plans a proposal names (`p1-p2`), or the accepted risk. */
export function auditSubject(entry: Pick<AuditEntry, 'plan'>, plans: readonly Pick<RemediationPlan, 'id'>[] = []): string {
  return entry.plan ?? (plans.length > 0 ? plans.map((plan) => plan.id).join('-') : 'risk');
}

/**
 * `<yyyy>/<mm>/<dd>/<workflow>/<plan or risk>-<step>-<at>.json` in the audit store: by the step's
 * own time (the workflow's), so a retried report writes the same record again.
 */
export function auditKey(entry: Pick<AuditEntry, 'workflowId' | 'plan' | 'step' | 'at'>, plans?: readonly Pick<RemediationPlan, 'id'>[]): string {
  const day = entry.at.slice(0, 10).replaceAll('-', '/');
  return `${day}/${safeSegment(entry.workflowId)}/${safeSegment(`${auditSubject(entry, plans)}-${entry.step}-${entry.at.replaceAll(':', '')}`)}.json`;
}
