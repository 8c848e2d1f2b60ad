// Vigil on one machine: the Temporal dev server (unless one is already there), the main worker and
// intake, in this process. Used by `vigil dev` and `vigil demo`; `stop()` ends all it started.
import { mkdir } from 'node:fs/promises';
import { Client } from '@temporalio/client';
import { DefaultLogger, type LogLevel } from '@temporalio/worker';
import type { Config } from '../lib/config';
import { progressQuery, type InvestigationProgress } from '../lib/investigation';
import { createLogger, type Logger } from '../lib/logger';
import { connectTemporal, connectTemporalWorker } from '../lib/temporal-connection';
import { prepareTemporal } from '../lib/temporal-setup';
import { resolveIntakeToken, resolveTrackerToken } from '../intake/token';
import { startIntake } from '../workers/intake';
import { createBrowserWorker } from '../workers/browser-worker';
import { createMainWorker, startSchedules } from '../workers/main-worker';
import { installTemporalRuntime, startMetricsEndpoint } from '../workers/metrics';
import { isListening, startTemporalDevServer } from './temporal-dev-server';

export interface StackOptions {
  config: Config;
  /** Use a Temporal server already listening at the configured address instead of starting one. */
  reuseTemporal: boolean;
  logger?: Logger;
}

export interface Stack {
  intakeUrl: string;
  issuesUrl: string;
  temporalAddress: string;
  /** The Temporal web UI, when this stack started the server. */
  temporalUiUrl?: string;
  startedTemporal: boolean;
  token: string;
  tokenFile?: string;
  tokenGenerated: boolean;
  /** What the issues page and API take: the intake token unless `tracker.local.token` is set. */
  trackerToken: string;
  /** The one Prometheus endpoint of intake and workers (on the intake's metrics port), unless off or its port was taken. */
  metricsUrl?: string;
  client: Client;
  stop(): Promise<void>;
}

/** Temporal's own signal handling is off: the stack stops its parts in order itself. */
async function installRuntime(config: Config, logger: Logger): Promise<void> {
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  // Installed already by an earlier stack in this process, it is kept.
  await installTemporalRuntime(config, {
    shutdownSignals: [],
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => logger[levels[level]](meta ?? {}, message)),
  });
}

async function retry<T>(what: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await what();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

export async function startStack({ config, reuseTemporal, logger = createLogger('vigil') }: StackOptions): Promise<Stack> {
  await installRuntime(config, logger);
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((err: unknown) => logger.error({ err }, 'error while stopping'));
    }
  };
  try {
    await mkdir(config.dataDir, { recursive: true });
    const { token, generated, file } = await resolveIntakeToken(config);

    const [host = '127.0.0.1', portText = '7233'] = config.temporal.address.split(':');
    let temporalUiUrl: string | undefined;
    const reuse = reuseTemporal && (await isListening(host, Number(portText)));
    if (!reuse) {
      const server = await startTemporalDevServer({
        host,
        port: Number(portText),
        uiPort: config.temporal.uiPort,
        stateDir: config.dataDir,
        namespaces: [config.temporal.namespace],
      });
      cleanups.push(() => server.stop());
      temporalUiUrl = server.uiUrl;
    }

    const connection = await retry(() => connectTemporal(config.temporal), 30_000);
    cleanups.push(() => connection.close());
    await retry(() => prepareTemporal(connection, config.temporal.namespace), 30_000);
    const client = new Client({ connection, namespace: config.temporal.namespace });

    const workerConnection = await connectTemporalWorker(config.temporal);
    cleanups.push(() => workerConnection.close());
    const worker = await createMainWorker({ config, connection: workerConnection, client, logger });
    // A worker that fails is logged here; stop() still waits for it to have ended.
    const running = worker.run().catch((err: unknown) => logger.error({ err }, 'the worker stopped'));
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    if (config.screenshots.enabled) {
      // Screenshots on their own queue, as in production, but in this process: one Chromium.
      const { worker: browserWorker, pool } = await createBrowserWorker({ config, connection: workerConnection, logger: logger.child({ component: 'browser' }) });
      const browsing = browserWorker.run().catch((err: unknown) => logger.error({ err }, 'the browser worker stopped'));
      cleanups.push(async () => {
        if (browserWorker.getState() === 'RUNNING') browserWorker.shutdown();
        await browsing;
        await pool.close();
      });
    }

    await startSchedules(client, config);

    const intake = await startIntake({ config, token, client, logger: logger.child({ component: 'intake' }) });
    cleanups.push(() => intake.app.close());
    // One endpoint for everything this process runs. On one machine a port already taken (a second
    // `vigil dev`, a demo) costs the metrics only, not the stack.
    const metrics = await startMetricsEndpoint(config, 'intake', logger).catch((err: unknown) => {
      logger.warn({ err: (err as Error).message }, 'no metrics endpoint: set metrics.ports.intake (0 takes a free port)');
      return undefined;
    });
    if (metrics) cleanups.push(() => metrics.close());

    return {
      intakeUrl: intake.url,
      issuesUrl: `${intake.url}/issues`,
      temporalAddress: config.temporal.address,
      temporalUiUrl,
      startedTemporal: !reuse,
      token,
      tokenFile: file,
      tokenGenerated: generated,
      trackerToken: resolveTrackerToken(config, token),
      metricsUrl: metrics?.url,
      client,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * An investigation's progress, or undefined when it does not answer in time: a query that meets an
 * in-flight workflow task can wait far longer than a poll should.
 */
export function progressOf(stack: Stack, workflowId: string): Promise<InvestigationProgress | undefined> {
  return stack.client.withDeadline(Date.now() + 2000, () => stack.client.workflow.getHandle(workflowId).query(progressQuery)).catch(() => undefined);
}
