// The local tracker's API and page, served by intake when the tracker is `local`: read, filter,
// evidence files, and people's actions (close, reopen, labels), which are signalled to the
// issue's investigation as GitHub's webhook would be; and people's comments, whose `/vigil`
// commands go to the investigation as GitHub's comments do. All of it sits in one plugin scope
// behind the tracker's access checks (tracker-access.ts).
import type { FastifyInstance } from 'fastify';
import type { LocalTracker } from '../../activities/tracker/local';
import { commentView, issueView, type LocalComment, type LocalIssue } from '../../lib/local-issues';
import type { LabelNames } from '../../lib/config';
import { GITHUB_BODY_LIMIT } from '../../lib/markdown';
import type { SignalIssueChange } from '../issue-signals';
import { CommandNotDelivered, type CommentOutcome, type ResponseCommands } from '../response-commands';
import { issuesPage, type IssueFilter } from './issues-page';
import { registerTrackerAccess, type TrackerAccessSettings, type TrackerGuards } from './tracker-access';

export interface IssueRouteDeps extends TrackerAccessSettings {
  tracker: LocalTracker;
  labels: LabelNames;
  signalIssueChange: SignalIssueChange;
  responseCommands: ResponseCommands;
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

export function registerIssueRoutes(app: FastifyInstance, deps: IssueRouteDeps): void {
  app.register(async (scope) => registerTrackerRoutes(scope, deps, await registerTrackerAccess(scope, deps)));
}

function registerTrackerRoutes(app: FastifyInstance, { tracker, labels, signalIssueChange, responseCommands }: IssueRouteDeps, guards: TrackerGuards): void {
  /**
   * The investigation is told first, the tracker changed after: an action Temporal cannot take now
   * changes nothing and is refused (`undone`), rather than shown done while Vigil goes on as before.
   */
  async function act(number: number, action: Action): Promise<LocalIssue | 'undone' | undefined> {
    const issue = await tracker.readIssue(number);
    if (!issue) return undefined;
    const state = 'close' in action ? 'closed' : 'reopen' in action ? 'open' : issue.state;
    const after = 'add' in action || 'remove' in action ? [...issue.labels, ...(action.add ?? [])].filter((label) => !action.remove?.includes(label)) : issue.labels;
    try {
      await signalIssueChange(issue.workflowId, { state, suppressed: after.includes(labels.suppress) });
    } catch (err) {
      app.log.warn({ err, workflowId: issue.workflowId }, 'a person\'s action on an issue was refused: the investigation could not be told');
      return 'undone';
    }
    if ('close' in action) await tracker.closeIssue(number);
    else if ('reopen' in action) await tracker.reopenIssue(number);
    else await tracker.updateLabels(number, action);
    return (await tracker.readIssue(number))!;
  }
  const UNDONE = 'Not done: the investigation could not be told (Temporal did not answer), so nothing changed. Try again in a moment.';

  /**
   * Stores a person's comment, then hands a `/vigil` command in it to the investigation (whose
   * refusals are answered on the issue). `undelivered`: kept, but its command reached no one.
   */
  async function comment(number: number, author: string, body: string): Promise<{ comment: LocalComment; command: CommentOutcome | 'undelivered' } | undefined> {
    const issue = await tracker.readIssue(number);
    const stored = issue && (await tracker.addPersonComment(number, author, body));
    if (!issue || !stored) return undefined;
    try {
      const command = await responseCommands.handle(
        { issue: number, workflowId: issue.workflowId, commentId: stored.id, author, body, url: `/issues#comment-${stored.id}` },
        { sayUndelivered: true },
      );
      return { comment: stored, command };
    } catch (err) {
      if (!(err instanceof CommandNotDelivered)) throw err;
      app.log.warn({ err, workflowId: issue.workflowId }, "a person's command on an issue did not reach its investigation");
      return { comment: stored, command: 'undelivered' };
    }
  }
  const UNDELIVERED = 'The comment is kept, but its command did not reach the investigation (Temporal did not answer). Give the command again in a moment.';
  const commentProblem = (body: unknown) =>
    typeof body === 'string' && body.trim() !== '' && body.length <= GITHUB_BODY_LIMIT ? undefined : `the comment must be text of 1 to ${GITHUB_BODY_LIMIT} characters`;

  app.get<{ Querystring: Record<string, string | string[]> }>('/v1/issues', { onRequest: guards.reader }, async (request) => {
    const filter = filterOf(request.query);
    return { issues: (await tracker.listIssues()).filter((issue) => matches(issue, filter)).map(issueView) };
  });

  app.get<{ Params: { number: string } }>('/v1/issues/:number', { onRequest: guards.reader }, async (request, reply) => {
    const number = issueNumber(request.params.number);
    const issue = number === undefined ? undefined : await tracker.readIssue(number);
    if (!issue) return reply.code(404).send({ error: `no issue #${request.params.number}` });
    return issueView(issue);
  });

  app.get<{ Params: { number: string; name: string } }>('/v1/issues/:number/evidence/:name', { onRequest: guards.reader }, async (request, reply) => {
    const number = issueNumber(request.params.number);
    const file = number === undefined ? undefined : await tracker.readEvidence(number, request.params.name);
    if (!file) return reply.code(404).send({ error: 'no such evidence' });
    return reply.type(file.contentType).header('content-security-policy', "default-src 'none'; frame-ancestors 'none'").send(file.data);
  });

  // The API's actions take the tracker token; the page has forms of its own.
  const apiAction = (path: string, action: (body: unknown) => Action | string) =>
    app.post<{ Params: { number: string } }>(path, { onRequest: guards.bearer }, async (request, reply) => {
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
      if (issue === 'undone') return reply.code(503).header('retry-after', '5').send({ error: UNDONE });
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

  // A person's comment, with their own token as the bearer: `{"body": "..."}`.
  app.post<{ Params: { number: string } }>('/v1/issues/:number/comments', { onRequest: guards.person }, async (request, reply) => {
    const number = issueNumber(request.params.number);
    let body: unknown;
    try {
      body = (JSON.parse((request.body as Buffer | undefined)?.toString('utf8') || '{}') as { body?: unknown } | null)?.body;
    } catch {
      return reply.code(400).send({ error: 'the body must be JSON: {"body": "..."}' });
    }
    const problem = commentProblem(body);
    if (problem) return reply.code(400).send({ error: problem });
    const outcome = number === undefined ? undefined : await comment(number, request.trackerPerson!, body as string);
    if (!outcome) return reply.code(404).send({ error: `no issue #${request.params.number}` });
    const view = commentView(outcome.comment);
    if (outcome.command === 'undelivered') return reply.code(503).header('retry-after', '5').send({ error: UNDELIVERED, comment: view });
    return reply.code(201).send({ comment: view, command: outcome.command });
  });

  app.get<{ Querystring: Record<string, string | string[]> }>('/issues', { onRequest: guards.page }, async (request, reply) => {
    const filter = filterOf(request.query);
    const issues = (await tracker.listIssues()).filter((issue) => matches(issue, filter));
    return reply.type('text/html; charset=utf-8').send(issuesPage(issues, filter, labels, guards.csrfOf(request), request.trackerSession?.person));
  });

  // The page's buttons: form posts with the session's CSRF token, so another site cannot make a
  // logged-in visitor's browser act.
  app.post<{ Params: { number: string }; Body: Record<string, string> }>('/issues/:number/actions', { preHandler: guards.form }, async (request, reply) => {
    const number = issueNumber(request.params.number);
    const actions: Record<string, Action> = {
      close: { close: true },
      reopen: { reopen: true },
      suppress: { add: [labels.suppress] },
      unsuppress: { remove: [labels.suppress] },
    };
    const action = actions[request.body?.action ?? ''];
    if (!action || number === undefined) return reply.code(400).send({ error: 'unknown action' });
    const outcome = await act(number, action);
    if (!outcome) return reply.code(404).send({ error: `no issue #${number}` });
    if (outcome === 'undone') {
      return reply.code(503).header('retry-after', '5').type('text/html; charset=utf-8').send(`<!doctype html><title>Not done</title><p>${UNDONE}</p><p><a href="/issues#issue-${number}">Back to the issues</a></p>`);
    }
    return reply.redirect(`/issues#issue-${number}`, 303);
  });

  // The page's comment form: a person's session only, so that the comment has its author.
  app.post<{ Params: { number: string }; Body: Record<string, string> }>('/issues/:number/comments', { preHandler: guards.form }, async (request, reply) => {
    const number = issueNumber(request.params.number);
    const author = request.trackerSession!.person;
    if (!author) return reply.code(403).send({ error: "comments need a person's login (tracker.local.people): the tracker token's session has no name to sign with" });
    const problem = commentProblem(request.body?.body);
    if (problem || number === undefined) return reply.code(400).send({ error: problem ?? 'no such issue' });
    const outcome = await comment(number, author, request.body.body!);
    if (!outcome) return reply.code(404).send({ error: `no issue #${number}` });
    if (outcome.command === 'undelivered') {
      return reply.code(503).header('retry-after', '5').type('text/html; charset=utf-8').send(`<!doctype html><title>Not delivered</title><p>${UNDELIVERED}</p><p><a href="/issues#issue-${number}">Back to the issues</a></p>`);
    }
    return reply.redirect(`/issues#comment-${outcome.comment.id}`, 303);
  });

  app.get('/', async (_request, reply) => reply.redirect('/issues'));
}
