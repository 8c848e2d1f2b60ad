// Screenshots through the browser queue: loopback pages taken by a real browser worker process
// (`vigil browser-worker` at its default concurrency), one workflow per page, against bare
// playwright-core page loads of the same pages (one browser, a fresh context per page) at each of
// a few concurrencies, the best of which is the baseline. Rounds alternate between the two, so
// that other work on the machine weighs on both alike. Also the worker's peak memory, its own
// process and Chromium's summed, and the Chromium processes left once it has stopped.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { chromium } from 'playwright-core';
import type { Config } from '../lib/config';
import { browserTaskQueue } from '../lib/task-queues';
import { connectTemporalWorker } from '../lib/temporal-connection';
import { close, listen } from '../test/helpers/loopback';
import { survivors } from '../test/helpers/processes';
import { screenshotConcurrency } from '../workers/browser-worker';
import { inParallel, MiB, processTree, pssBytes, round, rssBytes, spawnVigil, type VigilProcess } from './bench-common';
import type { benchScreenshot } from './bench-screenshot-workflow';
import { locatePrerequisite } from './prerequisites';

const ROUNDS = 3;
/** Pages through Vigil in each round. */
const PAGES_PER_ROUND = 20;
/** Pages of bare Playwright at each concurrency in each round. */
const BASELINE_PAGES_PER_ROUND = 12;
/** Bare Playwright is timed at each of these; the fastest is the baseline. */
const BASELINE_CONCURRENCIES = [1, 2, 4];
const WARM_UP_PAGES = 4;
const SAMPLE_EVERY_MS = 250;
/** The bench's own task queue, so the stack's in-process browser worker takes none of these pages. */
const TASK_QUEUE = 'vigil-bench-screenshots';

/** A small admin console, much like the web services exposures turn up: a stylesheet, an image, a form. */
function page(n: number): string {
  return `<!doctype html><html><head><title>Console ${n}</title><link rel="stylesheet" href="/style.css"></head>
<body><header><img src="/logo.svg" width="48" height="48" alt=""><h1>Service console ${n}</h1></header>
<form><label>User <input name="user"></label><label>Password <input name="password" type="password"></label><button>Sign in</button></form>
<p>${'Build 4.2.1, uptime 31 days. '.repeat(20)}</p></body></html>`;
}

async function startPages(): Promise<{ server: Server; urls: (offset: number, count: number) => string[] }> {
  const server = createServer((request, response) => {
    if (request.url === '/style.css') return response.writeHead(200, { 'content-type': 'text/css' }).end('body{font:15px sans-serif;margin:2em}header{display:flex;gap:1em}form{display:grid;gap:.5em;max-width:20em}');
    if (request.url === '/logo.svg') return response.writeHead(200, { 'content-type': 'image/svg+xml' }).end('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><circle cx="24" cy="24" r="20" fill="#2a6"/></svg>');
    const n = /^\/page\/(\d+)$/.exec(request.url ?? '')?.[1];
    if (n === undefined) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(Number(n)));
  });
  const port = await listen(server);
  return { server, urls: (offset, count) => Array.from({ length: count }, (_, n) => `http://127.0.0.1:${port}/page/${offset + n}`) };
}

/**
 * Bare playwright-core: the same Chromium, flags as DESIGN.md gives them, viewport and screenshot.
 * `time` gives the seconds it took to load the pages at a concurrency; `close` ends the browser.
 */
async function bareBrowser(chromiumPath: string, config: Config) {
  const args = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
  const browser = await chromium.launch({ executablePath: chromiumPath, args: [...args, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])] });
  const load = async (url: string) => {
    const context = await browser.newContext({ viewport: config.screenshots.viewport });
    try {
      const page = await context.newPage();
      await page.goto(url, { waitUntil: 'load', timeout: config.screenshots.timeoutMs });
      await page.screenshot({ type: 'png' });
    } finally {
      await context.close();
    }
  };
  return {
    time: (urls: string[], concurrency: number) => inParallel(urls.length, concurrency, (n) => load(urls[n]!)),
    close: () => browser.close(),
  };
}

/**
 * Peak memory of the worker's process tree (summed VmRSS, and summed Pss read at each new VmRSS
 * peak: Pss is costly to read), and every Chromium process it ever had.
 */
function sampleTree(pid: number) {
  const peak = { rss: 0, pssAtPeak: 0, processes: 0 };
  const chromiumPids = new Set<number>();
  const sample = () => {
    const tree = processTree(pid);
    const rss = tree.reduce((sum, each) => sum + rssBytes(each), 0);
    if (rss > peak.rss) {
      peak.rss = rss;
      peak.pssAtPeak = tree.reduce((sum, each) => sum + pssBytes(each), 0);
    }
    peak.processes = Math.max(peak.processes, tree.length);
    for (const each of tree.slice(1)) {
      if (chromiumPids.has(each)) continue;
      try {
        if (/chrom/i.test(readFileSync(`/proc/${each}/cmdline`, 'latin1'))) chromiumPids.add(each);
      } catch {
        // Ended between the listing and the read.
      }
    }
  };
  const timer = setInterval(sample, SAMPLE_EVERY_MS);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return { peak, chromiumPids: [...chromiumPids] };
    },
  };
}

