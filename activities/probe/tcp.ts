// The TCP sweep: which targets accept a connection, which refuse, which never answer; and what an
// open port says first, unasked. Connect attempts are bounded by `probe.concurrency`; the short
// banner wait is not, so slow banners do not hold back the sweep.
import net from 'node:net';
import type { ProbeSettings } from '../../lib/config';
import type { Finding } from '../../lib/finding';
import { mapConcurrent } from '../../lib/concurrency';
import { HostWaits, type WaitKind } from './round-trip';
import { endpoint, type OpenPort } from './types';

/** A connect's wait: the host's. */
const CONNECT: WaitKind = { share: 1, atLeastMs: 0 };
/** The retry's wait for a host that has answered nothing yet: it may just be slower than the initial guess. */
const SLOW_HOST_RETRY: WaitKind = { share: 2, atLeastMs: 0 };
/**
 * How long an open port is given to speak first (SSH, SMTP, FTP, MySQL do at once): the banner comes
 * a round trip after the connect, plus the service's own time. Twice the host's wait, and never less
 * than 200 ms, since a service under load takes its time: on a bench machine at load 20, 250 banners
 * asked at once came after 160-360 ms; a 100 ms floor missed up to 39 of them, 200 ms a few at most.
 */
const BANNER: WaitKind = { share: 2, atLeastMs: 200 };
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

function readBanner(socket: net.Socket, host: HostWaits): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      stopWaiting();
      socket.destroy();
      resolve(Buffer.concat(chunks).subarray(0, BANNER_BYTES));
    };
    const stopWaiting = host.wait(BANNER, done);
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

/**
 * When the event loop began handing out the I/O events of its current poll: the latest any answer
 * among them can have arrived. (The check phase, and so the reset, comes after every I/O callback of
 * the poll.)
 */
let polledAt: number | undefined;
function pollStarted(): number {
  if (polledAt === undefined) {
    polledAt = performance.now();
    setImmediate(() => (polledAt = undefined));
  }
  return polledAt;
}

/**
 * The round trip of a connect sent at `sent` and answered in this poll: measured to the start of the
 * poll rather than to the moment the sweep got round to the answer, which a busy or descheduled
 * process makes later by as long as it takes to go through hundreds of them. A connect sent during
 * this very poll is measured to now.
 */
function roundTrip(sent: number): number {
  const polled = pollStarted();
  return (polled >= sent ? polled : performance.now()) - sent;
}

/** The sweep's connects in flight, each with the way to end it when the sweep is cancelled. */
type InFlight = Set<(reason: unknown) => void>;

/**
 * One connect, given up once its wait (`kind`) has passed in silence. An answer, SYN-ACK
 * or RST, is a round-trip sample for the host. Plain `net.connect` with one cancellation listener for
 * the whole sweep (rather than an AbortSignal per connect, as connectSocket does): a sweep makes
 * thousands of these, and that per-connect cost is CPU a loaded machine does not have.
 */
function connectOnce(address: string, port: number, host: HostWaits, kind: WaitKind, inFlight: InFlight): Promise<Omit<Attempt, 'connectMs'>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port });
    let sent = performance.now();
    let stopWaiting = () => {};
    let settled = false;
    const end = () => {
      settled = true;
      stopWaiting();
      inFlight.delete(cancel);
    };
    // net.connect sends the SYN on the next tick (after the calls made in the same turn, a whole first
    // wave's): the round trip and the wait start from there, not from a queue of the sweep's own.
    process.nextTick(() => {
      if (settled) return;
      sent = performance.now();
      stopWaiting = host.wait(kind, () => {
        end();
        socket.destroy();
        resolve({ state: 'filtered', error: 'timeout' });
      });
    });
    const cancel = (reason: unknown) => {
      end();
      socket.destroy();
      reject(reason);
    };
    inFlight.add(cancel);
    socket.once('connect', () => {
      end();
      socket.removeAllListeners('error');
      host.answered(roundTrip(sent));
      resolve({ state: 'open', socket });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      end();
      if (err.code && refused.has(err.code)) {
        host.answered(roundTrip(sent));
        resolve({ state: 'closed', error: err.code });
      } else {
        // Unreachable networks and hosts: something on the way said no one can be reached there.
        resolve({ state: 'filtered', error: err.code ?? err.message });
      }
    });
  });
}

/**
 * A port silent past its wait is tried once more, so that one lost SYN or SYN-ACK is not taken for a
 * firewall. A host that answers other ports has a known round trip: the second try waits as long. A
 * host that has answered nothing yet may just be slower than the initial guess: it waits twice as long.
 */
async function attempt(address: string, port: number, host: HostWaits, inFlight: InFlight): Promise<Attempt> {
  const started = performance.now();
  let result = await connectOnce(address, port, host, CONNECT, inFlight);
  if (result.error === 'timeout') result = await connectOnce(address, port, host, host.estimate.answered ? CONNECT : SLOW_HOST_RETRY, inFlight);
  return { ...result, connectMs: Math.round(performance.now() - started) };
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
  const banners: Promise<void>[] = [];
  const findings: Finding[] = new Array(targets.length);
  const opened: (OpenPort | undefined)[] = new Array(targets.length);
  const bounds = { initialMs: settings.initialConnectWaitMs, floorMs: settings.minConnectWaitMs, ceilingMs: settings.connectTimeoutMs };
  const hosts = new Map<string, HostWaits>();
  const hostOf = (address: string) => hosts.get(address) ?? hosts.set(address, new HostWaits(bounds)).get(address)!;
  const inFlight: InFlight = new Set();
  const cancelAll = () => {
    for (const cancel of inFlight) cancel(signal.reason);
  };
  signal.throwIfAborted();
  signal.addEventListener('abort', cancelAll, { once: true });
  await mapConcurrent(targets, settings.concurrency, async ({ address, port }, index) => {
    signal.throwIfAborted();
    const result = await attempt(address, port, hostOf(address), inFlight);
    const { socket } = result;
    if (!socket) {
      findings[index] = tcpFinding(address, port, result, undefined);
      return;
    }
    banners.push(
      readBanner(socket, hostOf(address)).then((banner) => {
        findings[index] = tcpFinding(address, port, result, banner);
        opened[index] = { address, port, ...(banner.length > 0 ? { banner: printable(banner) } : {}) };
      }),
    );
  });
  await Promise.all(banners);
  signal.throwIfAborted();
  return { findings, open: opened.filter((port) => port !== undefined) };
}
