// Intake SIGKILLed in the middle of a burst, and started again on its port, while a sender retries
// whatever was cut. The first kill lands between archiving and dispatching: intake's link to
// Temporal is held (a proxy keeps what it sends), so deliveries pile up archived but not handed over,
// and intake dies with them in hand. The second kill lands wherever the burst is. Every alert the
// sender sent ends on exactly one issue, every delivery counted once: retried bodies are the same
// archive record, and the archive sweeper hands over what nobody retried.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLocalArchive } from '../../activities/archive/local';
import type { ArchiveRecordMeta } from '../../activities/archive/types';
import { claimNamespace } from '../helpers/vigil';
import { checkIssues, localIssues, progressOf } from './faults/invariant';
import { genericAlert, startSender } from './faults/sender';
import { startTcpProxy, type TcpProxy } from './faults/tcp-proxy';
import { allFenceRefusals, prepareVigil, startIntakeProcess, startWorker, stopRoles, type VigilSetup } from './faults/vigil-processes';
import { recordTrial } from './tally';

const IDENTITIES = 40;
const DELIVERIES = 3;

let setup: VigilSetup;
let proxy: TcpProxy;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  const [host, port] = inject('temporalAddress').split(':') as [string, string];
  proxy = await startTcpProxy({ host, port: Number(port) });
  setup = await prepareVigil({
    temporalAddress: inject('temporalAddress'),
    namespace: await claimNamespace(),
    settings: { intake: { port: await getPort(), dispatchTimeoutMs: 3000 }, sweeper: { every: '10s' } },
  });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: setup.config.temporal.namespace });
});

afterAll(async () => {
  const leftBehind = await stopRoles();
  await proxy?.close();
  await connection?.close();
  await setup?.remove();
  expect(leftBehind).toEqual([]);
  expect(allFenceRefusals()).toEqual([]);
});

async function archived(): Promise<ArchiveRecordMeta[]> {
  const archive = createLocalArchive(path.join(setup.config.dataDir, 'archive'));
  const records: ArchiveRecordMeta[] = [];
  for await (const meta of archive.list({ since: new Date(Date.now() - 86_400_000), until: new Date(Date.now() + 86_400_000) })) records.push(meta);
  return records;
}

const sha256 = (body: string) => createHash('sha256').update(body).digest('hex');

const waitFor = async (condition: () => boolean | Promise<boolean>) => {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 50));
};

describe('intake SIGKILLed mid-burst', () => {
  it('loses no alert the sender sent, and doubles none', async () => {
    // Intake reaches Temporal through the proxy; the worker directly.
    const intakeEnv = { TEMPORAL_ADDRESS: proxy.address };
    let intake = await startIntakeProcess(setup, { env: intakeEnv });
    await startWorker(setup, client);
    const alerts = Array.from({ length: IDENTITIES * DELIVERIES }, (_, n) => {
      const identity = `intake-kill-${n % IDENTITIES}`;
      return { ...genericAlert(identity, { description: `delivery ${Math.floor(n / IDENTITIES) + 1}` }), key: `${identity}#${n}` };
    });
    const sender = startSender(alerts, { url: () => intake.url, concurrency: 8, ratePerSecond: 20 });

    // First kill: Temporal stops answering intake. Deliveries are archived and wait to be handed
    // over; some are answered 202 undispatched (only the sweeper can hand those over: their sender
    // is done with them), and intake dies with others still in hand.
    await waitFor(() => sender.accepted() >= 30);
    proxy.setMode('hold');
    const answeredUndispatched = () => new Set(sender.sent.filter((alert) => alert.accepted?.alerts.some((a) => !a.dispatched)).map((alert) => sha256(alert.body)));
    await waitFor(async () => {
      const undispatched = (await archived()).filter((meta) => !meta.dispatchedAt);
      const answered = answeredUndispatched();
      return answered.size >= 2 && undispatched.filter((meta) => !answered.has(meta.sha256)).length >= 2;
    });
    await intake.kill();
    const strandedRecords = (await archived()).filter((meta) => !meta.dispatchedAt && !meta.rejected);
    const stranded = strandedRecords.map((meta) => meta.id);
    const answered = answeredUndispatched();
    const sweptOnly = strandedRecords.filter((meta) => answered.has(meta.sha256)).map((meta) => meta.id);
    proxy.setMode('forward');
    intake = await startIntakeProcess(setup, { env: intakeEnv });

    // Second kill: wherever the burst is.
    await waitFor(() => sender.accepted() >= 80);
    await intake.kill();
    intake = await startIntakeProcess(setup, { env: intakeEnv });

    const sent = await sender.done;
    expect(sent.filter((alert) => !alert.accepted).map((alert) => alert.key)).toEqual([]);
    const identities = [...new Set(alerts.map((alert) => JSON.parse(alert.body).id as string))];
    const progress = await progressOf(
      client,
      identities.map((identity) => `alert/generic/${identity}`),
      { done: (p) => p.firstReportComplete === true && p.occurrences >= DELIVERIES },
    );
    // Everything archived is handed over in the end (by a retry or by the sweeper).
    await waitFor(async () => (await archived()).every((meta) => meta.dispatchedAt || meta.rejected));
    const handedOver = new Set((await archived()).filter((meta) => meta.dispatchedAt).map((meta) => meta.id));

    const report = checkIssues(await localIssues(setup.config.dataDir), identities);
    const counted = (identity: string) => progress.get(`alert/generic/${identity}`)?.occurrences === DELIVERIES;
    const held = (alert: (typeof sent)[number]) => {
      const identity = JSON.parse(alert.body).id as string;
      return report.held.has(identity) && counted(identity);
    };
    const retried = sent.filter((alert) => alert.failures.length > 0);
    recordTrial({
      fault: 'intake SIGKILLed twice mid-burst (once holding archived, undispatched deliveries) and restarted; sender retrying',
      tried: sent.length,
      held: sent.filter(held).length,
      check: `accepted alerts = issues (${IDENTITIES} identities), each delivery counted once`,
    });
    recordTrial({ fault: 'requests cut by the intake kills, retried by the sender', tried: retried.length, held: retried.filter(held).length, check: 'on its issue once, counted once' });
    recordTrial({
      fault: 'deliveries archived but not yet dispatched when intake was killed',
      tried: stranded.length,
      held: stranded.filter((id) => handedOver.has(id)).length,
      check: 'handed over later (sender retry or archive sweeper), counted once',
    });
    recordTrial({
      fault: '… of which answered 202 undispatched before the kill (the sender done with them)',
      tried: sweptOnly.length,
      held: sweptOnly.filter((id) => handedOver.has(id)).length,
      check: 'handed over by the archive sweeper, counted once',
    });

    expect(report.problems).toEqual([]);
    expect(identities.filter((identity) => !counted(identity))).toEqual([]);
    expect(sweptOnly.length).toBeGreaterThan(0);
    expect(stranded.length).toBeGreaterThan(sweptOnly.length);
    expect(stranded.filter((id) => !handedOver.has(id))).toEqual([]);
    expect(sent.filter((alert) => !held(alert)).map((alert) => alert.key)).toEqual([]);
  });
});
