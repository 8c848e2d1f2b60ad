// One real Temporal dev server for the whole run, and the workflow code bundled once.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import getPort from 'get-port';
import type { TestProject } from 'vitest/node';
import { startTemporalDevServer } from '../scripts/temporal-dev-server';
import { workflowsPath } from '../workers/main-worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundleCode: string;
  }
}

export default async function setup(project: TestProject) {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-test-temporal-'));
  const [server, bundle] = await Promise.all([
    startTemporalDevServer({ host: '127.0.0.1', port: await getPort(), stateDir, namespace: 'default' }),
    bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') }),
  ]);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundleCode', bundle.code);
  return async () => {
    await server.stop();
    await rm(stateDir, { recursive: true, force: true });
  };
}
