// A TCP conversation with a probed service: connect to the checked address only, read framed
// answers, and give up on time. Every service check talks through this, so the scope check at
// connect time and the time bounds live in one place.
import net from 'node:net';
import tls from 'node:tls';
import { OutOfScopeError, scopeVerdict } from './scope';
import type { CheckContext } from './types';

/** How many bytes of `buffered` make one complete answer, or undefined while more are needed. */
export type Framer = (buffered: Buffer) => number | undefined;

/** More than this unread from one service is not a banner or a greeting: the conversation stops. */
const MAX_BUFFERED = 1024 * 1024;

export class ProbeTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'ProbeTimeoutError';
  }
}

export class Connection {
  private buffered = Buffer.alloc(0);
  private failure: Error | undefined;
  private waiter: (() => void) | undefined;
  private readonly deadline: NodeJS.Timeout;
  private readonly onAbort = () => this.fail(new Error('probe cancelled'));

  private constructor(
    private socket: net.Socket,
    private readonly signal: AbortSignal,
    timeoutMs: number,
  ) {
    this.listen(socket);
    this.deadline = setTimeout(() => this.fail(new ProbeTimeoutError('the service', timeoutMs)), timeoutMs);
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Connects to `address:port` after checking it against the scope now, within the connect timeout. */
  static async open(address: string, port: number, context: CheckContext): Promise<Connection> {
    const socket = await openSocket(address, port, context);
    return new Connection(socket, context.signal, context.settings.serviceTimeoutMs);
  }

  send(data: Buffer | string): void {
    this.socket.write(data);
  }

  /** The next complete answer as `framer` delimits it; what follows stays buffered for the next call. */
  async receive(framer: Framer): Promise<Buffer> {
    for (;;) {
      const length = this.buffered.length > 0 ? framer(this.buffered) : undefined;
      if (length !== undefined) {
        const answer = this.buffered.subarray(0, length);
        this.buffered = this.buffered.subarray(length);
        return answer;
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Continues the conversation inside TLS (Postgres after `S`), without judging the certificate. */
  async startTls(servername?: string): Promise<tls.TLSSocket> {
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false, ...(servername ? { servername } : {}) });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
    return secure;
  }

  close(): void {
    clearTimeout(this.deadline);
    this.signal.removeEventListener('abort', this.onAbort);
    this.socket.destroy();
  }

  private listen(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      if (this.buffered.length > MAX_BUFFERED) this.fail(new Error(`the service sent more than ${MAX_BUFFERED} bytes`));
      this.wake();
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the service closed the connection')));
  }

  private fail(err: Error) {
    this.failure ??= err;
    this.socket.destroy();
    this.wake();
  }

  private wake() {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}

/** A connected socket to `address`, checked against the scope now (for protocols a library speaks). */
export async function openSocket(address: string, port: number, { scope, settings, signal }: CheckContext): Promise<net.Socket> {
  const verdict = scopeVerdict(address, scope);
  if (!verdict.allowed) throw new OutOfScopeError(address, verdict.reason);
  signal.throwIfAborted();
  return connectSocket(address, port, settings.connectTimeoutMs, signal);
}

/** A connected socket to exactly `address` (an IP: nothing is resolved here), or the connect error. */
export function connectSocket(address: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ProbeTimeoutError('connect', timeoutMs));
    }, timeoutMs);
    const onAbort = () => {
      socket.destroy();
      reject(new Error('probe cancelled'));
    };
    const settle = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      settle();
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      settle();
      reject(err);
    });
  });
}
