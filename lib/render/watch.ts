// What a watch says on the issue: a re-check's changes, and why watching ended.
import type { ContextProblem } from '../context';
import type { FindingsDiff } from '../finding';
import { code, codeBlock } from '../markdown';
import type { ShownScreenshot } from './exposure';
import { findingsChanges } from './findings';

export function recheckComment(check: number, diff: FindingsDiff, screenshots: readonly ShownScreenshot[], problems: readonly ContextProblem[] = []): string {
  const lines = [`### Re-check ${check}: something changed`, '', findingsChanges(diff)];
  if (problems.length > 0) {
    lines.push(
      '',
      'The inventory could not read everything this time; what it showed before is kept until it can:',
      '',
      ...problems.map((problem) => `- ${code(problem.provider)} ${code(problem.scope)}: ${code(problem.reason)}`),
    );
  }
  for (const shot of screenshots) if (shot.image) lines.push('', `${code(shot.url)} now shows:`, '', shot.image);
  return lines.join('\n');
}

export type WatchEnd = { reason: 'remediated'; cleanChecks: number } | { reason: 'aged-out'; maxAge: string };

const restart = 'Vigil stops re-checking; a new alert or reopening the issue starts again.';

export function watchEndedComment(end: WatchEnd): string {
  return end.reason === 'remediated'
    ? `### Remediated\n\nNothing answered from the internet, and the inventory shows nothing exposed or public, in ${end.cleanChecks} consecutive check(s). ${restart}`
    : `### No longer watched\n\nThe exposure was watched for ${code(end.maxAge)} (\`watch.maxAge\`) and is still open or unconfirmed. ${restart}`;
}

/** What a re-check made of a resolution from the source: agreed, disputed, or none was made. */
export type ResolutionOutcome = 'agreed' | 'disputed' | 'not-rechecked';

/** The source said the finding is over, and what the re-check made at once found. */
export function resolutionComment(resolution: string, outcome: ResolutionOutcome): string {
  const said = `The source says: ${code(resolution)}.`;
  if (outcome === 'agreed') return `### Resolved at the source\n\n${said} The re-check made at once agrees: nothing answers and the inventory shows no exposure. Marked remediated.`;
  if (outcome === 'disputed') {
    return `### Resolved at the source, but not here\n\n${said} The re-check made at once still finds the exposure, or the inventory could not tell (see the labels and the re-check comments); Vigil keeps watching.`;
  }
  return `### Resolved at the source\n\n${said} Vigil has nothing of its own to re-check for this alert (or the re-check failed, as said above); the issue is left as it is for a person to close.`;
}

/** A step of the investigation that failed after its retries; what did not fail goes on. */
export function failureComment(step: string, reason: string): string {
  return [
    `### ${code(step)} failed`,
    '',
    'It failed after its retries, so this part of the report is missing. The rest of the investigation goes on; the next re-check tries again where there is one. Retry the step from the Temporal UI, or look at the worker\'s log.',
    '',
    codeBlock(reason),
  ].join('\n');
}
