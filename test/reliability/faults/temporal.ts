// Temporal for fault scenarios: a dev server of a test's own on a database file (stopped, killed and
// started again on it), and the retry of an activity whose worker was killed brought forward.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import getPort from 'get-port';
import { startTemporalDevServer, type DevServer } from '../../../scripts/temporal-dev-server';
import { descendants, isAlive } from '../../helpers/processes';

export interface OwnTemporal {
  address: string;
  /** The server's state file (SQLite, WAL), which survives every stop and kill. */
  database: string;
  running(): boolean;
  /** SIGTERM: the server shuts down as it would for a restart. */
  stop(): Promise<void>;
  /** SIGKILL: the server dies without a chance to flush anything. */
  kill(): Promise<void>;
  /** Starts again on the same port and database. */
  start(): Promise<void>;
}

export async function startOwnTemporal(stateDir: string, namespaces: string[]): Promise<OwnTemporal> {
  const port = await getPort();
  const database = path.join(stateDir, 'temporal.db');
  let server: DevServer | undefined;
  const start = async () => {
    server = await startTemporalDevServer({ host: '127.0.0.1', port, stateDir, namespaces });
  };
  await start();
  /** The CLI process serving this database, found among this process's children by its arguments. */
  const serverPid = () =>
    descendants(process.pid).find((pid) => {
      try {
        return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).includes(database);
      } catch {
        return false;
      }
    });
  return {
    address: `127.0.0.1:${port}`,
    database,
    running: () => server !== undefined,
    async stop() {
      await server?.stop();
      server = undefined;
    },
    async kill() {
      const pid = serverPid();
      if (pid === undefined) throw new Error(`no Temporal dev server on ${database} to kill`);
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
      server = undefined;
    },
    start,
  };
}

/**
 * Temporal notices that a worker died inside an activity only when the attempt's timeout runs out
 * (a minute to a quarter of an hour, as the workflow sets them). Shortening the start-to-close
 * timeout of the attempts the dead worker (`pid`) had started, through Temporal's own
 * UpdateActivityOptions (as an operator can with `temporal activity update-options`), brings the
 * retry within seconds (its first retry interval goes down to a second too); what the retry then
 * does is what the test is about. The new bound holds for later attempts too, so it is generous.
 */
export async function hastenActivitiesOf(client: Client, workflowId: string, pid: number, startToCloseSeconds = 30): Promise<string[]> {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  const hastened: string[] = [];
  for (const activity of raw.pendingActivities ?? []) {
    if (!activity.lastWorkerIdentity?.startsWith(`${pid}@`)) continue;
    await client.workflowService.updateActivityOptions({
      namespace: client.options.namespace,
      execution: { workflowId },
      id: activity.activityId,
      activityOptions: { startToCloseTimeout: msToTs(startToCloseSeconds * 1000), retryPolicy: { initialInterval: msToTs(1000) } },
      updateMask: { paths: ['start_to_close_timeout', 'retry_policy.initial_interval'] },
    });
    hastened.push(activity.activityType?.name ?? String(activity.activityId));
  }
  return hastened;
}

/** Retries of the pending activities of `workflowId` a second apart at first, not five or ten. */
export async function quickerRetries(client: Client, workflowId: string): Promise<void> {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  for (const activity of raw.pendingActivities ?? []) {
    await client.workflowService.updateActivityOptions({
      namespace: client.options.namespace,
      execution: { workflowId },
      id: activity.activityId,
      activityOptions: { retryPolicy: { initialInterval: msToTs(1000) } },
      updateMask: { paths: ['retry_policy.initial_interval'] },
    });
  }
}
