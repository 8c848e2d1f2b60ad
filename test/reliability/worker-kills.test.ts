// The worker SIGKILLed while inside each kind of activity, and started again: every investigation
// completes, with one issue per alert and no comment twice. `vigil worker` and `vigil browser-worker`
// run as processes of their own. Each alert is held inside one step by the step's own effect: its
// issue created on GitHub with the answer held back, its first comment posted on GitHub with the
// answer held back, its Cloud Asset request held, the probe's connection held open by the target,
// its threat-intelligence request held, its page held open while Chromium loads it. The worker
// running the step is killed while it is held there.
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLocalTracker } from '../../activities/tracker/local';
import { createLogger } from '../../lib/logger';
import { commentMarker, issueMarker } from '../../lib/markers';
import { startIntake } from '../../workers/intake';
import { startCloudAssetServer, type CloudAssetServer } from '../helpers/cloud-asset-server';
import { githubTrackerSettings, startFakeGitHub, type FakeGitHub } from '../helpers/github-server';
import { survivors } from '../helpers/processes';
import { claimNamespace } from '../helpers/vigil';
import { startGate, type Gate, type GateRequest } from './faults/gate';
import { checkIssues, gitHubIssues, localIssues, progressOf, type TrackedIssue } from './faults/invariant';
import { genericAlert, startSender, type OutgoingAlert } from './faults/sender';
import { hastenActivitiesOf } from './faults/temporal';
import {
  allFenceRefusals,
  chromiumBelow,
  INTAKE_TOKEN,
  prepareVigil,
  startBrowserWorker,
  startWorker,
  stopRoles,
  type RoleProcess,
  type VigilSetup,
} from './faults/vigil-processes';
import { recordTrial } from './tally';

const GITHUB_TOKEN = 'ghp_reliabilityKills0123456789abcdef';
const GCP_TOKEN = 'ya29.reliability-kills-0123456789';
const ACCOUNT = '111122223333';
const ISSUES = /^\/repos\/acme\/security\/issues$/;
const COMMENTS = /^\/repos\/acme\/security\/issues\/\d+\/comments$/;
const CHECK = 'investigation completes, the step reported; one issue, no comment marker twice';

let connection: Connection;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
});

afterAll(async () => {
  const leftBehind = await stopRoles();
  for (const close of closers.reverse()) await close();
  await connection?.close();
  expect(leftBehind, 'processes left behind by the roles').toEqual([]);
  expect(allFenceRefusals().filter((line) => line.includes('refused a connection'))).toEqual([]);
});

/** One Vigil: its configuration, intake in this process, the worker (and browser worker) as processes. */
interface Stack {
  setup: VigilSetup;
  client: Client;
  intakeUrl: string;
  worker: RoleProcess;
  browser?: RoleProcess;
}

async function startStack(settings: (dir: string) => Promise<Record<string, unknown>> | Record<string, unknown>, env: NodeJS.ProcessEnv, browser: boolean): Promise<Stack> {
  const setup = await prepareVigil({ temporalAddress: inject('temporalAddress'), namespace: await claimNamespace(), settings, env });
  closers.push(() => setup.remove());
  const client = new Client({ connection, namespace: setup.config.temporal.namespace });
  const intake: { app: FastifyInstance; url: string } = await startIntake({
    config: setup.config,
    token: INTAKE_TOKEN,
    client,
    logger: createLogger('reliability-intake', 'silent'),
  });
  closers.push(() => intake.app.close());
  const [worker, browserWorker] = await Promise.all([startWorker(setup, client), browser ? startBrowserWorker(setup, client) : undefined]);
  return { setup, client, intakeUrl: intake.url, worker, browser: browserWorker };
}

/**
 * SIGKILLs one of the stack's workers, brings forward the attempts it had started, and starts it
 * again. Says, per investigation, which activities the dead worker was running.
 */
async function killAndRestart(stack: Stack, role: 'worker' | 'browser-worker', workflowIds: string[]): Promise<Map<string, string[]>> {
  const victim = role === 'worker' ? stack.worker : stack.browser!;
  await victim.kill();
  const inFlight = new Map<string, string[]>();
  for (const workflowId of workflowIds) inFlight.set(workflowId, await hastenActivitiesOf(stack.client, workflowId, victim.pid, 10));
  if (role === 'worker') stack.worker = await startWorker(stack.setup, stack.client);
  else stack.browser = await startBrowserWorker(stack.setup, stack.client);
  return inFlight;
}

