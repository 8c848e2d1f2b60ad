// The exposure checks on an issue: what answered on each address and port, what a bucket or URL
// gave an outsider, the screenshots of web services, and every target that was not probed with the reason.
import { PROOF_CHECKS, type PublicResource } from '../context';
import type { Finding } from '../finding';
import { cell, code, details } from '../markdown';
import { findingsTable } from './findings';
import { resourceLabel, resourceNoun } from './resources';

export interface ShownScreenshot {
  url: string;
  status: string;
  /** Markdown that shows the stored PNG (from the tracker's evidence link). */
  image?: string;
}

export interface ExposureReport {
  findings: readonly Finding[];
  skipped: readonly { target: string; reason: string }[];
  screenshots: readonly ShownScreenshot[];
  /** Snapshots and images whose sharing, read again by the inventory, is public: that reading is their proof. */
  shared?: readonly SharedResource[];
}

/** What the exposure comment says of a snapshot or image shared with everyone. */
export type SharedResource = Pick<PublicResource, 'class' | 'type' | 'id' | 'name' | 'reasons'>;

/** What each status of a proof (a bucket or URL reached as an outsider) means. */
const PROOF_STATUS: Record<string, string> = {
  public: '**public**: reached without credentials',
  listable: '**listable**: listed without credentials, no object read',
  refused: 'refused without credentials',
  'not-found': 'not found at the provider',
  unknown: 'could not be told',
};

/** What a proof's status means, and why it was not asked when it was not (outside the probe scope). */
function proofWords({ status, fields }: Finding): string {
  if (status === 'skipped') return `not asked: ${code(String(fields.reason ?? 'no reason given'))}`;
  return Object.hasOwn(PROOF_STATUS, status) ? PROOF_STATUS[status]! : code(status);
}

function probed(findings: readonly Finding[]): string[] {
  const tcp = findings.filter((finding) => finding.check === 'tcp');
  if (tcp.length === 0) return [];
  const count = (state: string) => tcp.filter((finding) => finding.status === state).length;
  const open = count('open');
  return [`${tcp.length} endpoint(s) probed: **${open} open**, ${count('closed')} closed, ${count('filtered')} filtered.`];
}

/** Each bucket or URL asked for without credentials, in words. */
function proved(findings: readonly Finding[]): string[] {
  const proofs = findings.filter((finding) => PROOF_CHECKS.has(finding.check));
  if (proofs.length === 0) return [];
  return [
    `${proofs.length} resource(s) asked for as an outsider, without credentials:`,
    '',
    ...proofs.map((finding) => `- ${finding.check} ${code(finding.target)}: ${proofWords(finding)}`),
  ];
}

/**
 * Each snapshot or image shared with everyone: nothing is asked of it from outside (that would read
 * its data), so the sharing read again is the check, and it says public.
 */
function sharedWords(shared: readonly SharedResource[]): string[] {
  if (shared.length === 0) return [];
  return [
    `${shared.length} snapshot(s) or image(s) read again (their sharing, never their data), shared with everyone: **public**:`,
    '',
    ...shared.map((resource) => `- ${resourceNoun(resource)} ${code(resourceLabel(resource))}: ${resource.reasons.map((reason) => code(reason, 200)).join('; ') || 'no reason given'}`),
  ];
}

function summary(findings: readonly Finding[], shared: readonly SharedResource[]): string {
  const parts = [probed(findings), proved(findings), sharedWords(shared)].filter((part) => part.length > 0);
  if (parts.length === 0) return 'Nothing was probed.';
  return parts.map((part) => part.join('\n')).join('\n\n');
}

export function exposureComment({ findings, skipped, screenshots, shared = [] }: ExposureReport): string {
  const lines = ['### Exposure checks', '', summary(findings, shared)];
  // The words say what was found; the tables of raw fields fold below them.
  if (findings.length > 0) lines.push('', details('Every finding, by check', findingsTable(findings)));
  if (screenshots.length > 0) {
    lines.push('', '#### Screenshots');
    for (const shot of screenshots) lines.push('', `${code(shot.url)} — ${cell(shot.status)}`, ...(shot.image ? ['', shot.image] : []));
  }
  if (skipped.length > 0) {
    const table = ['| target | reason |', '|---|---|', ...skipped.map(({ target, reason }) => `| ${cell(target)} | ${cell(reason, 200)} |`)].join('\n');
    lines.push('', '#### Not probed', '', details(`${skipped.length} target(s), with why`, table));
  }
  return lines.join('\n');
}
