// Chromium SIGKILLed in the middle of a screenshot: the browser worker (a process of its own) has
// the page open, its request held by the test's web server, when its Chromium dies. The screenshot
// is taken again by a fresh Chromium; when Chromium dies at every attempt, the screenshot is reported
// as failed. Either way the investigation completes, and no Chromium process is left behind.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLocalTracker } from '../../activities/tracker/local';
import { createLogger } from '../../lib/logger';
import { startIntake } from '../../workers/intake';
import { descendants, survivors } from '../helpers/processes';
import { claimNamespace } from '../helpers/vigil';
import { startGate, type Gate } from './faults/gate';
import { checkIssues, localIssues, progressOf } from './faults/invariant';
import { genericAlert, startSender, type OutgoingAlert } from './faults/sender';
import { quickerRetries } from './faults/temporal';
import { allFenceRefusals, chromiumBelow, INTAKE_TOKEN, prepareVigil, startBrowserWorker, startWorker, stopRoles, type RoleProcess, type VigilSetup } from './faults/vigil-processes';
import { recordTrial } from './tally';

const ACCOUNT = '111122223333';
const page = '<!doctype html><title>Reliability</title><body style="background:#efe">A page whose browser dies.</body>';

let retriedSite: Gate;
let failingSite: Gate;
let setup: VigilSetup;
let connection: Connection;
let client: Client;
let intake: { app: FastifyInstance; url: string };
let browser: RoleProcess;
/** Every Chromium process seen, checked at the end. */
const seen = new Set<number>();

const site = () =>
  startGate({ answer: (request) => (request.url === '/' ? { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: page } : { status: 404, body: 'not found' }) });
const portOf = (gate: Gate) => Number(new URL(gate.url).port);

beforeAll(async () => {
  [retriedSite, failingSite] = await Promise.all([site(), site()]);
  setup = await prepareVigil({
    temporalAddress: inject('temporalAddress'),
    namespace: await claimNamespace(),
    settings: async (dir) => {
      const inventoryFile = path.join(dir, 'inventory.json');
      const resource = (id: string, port: number) => ({ id, account: ACCOUNT, region: 'eu-west-1', addresses: ['127.0.0.1'], open: [{ name: id, ports: port }] });
      await writeFile(inventoryFile, JSON.stringify({ resources: [resource('i-web-retried-1', portOf(retriedSite)), resource('i-web-retried-2', portOf(retriedSite)), resource('i-web-failing', portOf(failingSite))] }));
      return { inventory: { static: { files: [inventoryFile] } }, screenshots: { enabled: true, chromium: '/usr/bin/chromium', timeoutMs: 120_000 } };
    },
  });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: setup.config.temporal.namespace });
  intake = await startIntake({ config: setup.config, token: INTAKE_TOKEN, client, logger: createLogger('reliability-intake', 'silent') });
  [, browser] = await Promise.all([startWorker(setup, client), startBrowserWorker(setup, client)]);
});

afterAll(async () => {
  const leftBehind = await stopRoles();
  await intake?.app.close();
  await Promise.all([retriedSite?.close(), failingSite?.close()]);
  await connection?.close();
  await setup?.remove();
  expect(leftBehind).toEqual([]);
  expect(allFenceRefusals().filter((line) => line.includes('refused a connection'))).toEqual([]);
});

/** Chromium's main process: the browser worker's child (its renderers and helpers are below it). */
function chromiumMain(): number {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=,pgid=,args='], { encoding: 'utf8' }).trim().split('\n');
  for (const line of table) {
    const [pid, ppid, , ...args] = line.trim().split(/\s+/);
    if (Number(ppid) === browser.pid && args.join(' ').includes('chrom')) return Number(pid);
  }
  throw new Error(`no Chromium below the browser worker (pid ${browser.pid})`);
}

/** SIGKILLs Chromium (its whole process group when it leads one) and says which processes it had. */
async function killChromium(): Promise<{ killed: number[]; left: string[] }> {
  const main = chromiumMain();
  const killed = [main, ...descendants(main)];
  for (const pid of killed) seen.add(pid);
  const group = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(main)], { encoding: 'utf8' }).trim());
  process.kill(group === main ? -main : main, 'SIGKILL');
  return { killed, left: await survivors(killed, 10_000) };
}

const chromeAsksFor = (request: { headers: Record<string, unknown> }) => /Chrome\//.test(String(request.headers['user-agent']));

const exposureAlert = (id: string, resource: string, port: number): OutgoingAlert =>
  genericAlert(id, { kind: 'exposure', cloud: { provider: 'aws', account: ACCOUNT, region: 'eu-west-1' }, resources: [{ type: 'aws:ec2:instance', id: resource }], network: { ports: [port], protocol: 'tcp' } });

