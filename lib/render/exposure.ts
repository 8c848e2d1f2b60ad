// The exposure checks on an issue: what answered on each address and port, what a bucket or URL
// gave an outsider, the screenshots of web services, and every target that was not probed with the reason.
import type { Finding } from '../finding';
import { cell, code, details } from '../markdown';
import { findingsTable } from './findings';

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
}

/** The checks that reach a bucket or a URL as an outsider (activities/probe/proofs), and what each status means. */
const PROOF_CHECKS = new Set(['bucket', 'url']);
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
  return PROOF_STATUS[status] ?? cell(status);
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

function summary(findings: readonly Finding[]): string {
  const [tcp, proofs] = [probed(findings), proved(findings)];
  if (tcp.length + proofs.length === 0) return 'Nothing was probed.';
  return [...tcp, ...(tcp.length > 0 && proofs.length > 0 ? [''] : []), ...proofs].join('\n');
}

export function exposureComment({ findings, skipped, screenshots }: ExposureReport): string {
  const lines = ['### Exposure checks', '', summary(findings)];
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
