// Tests on Temporal's time-skipping test server, each with a server of its own.
//
// The test server skips time only while no lock is held, and it leaks locks: one for an activity or
// a workflow task outstanding when a run ends (temporalio/sdk-java#1138), and now and then one
// around a query it drops. A leaked lock makes every later timer on that server wait in real time,
// so a server shared by a file's tests let one test's leak hang the tests after it. A server per
// test costs about a second and keeps each test's clock its own.
import { isGrpcDeadlineError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { ensureSearchAttributes } from '../../lib/temporal-setup';
import { locatePrerequisite } from '../../scripts/prerequisites';

export interface TimeSkippingServer {
  /** The current test's environment (a new one for each test). */
  readonly env: TestWorkflowEnvironment;
  /** A worker of the current test's, shut down after it if the test did not get to stop it. */
  adopt(worker: Worker, running: Promise<void>): void;
}

/** Registers the hooks that give each test of the calling file a fresh time-skipping server. */
export function timeSkippingServerPerTest(): TimeSkippingServer {
  let env: TestWorkflowEnvironment | undefined;
  let workers: { worker: Worker; running: Promise<void> }[] = [];
  beforeAll(() => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // Installed already in this process.
    }
  });
  beforeEach(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: locatePrerequisite('temporal-test-server') } },
    });
    await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  });
  afterEach(async () => {
    // A test that failed half way left its worker running: the connection cannot close under it.
    for (const { worker, running } of workers) {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    }
    workers = [];
    await env?.teardown();
    env = undefined;
  });
  return {
    get env() {
      if (!env) throw new Error('the time-skipping server exists only while a test runs');
      return env;
    },
    adopt(worker, running) {
      workers.push({ worker, running });
    },
  };
}

/**
 * Queries a run, asking again when an answer does not come: the test server now and then drops a
 * query that reaches it while a workflow task is in flight, and a query has no deadline of its own.
 */
export async function queryPatiently<R>(client: Client, handle: WorkflowHandle, query: QueryDefinition<R>, attempts = 6): Promise<R> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await client.withDeadline(Date.now() + 5_000, () => handle.query(query));
    } catch (err) {
      if (attempt >= attempts || !isGrpcDeadlineError(err)) throw err;
    }
  }
}
