// The exposure checks on an issue: what answered on each address and port, the screenshots of web
// services, and every target that was not probed with the reason.
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

function summary(findings: readonly Finding[]): string {
  const tcp = findings.filter((finding) => finding.check === 'tcp');
  if (tcp.length === 0) return 'Nothing was probed.';
  const count = (state: string) => tcp.filter((finding) => finding.status === state).length;
  const open = count('open');
  return `${tcp.length} endpoint(s) probed: **${open} open**, ${count('closed')} closed, ${count('filtered')} filtered.`;
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