async function send(alert: OutgoingAlert): Promise<void> {
  const [sent] = await startSender([alert], { url: intake.url }).done;
  expect(sent!.accepted).toBeDefined();
}

async function evidenceOf(fingerprint: string) {
  const tracker = createLocalTracker({ root: path.join(setup.config.dataDir, 'tracker') });
  return (await tracker.findIssue(fingerprint))?.evidence ?? [];
}

describe('Chromium SIGKILLed mid-screenshot', () => {
  it('takes the screenshot again with a fresh Chromium, or reports it failed, and the investigation completes', async () => {
    // Two machines: a second exposure of one machine would join the first's open investigation.
    const retried = [exposureAlert('chromium-retried-1', 'i-web-retried-1', portOf(retriedSite)), exposureAlert('chromium-retried-2', 'i-web-retried-2', portOf(retriedSite))];
    const kills: Array<{ killed: number[]; left: string[] }> = [];

    // Killed once: the next attempt gets a fresh Chromium and the picture (taken before the next
    // alert, so that each hold catches its own alert's page).
    for (const alert of retried) {
      const held = retriedSite.hold(chromeAsksFor, 'before');
      await send(alert);
      await held;
      kills.push(await killChromium());
      await progressOf(client, [`alert/generic/${alert.key}`]);
    }
    // Killed at every attempt (as many as the workflow allows): the screenshot is reported as failed.
    const failing = exposureAlert('chromium-every-attempt', 'i-web-failing', portOf(failingSite));
    let attempts = 1;
    const everyAttempt = (async () => {
      let held: Promise<unknown> = failingSite.hold(chromeAsksFor, 'before');
      for (let attempt = 1; attempt <= attempts; attempt++) {
        await held;
        if (attempt === 1) {
          const { raw } = await client.workflow.getHandle(`alert/generic/${failing.key}`).describe();
          attempts = (raw.pendingActivities ?? []).find((activity) => activity.activityType?.name === 'takeScreenshot')?.maximumAttempts ?? 0;
          if (attempts < 1) throw new Error('the screenshot activity has no bounded number of attempts to exhaust');
          // The attempts follow each other a second or two apart rather than five and ten.
          await quickerRetries(client, `alert/generic/${failing.key}`);
        }
        // The next attempt's hold is armed before this one's Chromium dies.
        if (attempt < attempts) held = failingSite.hold(chromeAsksFor, 'before');
        kills.push(await killChromium());
      }
    })();
    await send(failing);
    await everyAttempt;

    const alerts = [...retried, failing];
    const workflowIds = alerts.map((alert) => `alert/generic/${alert.key}`);
    const progress = await progressOf(client, workflowIds);
    const report = checkIssues(await localIssues(setup.config.dataDir), alerts.map((alert) => alert.key));
    const completed = (alert: OutgoingAlert) => report.held.has(alert.key) && !progress.get(`alert/generic/${alert.key}`)!.failedSteps?.length;
    const retriedHeld = [];
    for (const alert of retried) if (completed(alert) && (await evidenceOf(alert.key)).length > 0) retriedHeld.push(alert);
    const failingIssue = report.byFingerprint.get(failing.key);
    const reportedFailed =
      completed(failing) &&
      (await evidenceOf(failing.key)).length === 0 &&
      failingIssue !== undefined &&
      failingIssue.comments.some((comment) => comment.body.includes(`127.0.0.1:${portOf(failingSite)}`));

    // Stopped, the browser worker takes its current Chromium with it.
    const current = chromiumBelow(browser.pid);
    for (const pid of current) seen.add(pid);
    await browser.stop();
    const leftAtEnd = await survivors([...seen], 10_000);
    const leftAfterKills = kills.flatMap((kill) => kill.left);

    recordTrial({ fault: 'Chromium SIGKILLed mid-screenshot (page request held), once', tried: retried.length, held: retriedHeld.length, check: 'screenshot taken again by a fresh Chromium; investigation completes' });
    recordTrial({ fault: 'Chromium SIGKILLed at every attempt of a screenshot', tried: 1, held: reportedFailed ? 1 : 0, check: 'screenshot reported as failed; investigation completes' });
    recordTrial({ fault: 'Chromium processes after the kills and the browser worker stopped', tried: seen.size, held: seen.size - leftAtEnd.length, check: 'none left running' });

    expect(report.problems).toEqual([]);
    expect(retriedHeld.map((alert) => alert.key)).toEqual(retried.map((alert) => alert.key));
    expect(reportedFailed).toBe(true);
    expect(kills).toHaveLength(retried.length + attempts);
    expect(leftAfterKills).toEqual([]);
    expect(leftAtEnd).toEqual([]);
  });
});
