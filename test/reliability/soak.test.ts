// A soak: alerts at a steady rate for a couple of minutes, new identities and repeats of earlier ones
// mixed, into `vigil intake` and `vigil worker` as processes of their own. Every alert is accounted
// for (one issue per identity, every delivery counted once), and the memory of both processes, after
// a garbage collection, is about where it was once warmed up. The figures go into the tally.
import { Client, Connection } from '@temporalio/client';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { claimNamespace } from '../helpers/vigil';
import { checkIssues, localIssues, progressOf } from './faults/invariant';
import { memoryAfterGc, mib, type MemoryUse } from './faults/memory';
import { genericAlert, startSender, type OutgoingAlert } from './faults/sender';
import { allFenceRefusals, memoryProbe, prepareVigil, startIntakeProcess, startWorker, stopRoles, type VigilSetup } from './faults/vigil-processes';
import { recordTrial } from './tally';

/** 2,000 alerts at 20 a second: a hundred seconds. */
const TOTAL = 2000;
const RATE = 20;
/** The first quarter warms up: most identities appear there; later, one alert in ten is new. */
const WARM_UP = TOTAL / 4;

let setup: VigilSetup;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  setup = await prepareVigil({ temporalAddress: inject('temporalAddress'), namespace: await claimNamespace(), settings: { intake: { port: await getPort() } } });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: setup.config.temporal.namespace });
});

afterAll(async () => {
  const leftBehind = await stopRoles();
  await connection?.close();
  await setup?.remove();
  expect(leftBehind).toEqual([]);
  expect(allFenceRefusals()).toEqual([]);
});

/** The stream, the same at every run: identities, and each delivery a body of its own. */
function stream(): { alerts: OutgoingAlert[]; deliveries: Map<string, number> } {
  let seed = 13;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const deliveries = new Map<string, number>();
  const alerts: OutgoingAlert[] = [];
  for (let n = 0; n < TOTAL; n++) {
    const fresh = deliveries.size === 0 || random() < (n < WARM_UP ? 0.7 : 0.1);
    const identity = fresh ? `soak-${deliveries.size}` : `soak-${Math.floor(random() * deliveries.size)}`;
    const delivery = (deliveries.get(identity) ?? 0) + 1;
    deliveries.set(identity, delivery);
    // One identity in five is about actors (checked against the feeds' copies and the ASN data).
    const number = Number(identity.slice('soak-'.length));
    const extra = number % 5 === 0 ? { kind: 'actor', actors: { ips: [`198.51.100.${number % 250}`] } } : {};
    alerts.push({ ...genericAlert(identity, { description: `delivery ${delivery}`, ...extra }), key: `${identity}#${delivery}` });
  }
  return { alerts, deliveries };
}

const describeMemory = (role: string, warm: MemoryUse, end: MemoryUse) =>
  `${role} RSS ${mib(warm.rss)} → ${mib(end.rss)} MiB, heap ${mib(warm.heapUsed)} → ${mib(end.heapUsed)} MiB`;
/** Flat, generously: at most half again, plus room for caches that fill once (the workflow cache, the ASN data). */
const flat = (warm: number, end: number, slackMiB: number) => end <= warm * 1.5 + slackMiB * 1024 * 1024;

describe('a soak at a steady rate', () => {
  it('accounts for every alert and keeps memory flat', async () => {
    const [intake, worker] = await Promise.all([startIntakeProcess(setup, { preload: [memoryProbe] }), startWorker(setup, client, { preload: [memoryProbe] })]);
    const { alerts, deliveries } = stream();
    const sender = startSender(alerts, { url: intake.url, concurrency: 16, ratePerSecond: RATE });

    while (sender.accepted() < WARM_UP) await new Promise((resolve) => setTimeout(resolve, 100));
    const [intakeWarm, workerWarm] = await Promise.all([memoryAfterGc(intake), memoryAfterGc(worker)]);

    const sent = await sender.done;
    expect(sent.filter((alert) => !alert.accepted).map((alert) => alert.key)).toEqual([]);
    const identities = [...deliveries.keys()];
    const progress = await progressOf(
      client,
      identities.map((identity) => `alert/generic/${identity}`),
      { done: (p, workflowId) => p.firstReportComplete === true && p.occurrences >= deliveries.get(workflowId.slice('alert/generic/'.length))!, timeoutMs: 300_000 },
    );
    const [intakeEnd, workerEnd] = await Promise.all([memoryAfterGc(intake), memoryAfterGc(worker)]);

    const report = checkIssues(await localIssues(setup.config.dataDir), identities);
    const counted = (identity: string) => progress.get(`alert/generic/${identity}`)?.occurrences === deliveries.get(identity);
    const held = sent.filter((alert) => {
      const identity = JSON.parse(alert.body).id as string;
      return report.held.has(identity) && counted(identity);
    });
    recordTrial({
      fault: `soak: ${TOTAL} alerts at ${RATE}/s, ${identities.length} identities (new ones and repeats mixed)`,
      tried: sent.length,
      held: held.length,
      check: `accepted alerts = issues, each delivery counted once (${sender.retried()} requests retried)`,
    });
    const intakeFlat = flat(intakeWarm.rss, intakeEnd.rss, 96) && flat(intakeWarm.heapUsed, intakeEnd.heapUsed, 32);
    const workerFlat = flat(workerWarm.rss, workerEnd.rss, 128) && flat(workerWarm.heapUsed, workerEnd.heapUsed, 64);
    recordTrial({
      fault: 'soak: memory of intake and worker after warm-up and at the end, each after a garbage collection',
      tried: 2,
      held: [intakeFlat, workerFlat].filter(Boolean).length,
      check: `within ×1.5 + slack: ${describeMemory('intake', intakeWarm, intakeEnd)}; ${describeMemory('worker', workerWarm, workerEnd)}`,
    });

    expect(report.problems).toEqual([]);
    expect(identities.filter((identity) => !counted(identity))).toEqual([]);
    expect(held.length).toBe(sent.length);
    expect({ intake: describeMemory('intake', intakeWarm, intakeEnd), flat: intakeFlat }).toMatchObject({ flat: true });
    expect({ worker: describeMemory('worker', workerWarm, workerEnd), flat: workerFlat }).toMatchObject({ flat: true });
  });
});
