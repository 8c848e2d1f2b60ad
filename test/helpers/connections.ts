// Proof that a test touched nothing beyond loopback: every TCP connection this process starts
// (HTTP, TLS, SDK clients, probes) is recorded with the host it was opened to, before it is opened.
import net from 'node:net';

export interface ConnectionLog {
  /** Every host a connection was attempted to, in order. */
  hosts(): string[];
  /** The hosts that are not loopback (127.0.0.0/8, ::1, localhost). */
  outsideLoopback(): string[];
  stop(): void;
}

const isLoopback = (host: string) => /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === 'localhost' || /^::ffff:127\./.test(host);

export function recordConnections(): ConnectionLog {
  const hosts: string[] = [];
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function connect(this: net.Socket, ...args: any[]) {
    const [first, second] = args;
    const options = Array.isArray(first) ? first[0] : first;
    if (typeof options === 'object' && options !== null) {
      if (!('path' in options && options.path)) hosts.push(String(options.host ?? 'localhost'));
    } else if (typeof options === 'number' || /^\d+$/.test(String(options))) {
      hosts.push(typeof second === 'string' ? second : 'localhost');
    }
    return original.apply(this, args as Parameters<typeof original>);
  } as typeof original;
  return {
    hosts: () => [...hosts],
    outsideLoopback: () => hosts.filter((host) => !isLoopback(host)),
    stop() {
      net.Socket.prototype.connect = original;
    },
  };
}