/** A kind of activity, the alert held inside it, the hold, and the step's outcome once complete. */
interface KillPoint {
  kind: string;
  /** The activity the killed worker must have been running for this alert. */
  activity: string;
  alert: OutgoingAlert;
  arm(): Promise<unknown>;
  done(stack: Stack, issue: TrackedIssue | undefined): Promise<boolean>;
}

const workflowOf = (fingerprint: string) => `alert/generic/${fingerprint}`;
const bodyHas = (request: GateRequest, text: string) => request.body.toString('utf8').includes(text);
/** A marker without its closing, so that longer keys (`<workflow>/<run>#step`) match too. */
const markerPrefix = (marker: string) => marker.replace(/ -->$/, '');
const progress = async (stack: Stack, workflowId: string) => (await progressOf(stack.client, [workflowId], { timeoutMs: 10_000 })).get(workflowId)!;

/** Sends the alerts (retrying until accepted) and waits for each to be held inside its step. */
async function sendAndHold(stack: Stack, points: KillPoint[]): Promise<void> {
  const holds = points.map((point) => point.arm());
  const sender = startSender(
    points.map((point) => point.alert),
    { url: stack.intakeUrl, concurrency: points.length },
  );
  expect((await sender.done).every((alert) => alert.accepted)).toBe(true);
  await Promise.all(holds);
}

/** Completion and the invariant for the kill points, each recorded in the tally. */
async function account(stack: Stack, points: KillPoint[], issues: () => Promise<TrackedIssue[]>, inFlight: Map<string, string[]>, who: (point: KillPoint) => string) {
  const workflowIds = points.map((point) => workflowOf(point.alert.key));
  const progressById = await progressOf(stack.client, workflowIds);
  const report = checkIssues(await issues(), points.map((point) => point.alert.key));
  const failures: string[] = [...report.problems];
  for (const point of points) {
    const workflowId = workflowOf(point.alert.key);
    const wasInside = (inFlight.get(workflowId) ?? []).includes(point.activity);
    const failedSteps = progressById.get(workflowId)!.failedSteps ?? [];
    const reported = await point.done(stack, report.byFingerprint.get(point.alert.key));
    const held = wasInside && report.held.has(point.alert.key) && failedSteps.length === 0 && reported;
    if (!wasInside) failures.push(`${point.kind}: the killed worker was running ${JSON.stringify(inFlight.get(workflowId))} of ${workflowId}, not ${point.activity}`);
    if (failedSteps.length > 0) failures.push(`${point.kind}: failed steps ${failedSteps.join(', ')}`);
    if (!reported) failures.push(`${point.kind}: the step's outcome is missing`);
    recordTrial({ fault: `${who(point)} SIGKILLed inside ${point.kind}`, tried: 1, held: held ? 1 : 0, check: CHECK });
  }
  expect(failures).toEqual([]);
}

