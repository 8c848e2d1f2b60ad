// The Prometheus endpoints of a real deployment: `vigil intake`, `vigil worker` and `vigil
// browser-worker` as processes of their own on the suite's Temporal server, fed the bundled demo
// alerts (and a refused and a malformed body) over HTTP, then scraped. The counts expected are
// derived from what intake answered, not from the alert files, which change.
import { readdir, readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDemoServices, type DemoServices } from '../../scripts/demo-services';
import { runVigil, type RunningCommand } from '../helpers/processes';
import { scrape, total, type Sample } from '../helpers/prometheus';
import { claimNamespace, eventually, loopbackOnlyProbes } from '../helpers/vigil';

const alertsDir = path.resolve(import.meta.dirname, '../../demo/alerts');
const token = 'metrics-test-token-0123456789abcdef';

interface Answer {
  status: number;
  alerts: { workflowId: string; kind: string; dispatched: boolean; unwatched?: true }[];
}

async function post(intakeUrl: string, body: Buffer | string, authorization = `Bearer ${token}`): Promise<Answer> {
  const response = await fetch(`${intakeUrl}/v1/alerts/auto`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body });
  const answer = (await response.json()) as { alerts?: Answer['alerts'] };
  return { status: response.status, alerts: answer.alerts ?? [] };
}

/** Scrapes until the endpoint answers (the process is still starting) and `ready` holds. */
const scrapeWhen = (url: string, ready: (samples: Sample[]) => boolean, timeoutMs: number) =>
  eventually(async () => {
    const samples = await scrape(url).catch(() => undefined);
    return samples && ready(samples) ? samples : undefined;
  }, timeoutMs);

describe('the metrics endpoints of intake, worker and browser worker', () => {
  let dataDir: string;
  let services: DemoServices;
  const processes: RunningCommand[] = [];
  const urls = { intake: '', worker: '', browserWorker: '', metricsOfIntake: '' };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-metrics-'));
    // The demo's machines on loopback, from the static inventory: the SSH exposure alert is probed.
    services = await startDemoServices(dataDir);
    const [intakePort, intakeMetrics, workerMetrics, browserMetrics] = [await getPort(), await getPort(), await getPort(), await getPort()];
    const config = {
      dataDir,
      temporal: { address: inject('temporalAddress'), namespace: await claimNamespace(), taskQueue: `metrics-${randomUUID()}` },
      intake: { port: intakePort },
      // No feed refresh: it would download the public blocklists, and tests touch loopback only.
      intel: { feedRefresh: { enabled: false } },
      inventory: { static: { files: [services.inventoryFile] } },
      probe: loopbackOnlyProbes,
      correlation: { settleMs: 0 },
      metrics: { ports: { intake: intakeMetrics, worker: workerMetrics, browserWorker: browserMetrics } },
    };
    const configFile = path.join(dataDir, 'vigil.yaml');
    await writeFile(configFile, JSON.stringify(config));
    const env = { VIGIL_CONFIG: configFile, VIGIL_INTAKE_TOKEN: token };
    processes.push(runVigil(['worker'], env), runVigil(['browser-worker'], env), runVigil(['intake'], env));
    urls.intake = `http://127.0.0.1:${intakePort}`;
    urls.metricsOfIntake = `http://127.0.0.1:${intakeMetrics}/metrics`;
    urls.worker = `http://127.0.0.1:${workerMetrics}/metrics`;
    urls.browserWorker = `http://127.0.0.1:${browserMetrics}/metrics`;
    // The workers bundle their workflows at start; the SDK's metrics appear once they poll.
    for (const url of [urls.worker, urls.browserWorker]) {
      await scrapeWhen(url, (samples) => samples.some((sample) => sample.name.startsWith('temporal_')), 120_000);
    }
    await eventually(() => fetch(`${urls.intake}/healthz`).then((response) => (response.ok ? true : undefined), () => undefined), 60_000);
  });

  afterAll(async () => {
    for (const process of processes) process.child.kill('SIGTERM');
    await Promise.all(processes.map((process) => process.exited));
    await services?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('counts what intake received and dispatched, and what the workers did with it', async () => {
    const files = (await readdir(alertsDir)).filter((name) => name.endsWith('.json')).sort();
    const answers: Answer[] = [];
    for (const name of files) answers.push(await post(urls.intake, await readFile(path.join(alertsDir, name))));
    const refused = await post(urls.intake, '{}', 'Bearer not-the-token');
    const malformed = await post(urls.intake, '{"not json');
    expect([refused.status, malformed.status]).toEqual([401, 400]);
    const accepted = answers.filter((answer) => answer.status === 202);
    expect(accepted.length).toBeGreaterThan(0);
    const alerts = accepted.flatMap((answer) => answer.alerts);
    const investigations = new Set(alerts.filter((alert) => alert.dispatched && !alert.unwatched).map((alert) => alert.workflowId));

    const intake = await scrape(urls.metricsOfIntake);
    const auto = { source: 'auto' };
    expect(total(intake, 'vigil_alerts_received_total', auto)).toBe(files.length + 2);
    expect(total(intake, 'vigil_alerts_archived_total', auto)).toBe(answers.filter((answer) => [202, 400].includes(answer.status)).length + 1);
    expect(total(intake, 'vigil_alerts_rejected_total', { ...auto, reason: 'unauthenticated' })).toBe(1);
    expect(total(intake, 'vigil_alerts_rejected_total', { ...auto, reason: 'malformed' })).toBe(answers.filter((answer) => answer.status === 400).length + 1);
    // Every body is accepted or rejected, once.
    expect(total(intake, 'vigil_alerts_received_total', auto)).toBe(accepted.length + total(intake, 'vigil_alerts_rejected_total', auto));
    expect(total(intake, 'vigil_alerts_dispatched_total', auto)).toBe(alerts.filter((alert) => alert.dispatched).length);
    expect(total(intake, 'vigil_alerts_undispatched_total', auto)).toBe(alerts.filter((alert) => !alert.dispatched).length);
    expect(total(intake, 'vigil_alerts_unparsed_total', auto)).toBe(alerts.filter((alert) => alert.kind === 'unparsed').length);
    // Intake runs no worker: no SDK core metrics of its own.
    expect(intake.some((sample) => sample.name.startsWith('temporal_'))).toBe(false);

    // Each investigation makes its first report once; the SSH exposure's probes follow it.
    const reported = (samples: Sample[]) => total(samples, 'vigil_investigations_started_total') >= investigations.size && total(samples, 'vigil_probe_findings_total') > 0;
    const worker = await scrapeWhen(urls.worker, reported, 180_000);
    expect(total(worker, 'vigil_investigations_started_total')).toBe(investigations.size);
    expect(total(worker, 'vigil_tracker_calls_total', { tracker: 'local', operation: 'findOrCreateIssue' })).toBeGreaterThanOrEqual(investigations.size);
    expect(total(worker, 'vigil_tracker_errors_total')).toBe(0);
    const probes = worker.filter((sample) => sample.name === 'vigil_probe_findings_total');
    expect(probes.find((sample) => sample.labels.check === 'tcp' && sample.labels.status === 'open')?.value).toBeGreaterThan(0);
    // The SSH exposure was found open: it is watched (visibility, read at most every 30 s).
    await scrapeWhen(urls.worker, (samples) => total(samples, 'vigil_investigations_watching') > 0, 120_000);
    expect(intake.some((sample) => sample.name === 'vigil_investigations_watching')).toBe(false);
    // The SDK core's own, appended: workflow task latency, task slots, activity executions.
    for (const name of ['temporal_workflow_task_execution_latency_bucket', 'temporal_worker_task_slots_available', 'temporal_activity_execution_latency_bucket']) {
      expect(worker.map((sample) => sample.name)).toContain(name);
    }

    // The web page the probes found, photographed on the browser queue.
    const browser = await scrapeWhen(urls.browserWorker, (samples) => total(samples, 'vigil_screenshots_total') > 0, 120_000);
    expect(total(browser, 'vigil_screenshots_total', { result: 'captured' })).toBeGreaterThan(0);
    expect(browser.map((sample) => sample.name)).toContain('temporal_worker_task_slots_available');
  });
});

