// The browser worker: screenshots only, on a task queue of their own, so that a slow or crashing
// Chromium never holds up investigations, and the browser runs only where it is installed.
import { availableParallelism } from 'node:os';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { createArtifactStore } from '../activities/archive';
import { createScreenshotActivities } from '../activities/screenshot';
import { createBrowserPool, type BrowserPool } from '../activities/screenshot/browser-pool';
import type { Config, ScreenshotSettings } from '../lib/config';
import { createLogger, type Logger } from '../lib/logger';
import { connectTemporalWorker } from '../lib/temporal-connection';
import { browserTaskQueue } from '../lib/task-queues';
import { locatePrerequisite } from '../scripts/prerequisites';
import { installTemporalRuntime, startMetricsEndpoint } from './metrics';

/**
 * Pages at once: `screenshots.concurrency`, or two per core, 2 to 8. A page leaves its core idle
 * part of the time (loading, and the queue's round trips between one activity and the next), so one
 * per core leaves the browser short of work: on 2 cores, before the omnibox popup was turned off
 * (chromium-args.ts), 4 at once made 0.82-0.87 of bare Playwright's best where 2 made 0.67-0.75, for
 * about 50 MiB more per page (docs/benchmarks.md).
 */
export function screenshotConcurrency(settings: ScreenshotSettings): number {
  return settings.concurrency ?? Math.min(8, Math.max(2, 2 * availableParallelism()));
}

export interface BrowserWorkerOptions {
  config: Config;
  connection: NativeConnection;
  /** A pool made by the caller (tests, benchmarks), which then closes it; otherwise one per worker. */
  pool?: BrowserPool;
  logger?: Logger;
}

export interface BrowserWorker {
  worker: Worker;
  /** The pool the worker uses: close it once the worker has stopped. */
  pool: BrowserPool;
}

export async function createBrowserWorker({ config, connection, pool, logger = createLogger('browser-worker') }: BrowserWorkerOptions): Promise<BrowserWorker> {
  const settings = config.screenshots;
  // The same fence as the network probes: the browser reaches nothing they could not.
  const scope = { allowRanges: config.probe.allowRanges, onlyRanges: config.probe.onlyRanges, resolvers: config.probe.resolvers };
  const browsers = pool ?? createBrowserPool({ settings, executablePath: settings.chromium ?? locatePrerequisite('chromium'), scope, logger });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: browserTaskQueue(config.temporal.taskQueue),
    maxConcurrentActivityTaskExecutions: screenshotConcurrency(settings),
    activities: createScreenshotActivities({ settings, scope, artifacts: createArtifactStore(config), pool: browsers }),
  });
  return { worker, pool: browsers };
}

/**
 * The browser worker as a process of its own: stops on SIGINT/SIGTERM (Temporal's runtime shuts
 * the worker down on them), and leaves no Chromium behind.
 */
export async function runBrowserWorker(config: Config): Promise<void> {
  const logger = createLogger('browser-worker');
  await installTemporalRuntime(config);
  const metrics = await startMetricsEndpoint(config, 'browserWorker', logger);
  const connection = await connectTemporalWorker(config.temporal);
  try {
    const { worker, pool } = await createBrowserWorker({ config, connection, logger });
    try {
      await pool.start();
      logger.info(
        { taskQueue: browserTaskQueue(config.temporal.taskQueue), concurrency: screenshotConcurrency(config.screenshots), chromiumPid: pool.browserPid() },
        'browser worker polling',
      );
      await worker.run();
    } finally {
      await pool.close();
    }
  } finally {
    await connection.close();
    await metrics?.close();
  }
}