describe('the worker and the browser worker SIGKILLed inside inventory, probe, actor and screenshot activities', () => {
  let stack: Stack;
  let assets: CloudAssetServer;
  let assetGate: Gate;
  let intel: Gate;
  let web: Gate;
  let probePort: number;
  const probeHolds: Array<(socket: net.Socket) => void> = [];

  beforeAll(async () => {
    assets = await startCloudAssetServer({ tokens: [GCP_TOKEN] });
    assetGate = await startGate({ upstream: assets.url });
    intel = await startGate({
      answer: () => ({ status: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ detail: 'No information available' }) }),
    });
    web = await startGate({
      answer: (request) =>
        request.url === '/'
          ? { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<!doctype html><title>Reliability</title><body style="background:#eef">A page.</body>' }
          : { status: 404, body: 'not found' },
    });
    // The probed port: a connection a test waits for is held open and silent; others are closed.
    const sockets = new Set<net.Socket>();
    const probeTarget = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      const hold = probeHolds.shift();
      if (hold) hold(socket);
      else socket.end();
    });
    await new Promise<void>((resolve) => probeTarget.listen(0, '127.0.0.1', resolve));
    probePort = (probeTarget.address() as net.AddressInfo).port;
    closers.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => probeTarget.close(resolve));
      await Promise.all([assetGate.close(), intel.close(), web.close(), assets.close()]);
    });

    stack = await startStack(
      async (dir) => {
        // Two machines on loopback: one whose port the probe connects to, one serving a web page.
        const inventoryFile = path.join(dir, 'inventory.json');
        const resource = (id: string, port: number) => ({ id, account: ACCOUNT, region: 'eu-west-1', addresses: ['127.0.0.1'], open: [{ name: id, ports: port }] });
        await writeFile(inventoryFile, JSON.stringify({ resources: [resource('i-rel-probe', probePort), resource('i-rel-web', Number(new URL(web.url).port))] }));
        return {
          inventory: {
            static: { files: [inventoryFile] },
            gcp: { scopes: ['projects/vigil-reliability'], endpoint: assetGate.url, accessToken: { env: 'VIGIL_RELIABILITY_GCP_TOKEN' } },
          },
          intel: { providers: { 'shodan-internetdb': { baseUrl: intel.url } } },
          // The held connection stays held until the kill, whatever the machine's pace.
          probe: { connectTimeoutMs: 5000, serviceTimeoutMs: 120_000 },
          screenshots: { enabled: true, chromium: '/usr/bin/chromium', timeoutMs: 120_000 },
        };
      },
      { VIGIL_RELIABILITY_GCP_TOKEN: GCP_TOKEN },
      true,
    );
  });

  it('completes every investigation, with one issue each and no comment twice', async () => {
    const aws = { provider: 'aws', account: ACCOUNT, region: 'eu-west-1' };
    const local = () => localIssues(stack.setup.config.dataDir);
    const context: KillPoint = {
      kind: 'collectContext (its Cloud Asset API request held)',
      activity: 'collectContext',
      alert: genericAlert('kill-context', {
        kind: 'resource',
        cloud: { provider: 'gcp', account: 'vigil-reliability-kill' },
        resources: [{ type: 'gcp:compute:instance', id: '//compute.googleapis.com/projects/vigil-reliability-kill/zones/europe-west1-b/instances/vm-1' }],
      }),
      arm: () => assetGate.hold((request) => request.url.includes('projects/vigil-reliability-kill/assets'), 'before'),
      done: async (s) => (await progress(s, workflowOf('kill-context'))).context !== undefined,
    };
    const probe: KillPoint = {
      kind: 'checkExposures (its probe connection held open)',
      activity: 'checkExposures',
      alert: genericAlert('kill-probe', { kind: 'exposure', cloud: aws, resources: [{ type: 'aws:ec2:instance', id: 'i-rel-probe' }], network: { ports: [probePort], protocol: 'tcp' } }),
      arm: () => new Promise((resolve) => probeHolds.push(resolve)),
      done: async (s) => (await progress(s, workflowOf('kill-probe'))).openEndpoints?.includes(`127.0.0.1:${probePort}`) === true,
    };
    const actors: KillPoint = {
      kind: 'checkActors (its threat-intelligence request held)',
      activity: 'checkActors',
      alert: genericAlert('kill-actors', { kind: 'actor', actors: { ips: ['203.0.113.17'] } }),
      arm: () => intel.hold((request) => request.url === '/203.0.113.17', 'before'),
      done: async (s) => (await progress(s, workflowOf('kill-actors'))).verdict !== undefined,
    };
    const screenshot: KillPoint = {
      kind: 'takeScreenshot (Chromium holding the page open)',
      activity: 'takeScreenshot',
      alert: genericAlert('kill-screenshot', { kind: 'exposure', cloud: aws, resources: [{ type: 'aws:ec2:instance', id: 'i-rel-web' }], network: { ports: [Number(new URL(web.url).port)], protocol: 'tcp' } }),
      arm: () => web.hold((request) => /Chrome\//.test(String(request.headers['user-agent'])), 'before'),
      // Taken again by the new browser worker: the picture is among the issue's evidence.
      done: async (_s, issue) => {
        const stored = issue && (await createLocalTracker({ root: path.join(stack.setup.config.dataDir, 'tracker') }).readIssue(issue.number));
        return (stored?.evidence.length ?? 0) > 0;
      },
    };
    const points = [context, probe, screenshot, actors];
    const workflowIds = points.map((point) => workflowOf(point.alert.key));

    // The browser worker dies as soon as Chromium asks for the page.
    const browserKill = (async () => {
      await sendAndHold(stack, [screenshot]);
      const chromium = chromiumBelow(stack.browser!.pid);
      const inFlight = await killAndRestart(stack, 'browser-worker', workflowIds);
      return { chromium, chromiumLeft: await survivors(chromium, 10_000), inFlight };
    })();
    // The main worker dies once inventory, actor and probe checks are all inside. The probe is held
    // last and the kill follows at once: its sweep waits for a banner only briefly, so holding it
    // while the others arrive let it finish first on a busy machine. The actor check's request gives
    // up after 10 s, longer than a probe takes to arrive.
    await sendAndHold(stack, [context]);
    await sendAndHold(stack, [actors]);
    await sendAndHold(stack, [probe]);
    const inFlight = await killAndRestart(stack, 'worker', workflowIds);
    const browserDeath = await browserKill;

    // What each worker was running when it died: the screenshot on the browser worker, the rest on the worker.
    const screenshotWorkflow = workflowOf(screenshot.alert.key);
    inFlight.set(screenshotWorkflow, browserDeath.inFlight.get(screenshotWorkflow) ?? []);
    await account(stack, points, local, inFlight, (point) => (point === screenshot ? 'browser worker' : 'worker'));
    const { chromium, chromiumLeft } = browserDeath;
    recordTrial({ fault: 'Chromium processes of the SIGKILLed browser worker', tried: chromium.length, held: chromium.length - chromiumLeft.length, check: 'none left running' });
    expect(chromium.length).toBeGreaterThan(0);
    expect(chromiumLeft).toEqual([]);
    expect(assets.problems).toEqual([]);
  });
});

