// The main worker: runs the investigation, sweeper and re-scan workflows and their activities.
import { Client } from '@temporalio/client';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createAcceptedRiskStore, createArchive, createArtifactStore, createAuditStore } from '../activities/archive';
import { createInventoryProviders } from '../activities/context';
import { createCoverageActivities } from '../activities/coverage';
import { createRescanActivities } from '../activities/rescan';
import { createExecutors } from '../activities/response';
import { acceptedRisks } from '../activities/response/accepted-risk';
import { createConfiguredIntel } from '../activities/intel/activities';
import { createActorHistory } from '../activities/intel/actor-history';
import { createConfiguredPrincipals } from '../activities/principals';
import { createTracker } from '../activities/tracker';
import { createSweepActivities } from '../activities/archive/sweep';
import type { Config } from '../lib/config';
import { createLogger, type Logger } from '../lib/logger';
import { connectTemporal, connectTemporalWorker } from '../lib/temporal-connection';
import { createDeferredDelivery } from './deferred-delivery';
import { countWatchingFromVisibility, installTemporalRuntime, startMetricsEndpoint } from './metrics';
import { applySchedules, rescanFollower, runSchedulesNow } from './schedules';
import { workflowCodeOptions } from './workflow-bundle';
import { workerTuning } from './worker-tuning';

export { workflowsPath } from './workflow-bundle';

export interface MainWorkerOptions {
  config: Config;
  connection: NativeConnection;
  /** For the activities that talk to Temporal themselves (the sweeper dispatches). */
  client: Client;
  logger?: Logger;
  /** A bundle made once (tests); otherwise the one `vigil build` made when it is fresh, else the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Around workflows and activities: tracing, metrics, or a test acting at a chosen step. */
  interceptors?: WorkerOptions['interceptors'];
}

export async function createMainWorker({ config, connection, client, logger = createLogger('worker'), workflowBundle, interceptors }: MainWorkerOptions): Promise<Worker> {
  const archive = createArchive(config);
  const inventory = await createInventoryProviders(config.inventory);
  const delivery = createDeferredDelivery(config, client, logger, archive);
  const tracker = await createTracker(config);
  const accepted = acceptedRisks(createAcceptedRiskStore(config));
  countWatchingFromVisibility(client);
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...workerTuning(config.worker),
    ...(workflowBundle
      ? { workflowBundle }
      : await workflowCodeOptions((reason) => logger.warn(`${reason}: bundling the workflows at start, which holds webpack in memory; \`vigil build\` makes the bundle once`))),
    ...(interceptors ? { interceptors } : {}),
    activities: {
      ...createActivities({
        tracker,
        labels: config.tracker.labels,
        intel: { ...createConfiguredIntel(config), principals: await createConfiguredPrincipals(config.inventory), history: createActorHistory(client) },
        inventory,
        probe: { settings: config.probe, scope: config.probe },
        screenshots: config.screenshots.enabled,
        artifacts: createArtifactStore(config),
        watch: config.watch,
        client,
        correlation: config.correlation,
        response: { settings: config.response, executors: createExecutors(config.response), audit: createAuditStore(config), accepted },
      }),
      ...createSweepActivities({ archive, delivery }),
      ...createRescanActivities({ inventory, settings: config.rescan, archive, delivery, accepted }),
      ...createCoverageActivities({
        inventory,
        tracker,
        labels: config.tracker.labels,
        rescans: rescanFollower(client, config),
      }),
    },
  });
}

/** Schedules up to date, and each run once now (a sweep, a feed refresh). */
export async function startSchedules(client: Client, config: Config): Promise<void> {
  await applySchedules(client, config);
  await runSchedulesNow(client, config);
}

/** The worker as a process of its own (`vigil worker`): stops on SIGINT/SIGTERM. */
export async function runMainWorker(config: Config): Promise<void> {
  const logger = createLogger('worker');
  await installTemporalRuntime(config);
  const metrics = await startMetricsEndpoint(config, 'worker', logger);
  const connection = await connectTemporalWorker(config.temporal);
  const clientConnection = await connectTemporal(config.temporal);
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  try {
    const worker = await createMainWorker({ config, connection, client, logger });
    await startSchedules(client, config);
    await worker.run();
  } finally {
    await clientConnection.close();
    await connection.close();
    await metrics?.close();
  }
}
