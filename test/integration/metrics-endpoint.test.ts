// The Prometheus endpoint of one process against a Temporal that hangs: a TCP listener on loopback
// that takes connections and never answers. /metrics still answers (liveness probes read it), and
// Temporal's runtime is installed once, a second install saying so rather than failing.
import net from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { configSchema } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { countWatchingFromVisibility, installTemporalRuntime, startMetricsEndpoint } from '../../workers/metrics';

const config = configSchema.parse({ metrics: { ports: { worker: 0 } } });
const held: net.Socket[] = [];
let hung: net.Server;
let address: string;

beforeAll(async () => {
  hung = net.createServer((socket) => void held.push(socket));
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  address = `127.0.0.1:${(hung.address() as net.AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => hung.close(resolve));
});

it('installs Temporal’s runtime once; a second install is not an error', async () => {
  expect(await installTemporalRuntime(config)).toBe(true);
  expect(await installTemporalRuntime(config)).toBe(false);
});

it('answers /metrics when Temporal’s visibility hangs', async () => {
  const connection = Connection.lazy({ address });
  countWatchingFromVisibility(new Client({ connection }));
  const endpoint = await startMetricsEndpoint(config, 'worker', createLogger('metrics-test', 'silent'), {});
  try {
    const response = await fetch(endpoint!.url);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('vigil_investigations_watching');
  } finally {
    await endpoint?.close();
    await connection.close();
  }
});
