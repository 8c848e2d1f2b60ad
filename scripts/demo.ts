// `vigil demo`: the whole stack on free ports and a fresh data folder, fed the demo alerts through
// the HTTP intake as a real sender would, then left running (or stopped, with --once).
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import getPort from 'get-port';
import { feedDefinitions } from '../activities/intel/feeds';
import { configSchema } from '../lib/config';
import { createLogger } from '../lib/logger';
import { recheckNow } from '../lib/investigation';
import { aimSshAlert, DEMO_ACCOUNT, DEMO_CREDENTIALS, DEMO_REGION, startDemoAws } from './demo-aws';
import { DEMO_STEP_TIMEOUT_MS, demoResponders, showRemediation } from './demo-response';
import { startDemoServices, type DemoServices } from './demo-services';
import { projectRoot } from './prerequisites';
import { recordHistories } from './record-histories';
import { progressOf, startStack, type Stack } from './stack';

const demoIntel = path.join(projectRoot, 'demo', 'intel');
const bundledAlerts = path.join(projectRoot, 'demo', 'alerts');

/** Every feed from its bundled snapshot (`demo/intel/<feed>.<ext>`); one without a snapshot is off: the demo downloads nothing. */
async function demoFeeds(): Promise<Record<string, { url: string } | { enabled: false }>> {
  const files = await readdir(demoIntel);
  return Object.fromEntries(
    feedDefinitions.map(({ name }) => {
      const file = files.find((candidate) => path.parse(candidate).name === name);
      return [name, file ? { url: pathToFileURL(path.join(demoIntel, file)).href } : { enabled: false as const }];
    }),
  );
}

export interface DemoOptions {
  once: boolean;
  json: boolean;
  alerts: string;
  /** A folder for every investigation's event history, as JSON. */
  saveHistories?: string;
}

interface Sent {
  file: string;
  archiveId: string;
  /** The investigations it went to, with the occurrence each reports (`<body sha256>#<n>`). */
  investigations: { workflowId: string; occurrence: string }[];
  workflowIds: string[];
}

async function sendAlert(stack: Stack, file: string): Promise<Sent> {
  const response = await fetch(`${stack.intakeUrl}/v1/alerts/auto`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    body: await readFile(file),
  });
  const answer = (await response.json()) as { error?: string; archiveId: string; alerts: { id: string; workflowId: string; unwatched?: true }[] };
  if (response.status !== 202) throw new Error(`${path.basename(file)}: intake answered ${response.status}: ${answer.error}`);
  const body = answer.archiveId.split('/').at(-1)!;
  // A resolution (a passed check) for a finding nothing investigates goes to no investigation.
  const investigations = answer.alerts
    .filter((alert) => !alert.unwatched)
    .map(({ id, workflowId }) => ({ workflowId, occurrence: `${body}#${id.split('#').at(-1)}` }));
  return { file, archiveId: answer.archiveId, investigations, workflowIds: investigations.map(({ workflowId }) => workflowId) };
}

