// An HTTP stand-in on 127.0.0.1 between Vigil and a service it calls (the GitHub API, the Cloud Asset
// API, a threat-intelligence API, a web page): it forwards requests to the real (local) service or
// answers them itself, and can hold the next request that matches, never answering it: either before
// the service sees it, or after the service carried it out (the answer lost). A held request is how
// a test knows that a process is inside a given step, with no clock involved.
import { once } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface GateRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface GateAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface Gate {
  url: string;
  /** Every request received, in order. */
  requests: GateRequest[];
  /**
   * Holds the next request that `match` accepts: `before` the service sees it, or `after` the
   * service carried it out (its answer is never sent). Resolves with it once held.
   */
  hold(match: (request: GateRequest) => boolean, when: 'before' | 'after'): Promise<GateRequest>;
  close(): Promise<void>;
}

interface Armed {
  match: (request: GateRequest) => boolean;
  when: 'before' | 'after';
  resolve: (request: GateRequest) => void;
}

export async function startGate(options: { upstream?: string; answer?: (request: GateRequest) => GateAnswer | Promise<GateAnswer> }): Promise<Gate> {
  const armed: Armed[] = [];
  const requests: GateRequest[] = [];
  const sockets = new Set<Socket>();

  const forward = (request: GateRequest): Promise<GateAnswer> =>
    new Promise((resolve, reject) => {
      const target = new URL(request.url, options.upstream);
      const outgoing = http.request(
        target,
        { method: request.method, headers: { ...request.headers, host: target.host, 'content-length': String(request.body.length) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) {
              if (value !== undefined && !['connection', 'transfer-encoding', 'keep-alive'].includes(name)) headers[name] = String(value);
            }
            resolve({ status: response.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
          });
          response.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(request.body);
    });

  const server = http.createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request: GateRequest = { method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers: incoming.headers, body: Buffer.concat(chunks) };
      requests.push(request);
      const index = armed.findIndex((entry) => entry.match(request));
      const hold = index >= 0 ? armed.splice(index, 1)[0] : undefined;
      if (hold?.when === 'before') {
        hold.resolve(request);
        return; // Never answered: the caller waits until it gives up or dies.
      }
      const answer = options.upstream ? forward(request) : Promise.resolve(options.answer!(request));
      answer.then(
        ({ status, headers, body }) => {
          if (hold) {
            hold.resolve(request);
            return; // Done by the service, but the caller never hears of it.
          }
          outgoing.writeHead(status, headers).end(body);
        },
        (err: unknown) => {
          if (!outgoing.headersSent) outgoing.writeHead(502, { 'content-type': 'text/plain' }).end(`gate: ${(err as Error).message}`);
        },
      );
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    hold: (match, when) => new Promise((resolve) => armed.push({ match, when, resolve })),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
