// The intake server as a process: connects to Temporal and serves the webhook endpoints.
import type { FastifyInstance } from 'fastify';
import { Client, Connection } from '@temporalio/client';
import { createLocalArchive } from '../activities/archive/local';
import { localTrackerRoot } from '../activities/tracker';
import { createLocalTracker } from '../activities/tracker/local';
import { createDispatcher } from '../intake/dispatch';
import { buildIntakeServer } from '../intake/server';
import type { Config } from '../lib/config';
import { createLogger, type Logger } from '../lib/logger';
import path from 'node:path';

export interface StartIntakeOptions {
  config: Config;
  token: string;
  client: Client;
  logger?: Logger;
}

export async function startIntake({ config, token, client, logger = createLogger('intake') }: StartIntakeOptions): Promise<{
  app: FastifyInstance;
  url: string;
}> {
  const app = buildIntakeServer({
    token,
    logger,
    maxBodyBytes: config.intake.maxBodyBytes,
    archive: createLocalArchive(path.join(config.dataDir, 'archive')),
    dispatch: createDispatcher(client, config.temporal.taskQueue),
    localTracker: config.tracker.kind === 'local' ? createLocalTracker({ root: localTrackerRoot(config) }) : undefined,
  });
  await app.listen({ host: config.intake.host, port: config.intake.port });
  const { port } = app.server.address() as { port: number };
  const host = config.intake.host.includes(':') ? `[${config.intake.host}]` : config.intake.host;
  return { app, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}` };
}

/** Intake as a process of its own (`vigil intake`): stops on SIGINT/SIGTERM. */
export async function runIntake(config: Config, token: string): Promise<void> {
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const { app, url } = await startIntake({ config, token, client });
  app.log.info({ url }, 'intake listening');
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  await app.close();
  await connection.close();
}
