// The local tracker's read API and page, served by intake when the tracker is `local`.
import type { FastifyInstance } from 'fastify';
import { issueView, type LocalTracker } from '../../activities/tracker/local';
import { issuesPage } from './issues-page';

export function registerIssueRoutes(app: FastifyInstance, tracker: LocalTracker): void {
  app.get('/v1/issues', async () => ({ issues: (await tracker.listIssues()).map(issueView) }));

  app.get<{ Params: { number: string } }>('/v1/issues/:number', async (request, reply) => {
    const number = Number(request.params.number);
    const issue = Number.isSafeInteger(number) ? await tracker.getIssue(number) : undefined;
    if (!issue) return reply.code(404).send({ error: `no issue #${request.params.number}` });
    return issueView(issue);
  });

  app.get('/issues', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(issuesPage(await tracker.listIssues())),
  );

  app.get('/', async (_request, reply) => reply.redirect('/issues'));
}
