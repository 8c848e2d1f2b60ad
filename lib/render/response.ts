// What the response says on the issue: the proposed plans with the commands to type, and one comment
// per later step (requested, approved, executed, re-checked, failed, cancelled, expired, undone, a
// risk accepted and its end). Everything from the alert, the cloud or a person's comment is inert.
import type { ResponseSettings } from '../config';
import { code, codeBlock } from '../markdown';
import type { AcceptedRisk, AuditEntry, ExecutionRecord, PlanStatus, RemediationPlan } from '../response';

/** What the proposal says about who may do what, and whether anything will change. */
export type ResponseRules = Pick<ResponseSettings, 'dryRun' | 'askers' | 'approvers' | 'selfApproval' | 'planTtl'>;

const DRY_RUN = '**DRY RUN** (`response.dryRun`): nothing will be changed in the cloud; each step is carried out as far as reading the current state and saying what would be done.';
const DRY_RUN_STEP = '**DRY RUN** (`response.dryRun`): nothing in the cloud is changed.';

/**
 * A person as the issue names them: a login (a GitHub login, a local tracker person named like one)
 * is mentioned, so they see the step; anything else stays inert; Vigil itself is named plainly.
 */
export function person(name: string): string {
  if (name === 'vigil') return 'Vigil';
  return /^[a-z\d](?:[a-z\d-]{0,37}[a-z\d])?$/i.test(name) ? `@${name}` : code(name, 80);
}

/** A date the command's validator checked (YYYY-MM-DD) plainly; anything else inert. */
const day = (text: string) => (/^\d{4}-\d{2}-\d{2}$/.test(text) ? text : code(text, 20));

/** Configured responders (logins or `@org/team`) as one inert list. */
const responders = (names: readonly string[], setting: string) =>
  names.length > 0 ? names.map((name) => code(name, 80)).join(', ') : `nobody yet (\`${setting}\` is empty)`;

function planSection(plan: RemediationPlan): string {
  const lines = [
    `#### ${code(plan.id, 20)}: ${code(plan.title)}`,
    '',
    'The API call:',
    '',
    codeBlock(plan.apiCall, 2000),
    '',
    `- **Expected result**: ${code(plan.expected)}`,
    `- **Undo** (\`/vigil undo ${plan.id}\`): ${code(plan.undo)}`,
  ];
  if (plan.serves.length > 0) {
    lines.push('- **It also serves** (these lose the same access):', ...plan.serves.map((served) => `  - ${code(served)}`));
  } else {
    lines.push('- **It also serves**: nothing else that Vigil knows of.');
  }
  lines.push('', 'To carry it out, comment:', '', codeBlock(`/vigil remediate ${plan.id}`, 100));
  return lines.join('\n');
}

/** The plans an investigation proposes, with the commands to type and who may type them. */
export function proposalComment(plans: readonly RemediationPlan[], rules: ResponseRules): string {
  const lines = ['### Proposed remediation', ''];
  if (rules.dryRun) lines.push(DRY_RUN, '');
  lines.push(
    'The exposure is proven. These changes would close it; nothing happens until a person asks for a plan and another approves it.',
    '',
    ...plans.map(planSection),
    '',
    '#### Who may act',
    '',
    `- **Ask** (\`/vigil remediate <plan>\`, \`/vigil cancel <plan>\`): ${responders(rules.askers, 'response.askers')}`,
    `- **Approve** (\`/vigil approve <plan>\`): ${responders(rules.approvers, 'response.approvers')}${rules.selfApproval ? '; the person who asked may approve too' : '; not the person who asked'}`,
    `- A plan asked for and not approved within ${code(rules.planTtl)} expires.`,
    '- **Undo** (`/vigil undo <plan>`): whoever may ask or approve.',
    `- **Accept the risk** instead (approvers): ${code('/vigil accept <reason> until <YYYY-MM-DD>')}; the issue is closed and the re-scan silent until that day has passed.`,
  );
  return lines.join('\n');
}

/** What one execution or undo did, as the audit says it. */
function executionLines(record: ExecutionRecord): string[] {
  const outcome = { changed: 'changed', already: 'already so: nothing needed changing', 'dry-run': '**DRY RUN: nothing was changed**; this is what would have been done' }[record.outcome];
  return [
    `- **Outcome**: ${outcome}`,
    '- **API call**:',
    '',
    codeBlock(record.apiCall, 2000),
    '',
    `- **Request ids**: ${record.requestIds.length > 0 ? record.requestIds.map((id) => code(id, 100)).join(', ') : 'none (no call was made)'}`,
    ...(record.restoredRuleId ? [`- **Restored as rule**: ${code(record.restoredRuleId, 100)}`] : []),
  ];
}

