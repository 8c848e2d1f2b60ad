// What a watch says on the issue: a re-check's changes, and why watching ended.
import type { FindingsDiff } from '../finding';
import { code } from '../markdown';
import type { ShownScreenshot } from './exposure';
import { findingsChanges } from './findings';

export function recheckComment(check: number, diff: FindingsDiff, screenshots: readonly ShownScreenshot[]): string {
  const lines = [`### Re-check ${check}: something changed`, '', findingsChanges(diff)];
  for (const shot of screenshots) if (shot.image) lines.push('', `${code(shot.url)} now shows:`, '', shot.image);
  return lines.join('\n');
}

export type WatchEnd = { reason: 'remediated'; cleanChecks: number } | { reason: 'aged-out'; maxAge: string };

export function watchEndedComment(end: WatchEnd): string {
  return end.reason === 'remediated'
    ? `### Remediated\n\nNothing answered on the exposed ports in ${end.cleanChecks} consecutive check(s). Vigil stops re-checking; a new alert or a re-check request starts again.`
    : `### No longer watched\n\nThe exposure was watched for ${code(end.maxAge)} (\`watch.maxAge\`) and is still open. Vigil stops re-checking; a new alert or a re-check request starts again.`;
}
