// One real Temporal dev server for the whole run, and the workflow code bundled once.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
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
    /** Namespaces for tests to claim, one each, so that workflow ids never meet across tests. */
    testNamespaces: string[];
    namespaceClaimsDir: string;
  }
}

const TEST_NAMESPACES = Array.from({ length: 100 }, (_, n) => `vigil-test-${n}`);

export default async function setup(project: TestProject) {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-test-temporal-'));
  const [server, bundle] = await Promise.all([
    startTemporalDevServer({ host: '127.0.0.1', port: await getPort(), stateDir, namespaces: TEST_NAMESPACES }),
    bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') }),
  ]);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundleCode', bundle.code);
  project.provide('testNamespaces', TEST_NAMESPACES);
  project.provide('namespaceClaimsDir', await mkdir(path.join(stateDir, 'claims'), { recursive: true }).then(() => path.join(stateDir, 'claims')));
  return async () => {
    await server.stop();
    await rm(stateDir, { recursive: true, force: true });
  };
}
