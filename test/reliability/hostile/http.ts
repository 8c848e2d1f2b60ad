// Requests as a hostile client sends them: any method, path, Host and headers (node:http, which
// unlike fetch lets a test choose them all), or raw bytes on a socket. Each is given a generous bound;
// no answer within it is a hang. Outcomes are asserted, never durations.
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import net from 'node:net';

export type Answer =
  | { kind: 'answer'; status: number; headers: IncomingHttpHeaders; body: Buffer }
  /** The server closed the connection without answering (it may, for CONNECT). */
  | { kind: 'closed'; error: string }
  | { kind: 'hang'; boundMs: number };

export interface HostileRequest {
  method?: string;
  path: string;
  headers?: OutgoingHttpHeaders;
  body?: Buffer | string;
}

/** Bodies are read up to this; the rest is dropped. */
const MAX_ANSWER_BYTES = 1024 * 1024;

export function send(url: string, { method = 'GET', path, headers = {}, body }: HostileRequest, boundMs = 60_000): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    let responded: { status: number; headers: IncomingHttpHeaders } | undefined;
    const request = http.request({ hostname, port, method, path, headers, agent: false, insecureHTTPParser: false }, (response) => {
      responded = { status: response.statusCode ?? 0, headers: response.headers };
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      response.on('end', () => settle({ kind: 'answer', status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', (err) => settle({ kind: 'answer', status: response.statusCode ?? 0, headers: response.headers, body: Buffer.from(err.message) }));
    });
    const timer = setTimeout(() => {
      request.destroy();
      settle({ kind: 'hang', boundMs });
    }, boundMs);
    // An error after the answer began (the connection closed under the body) still leaves its status.
    request.on('error', (err: NodeJS.ErrnoException) =>
      settle(responded ? { kind: 'answer', ...responded, body: Buffer.from(err.message) } : { kind: 'closed', error: err.code ?? err.message }),
    );
    request.end(body);
  });
}

/** Raw bytes on a fresh connection: the status line of the answer, or how the connection ended. */
export function sendRaw(url: string, bytes: string | Buffer, boundMs = 60_000): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    let received = '';
    let settled = false;
    const settle = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => settle({ kind: 'hang', boundMs }), boundMs);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      // The status line is the answer; a kept-alive connection would otherwise wait for the next request.
      if (status) settle({ kind: 'answer', status: Number(status[1]), headers: {}, body: Buffer.from(received, 'latin1') });
      else if (received.includes('\r\n')) settle({ kind: 'closed', error: `not an HTTP answer: ${JSON.stringify(received.slice(0, 80))}` });
    });
    socket.on('close', () => settle({ kind: 'closed', error: 'closed without an answer' }));
    socket.on('error', (err: NodeJS.ErrnoException) => settle({ kind: 'closed', error: err.code ?? err.message }));
    socket.write(bytes);
  });
}

/** `GET /healthz` → 200 `{"status":"ok"}`. */
export async function healthy(url: string): Promise<boolean> {
  const answer = await send(url, { path: '/healthz' }, 30_000);
  return answer.kind === 'answer' && answer.status === 200 && JSON.parse(answer.body.toString('utf8')).status === 'ok';
}
