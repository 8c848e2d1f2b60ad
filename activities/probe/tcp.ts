// The TCP sweep: which targets accept a connection, which refuse, which never answer; and what an
// open port says first, unasked. Connect attempts are bounded by `probe.concurrency`; the short
// banner wait is not, so slow banners do not hold back the sweep.
import { setMaxListeners } from 'node:events';
import type net from 'node:net';
import type { ProbeSettings } from '../../lib/config';
import type { Finding } from '../../lib/finding';
import { mapConcurrent } from '../../lib/concurrency';
import { connectSocket, ProbeTimeoutError } from './connection';
import { endpoint, type OpenPort } from './types';

/** How long an open port is given to speak first (SSH, SMTP, FTP, MySQL do at once). */
const BANNER_WAIT_MS = 400;
const BANNER_BYTES = 256;
const BANNER_FIELD_CHARS = 80;

type PortState = 'open' | 'closed' | 'filtered';

export interface SweepResult {
  findings: Finding[];
  open: OpenPort[];
}

/** Errors that mean something answered "no one here" (a RST). */
const refused = new Set(['ECONNREFUSED', 'ECONNRESET']);

/** Bytes as text a person can read: printable ASCII kept, the rest shown as `.`. */
function printable(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
}

function readBanner(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).subarray(0, BANNER_BYTES));
    };
    const timer = setTimeout(done, BANNER_WAIT_MS);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      // A line or a full buffer is banner enough; waiting longer only slows the sweep.
      if (size >= BANNER_BYTES || chunk.includes(0x0a)) done();
    });
    socket.on('error', done);
    socket.on('close', done);
  });
}

interface Attempt {
  state: PortState;
  connectMs: number;
  error?: string;
  socket?: net.Socket;
}

async function attempt(address: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<Attempt> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const socket = await connectSocket(address, port, timeoutMs, signal);
    return { state: 'open', connectMs: elapsed(), socket };
  } catch (err) {
    signal.throwIfAborted();
    const code = (err as NodeJS.ErrnoException).code;
    if (code && refused.has(code)) return { state: 'closed', connectMs: elapsed(), error: code };
    // Timeouts and unreachable networks/hosts alike: something dropped the packets.
    return { state: 'filtered', connectMs: elapsed(), error: err instanceof ProbeTimeoutError ? 'timeout' : (code ?? (err as Error).message) };
  }
}

function tcpFinding(address: string, port: number, { state, connectMs, error }: Attempt, banner: Buffer | undefined): Finding {
  const target = endpoint(address, port);
  const text = banner && banner.length > 0 ? printable(banner).trim() : undefined;
  return {
    key: `tcp/${target}`,
    check: 'tcp',
    target,
    status: state,
    fields: { state, banner: text ? text.slice(0, BANNER_FIELD_CHARS) : null, connectMs },
    volatile: ['connectMs'],
    ...(error || text ? { detail: { ...(error ? { error } : {}), ...(text ? { banner: text } : {}) } } : {}),
  };
}

/** Connects to every target (already scope-checked by the caller, which passes IPs only). */
export async function sweep(targets: readonly { address: string; port: number }[], settings: ProbeSettings, signal: AbortSignal): Promise<SweepResult> {
  // Each connection in flight listens for the abort: as many listeners as the concurrency, on purpose.
  setMaxListeners(0, signal);
  const banners: Promise<void>[] = [];
  const findings: Finding[] = new Array(targets.length);
  const opened: (OpenPort | undefined)[] = new Array(targets.length);
  await mapConcurrent(targets, settings.concurrency, async ({ address, port }, index) => {
    const result = await attempt(address, port, settings.connectTimeoutMs, signal);
    const { socket } = result;
    if (!socket) {
      findings[index] = tcpFinding(address, port, result, undefined);
      return;
    }
    banners.push(
      readBanner(socket).then((banner) => {
        findings[index] = tcpFinding(address, port, result, banner);
        opened[index] = { address, port, ...(banner.length > 0 ? { banner: printable(banner) } : {}) };
      }),
    );
  });
  await Promise.all(banners);
  signal.throwIfAborted();
  return { findings, open: opened.filter((port) => port !== undefined) };
}