/** The entry's own facts, for a step whose plan status carries no execution record. */
function entryLines(entry: AuditEntry): string[] {
  const lines: string[] = [];
  if (entry.apiCall) lines.push('- **API call**:', '', codeBlock(entry.apiCall, 2000), '');
  if (entry.requestIds && entry.requestIds.length > 0) lines.push(`- **Request ids**: ${entry.requestIds.map((id) => code(id, 100)).join(', ')}`);
  if (entry.result) lines.push(`- **Result**: ${code(entry.result, 1000)}`);
  return lines;
}

const planName = (entry: AuditEntry) => code(entry.plan ?? '?', 20);

/** What a step's comment is about beside its entry: the plan as it stands, or the acceptance. */
export interface StepFacts {
  status?: PlanStatus;
  accepted?: AcceptedRisk;
}

/** One later step of a plan, or of an accepted risk, as its comment. */
export function stepComment(entry: AuditEntry, { status, accepted }: StepFacts = {}): string {
  const by = person(entry.actor);
  const title = status ? [`Plan: ${code(status.plan.title)}`, ''] : [];
  const dryRun = entry.dryRun ? [DRY_RUN_STEP, ''] : [];
  const source = entry.commentUrl ? ['', `The command: ${code(entry.commentUrl, 300)}.`] : [];
  const body = (heading: string, lines: string[]) => [heading, '', ...dryRun, ...title, ...lines, ...source].join('\n').trimEnd();
  switch (entry.step) {
    case 'proposed':
      return body(`### Remediation ${planName(entry)} proposed`, entryLines(entry));
    case 'requested':
      return body(`### Remediation ${planName(entry)}: requested by ${by}`, [
        status?.expiresAt ? `It needs an approval (\`/vigil approve ${entry.plan}\`) by ${code(status.expiresAt)}, or it expires.` : `It needs an approval (\`/vigil approve ${entry.plan}\`).`,
      ]);
    case 'approved':
      return body(`### Remediation ${planName(entry)}: approved by ${by}`, [entry.dryRun ? 'Carrying it out in dry run.' : 'Carrying it out now.']);
    case 'executed': {
      const execution = status?.execution;
      return body(`### Remediation ${planName(entry)}: executed${entry.dryRun ? ' (DRY RUN)' : ''}`, [
        ...(execution ? executionLines(execution) : entryLines(entry)),
        ...(execution && entry.result ? [`- **Result**: ${code(entry.result, 1000)}`] : []),
        '',
        entry.dryRun ? 'Nothing was changed, so there is nothing to re-check or undo.' : `A re-check follows. To put it back: \`/vigil undo ${entry.plan}\`.`,
      ]);
    }
    case 'rechecked':
      return body(`### Remediation ${planName(entry)}: re-checked`, [`- **Result**: ${entry.result ? code(entry.result, 1000) : 'nothing to report'}`]);
    case 'failed':
      return body(`### Remediation ${planName(entry)}: failed`, [
        'It was not carried out (or not completely); the cloud says:',
        '',
        codeBlock(entry.result ?? status?.reason ?? 'no reason given', 4000),
        ...(entry.requestIds && entry.requestIds.length > 0 ? ['', `- **Request ids**: ${entry.requestIds.map((id) => code(id, 100)).join(', ')}`] : []),
      ]);
    case 'cancelled':
      return body(`### Remediation ${planName(entry)}: cancelled by ${by}`, entry.result ? [`- **Reason**: ${code(entry.result, 1000)}`] : ['Nothing was changed.']);
    case 'expired':
      return body(`### Remediation ${planName(entry)}: expired`, [
        `It was not approved in time${status?.expiresAt ? ` (due by ${code(status.expiresAt)})` : ''}; nothing was changed. Ask again with \`/vigil remediate ${entry.plan}\`.`,
      ]);
    case 'undone': {
      const undo = status?.undo;
      return body(`### Remediation ${planName(entry)}: undone by ${by}${entry.dryRun ? ' (DRY RUN)' : ''}`, [
        ...(undo ? executionLines(undo) : entryLines(entry)),
        ...(undo && entry.result ? [`- **Result**: ${code(entry.result, 1000)}`] : []),
      ]);
    }
    case 'accepted':
      return [
        `### Risk accepted until ${day(accepted?.until ?? '?')} by ${by}: ${code(accepted?.reason ?? entry.result ?? '', 1000)}`,
        '',
        `The issue is closed and the re-scan leaves the alert's resources alone until the end of that day; from the next day the issue reopens and the watch re-checks at once.`,
        ...source,
      ].join('\n');
    case 'acceptance-expired':
      return [
        '### Accepted risk expired',
        '',
        `${accepted ? `The risk accepted by ${person(accepted.by)} until ${day(accepted.until)} (${code(accepted.reason, 1000)})` : 'The accepted risk'} has passed its last day: the issue is reopened, the re-scan reports the resources again, and the watch re-checks now.`,
      ].join('\n');
  }
}