/** Waits until every investigation has reported its delivery on its issue. */
async function waitForFirstReports(stack: Stack, sent: Sent[], timeoutMs = 2 * DEMO_STEP_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = sent.flatMap(({ investigations }) => investigations);
  while (pending.length > 0) {
    const { workflowId, occurrence } = pending[0]!;
    const progress = await progressOf(stack, workflowId);
    if (progress?.firstReportComplete && progress.reportedDeliveries.includes(occurrence)) {
      pending.shift();
      continue;
    }
    if (Date.now() > deadline) throw new Error(`no first report from ${workflowId} within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The SSH exposure alert: sent aimed at the billing dashboard in the demo's AWS account, whose plan
 * the demo asks for and approves; a recording sends it again and closes and reopens its issue.
 */
const SSH_ALERT = '01-ssh-open-to-internet.json';

/** The security group the CloudTrail demo alert opened: its machine is the one the demo closes. */
const RECHECKED_GROUP = 'sg-0a1b2c3d4e5f60718';

/**
 * The watch, shown: the rule opening the staging admin panel is revoked and the panel closed, a
 * re-check is asked for, and the issue gets one change comment and the remediated label; a second
 * re-check finds nothing new and adds nothing.
 */
async function showRecheck(stack: Stack, services: DemoServices, workflowId: string): Promise<void> {
  const handle = stack.client.workflow.getHandle(workflowId);
  await services.revokeAdminPanel();
  for (const round of [1, 2]) {
    await handle.signal(recheckNow);
    const deadline = Date.now() + DEMO_STEP_TIMEOUT_MS;
    for (;;) {
      const progress = await progressOf(stack, workflowId);
      if ((progress?.watch?.checks ?? 0) >= round) break;
      if (Date.now() > deadline) throw new Error(`re-check ${round} of ${workflowId} did not finish within ${DEMO_STEP_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export async function runDemo({ once, json, alerts, saveHistories: historiesDir }: DemoOptions): Promise<void> {
  // Human-readable progress goes to stderr when stdout carries the JSON result.
  const say = (line: string) => (json ? console.error(line) : console.log(line));
  const files = (await readdir(alerts)).filter((name) => name.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`no .json alert files in ${alerts}`);

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-demo-'));
  const [temporalPort, uiPort, intakePort] = [await getPort(), await getPort(), await getPort()];
  const aws = await startDemoAws();
  let services: DemoServices;
  try {
    services = await startDemoServices(dataDir, { billing: aws.machine });
    // SSH first: its rule is the group's first, and so the first plan (p1).
    await aws.openToInternet([
      { port: services.sshPort, description: 'ssh' },
      { port: services.webPort, description: 'billing dashboard' },
    ]);
  } catch (err) {
    await aws.stop();
    throw err;
  }
  // The worker finds the demo account's keys where it finds real ones; they are set in this process only.
  process.env.AWS_ACCESS_KEY_ID = DEMO_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = DEMO_CREDENTIALS.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  const responders = demoResponders();
  const config = configSchema.parse({
    dataDir,
    temporal: { address: `127.0.0.1:${temporalPort}`, uiPort },
    intake: { port: intakePort },
    // A free port, like the rest: the demo never competes with a running `vigil dev` for 9464.
    metrics: { ports: { intake: 0 } },
    // The feeds come from the bundled snapshot: the demo downloads nothing.
    intel: { feeds: await demoFeeds() },
    inventory: {
      static: { files: [services.inventoryFile] },
      aws: { accounts: [{ id: DEMO_ACCOUNT, useOwnCredentials: true, regions: [DEMO_REGION] }], endpoint: aws.endpoint, maxAttempts: 2 },
    },
    // Plans on the proven exposure, asked for and approved by two people, carried out in dry run.
    response: {
      dryRun: true,
      askers: [responders.asker.name],
      approvers: [responders.approver.name],
      aws: { useOwnCredentials: true, endpoint: aws.endpoint },
    },
    tracker: { local: { people: [responders.asker, responders.approver] } },
    // The demo's machines are on loopback, and nothing else is ever contacted.
    probe: { allowRanges: ['127.0.0.0/8'], onlyRanges: ['127.0.0.0/8'] },
    // One clean re-check is enough to call the demo's closed port remediated; a recording continues
    // as new after two checks, so that the histories have a continue-as-new in them.
    watch: { cleanChecks: 1, ...(historiesDir ? { checksPerRun: 2 } : {}) },
    // SigmaHQ rules beside the built-in ones: the CloudTrail and GCP audit issues name both.
    detections: { sigma: [path.join(projectRoot, 'demo', 'sigma')] },
  });
  const { address, groupId } = aws.machine;
  say(`Starting Vigil (data folder ${dataDir}; the billing dashboard ${groupId} in AWS (moto at ${aws.endpoint}): web page on ${address}:${services.webPort}, SSH on ${address}:${services.sshPort}) …`);
  let stack: Stack;
  try {
    stack = await startStack({ config, reuseTemporal: false, logger: createLogger('vigil-demo', 'warn') });
  } catch (err) {
    await services.stop();
    await aws.stop();
    throw err;
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stack.stop();
    await services.stop();
    await aws.stop();
  };
  try {
    // The snapshot copied in before any alert, so the actor checks find it.
    const feedsWorkflowId = `demo-feeds-${Date.now()}`;
    await stack.client.workflow.execute('refreshFeeds', { taskQueue: config.temporal.taskQueue, workflowId: feedsWorkflowId });
    const sent = [];
    let sshExposure: string | undefined;
    for (const name of files) {
      const aimed = alerts === bundledAlerts && name === SSH_ALERT;
      const file = aimed ? await aimSshAlert(path.join(alerts, name), dataDir, aws.machine, services.sshPort) : path.join(alerts, name);
      const result = await sendAlert(stack, file);
      say(`  sent ${name}${aimed ? ` (aimed at ${groupId} in the demo's AWS account)` : ''} → ${result.workflowIds.join(', ') || 'no alert in it'}`);
      sent.push(result);
      if (aimed) sshExposure = result.workflowIds[0];
    }
    await waitForFirstReports(stack, sent);
    if (sshExposure) {
      const { plan, execution } = await showRemediation(stack, sshExposure, responders, services.sshPort);
      say(`  ${responders.asker.name} asked for ${plan.id} (${plan.title}) and ${responders.approver.name} approved it: executed in dry run (${execution?.apiCall})`);
      // Read back from the account: a dry run must have left the rule where it was.
      const kept = await aws.internetRules(services.sshPort);
      if (kept.length === 0) throw new Error(`the dry run of ${plan.id} changed the cloud: ${groupId} no longer admits tcp/${services.sshPort} from 0.0.0.0/0`);
      say(`  dry run: ${groupId} still has its rule ${kept.join(', ')} admitting tcp/${services.sshPort} from 0.0.0.0/0`);
    }
    const rechecked = sent.flatMap(({ workflowIds }) => workflowIds).find((id) => id.endsWith(`:${RECHECKED_GROUP}`));
    if (rechecked) {
      await showRecheck(stack, services, rechecked);
      say(`  revoked the rule opening the staging admin panel, closed it, and asked ${rechecked} to re-check, twice: one change comment, then nothing new`);
    }
    if (historiesDir) {
      const exposure = sent.find(({ file }) => path.basename(file) === SSH_ALERT)!;
      const repeat = { file: exposure.file, workflowId: exposure.workflowIds[0]! };
      const saved = await recordHistories({ stack, taskQueue: config.temporal.taskQueue, repeat, feedsWorkflowId, investigations: sent.flatMap(({ workflowIds }) => workflowIds) }, historiesDir);
      say(`  recorded ${saved.length} histories in ${historiesDir}`);
    }
    const listed = await fetch(`${stack.intakeUrl}/v1/issues`, { headers: { authorization: `Bearer ${stack.trackerToken}` } });
    const issues = (await listed.json()) as { issues: unknown[] };
    say(`\nEvery demo alert has its first report: ${issues.issues.length} issue(s).`);
    say(`  Issues:       ${stack.issuesUrl}  (log in at ${stack.intakeUrl}/login with the intake token below)`);
    say(`  Temporal UI:  ${stack.temporalUiUrl}/namespaces/${config.temporal.namespace}/workflows`);
    say(`  Intake:       POST ${stack.intakeUrl}/v1/alerts/<source>  (token: ${stack.token})`);
    if (stack.metricsUrl) say(`  Metrics:      ${stack.metricsUrl}  (Prometheus: intake, worker and Temporal SDK)`);
    const { asker, approver } = responders;
    say(`  Commenters:   log in with ${asker.name}'s token (asks: ${asker.token}) or ${approver.name}'s (approves: ${approver.token}) to give /vigil commands`);
    if (once) {
      await stop();
      say(`\nStopped. The demo's data folder is kept: ${dataDir}`);
      if (json) console.log(JSON.stringify(issues, null, 2));
      return;
    }
    say('\nPress Ctrl-C to stop.');
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
    });
    await stop();
    say(`Stopped. The demo's data folder is kept: ${dataDir}`);
  } finally {
    await stop();
  }
}
