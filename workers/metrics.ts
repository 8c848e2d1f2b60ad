// The Prometheus endpoint of a Vigil process (GET /metrics): the registry of lib/metrics.ts, and the
// Temporal SDK core's own metrics (workflow task latency, activity failures, task slots), which the
// core serves on a loopback port of its own that this endpoint reads and appends, so that one scrape
// per process gets everything.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { IllegalStateError, Runtime, type RuntimeOptions } from '@temporalio/worker';
import { collectDefaultMetrics } from 'prom-client';
import { ConfigError, type Config } from '../lib/config';
import { countWatchingWith, registry } from '../lib/metrics';
import type { Logger } from '../lib/logger';
import { VigilExposure } from '../lib/search-attributes';

export type MetricsRole = keyof Config['metrics']['ports'];

/** Where the SDK core's exporter listens, once this process installed the runtime with it. */
let sdkMetricsAddress: string | undefined;

/**
 * A port nothing listens on now, on loopback, for the SDK core's exporter (its bind address takes no
 * port 0). Drawn below the system's ephemeral range (32768 and up on Linux): a port the system hands
 * out to `listen(0)` may have just been handed to another program (a test, a second stack) that has
 * not bound it yet, and the exporter would take it from under it.
 */
async function freeLoopbackPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const probe = createServer();
    const free = await new Promise<boolean>((resolve) => probe.once('error', () => resolve(false)).listen(port, '127.0.0.1', () => resolve(true)));
    if (free) {
      await new Promise((resolve) => probe.close(resolve));
      return port;
    }
  }
}

/**
 * Installs Temporal's runtime (once per process, before any worker connection) with the SDK core's
 * Prometheus exporter on loopback when metrics are on. False when a runtime was installed already
 * (tests, a second stack in one process): the SDK's metrics are then not appended.
 */
export async function installTemporalRuntime(config: Config, options: Omit<RuntimeOptions, 'telemetryOptions'> = {}): Promise<boolean> {
  const bindAddress = config.metrics.enabled ? `127.0.0.1:${await freeLoopbackPort()}` : undefined;
  try {
    Runtime.install({ ...options, ...(bindAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress } } } } : {}) });
  } catch (err) {
    // Only "installed (or instantiated) already" means another runtime serves: any other error (options
    // the core refuses, an exporter that cannot bind) is the start's to fail.
    if (err instanceof IllegalStateError && /^Runtime singleton has already been/.test(err.message)) return false;
    throw err;
  }
  sdkMetricsAddress = bindAddress;
  return true;
}

/** The SDK core's exposition, or nothing when it is not exported here or does not answer. */
async function sdkMetrics(): Promise<string> {
  if (!sdkMetricsAddress) return '';
  try {
    const response = await fetch(`http://${sdkMetricsAddress}/metrics`, { signal: AbortSignal.timeout(5000) });
    return response.ok ? await response.text() : '';
  } catch {
    return '';
  }
}

/** The port of this kind of process: VIGIL_METRICS_PORT overrides the configured one (a container's). */
function metricsPort(config: Config, role: MetricsRole, env: NodeJS.ProcessEnv): number {
  const fromEnv = env.VIGIL_METRICS_PORT;
  if (fromEnv === undefined || fromEnv === '') return config.metrics.ports[role];
  const port = Number(fromEnv);
  if (!/^\d+$/.test(fromEnv) || port > 65535) throw new ConfigError('environment', [`VIGIL_METRICS_PORT: expected a port number, got ${JSON.stringify(fromEnv)}`]);
  return port;
}

export interface MetricsEndpoint {
  /** `http://host:port/metrics` */
  url: string;
  close(): Promise<void>;
}

let defaultMetricsCollected = false;

/**
 * Serves GET /metrics for this process (one endpoint, whatever roles it runs). Undefined when
 * metrics are off. A port that cannot be bound fails the start, as intake's own would: a process
 * that is not scraped is not watched.
 */
export async function startMetricsEndpoint(config: Config, role: MetricsRole, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<MetricsEndpoint | undefined> {
  if (!config.metrics.enabled) return undefined;
  if (!defaultMetricsCollected) {
    // The process's own: CPU, memory, event loop lag, garbage collection.
    collectDefaultMetrics({ register: registry });
    defaultMetricsCollected = true;
  }
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    Promise.all([registry.metrics(), sdkMetrics()]).then(
      ([own, sdk]) => response.writeHead(200, { 'content-type': registry.contentType }).end(sdk ? `${own}\n${sdk}` : own),
      (err: unknown) => {
        logger.error({ err }, 'metrics could not be collected');
        response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n');
      },
    );
  });
  const port = metricsPort(config, role, env);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, config.metrics.host, resolve));
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}/metrics`;
  logger.info({ url, sdkMetrics: sdkMetricsAddress !== undefined }, 'metrics endpoint listening');
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** How often the watching gauge asks visibility at most: a scrape every few seconds must not. */
const WATCHING_TTL_MS = 30_000;
/**
 * How long a scrape waits for visibility: a Temporal that hangs must not hang /metrics, which
 * liveness probes read (a probe that times out restarts a process that is fine).
 */
const WATCHING_DEADLINE_MS = 5_000;

/** The watching gauge from Temporal visibility: running investigations whose exposure is open. */
export function countWatchingFromVisibility(client: Client): void {
  const query = `${VigilExposure.name} = 'open' AND ExecutionStatus = 'Running'`;
  let cached: { at: number; count: number } | undefined;
  countWatchingWith(async () => {
    if (cached && Date.now() - cached.at < WATCHING_TTL_MS) return cached.count;
    try {
      const { count } = await client.withDeadline(Date.now() + WATCHING_DEADLINE_MS, () => client.workflow.count(query));
      cached = { at: Date.now(), count };
      return count;
    } catch {
      // Visibility away, too slow or unsupported: the gauge keeps its last value rather than failing the scrape.
      return cached?.count;
    }
  });
}