export interface ScreenshotBenchOptions {
  client: Client;
  config: Config;
  /** The bench's configuration as written, which the browser worker's is derived from. */
  rawConfig: Record<string, unknown>;
  dataDir: string;
}

export async function benchScreenshots({ client, config, rawConfig, dataDir }: ScreenshotBenchOptions): Promise<Record<string, number>> {
  const { server, urls } = await startPages();
  const connection = await connectTemporalWorker(config.temporal);
  let browserWorker: VigilProcess | undefined;
  let sampler: ReturnType<typeof sampleTree> | undefined;
  let bare: Awaited<ReturnType<typeof bareBrowser>> | undefined;
  try {
    const chromiumPath = config.screenshots.chromium ?? locatePrerequisite('chromium');
    if (!chromiumPath) throw new Error('Chromium is missing: run `npm run setup`');
    bare = await bareBrowser(chromiumPath, config);
    await bare.time(urls(0, WARM_UP_PAGES), 2);

    // The worker's settings are the bench's own: its concurrency is Vigil's default.
    const configFile = path.join(dataDir, 'bench-browser-worker.json');
    const temporal = { ...(rawConfig.temporal as object), taskQueue: TASK_QUEUE };
    await writeFile(configFile, JSON.stringify({ ...rawConfig, temporal }));
    browserWorker = spawnVigil(['browser-worker'], configFile);
    sampler = sampleTree(browserWorker.child.pid!);

    const workflows = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: TASK_QUEUE,
      workflowsPath: fileURLToPath(new URL('./bench-screenshot-workflow.ts', import.meta.url)),
    });
    const running = workflows.run();
    let vigilSeconds = 0;
    const baselineSeconds = new Map(BASELINE_CONCURRENCIES.map((concurrency) => [concurrency, 0]));
    try {
      const screenshot = async (url: string) => {
        const status = await client.workflow.execute<typeof benchScreenshot>('benchScreenshot', {
          taskQueue: TASK_QUEUE,
          workflowId: `bench-screenshot${new URL(url).pathname}`,
          args: [url, browserTaskQueue(TASK_QUEUE)],
          // A browser worker that never starts fails the bench rather than hanging it.
          workflowExecutionTimeout: '5 minutes',
        });
        if (status !== 'captured') throw new Error(`the browser worker did not capture ${url}: ${status}\n${browserWorker?.output()}`);
      };
      // The warm-up also waits for the worker process to start polling.
      await Promise.all(urls(0, WARM_UP_PAGES).map(screenshot));
      // Every page a URL of its own, as no two exposures share one.
      let next = WARM_UP_PAGES;
      const fresh = (count: number) => urls((next += count) - count, count);
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const concurrency of BASELINE_CONCURRENCIES) {
          baselineSeconds.set(concurrency, baselineSeconds.get(concurrency)! + (await bare.time(fresh(BASELINE_PAGES_PER_ROUND), concurrency)));
        }
        // All of a round's workflows at once: the worker's own concurrency limit paces them.
        const timed = fresh(PAGES_PER_ROUND);
        const started = performance.now();
        await Promise.all(timed.map(screenshot));
        vigilSeconds += (performance.now() - started) / 1000;
      }
    } finally {
      workflows.shutdown();
      await running;
    }
    const vigil = (ROUNDS * PAGES_PER_ROUND) / vigilSeconds;
    const [baselineConcurrency, baseline] = [...baselineSeconds]
      .map(([concurrency, seconds]) => [concurrency, (ROUNDS * BASELINE_PAGES_PER_ROUND) / seconds] as const)
      .reduce((best, each) => (each[1] > best[1] ? each : best));

    // The last sample is taken while the worker still runs: afterwards its orphans would not show below it.
    const { peak, chromiumPids } = sampler.stop();
    if (browserWorker.child.exitCode !== null) throw new Error(`the browser worker exited during the bench:\n${browserWorker.output()}`);
    if (!(await browserWorker.stop())) throw new Error(`the browser worker did not stop on SIGTERM:\n${browserWorker.output()}`);
    const leftovers = await survivors(chromiumPids);
    // Reported, and then not left behind by the bench either.
    for (const leftover of leftovers) {
      try {
        process.kill(Number.parseInt(leftover, 10), 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    return {
      screenshotPagesPerSecond: round(vigil),
      screenshotConcurrency: screenshotConcurrency(config.screenshots),
      screenshotBaselinePagesPerSecond: round(baseline),
      screenshotBaselineConcurrency: baselineConcurrency,
      screenshotsOverBaseline: round(vigil / baseline),
      screenshotPeakRssMiB: Math.round(peak.rss / MiB),
      screenshotPssAtPeakMiB: Math.round(peak.pssAtPeak / MiB),
      screenshotPeakProcesses: peak.processes,
      screenshotChromiumProcessesSeen: chromiumPids.length,
      screenshotLeftoverChromiumProcesses: leftovers.length,
    };
  } finally {
    await bare?.close();
    sampler?.stop();
    await browserWorker?.stop(5000);
    await connection.close();
    await close(server);
  }
}