describe('the worker SIGKILLed inside GitHub tracker activities whose request was carried out', () => {
  let stack: Stack;
  let github: FakeGitHub;
  let githubGate: Gate;

  beforeAll(async () => {
    github = await startFakeGitHub({ tokens: [GITHUB_TOKEN] });
    github.addRepo('acme', 'security', { branches: ['main', 'vigil-evidence'] });
    githubGate = await startGate({ upstream: github.url });
    closers.push(() => githubGate.close().then(() => github.close()));
    stack = await startStack(
      () => ({ tracker: githubTrackerSettings(githubGate.url, { token: 'VIGIL_RELIABILITY_GITHUB_TOKEN' }) }),
      { VIGIL_RELIABILITY_GITHUB_TOKEN: GITHUB_TOKEN },
      false,
    );
  });

  it('finds the issue and the comment it made, and makes neither twice', async () => {
    const issue: KillPoint = {
      kind: 'openIssueForAlert (the issue created on GitHub, the answer held back)',
      activity: 'openIssueForAlert',
      alert: genericAlert('kill-issue'),
      arm: () =>
        githubGate.hold((request) => request.method === 'POST' && ISSUES.test(request.url) && bodyHas(request, markerPrefix(issueMarker('kill-issue', workflowOf('kill-issue')))), 'after'),
      done: async (_s, found) => (found?.comments.length ?? 0) > 0,
    };
    const comment: KillPoint = {
      kind: 'commentAlertSummary (the comment posted on GitHub, the answer held back)',
      activity: 'commentAlertSummary',
      alert: genericAlert('kill-comment'),
      arm: () => githubGate.hold((request) => request.method === 'POST' && COMMENTS.test(request.url) && bodyHas(request, markerPrefix(commentMarker(workflowOf('kill-comment')))), 'after'),
      done: async (_s, found) => (found?.comments.length ?? 0) > 0,
    };
    const points = [issue, comment];
    await sendAndHold(stack, points);
    const inFlight = await killAndRestart(stack, 'worker', points.map((point) => workflowOf(point.alert.key)));
    await account(stack, points, async () => gitHubIssues(github.repo('acme', 'security')), inFlight, () => 'worker');
    expect(github.problems).toEqual([]);
  });
});
