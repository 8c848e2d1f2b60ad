// Actor checks on an issue: one line per actor with its verdict, then a compact table of what each
// source said (with its freshness), all alert-derived text inert.
import type { ActorReport } from '../intel';
import { cell, code } from '../markdown';

const verdictWord: Record<ActorReport['verdict'], string> = {
  malicious: '**malicious**',
  suspicious: '**suspicious**',
  'known-benign': 'known benign',
  unknown: 'unknown',
};

function actorSection({ target, verdict, because, asn, results }: ActorReport): string {
  const network = asn ? ` · AS${asn.asn} ${code(asn.organisation)}${asn.country ? ` (${code(asn.country)})` : ''}` : '';
  const reasons = because.length > 0 ? ` — ${because.map((source) => code(source)).join(', ')}` : '';
  const rows = results.map(
    (result) =>
      `| ${cell(result.source)} | ${cell(result.status)} | ${result.verdict ? cell(result.verdict) : '—'} | ${cell(result.evidence, 200)} |`,
  );
  return [
    `- ${code(target.value)}: ${verdictWord[verdict]}${reasons}${network}`,
    '',
    '  | source | status | verdict | evidence |',
    '  |---|---|---|---|',
    ...rows.map((row) => `  ${row}`),
  ].join('\n');
}

export function actorsComment(reports: readonly ActorReport[]): string {
  return ['### Actors', ...reports.map(actorSection)].join('\n\n');
}
