// The intake server as a process: connects to Temporal and serves the webhook endpoints.
import type { FastifyInstance } from 'fastify';
import { Client, Connection } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';
import { createArchive } from '../activities/archive';
import type { Archive } from '../activities/archive/types';
import { localTrackerRoot } from '../activities/tracker';
import { createLocalTracker } from '../activities/tracker/local';
import { createIssueSignaller } from '../intake/issue-signals';
import { configuredSecrets } from '../intake/archived-headers';
import { buildIntakeServer } from '../intake/server';
import { defaultMaxBodyBytes, knownSourceNames } from '../intake/sources';
import { resolveTrackerToken } from '../intake/token';
import { resolveSecret, type Config } from '../lib/config';
import { createLogger, type Logger } from '../lib/logger';
import { configuredDecoder, createConfiguredDelivery } from './delivery';

export interface StartIntakeOptions {
  config: Config;
  token: string;
  client: Client;
  logger?: Logger;
  /** Another archive than the configured one (tests of archive failures). */
  archive?: Archive;
}

function sourceRoutes(config: Config) {
  const limitOf = (name: string) =>
    config.intake.sources[name]?.maxBodyBytes ?? defaultMaxBodyBytes(name) ?? config.intake.maxBodyBytes;
  const named = knownSourceNames().filter((name) => name !== 'auto');
  return knownSourceNames().map((name) => ({
    name,
    settings: config.intake.sources[name] ?? {},
    // `auto` may receive anything any source accepts.
    maxBodyBytes:
      name === 'auto'
        ? (config.intake.sources.auto?.maxBodyBytes ?? Math.max(config.intake.maxBodyBytes, ...named.map(limitOf)))
        : limitOf(name),
  }));
}

export async function startIntake({ config, token, client, logger = createLogger('intake'), archive = createArchive(config) }: StartIntakeOptions): Promise<{
  app: FastifyInstance;
  url: string;
}> {
  // Never silently: each Sigma rule that cannot run is named with why (`vigil rules check` lists them too).
  const { sigma } = configuredDecoder(config);
  for (const { file, document, id, reason } of sigma.skipped) logger.warn({ file, document, ruleId: id, reason }, 'Sigma rule skipped');
  if (config.detections.sigma.length > 0) logger.info({ loaded: sigma.rules.length, skipped: sigma.skipped.length }, 'Sigma rules loaded');
  const signalIssueChange = createIssueSignaller(client, { taskQueue: config.temporal.taskQueue, timeoutMs: config.intake.dispatchTimeoutMs });
  const app = buildIntakeServer({
    token,
    logger,
    archive,
    delivery: createConfiguredDelivery(config, client, logger, { archive }),
    sources: sourceRoutes(config),
    otherSecrets: configuredSecrets(config),
    trustProxy: config.intake.trustProxy,
    githubWebhook:
      config.tracker.kind === 'github' && config.tracker.github?.webhookSecret
        ? {
            secret: resolveSecret(config.tracker.github.webhookSecret, 'tracker.github.webhookSecret'),
            labels: config.tracker.labels,
            signalIssueChange,
          }
        : undefined,
    issues:
      config.tracker.kind === 'local'
        ? {
            tracker: createLocalTracker({ root: localTrackerRoot(config) }),
            labels: config.tracker.labels,
            token: resolveTrackerToken(config, token),
            intakeHost: config.intake.host,
            allowedHosts: config.tracker.local.allowedHosts,
            sessionTtlMs: msToNumber(config.tracker.local.sessionTtl),
            signalIssueChange,
          }
        : undefined,
  });
  await app.listen({ host: config.intake.host, port: config.intake.port });
  const { port } = app.server.address() as { port: number };
  const host = config.intake.host.includes(':') ? `[${config.intake.host}]` : config.intake.host;
  return { app, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}` };
}

/** Intake as a process of its own (`vigil intake`): stops on SIGINT/SIGTERM. */
export async function runIntake(config: Config, token: string): Promise<void> {
  // Lazy: intake answers (202, undispatched) even while Temporal is away.
  const connection = Connection.lazy({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const { app, url } = await startIntake({ config, token, client });
  app.log.info({ url }, 'intake listening');
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  await app.close();
  await connection.close();
}
