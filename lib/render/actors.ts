// Actor checks on an issue: one line per actor with its verdict, then a compact table of what each
// source said (with its freshness); for a principal, what the inventories know about it; for every
// actor, the earlier investigations that named it. Private and reserved addresses share one line.
// All alert- and cloud-derived text is inert.
import type { AccessKeyFacts, ActorReport, PastInvestigation, PrincipalFacts } from '../intel';
import { MAX_ACTORS } from '../investigation-state';
import { cell, code } from '../markdown';

const verdictWord: Record<ActorReport['verdict'], string> = {
  malicious: '**malicious**',
  suspicious: '**suspicious**',
  'known-benign': 'known benign',
  unknown: 'unknown',
};

/** `2026-11-28 09:00 UTC` from an ISO time; anything else as inert text (`cell` inside a table). */
const when = (iso: string | undefined, inert: (text: string, max: number) => string = code) => {
  if (!iso) return 'unknown';
  const time = Date.parse(iso);
  return Number.isNaN(time) ? inert(iso, 40) : `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
};

const indent = (lines: string[]) => lines.map((line) => (line ? `  ${line}` : line));

function sourcesTable({ results }: ActorReport): string[] {
  if (results.length === 0) return [];
  return [
    '',
    '| source | status | verdict | evidence |',
    '|---|---|---|---|',
    ...results.map((result) => `| ${cell(result.source)} | ${cell(result.status)} | ${result.verdict ? cell(result.verdict) : '—'} | ${cell(result.evidence, 200)} |`),
  ];
}

const keyRow = (key: AccessKeyFacts) =>
  `| ${cell(key.id)} | ${cell(key.status)} | ${when(key.created, cell)} | ${key.lastUsed ? `${when(key.lastUsed.at, cell)}${key.lastUsed.service ? ` · ${cell(key.lastUsed.service)}` : ''}${key.lastUsed.region ? ` · ${cell(key.lastUsed.region)}` : ''}` : 'never'} |`;

/** The principal's one-line description, and its access keys as a table. */
function identityLines(identity: PrincipalFacts): { line: string; more: string[] } {
  switch (identity.kind) {
    case 'unread':
      return { line: `not looked up: ${code(identity.reason, 300)}`, more: [] };
    case 'external':
      return { line: `external ${identity.account === 'service-account' ? 'service account' : 'account'}, domain ${code(identity.domain)} (outside the configured organisations)`, more: [] };
    case 'organisation-account':
      return { line: `account of the organisation's domain ${code(identity.domain)}`, more: [] };
    case 'gcp-service-account':
      return {
        line: [
          `GCP service account ${code(identity.email)}`,
          ...(identity.displayName ? [`named ${code(identity.displayName)}`] : []),
          ...(identity.project ? [`in project ${code(identity.project)}`] : []),
          identity.disabled ? '**disabled**' : 'enabled',
        ].join(' · '),
        more: [],
      };
    default: {
      const admin = identity.adminPolicies.length > 0 ? `**administrator**: ${identity.adminPolicies.map(({ policy, via }) => `${code(policy)} (${code(via)})`).join(', ')}` : 'no administrator policy';
      const parts = [
        `AWS ${identity.kind === 'aws-user' ? 'user' : 'role'} ${code(identity.name)} in account ${code(identity.account)}${identity.seenAs ? ` (as ${code(identity.seenAs)})` : ''}`,
        `created ${when(identity.created)}`,
        ...(identity.mfaDevices !== undefined ? [identity.mfaDevices > 0 ? `MFA: ${identity.mfaDevices} device${identity.mfaDevices > 1 ? 's' : ''}` : '**no MFA**'] : []),
        ...(identity.console ? [identity.console.enabled ? `console access (password last used ${identity.console.lastUsed ? when(identity.console.lastUsed) : 'never'})` : 'no console access'] : []),
        ...(identity.kind === 'aws-role' ? [`last used ${identity.lastUsed ? when(identity.lastUsed) : 'never, or not within the tracking period'}`] : []),
        admin,
      ];
      const keys = identity.accessKeys ?? [];
      const more = identity.kind === 'aws-user' ? (keys.length > 0 ? ['', '| access key | status | created | last used |', '|---|---|---|---|', ...keys.map(keyRow)] : ['', 'No access keys.']) : [];
      return { line: parts.join(' · '), more };
    }
  }
}

function pastLine({ workflowId, source, alertKind, verdict, exposure, status, startedAt, issue }: PastInvestigation): string {
  // The issue number is Vigil's own: written plainly, so the tracker links it.
  const where = issue ? `#${issue.number}${issue.state ? ` (${issue.state === 'closed' ? 'closed' : 'open'})` : ''}` : 'no issue recorded';
  const about = [source, alertKind].filter((text): text is string => Boolean(text)).map((text) => code(text, 60)).join(' ');
  return [
    `- ${where}`,
    ...(about ? [about] : []),
    code(workflowId, 200),
    ...(verdict ? [`verdict ${code(verdict, 40)}`] : []),
    ...(exposure ? [`exposure ${code(exposure, 40)}`] : []),
    `started ${when(startedAt)}`,
    code(status, 40),
  ].join(' · ');
}

function historyLines({ history, moreHistory, historyUnread }: ActorReport): string[] {
  if (historyUnread) return ['', `Earlier investigations not looked up: ${historyUnread}.`];
  if (!history) return [];
  if (history.length === 0) return ['', 'No earlier investigation names it.'];
  // Visibility lists running investigations first, then the most recently ended: said as it is.
  const which = moreHistory ? ` (${history.length} of more: running ones first, then the most recently ended)` : '';
  return ['', `Earlier investigations naming it${which}:`, '', ...history.map(pastLine)];
}

function actorSection(report: ActorReport): string {
  const { target, verdict, because, asn, identity } = report;
  const network = asn ? ` · AS${asn.asn} ${code(asn.organisation)}${asn.country ? ` (${code(asn.country)})` : ''}` : '';
  const reasons = because.length > 0 ? ` — ${because.map((source) => code(source)).join(', ')}` : '';
  const described = identity ? identityLines(identity) : undefined;
  // A principal is described by the inventories; its intel verdict is shown only when a source listed it.
  const head = described ? (verdict === 'unknown' ? described.line : `${verdictWord[verdict]}${reasons} · ${described.line}`) : `${verdictWord[verdict]}${reasons}${network}`;
  return [`- ${code(target.value)}: ${head}`, ...indent([...(described?.more ?? []), ...sourcesTable(report), ...historyLines(report)])].join('\n');
}

export function actorsComment(reports: readonly ActorReport[]): string {
  const reserved = reports.filter((report) => report.reserved);
  const reservedLine = reserved.length > 0 ? [`- ${reserved.map(({ target }) => code(target.value)).join(', ')}: private or reserved, not checked`] : [];
  const left = reports.filter((report) => report.notChecked).length;
  const leftLine = left > 0 ? [`- ${left} more actor${left > 1 ? 's' : ''} not checked: at most ${MAX_ACTORS} are checked at a time; a later alert naming ${left > 1 ? 'them' : 'it'} checks ${left > 1 ? 'them' : 'it'}`] : [];
  return ['### Actors', ...reports.filter((report) => !report.reserved && !report.notChecked).map(actorSection), ...reservedLine, ...leftLine].join('\n\n');
}
