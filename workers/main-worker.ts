// The main worker: runs the investigation workflows and their activities on the main task queue.
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createTracker } from '../activities/tracker';
import type { Config } from '../lib/config';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface MainWorkerOptions {
  config: Config;
  connection: NativeConnection;
  /** A bundle made once (tests); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export function createMainWorker({ config, connection, workflowBundle }: MainWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
    activities: createActivities({ tracker: createTracker(config) }),
  });
}

/** The worker as a process of its own (`vigil worker`): stops on SIGINT/SIGTERM. */
export async function runMainWorker(config: Config): Promise<void> {
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    const worker = await createMainWorker({ config, connection });
    await worker.run();
  } finally {
    await connection.close();
  }
}
