// Findings on an issue: a compact table per check, the full detail in a collapsible block, and
// change comments that say what was added, removed and changed. Every value is untrusted.
import type { FieldValue, Finding, FindingsDiff } from '../finding';
import { cell, code, codeBlock, details } from '../markdown';

const shown = (value: FieldValue | undefined) => (value === undefined || value === null || value === '' ? '—' : cell(String(value)));
/** The same in running text, where a `|` is only a character (escaped, it would show its backslash). */
const said = (value: FieldValue | undefined) => (value === undefined || value === null || value === '' ? '—' : code(String(value)));

/** One table per check: target, status and the check's fields as columns. */
export function findingsTable(findings: readonly Finding[]): string {
  const byCheck = new Map<string, Finding[]>();
  for (const finding of findings) byCheck.set(finding.check, [...(byCheck.get(finding.check) ?? []), finding]);
  const sections = [...byCheck].map(([check, group]) => {
    const columns = [...new Set(group.flatMap((finding) => Object.keys(finding.fields)))];
    const header = `| target | status |${columns.map((column) => ` ${cell(column)} |`).join('')}`;
    const rule = `|---|---|${columns.map(() => '---|').join('')}`;
    const rows = group.map(
      (finding) =>
        `| ${cell(finding.target)} | ${cell(finding.status)} |${columns.map((column) => ` ${shown(finding.fields[column])} |`).join('')}`,
    );
    return [`#### ${cell(check)}`, '', header, rule, ...rows].join('\n');
  });
  const detail = findings.map(({ key, detail: more }) => ({ key, ...more }));
  return [...sections, '', details('Full detail', codeBlock(JSON.stringify(detail, null, 2), 40_000))].join('\n\n');
}

/** The change comment of a re-check: only what differs from the last report. */
export function findingsChanges({ added, removed, changed }: FindingsDiff): string {
  const sections: string[] = [];
  if (added.length > 0) sections.push(`**Added** (${added.length})\n\n${findingsTable(added)}`);
  if (removed.length > 0) {
    sections.push(`**Removed** (${removed.length})\n\n${removed.map((finding) => `- ${cell(finding.key)} (was ${cell(finding.status)})`).join('\n')}`);
  }
  if (changed.length > 0) {
    const rows = changed.flatMap(({ after, changes }) =>
      changes.map(({ field, from, to }) => `| ${cell(after.key)} | ${cell(field)} | ${shown(from)} | ${shown(to)} |`),
    );
    // In words first: what turned from what into what (`inventory` `vigil-logs`: `public` → `private`).
    const turned = changed.flatMap(({ after, changes }) =>
      changes.filter(({ field }) => field === 'status').map(({ from, to }) => `- ${code(after.check)} ${code(after.target)}: ${said(from)} → ${said(to)}`),
    );
    sections.push([`**Changed** (${changed.length})`, '', ...(turned.length > 0 ? [...turned, ''] : []), '| finding | field | before | after |', '|---|---|---|---|', ...rows].join('\n'));
  }
  return sections.join('\n\n') || 'No change.';
}
