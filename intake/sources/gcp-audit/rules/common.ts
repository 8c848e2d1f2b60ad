// The GCP audit rule type, and what more than one rule family needs (./index.ts lists the families).
// What a rule is, and how an entry is judged, is shared with CloudTrail: ../../rules.ts.
import type { Rule } from '../../rules';
import { methodOf, type AuditEntry } from '../entry';

/** A GCP audit rule: the shared rule shape (../../rules.ts) over one Cloud Audit Log entry. */
export type GcpAuditRule = Rule<AuditEntry>;

/** The method's last part, whatever its prefix: `DeleteSink` for `google.logging.v2.ConfigServiceV2.DeleteSink`. */
export function methodIs(entry: AuditEntry, ...names: string[]): boolean {
  const method = methodOf(entry);
  return method !== undefined && names.some((name) => method === name || method.endsWith(`.${name}`));
}

/** Keeps titles readable whatever an entry carries (long or hostile values). */
export function short(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
