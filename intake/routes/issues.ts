// The local tracker's API and page, served by intake when the tracker is `local`: read, filter,
// evidence files, and people's actions (close, reopen, labels), which are signalled to the
// issue's investigation as GitHub's webhook would be.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LocalTracker } from '../../activities/tracker/local';
import { issueView, type LocalIssue } from '../../lib/local-issues';
import type { LabelNames } from '../../lib/config';
import { bearerOf, sameSecret } from '../auth';
import type { SignalIssueChange } from '../issue-signals';
import { issuesPage, type IssueFilter } from './issues-page';

export interface IssueRouteDeps {
  tracker: LocalTracker;
  labels: LabelNames;
  token: string;
  signalIssueChange: SignalIssueChange;
}

type Action = { close: true } | { reopen: true } | { add?: string[]; remove?: string[] };

function filterOf(query: Record<string, string | string[] | undefined>): IssueFilter {
  const labels = query.label === undefined ? [] : Array.isArray(query.label) ? query.label : [query.label];
  const state = query.state === 'open' || query.state === 'closed' ? query.state : undefined;
  return { state, labels };
}

const matches = (issue: LocalIssue, { state, labels }: IssueFilter) =>
  (!state || issue.state === state) && labels.every((label) => issue.labels.includes(label));

const issueNumber = (text: string) => (/^\d{1,9}$/.test(text) ? Number(text) : undefined);

export function registerIssueRoutes(app: FastifyInstance, { tracker, labels, token, signalIssueChange }: IssueRouteDeps): void {
  async function act(number: number, action: Action): Promise<LocalIssue | undefined> {
    const issue = await tracker.readIssue(number);
    if (!issue) return undefined;
    if ('close' in action) await tracker.closeIssue(number);
    else if ('reopen' in action) await tracker.reopenIssue(number);
    else await tracker.updateLabels(number, action);
    const changed = (await tracker.readIssue(number))!;
    await signalIssueChange(changed.workflowId, { state: changed.state, suppressed: changed.labels.includes(labels.suppress) });
    return changed;
  }

  app.get<{ Querystring: Record<string, string | string[]> }>('/v1/issues', async (request) => {
    const filter = filterOf(request.query);
    return { issues: (await tracker.listIssues()).filter((issue) => matches(issue, filter)).map(issueView) };
  });

  app.get<{ Params: { number: string } }>('/v1/issues/:number', async (request, reply) => {
    const number = issueNumber(request.params.number);
    const issue = number === undefined ? undefined : await tracker.readIssue(number);
    if (!issue) return reply.code(404).send({ error: `no issue #${request.params.number}` });
    return issueView(issue);
  });

  app.get<{ Params: { number: string; name: string } }>('/v1/issues/:number/evidence/:name', async (request, reply) => {
    const number = issueNumber(request.params.number);
    const file = number === undefined ? undefined : await tracker.readEvidence(number, request.params.name);
    if (!file) return reply.code(404).send({ error: 'no such evidence' });
    return reply.type(file.contentType).header('content-security-policy', "default-src 'none'").send(file.data);
  });

  // The API's actions take the intake token.
  const requireToken = async (request: FastifyRequest, reply: FastifyReply) => {
    const presented = bearerOf(request.headers);
    if (presented === undefined || !sameSecret(presented, token)) {
      return reply.code(401).send({ error: 'unauthenticated: send Authorization: Bearer <intake token>' });
    }
  };
  const apiAction = (path: string, action: (body: unknown) => Action | string) =>
    app.post<{ Params: { number: string } }>(path, { onRequest: requireToken }, async (request, reply) => {
      const number = issueNumber(request.params.number);
      let body: unknown;
      try {
        body = JSON.parse((request.body as Buffer | undefined)?.toString('utf8') || '{}');
      } catch {
        return reply.code(400).send({ error: 'the body must be JSON' });
      }
      const chosen = action(body);
      if (typeof chosen === 'string') return reply.code(400).send({ error: chosen });
      const issue = number === undefined ? undefined : await act(number, chosen);
      if (!issue) return reply.code(404).send({ error: `no issue #${request.params.number}` });
      return issueView(issue);
    });
  apiAction('/v1/issues/:number/close', () => ({ close: true }));
  apiAction('/v1/issues/:number/reopen', () => ({ reopen: true }));
  apiAction('/v1/issues/:number/labels', (body) => {
    const { add = [], remove = [] } = (body ?? {}) as { add?: unknown; remove?: unknown };
    const strings = (value: unknown) => Array.isArray(value) && value.every((item) => typeof item === 'string' && item.length <= 50);
    return strings(add) && strings(remove)
      ? { add: add as string[], remove: remove as string[] }
      : 'send {"add": [labels], "remove": [labels]}, each label a string of at most 50 characters';
  });

  app.get<{ Querystring: Record<string, string | string[]> }>('/issues', async (request, reply) => {
    const filter = filterOf(request.query);
    const issues = (await tracker.listIssues()).filter((issue) => matches(issue, filter));
    return reply.type('text/html; charset=utf-8').send(issuesPage(issues, filter, labels));
  });

  // The page's buttons: plain form posts, accepted only from the page itself (same origin), so
  // another site cannot make a visitor's browser act.
  app.register(async (forms) => {
    forms.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    forms.post<{ Params: { number: string }; Body: Record<string, string> }>('/issues/:number/actions', async (request, reply) => {
      const origin = request.headers.origin ?? request.headers.referer;
      if (!origin || new URL(origin).host !== request.headers.host) {
        return reply.code(403).send({ error: 'page actions are only accepted from the issues page itself' });
      }
      const number = issueNumber(request.params.number);
      const actions: Record<string, Action> = {
        close: { close: true },
        reopen: { reopen: true },
        suppress: { add: [labels.suppress] },
        unsuppress: { remove: [labels.suppress] },
      };
      const action = actions[request.body?.action ?? ''];
      if (!action || number === undefined) return reply.code(400).send({ error: 'unknown action' });
      if (!(await act(number, action))) return reply.code(404).send({ error: `no issue #${number}` });
      return reply.redirect(`/issues#issue-${number}`, 303);
    });
  });

  app.get('/', async (_request, reply) => reply.redirect('/issues'));
}