describe('vigil dev', () => {
  it('serves intake, worker and the Temporal SDK on one endpoint', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-dev-metrics-'));
    const configFile = path.join(dataDir, 'vigil.yaml');
    await writeFile(configFile, JSON.stringify({ intel: { feedRefresh: { enabled: false } }, screenshots: { enabled: false }, probe: loopbackOnlyProbes }));
    const [port, metricsPort] = [await getPort(), await getPort()];
    const dev = runVigil(['dev'], {
      VIGIL_CONFIG: configFile,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_PORT: String(port),
      VIGIL_INTAKE_TOKEN: token,
      VIGIL_METRICS_PORT: String(metricsPort),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: await claimNamespace(),
    });
    try {
      const [, url] = await dev.waitFor(/Metrics: {6}(\S+)/, 120_000);
      expect(url).toBe(`http://127.0.0.1:${metricsPort}/metrics`);
      const body = JSON.stringify({ id: `metrics-${randomUUID()}`, title: 'one alert for the metrics', severity: 'low' });
      const answer = await fetch(`http://127.0.0.1:${port}/v1/alerts/generic`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      expect(answer.status).toBe(202);
      const samples = await scrapeWhen(url!, (scraped) => total(scraped, 'vigil_investigations_started_total') > 0, 60_000);
      expect(total(samples, 'vigil_alerts_received_total', { source: 'generic' })).toBe(1);
      expect(total(samples, 'vigil_alerts_dispatched_total', { source: 'generic', outcome: 'signalled' })).toBe(1);
      expect(total(samples, 'vigil_tracker_calls_total')).toBeGreaterThan(0);
      expect(samples.map((sample) => sample.name)).toContain('temporal_worker_task_slots_available');
    } finally {
      dev.child.kill('SIGINT');
      await dev.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
