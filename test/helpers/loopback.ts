// Loopback listeners for probe tests, and probe settings/scope that stay on 127.0.0.1.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server as HttpServer } from 'node:http';
import net from 'node:net';
import { configSchema, type ProbeSettings } from '../../lib/config';
import type { ProbeScope } from '../../activities/probe/scope';
import type { CheckContext } from '../../activities/probe/types';

/** Only 127.0.0.1 may be contacted: 127.0.0.2 stands for "somewhere Vigil must not go". */
export const loopbackScope: ProbeScope = { allowRanges: ['127.0.0.1/32'], onlyRanges: ['127.0.0.1/32'] };

export function probeSettings(overrides: Partial<ProbeSettings> = {}): ProbeSettings {
  return { ...configSchema.parse({}).probe, connectTimeoutMs: 1000, serviceTimeoutMs: 3000, ...overrides };
}

export function checkContext(overrides: Partial<ProbeSettings> = {}, signal = new AbortController().signal): CheckContext {
  return { scope: loopbackScope, settings: probeSettings(overrides), signal };
}

const openSockets = new WeakMap<net.Server, Set<net.Socket>>();

/** Starts `server` on a free port of `host` and gives the port. */
export async function listen(server: net.Server | HttpServer, host = '127.0.0.1'): Promise<number> {
  const sockets = new Set<net.Socket>();
  openSockets.set(server, sockets);
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as net.AddressInfo).port;
}

/** Stops `server`, dropping the connections still open (a test server may hold some on purpose). */
export const close = (server: net.Server | HttpServer) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const socket of openSockets.get(server) ?? []) socket.destroy();
  });

/** A TCP listener that counts the connections it receives (the proof that none was made). */
export async function countingListener(host: string) {
  const seen = { connections: 0 };
  const server = net.createServer((socket) => {
    seen.connections++;
    socket.destroy();
  });
  const port = await listen(server, host);
  return { server, port, seen };
}

/** A port nobody listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

/**
 * Ports whose SYNs are dropped, like a firewall's: a listener with backlog 0 whose accept queue is
 * full and that never accepts (Linux drops SYNs to a full queue). Node always accepts, so Python
 * holds these sockets; it lives until `stop`.
 */
export async function droppingPorts(count: number): Promise<{ ports: number[]; stop: () => void }> {
  const script = `
import socket, sys
listeners, fillers = [], []
for _ in range(${count}):
    s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0); listeners.append(s)
    for _ in range(2):
        c = socket.socket(); c.setblocking(False)
        try: c.connect(s.getsockname())
        except BlockingIOError: pass
        fillers.append(c)
print(' '.join(str(s.getsockname()[1]) for s in listeners), flush=True)
sys.stdin.read()
`;
  const child: ChildProcess = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`python3 exited with ${code}`)));
  });
  // Give the fillers' handshakes a moment to land in the accept queues.
  await new Promise((resolve) => setTimeout(resolve, 100));
  return { ports: line.split(' ').map(Number), stop: () => child.kill() };
}
