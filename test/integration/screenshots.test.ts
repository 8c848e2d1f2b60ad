// Screenshots with the real Chromium, against loopback pages: what is stored, what the finding
// says, what the probe scope keeps the browser from reaching, and that no browser process outlives
// its pool or its worker.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localBlobStore } from '../../activities/archive/local';
import { createScreenshotActivities, type ScreenshotResult } from '../../activities/screenshot';
import { createBrowserPool, type BrowserPool } from '../../activities/screenshot/browser-pool';
import { disabledFeatures } from '../../activities/screenshot/chromium-args';
import { hashDistance } from '../../lib/finding';
import { configSchema, type ScreenshotSettings } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { browserTaskQueue } from '../../lib/task-queues';
import { createBrowserWorker } from '../../workers/browser-worker';
import { descendants, isAlive, survivors } from '../helpers/processes';
import { claimNamespace, eventually } from '../helpers/vigil';

const projectRoot = path.resolve(import.meta.dirname, '../..');
const scope = { allowRanges: ['127.0.0.1/32'], onlyRanges: ['127.0.0.1/32'] };
const viewport = { width: 640, height: 400 };
// The page timeout bounds a stuck test, not a measure: generous, so that a loaded machine (a first
// Chromium launch and four pages at once took more than 2 s beside other work) passes as a quiet one.
// Only the test of the timeout itself sets a short one.
const settingsWith = (overrides: object = {}): ScreenshotSettings =>
  configSchema.parse({ screenshots: { viewport, timeoutMs: 30_000, chromium: '/usr/bin/chromium', ...overrides } }).screenshots;

let workDir: string;
let pageUrl: string;
let httpsUrl: string;
/** On 127.0.0.2, outside the scope: it must never see a connection. */
let forbidden: net.Server;
let forbiddenPort: number;
let forbiddenConnections = 0;
let hangingRequests = 0;
/** Responses to `/after-heartbeat`, held until the activity heartbeats. */
const heldForHeartbeat: http.ServerResponse[] = [];
const servers: (http.Server | https.Server)[] = [];
/** Every Chromium process seen during the run, checked at the end. */
const seenBrowserProcesses = new Set<number>();

const pages: Record<string, () => string> = {
  '/': () => '<title>Vigil test page</title><body style="margin:0;background:linear-gradient(to right,#fff 50%,#000 50%)"></body>',
  '/inverse': () => '<title>Inverse</title><body style="margin:0;background:linear-gradient(to right,#000 50%,#fff 50%)"></body>',
  '/subresources': () => {
    const out = `http://127.0.0.2:${forbiddenPort}`;
    return `<title>Sub-resources</title><link rel="preconnect" href="${out}"><img src="${out}/a.png"><iframe src="${out}/frame"></iframe>
      <script src="${out}/b.js"></script><script>fetch('${out}/c').catch(() => {}); new WebSocket('ws://127.0.0.2:${forbiddenPort}/ws');</script>`;
  },
};

function handler(request: http.IncomingMessage, response: http.ServerResponse): void {
  if (request.url === '/hang') {
    hangingRequests += 1;
    return;
  }
  if (request.url === '/after-heartbeat') {
    heldForHeartbeat.push(response);
    return;
  }
  if (request.url === '/redirect-out') {
    response.writeHead(302, { location: `http://127.0.0.2:${forbiddenPort}/` }).end();
    return;
  }
  const page = pages[request.url ?? ''];
  response.writeHead(page ? 200 : 404, { 'content-type': 'text/html' }).end(page?.() ?? 'not found');
}

