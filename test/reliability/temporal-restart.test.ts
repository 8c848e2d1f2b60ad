// Temporal restarted on its database while alerts arrive: a dev server of the test's own (SQLite
// with WAL), stopped with SIGTERM and later killed with SIGKILL, each time started again on the same
// database file, in the middle of a burst from a sender that retries. Intake and the worker run as
// processes of their own and stay up throughout. Every alert is accounted for: one issue per
// identity, every delivery counted once, the ones intake could not hand over swept in later.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIssues, localIssues, progressOf } from './faults/invariant';
import { genericAlert, startSender } from './faults/sender';
import { startOwnTemporal, type OwnTemporal } from './faults/temporal';
import { allFenceRefusals, prepareVigil, startIntakeProcess, startWorker, stopRoles, type VigilSetup } from './faults/vigil-processes';
import { recordTrial } from './tally';

const NAMESPACE = 'vigil-restart';
const IDENTITIES = 50;
const DELIVERIES = 3;

let stateDir: string;
let temporal: OwnTemporal;
let setup: VigilSetup;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-restart-temporal-'));
  temporal = await startOwnTemporal(stateDir, [NAMESPACE]);
  setup = await prepareVigil({
    temporalAddress: temporal.address,
    namespace: NAMESPACE,
    settings: {
      // Intake gives up on Temporal soon (202, undispatched) and the sweeper comes by often.
      intake: { port: await getPort(), dispatchTimeoutMs: 2000 },
      sweeper: { every: '10s' },
    },
  });
});

afterAll(async () => {
  const leftBehind = await stopRoles();
  if (temporal?.running()) await temporal.stop();
  await setup?.remove();
  await rm(stateDir, { recursive: true, force: true });
  expect(leftBehind).toEqual([]);
  expect(allFenceRefusals()).toEqual([]);
});

describe('Temporal restarted on its database mid-burst', () => {
  it('loses no alert and doubles nothing', async () => {
    // One client for the test, over the restarts (its channel connects again by itself).
    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, namespace: NAMESPACE });
    const [intake, worker] = await Promise.all([startIntakeProcess(setup), startWorker(setup, client)]);

    // Each identity delivered three times, the repeats spread over the whole burst (and so across
    // both restarts); each delivery is a body of its own.
    const alerts = Array.from({ length: IDENTITIES * DELIVERIES }, (_, n) => {
      const identity = `restart-${n % IDENTITIES}`;
      return { ...genericAlert(identity, { description: `delivery ${Math.floor(n / IDENTITIES) + 1}` }), key: `${identity}#${n}` };
    });
    const sender = startSender(alerts, { url: intake.url, concurrency: 8, ratePerSecond: 10 });
    const acceptedAtLeast = async (count: number) => {
      while (sender.accepted() < count) await new Promise((resolve) => setTimeout(resolve, 50));
    };

    await acceptedAtLeast(30);
    await temporal.stop();
    await temporal.start();
    await acceptedAtLeast(90);
    await temporal.kill();
    await temporal.start();
    const sent = await sender.done;
    expect(sent.filter((alert) => !alert.accepted).map((alert) => alert.key)).toEqual([]);

    try {
      const workflowIds = [...new Set(sent.map((alert) => alert.accepted!.alerts[0]!.workflowId))];
      const progress = await progressOf(client, workflowIds, { done: (p) => p.firstReportComplete === true && p.occurrences >= DELIVERIES });
      const identities = [...new Set(sent.map((alert) => alert.accepted!.alerts[0]!.fingerprint))];
      const report = checkIssues(await localIssues(setup.config.dataDir), identities);
      const counted = (fingerprint: string) => progress.get(`alert/generic/${fingerprint}`)?.occurrences === DELIVERIES;
      const heldAlerts = sent.filter((alert) => report.held.has(alert.accepted!.alerts[0]!.fingerprint) && counted(alert.accepted!.alerts[0]!.fingerprint));
      const undispatched = sent.filter((alert) => alert.accepted!.alerts.some((a) => !a.dispatched));
      const sweptHeld = undispatched.filter((alert) => heldAlerts.includes(alert));

      recordTrial({
        fault: 'Temporal stopped (SIGTERM), later killed (SIGKILL), each time restarted on its database, mid-burst',
        tried: sent.length,
        held: heldAlerts.length,
        check: `accepted alerts = issues (${IDENTITIES} identities), each delivery counted once; ${sender.retried()} requests retried`,
      });
      recordTrial({
        fault: 'alerts answered 202 undispatched while Temporal was away',
        tried: undispatched.length,
        held: sweptHeld.length,
        check: 'delivered by the archive sweeper once Temporal was back; counted once',
      });

      expect(report.problems).toEqual([]);
      expect(identities.filter((fingerprint) => !counted(fingerprint))).toEqual([]);
      expect(heldAlerts.length).toBe(sent.length);
      expect(worker.exited(), 'the worker outlives the restarts').toBe(false);
      expect(intake.exited(), 'intake outlives the restarts').toBe(false);
    } finally {
      await connection.close();
    }
  });
});
