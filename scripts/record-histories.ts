// `vigil demo --save-histories <dir>`: after the demo's first reports, walk every path a running
// investigation can take (a repeat, a person closing and reopening its issue, continue-as-new), run
// the sweeper, a re-scan and the feeds refresh, and write each workflow's history as JSON. The
// replay tests run today's workflow code over them (test/histories).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { STATIC_SCOPE } from '../activities/context/static';
import { recheckNow, type InvestigationProgress } from '../lib/investigation';
import { progressOf, type Stack } from './stack';

export interface Recording {
  stack: Stack;
  taskQueue: string;
  /** The alert file resent as a repeat, and the investigation it went to (one being watched). */
  repeat: { file: string; workflowId: string };
  /** The feeds refresh the demo ran first. */
  feedsWorkflowId: string;
  /** Every investigation the demo started. */
  investigations: string[];
}

async function until(stack: Stack, workflowId: string, what: string, accept: (progress: InvestigationProgress) => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const progress = await progressOf(stack, workflowId);
    if (progress && accept(progress)) return;
    if (Date.now() > deadline) throw new Error(`${workflowId}: ${what} did not happen within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function issueAction(stack: Stack, number: number, action: 'close' | 'reopen'): Promise<void> {
  const response = await fetch(`${stack.intakeUrl}/v1/issues/${number}/${action}`, { method: 'POST', headers: { authorization: `Bearer ${stack.trackerToken}` } });
  if (!response.ok) throw new Error(`${action} of issue #${number} answered ${response.status}`);
}

/** Drives the extra paths, then saves every history (every run of a chain of runs). */
export async function recordHistories({ stack, taskQueue, repeat, feedsWorkflowId, investigations }: Recording, dir: string): Promise<string[]> {
  const { client } = stack;
  const watched = repeat.workflowId;

  // A repeat, then a person closing and reopening the issue (which looks again), then re-checks
  // until the run continues as new (the demo records with `watch.checksPerRun: 2`).
  const before = (await progressOf(stack, watched))!;
  const body = JSON.parse(await readFile(repeat.file, 'utf8')) as { description?: string };
  const resent = await fetch(`${stack.intakeUrl}/v1/alerts/auto`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, description: `${body.description ?? ''} (seen again)` }),
  });
  if (resent.status !== 202) throw new Error(`the repeat answered ${resent.status}`);
  await until(stack, watched, 'the repeat', (progress) => progress.occurrences > before.occurrences);
  await issueAction(stack, before.issue!.number, 'close');
  await until(stack, watched, 'the close', (progress) => progress.issueState === 'closed');
  await issueAction(stack, before.issue!.number, 'reopen');
  await until(stack, watched, 'the re-check on reopening', (progress) => (progress.watch?.checks ?? 0) > (before.watch?.checks ?? 0));
  const firstRun = (await client.workflow.getHandle(watched).describe()).runId;
  await client.workflow.getHandle(watched).signal(recheckNow);
  const deadline = Date.now() + 60_000;
  while ((await client.workflow.getHandle(watched).describe()).runId === firstRun) {
    if (Date.now() > deadline) throw new Error(`${watched} did not continue as new within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // The other workflows: the sweeper, a re-scan of the static inventory, the feeds refresh.
  const sweeper = `record-sweep-${Date.now()}`;
  await client.workflow.execute('sweepArchive', { taskQueue, workflowId: sweeper, args: [{ lookbackDays: 1 }] });
  const rescan = `record-rescan-${Date.now()}`;
  await client.workflow.execute('rescanInventory', { taskQueue, workflowId: rescan, args: [{ provider: 'static', scope: STATIC_SCOPE }] });

  await mkdir(dir, { recursive: true });
  const saved: string[] = [];
  const save = async (workflowId: string, runId?: string, suffix = '') => {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const name = `${workflowId.replace(/[^\w.-]+/g, '_').replace(/-\d{13}$/, '')}${suffix}.json`;
    await writeFile(path.join(dir, name), `${historyToJSON(history)}\n`);
    saved.push(name);
  };
  for (const workflowId of investigations) await save(workflowId);
  await save(watched, firstRun, '_first-run');
  await save(sweeper);
  await save(rescan);
  await save(feedsWorkflowId);
  return saved;
}