async function listen<T extends net.Server>(server: T, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

/** A self-signed certificate made for this run (no network, no committed key). */
function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const key = path.join(workDir, 'key.pem');
  const cert = path.join(workDir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

function rememberBrowsers(pool: BrowserPool): void {
  const pid = pool.browserPid();
  if (pid === undefined) return;
  seenBrowserProcesses.add(pid);
  for (const child of descendants(pid)) seenBrowserProcesses.add(child);
}

/** A pool, its activities and an artifact store, with its log (refusals included) captured. */
function setUp(settings: ScreenshotSettings) {
  const warnings: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      warnings.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const pool = createBrowserPool({ settings, executablePath: settings.chromium!, scope, logger: pino({ level: 'info' }, sink) });
  const artifacts = localBlobStore(path.join(workDir, `artifacts-${randomUUID()}`));
  const { takeScreenshot } = createScreenshotActivities({ settings, scope, artifacts, pool });
  const screenshot = (url: string, environment = new MockActivityEnvironment()): Promise<ScreenshotResult> =>
    (environment.run(takeScreenshot, { url }) as Promise<ScreenshotResult>).finally(() => rememberBrowsers(pool));
  return { pool, artifacts, screenshot, warnings };
}

function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-screenshots-'));
  forbidden = net.createServer((socket) => {
    forbiddenConnections += 1;
    socket.destroy();
  });
  forbiddenPort = await listen(forbidden, '127.0.0.2');
  const plain = http.createServer(handler);
  const secure = https.createServer(selfSignedCertificate(), handler);
  servers.push(plain, secure);
  pageUrl = `http://127.0.0.1:${await listen(plain, '127.0.0.1')}`;
  httpsUrl = `https://127.0.0.1:${await listen(secure, '127.0.0.1')}`;
});

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  forbidden.close();
  await rm(workDir, { recursive: true, force: true });
});

describe('screenshots with the real Chromium', () => {
  const main = { settings: settingsWith() } as { settings: ScreenshotSettings; parts: ReturnType<typeof setUp> };
  beforeAll(() => {
    main.parts = setUp(main.settings);
  });
  afterAll(() => main.parts.pool.close());

  it('stores the PNG under its hash and reports title, final URL and image hash', async () => {
    const { finding, evidence } = await main.parts.screenshot(`${pageUrl}/`);

    expect(finding).toMatchObject({
      key: `screenshot/${pageUrl}/`,
      check: 'screenshot',
      target: `${pageUrl}/`,
      status: 'captured',
      fields: { title: 'Vigil test page', finalUrl: `${pageUrl}/`, httpStatus: 200, blockedRequests: 0 },
      volatile: ['sha256'],
    });
    expect(evidence).toEqual({ key: `screenshots/${evidence!.sha256}.png`, sha256: finding.fields.sha256, contentType: 'image/png' });
    const png = (await main.parts.artifacts.get(evidence!.key))!;
    expect(createHash('sha256').update(png).digest('hex')).toBe(evidence!.sha256);
    expect(pngSize(png)).toEqual(viewport);
    // White left half, black right half: one bright-to-dark edge per row of the 9×8 grid.
    expect(finding.fields.imageHash).toMatch(/^[0-9a-f]{16}$/);
    expect(finding.fields.imageHash).not.toBe('0000000000000000');
  });

  it('heartbeats while a page loads', async () => {
    // The page answers only once the activity has heartbeaten: without heartbeats it never loads.
    const patient = setUp(settingsWith());
    const environment = new MockActivityEnvironment();
    environment.on('heartbeat', () => {
      for (const response of heldForHeartbeat.splice(0)) response.writeHead(200, { 'content-type': 'text/html' }).end(pages['/']!());
    });
    try {
      const { finding } = await patient.screenshot(`${pageUrl}/after-heartbeat`, environment);
      expect(finding).toMatchObject({ status: 'captured', fields: { title: 'Vigil test page', httpStatus: 200 } });
    } finally {
      await patient.pool.close();
    }
  });

  it('gives the same image hash to the same page and a distant one to a different page', async () => {
    const first = await main.parts.screenshot(`${pageUrl}/`);
    const again = await main.parts.screenshot(`${pageUrl}/`);
    const inverse = await main.parts.screenshot(`${pageUrl}/inverse`);
    expect(again.finding.fields.imageHash).toBe(first.finding.fields.imageHash);
    expect(hashDistance(String(first.finding.fields.imageHash), String(inverse.finding.fields.imageHash))).toBeGreaterThanOrEqual(8);
  });

  it('photographs an HTTPS page with a self-signed certificate', async () => {
    const { finding, evidence } = await main.parts.screenshot(`${httpsUrl}/`);
    expect(finding.status).toBe('captured');
    expect(finding.fields).toMatchObject({ title: 'Vigil test page', finalUrl: `${httpsUrl}/` });
    expect(evidence).toBeDefined();
  });

  it('refuses a URL outside the scope without opening a page', async () => {
    const launches = main.parts.pool.launches();
    const { finding, evidence } = await main.parts.screenshot(`http://127.0.0.2:${forbiddenPort}/`);
    expect(finding.status).toBe('blocked');
    expect(finding.fields.reason).toContain('a loopback address, not allowed by probe.allowRanges');
    expect(evidence).toBeUndefined();
    expect((await main.parts.screenshot('file:///etc/passwd')).finding.status).toBe('blocked');
    expect(main.parts.pool.launches()).toBe(launches);
    expect(forbiddenConnections).toBe(0);
  });

  it('blocks a redirect out of the scope', async () => {
    const { finding, evidence } = await main.parts.screenshot(`${pageUrl}/redirect-out`);
    expect(finding.status).toBe('blocked');
    expect(finding.fields.blockedRequests).toBe(1);
    expect(finding.fields.reason).toContain('127.0.0.2');
    expect(finding.detail?.blocked).toEqual([{ url: `http://127.0.0.2:${forbiddenPort}/`, reason: expect.any(String), navigation: true }]);
    expect(evidence).toBeUndefined();
    expect(forbiddenConnections).toBe(0);
  });

  it('blocks sub-resources, preconnects and WebSockets out of the scope, and still photographs the page', async () => {
    const { finding } = await main.parts.screenshot(`${pageUrl}/subresources`);
    expect(finding.status).toBe('captured');
    const blocked = (finding.detail?.blocked as { url: string; navigation: boolean }[]).map(({ url }) => new URL(url).pathname).sort();
    expect(blocked).toEqual(expect.arrayContaining(['/a.png', '/b.js', '/c', '/frame']));
    expect(finding.fields.blockedRequests).toBe(blocked.length);
    // What the page's routing never sees (the WebSocket, the preconnect) is refused by the proxy.
    await eventually(async () => main.parts.warnings.find((line) => line.destination === `127.0.0.2:${forbiddenPort}`));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(forbiddenConnections).toBe(0);
  });

  it('reports a page that never finishes loading as failed by its timeout', async () => {
    const hasty = setUp(settingsWith({ timeoutMs: 2000 }));
    try {
      const { finding, evidence } = await hasty.screenshot(`${pageUrl}/hang`);
      expect(finding.status).toBe('failed');
      expect(finding.fields.reason).toBe('timed out after 2000 ms');
      expect(evidence).toBeUndefined();
      expect((await main.parts.screenshot(`${pageUrl}/`)).finding.status).toBe('captured');
    } finally {
      await hasty.pool.close();
    }
  });

  it('closes the page when the activity is cancelled', async () => {
    const environment = new MockActivityEnvironment();
    const before = hangingRequests;
    const running = main.parts.screenshot(`${pageUrl}/hang`, environment);
    await eventually(async () => (hangingRequests > before ? true : undefined));
    environment.cancel();
    // A page left to its timeout would end as a `failed` finding, not as the cancellation.
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
  });

  it('fails the activity (to be retried) when Chromium dies mid-page, and the next page gets a fresh browser', async () => {
    const pid = main.parts.pool.browserPid()!;
    const launches = main.parts.pool.launches();
    const before = hangingRequests;
    const running = main.parts.screenshot(`${pageUrl}/hang`);
    await eventually(async () => (hangingRequests > before ? true : undefined));
    process.kill(-pid, 'SIGKILL');
    const failure = await running.then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe('BrowserGone');
    expect((failure as ApplicationFailure).nonRetryable).toBeFalsy();

    expect((await main.parts.screenshot(`${pageUrl}/`)).finding.status).toBe('captured');
    expect(main.parts.pool.launches()).toBe(launches + 1);
    expect(main.parts.pool.browserPid()).not.toBe(pid);
    expect(isAlive(pid)).toBe(false);
  });
});

