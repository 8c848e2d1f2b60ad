// The intake server as a process: connects to Temporal and serves the webhook endpoints.
import type { FastifyInstance } from 'fastify';
import { Client } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { createArchive } from '../activities/archive';
import { createObjectStore } from '../activities/archive/objects';
import type { Archive } from '../activities/archive/types';
import { localTrackerRoot } from '../activities/tracker';
import { createGitHubTracker } from '../activities/tracker/github';
import { createGitHubClient } from '../activities/tracker/github-client';
import { createLocalTracker } from '../activities/tracker/local';
import { createIssueSignaller } from '../intake/issue-signals';
import { createResponseCommands, type ResponseCommands } from '../intake/response-commands';
import { configuredSecrets } from '../intake/archived-headers';
import type { QueueConsumer } from '../intake/queues';
import type { S3QueueDeps } from '../intake/queues/s3-sqs';
import { createMirror } from '../intake/mirror';
import { buildIntakeServer } from '../intake/server';
import type { SigmaRuleSet, SkippedRule } from '../intake/sigma';
import { defaultMaxBodyBytes, knownSourceNames } from '../intake/sources';
import { resolveTrackerPeople, resolveTrackerToken } from '../intake/token';
import { resolveSecret, type Config, type GitHubSettings } from '../lib/config';
import { createLogger, type Logger } from '../lib/logger';
import { lazyTemporalConnection } from '../lib/temporal-connection';
import { configuredDecoder, createConfiguredDelivery } from './delivery';
import { startMetricsEndpoint } from './metrics';

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

/**
 * Never silently: the rules that cannot run, with why, one line per reason (a SigmaHQ checkout skips
 * thousands for one reason, its log source); `vigil rules check` lists each.
 */
function logSigmaRules(config: Config, { rules, skipped }: SigmaRuleSet, logger: Logger): void {
  if (config.detections.sigma.length === 0) return;
  const byReason = new Map<string, SkippedRule[]>();
  for (const entry of skipped) {
    const reason = entry.reason.replace(/^logsource .*? is not one Vigil reads/, 'logsource is not one Vigil reads');
    const entries = byReason.get(reason) ?? [];
    entries.push(entry);
    byReason.set(reason, entries);
  }
  for (const [reason, entries] of byReason) {
    logger.warn({ reason, rules: entries.length, files: entries.slice(0, 5).map(({ file, document }) => (document ? `${file}#${document}` : file)) }, 'Sigma rules skipped');
  }
  logger.info({ loaded: rules.length, skipped: skipped.length }, 'Sigma rules loaded');
}

export async function startIntake({ config, token, client, logger = createLogger('intake'), archive: given }: StartIntakeOptions): Promise<{
  app: FastifyInstance;
  url: string;
}> {
  // One reader of the trail buckets (an S3 client per region and endpoint) for the archive and the queues.
  const objects = createObjectStore();
  const archive = given ?? createArchive(config, objects);
  logSigmaRules(config, configuredDecoder(config).sigma, logger);
  const delivery = createConfiguredDelivery(config, client, logger, { archive });
  const signalIssueChange = createIssueSignaller(client, { taskQueue: config.temporal.taskQueue, timeoutMs: config.intake.dispatchTimeoutMs });
  const localTracker = config.tracker.kind === 'local' ? createLocalTracker({ root: localTrackerRoot(config) }) : undefined;
  const github = config.tracker.kind === 'github' ? config.tracker.github : undefined;
  // Started after the server is built (a listen that fails closes them), read by /healthz meanwhile.
  const started: { queues?: QueueConsumer } = {};
  const mirror = config.intake.mirror && createMirror(config.intake.mirror, logger.child({ component: 'mirror' }));
  const app = buildIntakeServer({
    token,
    queues: () => started.queues?.health() ?? [],
    logger,
    archive,
    delivery,
    sources: sourceRoutes(config),
    otherSecrets: configuredSecrets(config),
    trustProxy: config.intake.trustProxy,
    mirror,
    githubWebhook: github?.webhookSecret
      ? {
          secret: resolveSecret(github.webhookSecret, 'tracker.github.webhookSecret'),
          labels: config.tracker.labels,
          signalIssueChange,
          responseCommands: githubResponseCommands(config, github, client),
          repository: { owner: github.owner, repo: github.repo },
        }
      : undefined,
    issues: localTracker
      ? {
          tracker: localTracker,
          labels: config.tracker.labels,
          token: resolveTrackerToken(config, token),
          intakeHost: config.intake.host,
          allowedHosts: config.tracker.local.allowedHosts,
          sessionTtlMs: msToNumber(config.tracker.local.sessionTtl),
          people: resolveTrackerPeople(config, resolveTrackerToken(config, token)),
          signalIssueChange,
          responseCommands: createResponseCommands({ client, config, tracker: localTracker }),
        }
      : undefined,
  });
  started.queues = await startQueues(config, { archive, delivery, objects, logger });
  // Closing intake (vigil intake, vigil dev, tests, or a listen that failed) stops its queues too.
  app.addHook('onClose', async () => started.queues?.stop());
  app.addHook('onClose', async () => mirror?.close());
  try {
    await app.listen({ host: config.intake.host, port: config.intake.port });
  } catch (err) {
    await app.close();
    throw err;
  }
  const { port } = app.server.address() as { port: number };
  const host = config.intake.host.includes(':') ? `[${config.intake.host}]` : config.intake.host;
  return { app, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}` };
}

/**
 * The webhook's `/vigil` commands: answers written as the GitHub tracker writes, and teams looked up
 * with its credentials. A delivery waits for them, and GitHub gives a delivery 10 s: one quick retry
 * of a failed request, no waiting out a rate limit (the 503 that follows asks for a redelivery).
 */
function githubResponseCommands(config: Config, settings: GitHubSettings, client: Client): ResponseCommands {
  const options = { retries: 1, retryBaseDelayMs: 500, rateLimitRetries: 0, requestTimeoutMs: 4000, log: createLogger('github-commands') };
  return createResponseCommands({
    client,
    config,
    tracker: createGitHubTracker(settings, config.tracker.labels, { ...options, createAttempts: 1 }),
    github: createGitHubClient(settings, options).octokit,
  });
}

/** The configured queues' consumers, whose modules are loaded only when there are some. */
async function startQueues(config: Config, deps: Omit<S3QueueDeps, 'maxBodyBytes'>): Promise<QueueConsumer | undefined> {
  if (config.intake.queues.length === 0) return undefined;
  const { startQueueConsumers } = await import('../intake/queues');
  const cloudtrail = sourceRoutes(config).find(({ name }) => name === 'cloudtrail')!;
  return startQueueConsumers(config.intake.queues, { ...deps, maxBodyBytes: cloudtrail.maxBodyBytes });
}

/** Intake as a process of its own (`vigil intake`): stops on SIGINT/SIGTERM. */
export async function runIntake(config: Config, token: string): Promise<void> {
  // Lazy: intake answers (202, undispatched) even while Temporal is away.
  const connection = lazyTemporalConnection(config.temporal);
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const { app, url } = await startIntake({ config, token, client });
  app.log.info({ url }, 'intake listening');
  const metrics = await startMetricsEndpoint(config, 'intake', createLogger('intake'));
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  await app.close();
  await connection.close();
  await metrics?.close();
}
