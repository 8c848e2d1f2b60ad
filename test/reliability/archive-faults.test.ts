// The archive failing under intake: the local archive folder unwritable, and the S3 archive (moto)
// unreachable. Intake answers 503 and starts nothing; the sender retries, and once the archive is
// back every alert becomes its issue, once. Intake and the worker run as processes of their own.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startMoto, type Moto } from '../helpers/moto';
import { claimNamespace } from '../helpers/vigil';
import { checkIssues, localIssues, progressOf } from './faults/invariant';
import { genericAlert, startSender, type OutgoingAlert, type Sender } from './faults/sender';
import { startTcpProxy, type TcpProxy } from './faults/tcp-proxy';
import { allFenceRefusals, prepareVigil, startIntakeProcess, startWorker, stopRoles, type VigilSetup } from './faults/vigil-processes';
import { recordTrial } from './tally';

let connection: Connection;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
});

afterAll(async () => {
  const leftBehind = await stopRoles();
  for (const cleanup of cleanups.reverse()) await cleanup();
  await connection?.close();
  expect(leftBehind).toEqual([]);
  expect(allFenceRefusals()).toEqual([]);
});

/** Waits until every alert has been refused with 503 at least once. */
async function everyRefused(sender: Sender): Promise<void> {
  while (!sender.sent.every((alert) => alert.failures.includes('503'))) {
    if (sender.sent.some((alert) => alert.accepted)) throw new Error('an alert was accepted while the archive was failing');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The workflows of these alerts that exist (there must be none while the archive fails). */
async function started(client: Client, alerts: OutgoingAlert[]): Promise<string[]> {
  const found: string[] = [];
  for (const alert of alerts) {
    const workflowId = `alert/generic/${JSON.parse(alert.body).id}`;
    try {
      await client.workflow.getHandle(workflowId).describe();
      found.push(workflowId);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return found;
}

/**
 * Sends `alerts` while the archive fails (`breakArchive`), checks the 503s and that nothing
 * started, heals it, and accounts for every alert. Records the outcome as `fault`.
 */
async function scenario(setup: VigilSetup, fault: string, alerts: OutgoingAlert[], breakArchive: () => Promise<void>, heal: () => Promise<void>) {
  const client = new Client({ connection, namespace: setup.config.temporal.namespace });
  const [intake] = await Promise.all([startIntakeProcess(setup), startWorker(setup, client)]);
  await breakArchive();
  const sender = startSender(alerts, { url: intake.url, concurrency: alerts.length, maxRetryAfterMs: 1000 });
  await everyRefused(sender);
  const startedMeanwhile = await started(client, alerts);
  await heal();
  const sent = await sender.done;

  const identities = alerts.map((alert) => JSON.parse(alert.body).id as string);
  await progressOf(client, identities.map((id) => `alert/generic/${id}`));
  const report = checkIssues(await localIssues(setup.config.dataDir), identities);
  const held = sent.filter((alert) => alert.accepted && alert.failures.includes('503') && report.held.has(JSON.parse(alert.body).id) && !startedMeanwhile.includes(`alert/generic/${JSON.parse(alert.body).id}`));
  recordTrial({ fault, tried: sent.length, held: held.length, check: '503 while failing, nothing started; once healed, accepted and on one issue each' });

  expect(startedMeanwhile).toEqual([]);
  expect(sent.filter((alert) => !alert.accepted).map((alert) => alert.key)).toEqual([]);
  expect(report.problems).toEqual([]);
  expect(held.length).toBe(sent.length);
}

describe('the local archive unwritable', () => {
  let setup: VigilSetup;
  beforeAll(async () => {
    setup = await prepareVigil({ temporalAddress: inject('temporalAddress'), namespace: await claimNamespace(), settings: { intake: { port: await getPort() } } });
    cleanups.push(() => setup.remove());
  });

  it('answers 503, starts nothing, and takes every alert once the folder is back', async () => {
    // The tests run as root, which permissions do not stop: the folder is replaced by a file.
    const archiveDir = path.join(setup.config.dataDir, 'archive');
    const alerts = Array.from({ length: 10 }, (_, n) => genericAlert(`archive-local-${n}`));
    await scenario(
      setup,
      'local archive unwritable (its folder replaced by a file), then back',
      alerts,
      async () => {
        await rm(archiveDir, { recursive: true, force: true });
        await mkdir(setup.config.dataDir, { recursive: true });
        await writeFile(archiveDir, 'not a folder');
      },
      () => rm(archiveDir, { force: true }),
    );
  });
});

describe('the S3 archive unreachable', () => {
  let moto: Moto;
  let proxy: TcpProxy;
  let setup: VigilSetup;
  beforeAll(async () => {
    moto = await startMoto();
    cleanups.push(() => moto.stop());
    const s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: moto.credentials });
    await s3.send(new CreateBucketCommand({ Bucket: 'vigil-archive' }));
    s3.destroy();
    const { hostname, port } = new URL(moto.endpoint);
    proxy = await startTcpProxy({ host: hostname, port: Number(port) });
    cleanups.push(() => proxy.close());
    setup = await prepareVigil({
      temporalAddress: inject('temporalAddress'),
      namespace: await claimNamespace(),
      settings: {
        intake: { port: await getPort() },
        archive: { kind: 's3', bucket: 'vigil-archive', prefix: 'reliability/', region: 'us-east-1', endpoint: proxy.url, forcePathStyle: true },
      },
      // The roles' own credentials, as the AWS SDK's default chain finds them.
      env: { AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey },
    });
    cleanups.push(() => setup.remove());
  });

  it('answers 503, starts nothing, and takes every alert once S3 answers again', async () => {
    const alerts = Array.from({ length: 10 }, (_, n) => genericAlert(`archive-s3-${n}`));
    await scenario(
      setup,
      'S3 archive unreachable (moto behind a proxy that cuts every connection), then back',
      alerts,
      async () => proxy.setMode('refuse'),
      async () => proxy.setMode('forward'),
    );
  });
});
