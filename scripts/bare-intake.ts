// The floor under intake's throughput (scripts/bench-intake.ts): the least an HTTP intake that keeps what it
// is sent before it answers can do. Node's own http server, a bearer-token check, the body written to
// one new file, the alert (sent already normalized) handed to Vigil's dispatch, 202. No routing, no
// framework, no parsing of sources, no archive record to settle. What intake costs above this
// process is Vigil's; what this process costs above the bare signalWithStart loop, any intake pays.
// Usage: tsx scripts/bare-intake.ts <port> <token> <temporal address> <namespace> <taskQueue> <dir>
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createDispatcher } from '../intake/dispatch';
import type { NormalizedAlert } from '../lib/alert';
import { investigationWorkflowId } from '../lib/workflow-id';

const args = process.argv.slice(2);
if (args.length !== 6) throw new Error('usage: bare-intake.ts <port> <token> <temporal address> <namespace> <taskQueue> <dir>');
const [port, token, address, namespace, taskQueue, dir] = args as [string, string, string, string, string, string];

const client = new Client({ connection: await Connection.connect({ address }), namespace });
const dispatch = createDispatcher(client, { taskQueue, timeoutMs: 10_000 });

async function handle(request: http.IncomingMessage): Promise<number> {
  if (request.headers.authorization !== `Bearer ${token}`) return 401;
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  await writeFile(path.join(dir, `${randomUUID()}.json`), body);
  const alert = JSON.parse(body.toString('utf8')) as NormalizedAlert;
  await dispatch(alert, investigationWorkflowId(alert.source, alert.fingerprint));
  return 202;
}

// Idle connections kept as long as intake's (Fastify's default), not Node's 5 s: the sender's wait
// while the other sides take their turn, and should not reconnect here alone.
const server = http.createServer({ keepAliveTimeout: 72_000 }, (request, response) => {
  handle(request).then(
    (status) => response.writeHead(status).end(),
    (err: unknown) => response.writeHead(500).end(String(err)),
  );
});
server.listen(Number(port), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
