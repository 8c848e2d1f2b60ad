// POST /v1/alerts/<source> — authenticate, archive the raw body, deliver it, answer 202.
// One route per source, each with its own credentials and size limit.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Archive } from '../../activities/archive/types';
import type { AuthMethod, SourceSettings } from '../../lib/config';
import { archivableHeaders } from '../archived-headers';
import { createAuthenticator, type Authenticator } from '../auth';
import type { Mirror } from '../mirror';
import type { Delivery } from '../../lib/delivery';
import { alertsReceived, alertsRejected, type RejectionReason } from '../../lib/metrics';
import { knownSourceNames } from '../sources';

export interface AlertRouteDeps {
  token: string;
  archive: Archive;
  delivery: Delivery;
  sources: { name: string; settings: SourceSettings; maxBodyBytes: number }[];
  /** The other configured secrets, kept out of the archive wherever a sender puts them (archived-headers.ts). */
  otherSecrets?: readonly string[];
  /** intake.mirror: accepted alerts forwarded to a staging intake, in the background. */
  mirror?: Mirror;
}

const defaultAuth: AuthMethod[] = [{ kind: 'bearer' }];

/** About as long as the largest bodies take to decode, which is what a busy intake waits for. */
const BUSY_RETRY_AFTER_SECONDS = '5';

const unauthorized = (reply: FastifyReply, reason: string) =>
  reply.code(401).header('www-authenticate', 'Bearer').send({ error: `unauthenticated: ${reason}` });

declare module 'fastify' {
  interface FastifyRequest {
    vigilAuthenticated?: boolean;
    /** Why the route refused the body, where its status alone does not say (two kinds of 503). */
    vigilRefusal?: RejectionReason;
  }
}

/**
 * Why a response refused the body, for the rejection counter. A 400 is delivery's rejection of a
 * malformed body, which intake/deliver.ts counts on every path (queues and the sweeper too).
 */
function refusalOf(request: FastifyRequest, status: number): RejectionReason | undefined {
  if (request.vigilRefusal) return request.vigilRefusal;
  const byStatus: Record<number, RejectionReason> = { 401: 'unauthenticated', 413: 'too_large', 415: 'unsupported_media_type' };
  return byStatus[status] ?? (status >= 500 ? 'error' : undefined);
}

function authHooks(auth: Authenticator) {
  return {
    // Credentials in headers are checked before the body is read.
    onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
      const result = await auth.authenticate(request.headers);
      if (result.ok) request.vigilAuthenticated = true;
      else if (!auth.needsBody) return unauthorized(reply, result.reason);
    },
    // A body signature is checked once the body is read, still before anything is archived.
    preHandler: async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.vigilAuthenticated) return;
      const result = await auth.authenticate(request.headers, request.body as Buffer | undefined);
      if (!result.ok) return unauthorized(reply, result.reason);
    },
  };
}

export function registerAlertRoutes(app: FastifyInstance, deps: AlertRouteDeps): void {
  const { token, archive, delivery } = deps;
  const headersToArchive = archivableHeaders(deps.sources.map(({ name, settings }) => ({ name, methods: settings.auth ?? defaultAuth })), token, deps.otherSecrets);

  for (const { name: source, settings, maxBodyBytes } of deps.sources) {
    const auth = createAuthenticator(settings.auth ?? defaultAuth, token, `intake.sources.${source}.auth`);
    const onResponse = async (request: FastifyRequest, reply: FastifyReply) => {
      alertsReceived.inc({ source });
      const reason = refusalOf(request, reply.statusCode);
      if (reason) alertsRejected.inc({ source, reason });
    };
    app.post(`/v1/alerts/${source}`, { bodyLimit: maxBodyBytes, ...authHooks(auth), onResponse }, async (request, reply) => {
      const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
      // Refused before archiving when decoding is at its bound: the sender still holds the body and
      // retries (nothing is lost), a 202 keeps meaning archived and decoded (it lists the alerts, and
      // a malformed body still gets its 400), and a flood of big bodies neither fills the archive nor
      // lands on the sweeper. See docs/intake.md, "Under load".
      const admitted = delivery.admit(body);
      if (!admitted) {
        request.vigilRefusal = 'busy';
        return reply.code(503).header('retry-after', BUSY_RETRY_AFTER_SECONDS).send({ error: 'intake is busy decoding other deliveries; retry later' });
      }
      let record;
      try {
        record = await archive.put({
          source,
          body,
          contentType: request.headers['content-type'] ?? '',
          headers: headersToArchive(source, request.headers),
        });
      } catch (err) {
        admitted.cancel();
        request.log.error({ err }, 'archive write failed');
        request.vigilRefusal = 'archive_unavailable';
        return reply.code(503).header('retry-after', '10').send({ error: 'the archive is unavailable; retry later' });
      }

      deps.mirror?.forward({ source, body, headers: headersToArchive(source, request.headers), archiveId: record.id });
      const outcome = await admitted.deliver({ ...record, source });
      if ('rejected' in outcome) return reply.code(400).send({ error: outcome.rejected, archiveId: record.id });
      return reply.code(202).send({ archiveId: record.id, alerts: outcome.alerts, ...(outcome.unmatched ? { unmatched: outcome.unmatched } : {}) });
    });
  }

  // Any other source: credentials first (the default ones), then 404.
  const fallbackAuth = createAuthenticator(defaultAuth, token, 'intake');
  app.post<{ Params: { source: string } }>(
    '/v1/alerts/:source',
    {
      onRequest: async (request, reply) => {
        const result = await fallbackAuth.authenticate(request.headers);
        if (!result.ok) return unauthorized(reply, result.reason);
        return reply.code(404).send({ error: `unknown source ${JSON.stringify(request.params.source)}`, knownSources: knownSourceNames() });
      },
    },
    async () => undefined,
  );
}
