// A real Vigil for a test: intake on a free port, a main worker on its own task queue, both on the
// run's Temporal dev server, with a fresh data folder.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { inject } from 'vitest';
import { localTrackerRoot } from '../../activities/tracker';
import { createLocalTracker, type LocalTracker } from '../../activities/tracker/local';
import { configSchema, type Config } from '../../lib/config';
import { resolveTrackerToken } from '../../intake/token';
import { createLogger } from '../../lib/logger';
import { startIntake } from '../../workers/intake';
import { createBrowserWorker } from '../../workers/browser-worker';
import { createMainWorker } from '../../workers/main-worker';
import { progressQuery, type InvestigationProgress } from '../../lib/investigation';

export interface TestVigil {
  config: Config;
  url: string;
  token: string;
  /** What the issues page and API take: the intake token unless the test configures one apart. */
  trackerToken: string;
  client: Client;
  tracker: LocalTracker;
  post(source: string, body: string | object | Buffer, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** A GET of the tracker's API with the tracker token. */
  read(path: string): Promise<Response>;
  stop(): Promise<void>;
}

export interface TestVigilOptions {
  /** Intake settings on top of the test defaults (per-source credentials, limits). */
  intake?: Record<string, unknown>;
  /** Where intake looks for Temporal, when not the test server (an address nothing answers at). */
  intakeTemporalAddress?: string;
  /** Tracker settings instead of the local tracker. */
  tracker?: Record<string, unknown>;
  /** Actor-check settings (feeds and providers on loopback). */
  intel?: Record<string, unknown>;
  /** Inventory settings (a static file, moto, the local Cloud Asset server). */
  inventory?: Record<string, unknown>;
  /** Re-scan settings (sensitive ports, allowances). */
  rescan?: Record<string, unknown>;
  /** Probe settings on top of the loopback-only fence every test keeps. */
  probe?: Record<string, unknown>;
  /** Runs a browser worker (real Chromium) beside the main worker, so web pages get screenshots. */
  browser?: boolean;
  /** Sigma rule files or folders (`detections.sigma`). */
  sigma?: string[];
  /** Response settings (askers, approvers, self-approval). */
  response?: Record<string, unknown>;
  /** A Temporal server of the test's own (one with the Web UI) instead of the run's shared one. */
  temporal?: { address: string; namespace: string };
}

/** Tests probe loopback and nothing else, whatever an inventory or alert says. */
export const loopbackOnlyProbes = { allowRanges: ['127.0.0.0/8'], onlyRanges: ['127.0.0.0/8'] };

export async function startTestVigil(options: TestVigilOptions = {}): Promise<TestVigil> {
  quietTemporalRuntime();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-test-'));
  const config = configSchema.parse({
    dataDir,
    temporal: { ...(options.temporal ?? { address: inject('temporalAddress'), namespace: await claimNamespace() }), taskQueue: `test-${randomUUID()}` },
    // A busy machine may take seconds to answer a dispatch, and `dispatched: false` would then be a
    // matter of timing; only an intake pointed where nothing answers gives up quickly.
    intake: { port: 0, maxBodyBytes: 64 * 1024, dispatchTimeoutMs: options.intakeTemporalAddress ? 1000 : 60_000, ...options.intake },
    ...(options.tracker ? { tracker: options.tracker } : {}),
    ...(options.intel ? { intel: options.intel } : {}),
    ...(options.inventory ? { inventory: options.inventory } : {}),
    ...(options.rescan ? { rescan: options.rescan } : {}),
    ...(options.sigma ? { detections: { sigma: options.sigma } } : {}),
    ...(options.response ? { response: options.response } : {}),
    probe: { ...options.probe, ...loopbackOnlyProbes },
    screenshots: { enabled: options.browser ?? false },
    // The dev server's SQLite visibility answers at once: a second look after a pause finds nothing more.
    correlation: { settleMs: 0 },
  });
  const token = 'test-token-0123456789abcdef';
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const workerConnection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createMainWorker({
    config,
    connection: workerConnection,
    client,
    logger: createLogger('test-worker', 'silent'),
    workflowBundle: { code: inject('workflowBundleCode') },
  });
  const running = worker.run();
  const browser = options.browser ? await createBrowserWorker({ config, connection: workerConnection, logger: createLogger('test-browser', 'silent') }) : undefined;
  const browsing = browser?.worker.run();
  const intakeConnection = options.intakeTemporalAddress
    ? Connection.lazy({ address: options.intakeTemporalAddress })
    : connection;
  const { app, url } = await startIntake({
    config,
    token,
    client: new Client({ connection: intakeConnection, namespace: config.temporal.namespace }),
    logger: createLogger('test-intake', 'silent'),
  });

  const trackerToken = resolveTrackerToken(config, token);
  return {
    config,
    url,
    token,
    trackerToken,
    client,
    tracker: createLocalTracker({ root: localTrackerRoot(config) }),
    async post(source, body, headers = {}) {
      const response = await fetch(`${url}/v1/alerts/${source}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    },
    read: (path) => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${trackerToken}` } }),
    async stop() {
      await app.close();
      worker.shutdown();
      browser?.worker.shutdown();
      await Promise.all([running, browsing]);
      await browser?.pool.close();
      await workerConnection.close();
      if (intakeConnection !== connection) await intakeConnection.close();
      await connection.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A namespace of the run's server that no other test uses: investigations are keyed by alert
 * identity, and two tests sending the same sample must not meet in one workflow.
 */
export async function claimNamespace(): Promise<string> {
  for (const namespace of inject('testNamespaces')) {
    try {
      await mkdir(path.join(inject('namespaceClaimsDir'), namespace));
      return namespace;
    } catch {
      // Taken by another test.
    }
  }
  throw new Error('every test namespace is taken: raise TEST_NAMESPACES in test/global-setup.ts');
}

/** Only the worker's warnings and errors in test output. */
function quietTemporalRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Installed already in this process.
  }
}

/**
 * The investigation's progress, or undefined when it cannot answer yet. Bounded: a query that
 * reaches the server while the workflow's task is in flight can wait far longer than a poll should.
 */
export function queryProgress(client: Client, workflowId: string): Promise<InvestigationProgress | undefined> {
  return client
    .withDeadline(Date.now() + 2000, () => client.workflow.getHandle(workflowId).query(progressQuery))
    .catch(() => undefined);
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
