// The browser's only way out: an HTTP proxy on loopback that checks every destination with the
// probe scope at connect time and connects to exactly the address it checked. Request routing in
// the page sees most traffic, but not all of it (preconnects, WebSockets, WebRTC over TCP), and
// Chromium resolves names again after the route check (DNS rebinding); this closes both gaps.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { resolveInScope, type ProbeScope } from '../probe/scope';

export interface ScopeProxy {
  /** `http://127.0.0.1:<port>`, for Chromium's `--proxy-server`. */
  url: string;
  /** Why the last connection to `host:port` was refused, if it was (a failed tunnel says nothing itself). */
  refusalFor(destination: string): string | undefined;
  close(): Promise<void>;
}

/** Marks the proxy's own refusals, so that the page's listeners can tell them from a server's 403. */
export const REFUSED_HEADER = 'x-vigil-refused';
/** `host:port` with the scheme's port filled in: how refusals are remembered and looked up. */
export const destinationOf = (url: URL) => `${url.hostname}:${url.port || (['https:', 'wss:'].includes(url.protocol) ? 443 : 80)}`;

/** Destinations whose refusal is remembered; older ones are forgotten first. */
const REMEMBERED_REFUSALS = 1000;

/** Told of every connection refused, so that it can be logged. */
export type RefusalListener = (destination: string, reason: string) => void;

/** Hop-by-hop headers of the browser-to-proxy leg: never forwarded. */
const proxyHeaders = new Set(['proxy-connection', 'proxy-authorization', 'connection', 'keep-alive']);

export async function startScopeProxy(scope: ProbeScope, onRefused: RefusalListener): Promise<ScopeProxy> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  // A page asks for many things from one host at once; they share one resolution while it runs
  // (the resolver's threads are few, and a name that never answers would hold them all).
  const resolving = new Map<string, Promise<string>>();
  const resolved = (host: string) => {
    let address = resolving.get(host);
    if (!address) {
      address = resolveInScope(host, scope).finally(() => resolving.delete(host));
      resolving.set(host, address);
    }
    return address;
  };

  const refusals = new Map<string, string>();
  const checked = async (host: string, destination: string): Promise<{ address: string } | { refused: string }> => {
    try {
      return { address: await resolved(host) };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      refusals.delete(destination);
      refusals.set(destination, reason);
      if (refusals.size > REMEMBERED_REFUSALS) refusals.delete(refusals.keys().next().value!);
      onRefused(destination, reason);
      return { refused: reason };
    }
  };
  const headerSafe = (text: string) => text.replace(/[^\x20-\x7e]/g, '?');

  // Plain http:// requests arrive in absolute form (`GET http://host:port/path`).
  const server = http.createServer(async (request, response) => {
    let target: URL;
    try {
      target = new URL(request.url ?? '');
    } catch {
      response.writeHead(400).end();
      return;
    }
    if (target.protocol !== 'http:') {
      response.writeHead(400).end();
      return;
    }
    const verdict = await checked(target.hostname, destinationOf(target));
    if ('refused' in verdict) {
      response.writeHead(403, { 'content-type': 'text/plain', [REFUSED_HEADER]: headerSafe(verdict.refused) }).end('refused by the probe scope');
      return;
    }
    const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !proxyHeaders.has(name)));
    const upstream = http.request({
      host: verdict.address,
      port: target.port || 80,
      method: request.method,
      path: `${target.pathname}${target.search}`,
      headers,
      setHost: false,
    });
    upstream.on('response', (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
      answer.pipe(response);
    });
    upstream.on('error', () => (response.headersSent ? response.destroy() : response.writeHead(502).end()));
    response.on('close', () => upstream.destroy());
    request.pipe(upstream);
  });

  // https://, wss:// and (from Chromium) ws:// go through CONNECT tunnels.
  server.on('connect', async (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    track(client);
    client.on('error', () => client.destroy());
    let target: URL;
    try {
      target = new URL(`http://${request.url ?? ''}`);
    } catch {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const verdict = await checked(target.hostname, `${target.hostname}:${target.port || 443}`);
    if ('refused' in verdict) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect({ host: verdict.address, port: Number(target.port || 443) });
    track(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => (connected ? client.destroy() : client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')));
    client.once('close', () => upstream.destroy());
  });
  server.on('connection', track);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refusalFor: (destination) => refusals.get(destination),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
