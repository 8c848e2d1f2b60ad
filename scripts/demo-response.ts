// The response, shown on the demo's SSH exposure: Vigil proposes revoking the rule that opens SSH
// (read from the demo's AWS account), one person asks for that plan and another approves it with
// `/vigil` comments through the local tracker's comment API, each with their own token, and the
// investigation carries it out in dry run (`response.dryRun`): EC2 checks the call, nothing changes.
import { randomBytes } from 'node:crypto';
import type { InvestigationProgress } from '../lib/investigation';
import type { PlanState, PlanStatus } from '../lib/response';
import { progressOf, type Stack } from './stack';

export interface DemoPerson {
  name: string;
  /** Their own token for the local tracker's comment API and page; a new one each demo run. */
  token: string;
}

/** Who asks for a remediation and who approves it (`response.askers`, `response.approvers`). */
export interface DemoResponders {
  asker: DemoPerson;
  approver: DemoPerson;
}

export function demoResponders(): DemoResponders {
  const person = (name: string) => ({ name, token: randomBytes(24).toString('base64url') });
  return { asker: person('demo-alice'), approver: person('demo-bob') };
}

/**
 * How long one step of the demo may take: generous, because CI runs it beside another test file on
 * two cores, and a step cut short leaves the demo with no result to print.
 */
export const DEMO_STEP_TIMEOUT_MS = 120_000;

async function waitFor<T>(stack: Stack, workflowId: string, what: string, found: (progress: InvestigationProgress) => T | undefined, timeoutMs = DEMO_STEP_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await progressOf(stack, workflowId);
    const result = progress && found(progress);
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`${workflowId}: ${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The plan that revokes the internet's access to `port`, once proposed. */
const planFor = (port: number) => (progress: InvestigationProgress) =>
  progress.response?.plans.find(({ plan: { action } }) => action.kind === 'aws-revoke-ingress' && (action.permission.fromPort ?? -1) <= port && port <= (action.permission.toPort ?? -1));

const inState = (id: string, states: PlanState[]) => (progress: InvestigationProgress) =>
  progress.response?.plans.find((status) => status.plan.id === id && states.includes(status.state));

async function comment(stack: Stack, issue: number, person: DemoPerson, body: string): Promise<void> {
  const response = await fetch(`${stack.intakeUrl}/v1/issues/${issue}/comments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${person.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ body }),
  });
  if (!response.ok) throw new Error(`${person.name}'s comment on issue #${issue} answered ${response.status}: ${await response.text()}`);
  // `answered`: refused, and the issue says why.
  const { command } = (await response.json()) as { command: string };
  if (command !== 'delivered') throw new Error(`${person.name}'s "${body}" on issue #${issue} was not delivered (${command}): the issue says why`);
}

/** Whether the issue carries a comment starting with `heading`. */
async function hasComment(stack: Stack, issue: number, heading: string): Promise<boolean> {
  const response = await fetch(`${stack.intakeUrl}/v1/issues/${issue}`, { headers: { authorization: `Bearer ${stack.trackerToken}` } });
  if (!response.ok) return false;
  const { comments } = (await response.json()) as { comments: { body: string }[] };
  return comments.some((comment) => comment.body.startsWith(heading));
}

/**
 * Asks for and approves the plan closing `port`, as two people, and waits until the issue says it was
 * executed (in dry run, nothing was changed). Answers the plan as it then stands.
 */
export async function showRemediation(stack: Stack, workflowId: string, { asker, approver }: DemoResponders, port: number): Promise<PlanStatus> {
  const proposed = await waitFor(stack, workflowId, `a plan closing port ${port}`, planFor(port));
  const issue = (await progressOf(stack, workflowId))!.issue!.number;
  const { id } = proposed.plan;
  await comment(stack, issue, asker, `/vigil remediate ${id}`);
  await waitFor(stack, workflowId, `${asker.name}'s request for ${id}`, inState(id, ['requested']));
  await comment(stack, issue, approver, `/vigil approve ${id}`);
  const executed = await waitFor(stack, workflowId, `the execution of ${id}`, inState(id, ['executed', 'failed']));
  if (executed.state === 'failed') throw new Error(`${id} failed: ${executed.reason ?? 'no reason given'}`);
  // The audit comment is written after the plan's state changes: the issue shows the step once it is there.
  const deadline = Date.now() + DEMO_STEP_TIMEOUT_MS;
  while (!(await hasComment(stack, issue, `### Remediation \`${id}\`: executed`))) {
    if (Date.now() > deadline) throw new Error(`issue #${issue} shows no execution of ${id} within ${DEMO_STEP_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return executed;
}