describe('the browser pool', () => {
  it('starts a fresh browser after pagesPerBrowser pages, and closes the old one', async () => {
    const { pool, screenshot } = setUp(settingsWith({ pagesPerBrowser: 2 }));
    try {
      await screenshot(`${pageUrl}/`);
      const first = pool.browserPid()!;
      const firstProcesses = [first, ...descendants(first)];
      await screenshot(`${pageUrl}/`);
      expect(pool.launches()).toBe(1);
      await screenshot(`${pageUrl}/`);
      expect(pool.launches()).toBe(2);
      expect(pool.browserPid()).not.toBe(first);
      expect(await survivors(firstProcesses)).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('renders pages side by side', async () => {
    const { pool, screenshot } = setUp(settingsWith({ concurrency: 2 }));
    try {
      const results = await Promise.all(Array.from({ length: 4 }, () => screenshot(`${pageUrl}/`)));
      expect(results.map(({ finding }) => finding.status)).toEqual(['captured', 'captured', 'captured', 'captured']);
      expect(pool.launches()).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it("keeps every feature playwright-core disables, and opens no browser UI (the omnibox popup) beside a page", async () => {
    const { pool } = setUp(settingsWith());
    try {
      const targets = await pool.withPage(async ({ page }) => {
        const cdp = await page.context().browser()!.newBrowserCDPSession();
        const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { type: string; url: string }[] };
        await cdp.detach();
        return targetInfos;
      });
      expect(targets.filter((target) => target.type !== 'page')).toEqual([]);
      // Chromium reads the last --disable-features only: Vigil's, which must cover playwright-core's.
      const lists = readFileSync(`/proc/${pool.browserPid()}/cmdline`, 'latin1')
        .split('\0')
        .filter((arg) => arg.startsWith('--disable-features='))
        .map((arg) => arg.slice('--disable-features='.length).split(','));
      expect(lists.length).toBeGreaterThan(1);
      expect(lists.at(-1)).toEqual(disabledFeatures);
      for (const list of lists) expect(disabledFeatures).toEqual(expect.arrayContaining(list));
    } finally {
      await pool.close();
    }
  });

  it('leaves no Chromium behind when the worker process is killed', async () => {
    const code = `
      import { createBrowserPool } from './activities/screenshot/browser-pool.ts';
      import { configSchema } from './lib/config.ts';
      const pool = createBrowserPool({ settings: configSchema.parse({}).screenshots, executablePath: '/usr/bin/chromium', scope: { allowRanges: [], onlyRanges: ['127.0.0.1/32'] } });
      await pool.start();
      console.log('chromium ' + pool.browserPid());
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const pid = Number((await eventually(async () => output.match(/chromium (\d+)/) ?? undefined, 30_000))[1]);
    const processes = [pid, ...descendants(pid)];
    expect(processes.length).toBeGreaterThan(1);
    child.kill('SIGKILL');
    expect(await survivors(processes, 10_000)).toEqual([]);
  });
});

describe('the browser worker', () => {
  it('polls the browser task queue and leaves no Chromium when shut down', async () => {
    const namespace = await claimNamespace();
    const config = configSchema.parse({
      dataDir: workDir,
      temporal: { address: inject('temporalAddress'), namespace, taskQueue: `test-${randomUUID()}` },
      probe: scope,
      screenshots: { chromium: '/usr/bin/chromium' },
    });
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    const clientConnection = await Connection.connect({ address: config.temporal.address });
    const client = new Client({ connection: clientConnection, namespace });
    const { worker, pool } = await createBrowserWorker({ config, connection, logger: createLogger('test-browser-worker', 'silent') });
    const running = worker.run();
    try {
      await pool.start();
      const pid = pool.browserPid()!;
      const processes = [pid, ...descendants(pid)];
      const pollers = await eventually(async () => {
        const { pollers } = await client.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: browserTaskQueue(config.temporal.taskQueue) },
          taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        });
        return pollers.length > 0 ? pollers : undefined;
      });
      expect(pollers.length).toBeGreaterThan(0);
      worker.shutdown();
      await running;
      await pool.close();
      expect(await survivors(processes)).toEqual([]);
    } finally {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await pool.close();
      await clientConnection.close();
      await connection.close();
    }
  });

  it('stops on SIGTERM as a process of its own, taking Chromium with it', async () => {
    const namespace = await claimNamespace();
    const code = `
      import { runBrowserWorker } from './workers/browser-worker.ts';
      import { loadConfig } from './lib/config.ts';
      await runBrowserWorker(loadConfig());`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: projectRoot,
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: namespace, VIGIL_DATA_DIR: workDir, VIGIL_CHROMIUM: '/usr/bin/chromium', VIGIL_LOG_LEVEL: 'info', VIGIL_CONFIG: '', VIGIL_METRICS_PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const pid = Number((await eventually(async () => output.match(/"chromiumPid":(\d+)/) ?? undefined, 30_000))[1]);
    const processes = [pid, ...descendants(pid)];
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await survivors(processes)).toEqual([]);
  });
});

it('leaves no Chromium process behind', async () => {
  expect(seenBrowserProcesses.size).toBeGreaterThan(0);
  expect(await survivors([...seenBrowserProcesses])).toEqual([]);
  const leftover = descendants(process.pid).filter((pid) => {
    try {
      return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).includes('chromium');
    } catch {
      return false;
    }
  });
  expect(leftover).toEqual([]);
});
