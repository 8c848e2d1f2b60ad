// The intake HTTP server: alert webhooks, health, and the local tracker's pages.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from '../lib/logger';
import type { QueueHealth } from './queues/s3-sqs';
import { registerAlertRoutes, type AlertRouteDeps } from './routes/alerts';
import { registerGitHubWebhook, type GitHubWebhookDeps } from './routes/github-webhook';
import { registerIssueRoutes, type IssueRouteDeps } from './routes/issues';

export interface IntakeServerDeps extends AlertRouteDeps {
  logger: Logger;
  /** The local tracker's API and page, when the tracker is the local one. */
  issues?: IssueRouteDeps;
  /** GitHub's issues webhook, when the tracker is GitHub and a webhook secret is set. */
  githubWebhook?: GitHubWebhookDeps;
  /** intake.trustProxy: the client's address and scheme as the proxy in front forwards them. */
  trustProxy?: boolean | string[];
  /** The configured queues' state (intake.queues), for /healthz. */
  queues?: () => QueueHealth[];
}

const bodyTypes = ['application/json', /^application\/[\w.+-]+\+json$/, 'application/gzip', 'application/x-gzip'];

/** A query string can carry a credential (`?token=`) under any name, or as a name, so none of it is logged. */
const withoutQuery = (url: string, marker = '') => url.replace(/\?.*$/s, marker);

/** Fastify's request fields, with the query string censored. */
const serializers = {
  req: (request: FastifyRequest) => ({
    method: request.method,
    url: withoutQuery(request.url, '?[redacted]'),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  }),
};

export function buildIntakeServer(deps: IntakeServerDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({}, { serializers }) as FastifyBaseLogger,
    return503OnClosing: true,
    trustProxy: deps.trustProxy ?? false,
  });

  // Raw bytes, so the archive keeps exactly what was sent; the body is decoded after archiving.
  app.removeAllContentTypeParsers();
  for (const type of bodyTypes) {
    app.addContentTypeParser(type, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  }

  app.setErrorHandler((err: { statusCode?: number; message: string }, request, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    const messages: Record<number, string> = {
      413: `the body is larger than this source's limit of ${request.routeOptions.bodyLimit} bytes`,
      415: 'send the alert as application/json (or a gzip of it as application/gzip)',
    };
    return reply.code(status).send({ error: messages[status] ?? (status >= 500 ? 'internal error' : err.message) });
  });

  // Fastify's own 404 logs the whole URL, and answers with it.
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route for ${request.method} ${withoutQuery(request.url)}` }));

  // A queue that cannot be read makes intake `degraded`, still 200: restarting intake fixes no queue URL,
  // permission or credential, and an orchestrator restarting it in a loop would take the HTTP routes,
  // which work, down with it. Monitors alert on the body; `vigil doctor` says what to fix.
  app.get('/healthz', async () => {
    const queues = deps.queues?.();
    if (!queues || queues.length === 0) return { status: 'ok' };
    return { status: queues.some((queue) => queue.status === 'failing') ? 'degraded' : 'ok', queues };
  });
  registerAlertRoutes(app, deps);
  if (deps.issues) registerIssueRoutes(app, deps.issues);
  if (deps.githubWebhook) registerGitHubWebhook(app, deps.githubWebhook);
  return app;
}
