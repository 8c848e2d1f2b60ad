// The GitHub webhook's `issue_comment` deliveries as the comment intake hands on: the author with
// GitHub's lasting user id, so that a login renamed between asking and approving is still one person.
import { createHmac } from 'node:crypto';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { IssueComment, ResponseCommands } from '../../intake/response-commands';
import { registerGitHubWebhook } from '../../intake/routes/github-webhook';
import { issueMarker } from '../../lib/markers';

const secret = 'webhook-secret-for-the-unit-test-0';

async function deliver(user: Record<string, unknown>) {
  const handled: IssueComment[] = [];
  const responseCommands: ResponseCommands = {
    handle: async (comment) => {
      handled.push(comment);
      return 'delivered';
    },
  };
  const app = Fastify();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  registerGitHubWebhook(app, {
    secret,
    labels: { suppress: 'vigil:suppress' } as never,
    signalIssueChange: async () => 'signalled',
    responseCommands,
    repository: { owner: 'acme', repo: 'security' },
  });
  const payload = JSON.stringify({
    action: 'created',
    issue: { number: 7, state: 'open', body: `SSH open\n\n${issueMarker('f', 'alert/generic/x')}`, labels: [] },
    comment: { id: 99, html_url: 'https://github.example/acme/security/issues/7#issuecomment-99', body: '/vigil approve p1', user },
    repository: { name: 'security', owner: { login: 'acme' } },
    sender: user,
  });
  const answer = await app.inject({
    method: 'POST',
    url: '/v1/github/webhook',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issue_comment',
      'x-github-delivery': 'delivery-1',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`,
    },
    payload,
  });
  await app.close();
  return { status: answer.statusCode, handled };
}

describe('issue_comment deliveries', () => {
  it("hand on the author's GitHub user id beside the login", async () => {
    const { status, handled } = await deliver({ login: 'alice-renamed', id: 4242, type: 'User' });
    expect(status).toBe(204);
    expect(handled).toEqual([expect.objectContaining({ author: 'alice-renamed', authorId: 'github-user/4242', commentId: '99', issue: 7, workflowId: 'alert/generic/x' })]);
  });

  it('hand on no id when the delivery has none', async () => {
    const { handled } = await deliver({ login: 'alice', type: 'User' });
    expect(handled).toHaveLength(1);
    expect(handled[0]).not.toHaveProperty('authorId');
  });
});
