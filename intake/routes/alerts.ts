// POST /v1/alerts/:source — authenticate, archive the raw body, normalize, dispatch, answer 202.
import type { FastifyInstance } from 'fastify';
import type { Archive } from '../../activities/archive/types';
import { bearerTokenMatches } from '../auth';
import type { Dispatch } from '../dispatch';
import { normalizePayload } from '../normalize';
import { AUTO_SOURCE, findSource, knownSourceNames } from '../sources';

export interface AlertRouteDeps {
  token: string;
  archive: Archive;
  dispatch: Dispatch;
}

/** Headers worth keeping with the raw body: everything but credentials and hop-by-hop noise. */
function archivableHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const dropped = new Set(['authorization', 'cookie', 'proxy-authorization', 'connection', 'host']);
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([name, value]) => value !== undefined && !dropped.has(name) && !/token|secret|signature|key/i.test(name))
      .map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value!]),
  );
}

export function registerAlertRoutes(app: FastifyInstance, { token, archive, dispatch }: AlertRouteDeps): void {
  app.post<{ Params: { source: string } }>(
    '/v1/alerts/:source',
    {
      // Checked before the body is read, so nothing from an unauthenticated sender is kept.
      onRequest: async (request, reply) => {
        if (!bearerTokenMatches(request.headers.authorization, token)) {
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer')
            .send({ error: 'missing or wrong credentials: send Authorization: Bearer <intake token>' });
        }
        const { source } = request.params;
        if (source !== AUTO_SOURCE && !findSource(source)) {
          return reply.code(404).send({ error: `unknown source ${JSON.stringify(source)}`, knownSources: knownSourceNames() });
        }
      },
    },
    async (request, reply) => {
      const { source } = request.params;
      const body = request.body as Buffer;
      let record;
      try {
        record = await archive.put({
          source,
          body,
          contentType: request.headers['content-type'] ?? '',
          headers: archivableHeaders(request.headers),
        });
      } catch (err) {
        request.log.error({ err }, 'archive write failed');
        return reply.code(503).header('retry-after', '10').send({ error: 'the archive is unavailable; retry later' });
      }

      let payload: unknown;
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch (err) {
        return reply.code(400).send({ error: `malformed JSON: ${(err as Error).message}`, archiveId: record.id });
      }

      const alerts = normalizePayload(source, payload, record);
      const dispatched = [];
      for (const alert of alerts) {
        try {
          dispatched.push({ fingerprint: alert.fingerprint, kind: alert.kind, workflowId: await dispatch(alert) });
        } catch (err) {
          // The body is archived; the sender's retry is the same delivery, so nothing is doubled.
          request.log.error({ err, archiveId: record.id }, 'dispatch to Temporal failed');
          return reply
            .code(503)
            .header('retry-after', '5')
            .send({ error: 'Temporal is unavailable; the alert is archived, retry later', archiveId: record.id });
        }
      }
      await archive.markDispatched(
        record.id,
        dispatched.map(({ workflowId }) => workflowId),
      );
      return reply.code(202).send({
        archiveId: record.id,
        alerts: dispatched.map((alert) => ({ ...alert, dispatched: true })),
      });
    },
  );
}
