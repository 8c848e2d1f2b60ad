// GitHub's `issues` webhook: what people do on Vigil's issues (close, reopen, the suppress label)
// reaches the issue's investigation as a signal (or starts it again to look again); and its
// `issue_comment` webhook: a `/vigil` command in a new comment reaches it as an update. Deliveries
// are verified with the webhook secret; one that cannot reach Temporal is answered 503, so GitHub
// shows it failed and it can be redelivered (a comment's update id is its own: nothing acts twice).
import { Webhooks } from '@octokit/webhooks';
import type { FastifyInstance } from 'fastify';
import type { LabelNames } from '../../lib/config';
import { parseIssueMarker } from '../../lib/markers';
import type { SignalIssueChange } from '../issue-signals';
import { CommandNotDelivered, type ResponseCommands } from '../response-commands';

export interface GitHubWebhookDeps {
  secret: string;
  labels: LabelNames;
  signalIssueChange: SignalIssueChange;
  /** `/vigil` commands in comments; without them, comments are ignored. */
  responseCommands?: ResponseCommands;
  /** tracker.github's repository: comments on other repositories' issues (an organization's webhook) are not Vigil's. */
  repository?: { owner: string; repo: string };
}

/** The investigation could not be told: Temporal's fault, worth a redelivery (unlike a malformed delivery). */
class IssueSignalFailed extends Error {}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const sameName = (a: unknown, b: string) => typeof a === 'string' && a.toLowerCase() === b.toLowerCase();

export function registerGitHubWebhook(app: FastifyInstance, { secret, labels, signalIssueChange, responseCommands, repository }: GitHubWebhookDeps): void {
  const webhooks = new Webhooks({ secret });

  webhooks.on(['issues.closed', 'issues.reopened', 'issues.labeled', 'issues.unlabeled'], async ({ payload }) => {
    // Only Vigil's issues carry its marker; anything else in the repository is none of its business.
    // Read warily: a signed delivery is GitHub's, but its shape is still only what it says.
    const issue: unknown = payload.issue;
    if (!isObject(issue)) return;
    const marker = parseIssueMarker(typeof issue.body === 'string' ? issue.body : undefined);
    if (!marker) return;
    const names = (Array.isArray(issue.labels) ? issue.labels : []).map((label: unknown) => (isObject(label) ? label.name : undefined));
    await signalIssueChange(marker.workflowId, {
      state: issue.state === 'closed' ? 'closed' : 'open',
      suppressed: names.includes(labels.suppress),
    }).catch((err: unknown) => {
      throw new IssueSignalFailed('the investigation could not be told', { cause: err });
    });
  });

  webhooks.on('issue_comment.created', async ({ payload }) => {
    if (!responseCommands) return;
    const { issue, comment, repository: where } = payload as unknown as Record<string, unknown>;
    if (!isObject(issue) || !isObject(comment) || !isObject(comment.user)) return;
    if (repository && !(isObject(where) && isObject(where.owner) && sameName(where.owner.login, repository.owner) && sameName(where.name, repository.repo))) return;
    const marker = parseIssueMarker(typeof issue.body === 'string' ? issue.body : undefined);
    const { id, body, html_url: url } = comment;
    const { login, type, id: userId } = comment.user;
    if (!marker || typeof issue.number !== 'number' || (typeof id !== 'number' && typeof id !== 'string') || typeof body !== 'string' || typeof login !== 'string') return;
    await responseCommands
      .handle({
        issue: issue.number,
        workflowId: marker.workflowId,
        commentId: String(id),
        author: login,
        // The user's id outlives a rename: the asker renamed is still not a second person.
        ...(typeof userId === 'number' ? { authorId: `github-user/${userId}` } : {}),
        body,
        ...(typeof url === 'string' ? { url } : {}),
        // Vigil's app writes as `<app>[bot]`; no bot's comment is a person's command.
        byBot: type === 'Bot',
      })
      .catch((err: unknown) => {
        throw err instanceof CommandNotDelivered ? new IssueSignalFailed('the command could not be delivered or answered', { cause: err }) : err;
      });
  });

  app.post('/v1/github/webhook', async (request, reply) => {
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const signature = header('x-hub-signature-256');
    const name = header('x-github-event');
    const id = header('x-github-delivery');
    const payload = (request.body as Buffer | undefined)?.toString('utf8') ?? '';
    if (!signature || !name || !id || payload === '') {
      return reply.code(400).send({ error: 'not a GitHub webhook delivery (missing X-GitHub-Event, -Delivery or -Hub-Signature-256, or the body)' });
    }
    if (!(await webhooks.verify(payload, signature).catch(() => false))) return reply.code(401).send({ error: 'bad webhook signature' });
    let event: unknown;
    try {
      event = JSON.parse(payload);
    } catch {
      event = undefined;
    }
    if (!isObject(event)) return reply.code(400).send({ error: 'the delivery is not a JSON object' });
    try {
      await webhooks.receive({ id, name, payload: event } as Parameters<typeof webhooks.receive>[0]);
    } catch (err) {
      const causes = err instanceof AggregateError ? err.errors : [err];
      if (!causes.some((cause) => cause instanceof IssueSignalFailed)) {
        request.log.warn({ err, delivery: id }, 'a signed GitHub delivery could not be read');
        return reply.code(400).send({ error: 'the delivery does not have the shape of its event' });
      }
      // GitHub lists the failed delivery under the webhook's Recent Deliveries, where it is redelivered.
      request.log.warn({ err, delivery: id }, "a person's action on a GitHub issue did not reach its investigation");
      return reply.code(503).send({ error: 'the investigation could not be told (Temporal did not answer); redeliver this webhook delivery' });
    }
    return reply.code(204).send();
  });
}
