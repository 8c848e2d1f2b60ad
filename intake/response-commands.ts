// `/vigil` commands from issue comments (GitHub's issue_comment webhook, the local tracker's comments)
// reach the issue's investigation as the `responseCommand` update, with the roles the configuration
// gives the author. The investigation's validator decides; what it refuses, what cannot be read and
// what finds the investigation ended is answered on the issue, in a comment keyed by the comment's id,
// so a redelivered comment neither acts twice (the update's id is the comment's) nor answers twice.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { GitHubClient } from '../activities/tracker/github-client';
import type { Tracker } from '../activities/tracker/types';
import type { ResponseSettings } from '../lib/config';
import { responseCommand, type ResponseRequest } from '../lib/response';
import { code } from '../lib/markdown';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { inertProse, parseCommentCommand, refusalAnswer } from '../lib/response-commands';

/** A comment on one of Vigil's issues. */
export interface IssueComment {
  /** The issue's number on its tracker. */
  issue: number;
  /** The issue's investigation. */
  workflowId: string;
  /** The tracker's id of the comment. */
  commentId: string;
  /** A GitHub login, or a local tracker person's name. */
  author: string;
  /** What identifies the author for good (GitHub's user id): a login can be renamed. */
  authorId?: string;
  body: string;
  url?: string;
  /** Written by a bot (GitHub's app users): never a command. */
  byBot?: boolean;
}

/** `ignored`: Vigil's own, or a bot's; `none`: no command in it; `answered`: not acted on, and said why on the issue. */
export type CommentOutcome = 'ignored' | 'none' | 'delivered' | 'answered';

/** The command did not reach the investigation, and nothing was decided: worth giving again (GitHub: a redelivery). */
export class CommandNotDelivered extends Error {}

export interface ResponseCommands {
  /**
   * Reads the comment and delivers its command. Throws CommandNotDelivered when Temporal (or, for the
   * answer, the tracker) could not be reached; with `sayUndelivered`, it says so on the issue first,
   * for trackers that do not deliver again by themselves.
   */
  handle(comment: IssueComment, options?: { sayUndelivered?: boolean }): Promise<CommentOutcome>;
}

export interface ResponseCommandsDeps {
  client: Client;
  config: { response: Pick<ResponseSettings, 'askers' | 'approvers' | 'selfApproval' | 'maxAcceptance'>; intake: { dispatchTimeoutMs: number } };
  /** Where answers go. */
  tracker: Pick<Tracker, 'upsertComment'>;
  /** GitHub, for `@org/team` entries: without it, team entries match no one. */
  github?: Pick<GitHubClient, 'rest'>;
}

/** Vigil's hidden markers: a comment that carries one is Vigil's own (lib/markers.ts). */
const vigilMarker = /<!-- vigil:(comment|issue) /;

const answerKey = (commentId: string) => `response-answer/${commentId}`;

const ENDED = 'the investigation has ended; reopen the issue to start it again';

/** How long GitHub's answer about a team's member is trusted: a burst of comments asks once. */
const TEAM_ANSWER_TTL_MS = 60_000;

export function createResponseCommands({ client, config, tracker, github }: ResponseCommandsDeps): ResponseCommands {
  const isMember = teamMembership(github);

  /** Whether one of the entries names the author, directly or through a team. */
  async function named(entries: string[], author: string): Promise<boolean> {
    const login = author.toLowerCase();
    if (entries.some((entry) => entry.toLowerCase() === login)) return true;
    for (const entry of entries) {
      const team = /^@([^/]+)\/(.+)$/.exec(entry);
      if (team && (await isMember(team[1]!, team[2]!, author))) return true;
    }
    return false;
  }

  return {
    async handle(comment, { sayUndelivered = false } = {}) {
      if (comment.byBot || vigilMarker.test(comment.body)) return 'ignored';
      const now = Date.now();
      const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      const read = parseCommentCommand(comment.body, { today: day(now), latest: day(now + msToNumber(config.response.maxAcceptance)) });
      if (!read) return 'none';
      const answer = async (reason: string, usage = false) => {
        try {
          await tracker.upsertComment(comment.issue, answerKey(comment.commentId), refusalAnswer({ line: read.line, author: comment.author, reason, usage }));
        } catch (err) {
          throw new CommandNotDelivered(`the answer to comment ${comment.commentId} could not be written on issue #${comment.issue}`, { cause: err });
        }
        return 'answered' as const;
      };
      if ('error' in read) return answer(read.error, true);
      let roles: ResponseRequest['roles'];
      try {
        roles = { ask: await named(config.response.askers, comment.author), approve: await named(config.response.approvers, comment.author) };
      } catch (err) {
        if (err instanceof TeamUnreadable) return answer(err.message);
        throw new CommandNotDelivered(`the teams of ${comment.author} could not be read`, { cause: err });
      }
      const request: ResponseRequest = {
        command: read.command,
        author: comment.author,
        ...(comment.authorId !== undefined ? { authorId: comment.authorId } : {}),
        roles,
        selfApproval: config.response.selfApproval,
        commentId: comment.commentId,
        ...(comment.url ? { commentUrl: comment.url } : {}),
      };
      try {
        await client.withDeadline(Date.now() + config.intake.dispatchTimeoutMs, () =>
          client.workflow.getHandle(comment.workflowId).executeUpdate(responseCommand, { args: [request], updateId: `comment-${comment.commentId}` }),
        );
        return 'delivered';
      } catch (err) {
        // The validator's refusal (or the handler's failure) is the cause; its message is the reason.
        if (err instanceof WorkflowUpdateFailedError) return answer(inertProse(err.cause?.message || err.message));
        if (err instanceof WorkflowNotFoundError) return answer(ENDED);
        if (sayUndelivered) await answer('Temporal did not answer, so the investigation was not told. Give the command again in a moment.').catch(() => undefined);
        throw new CommandNotDelivered(`comment ${comment.commentId} did not reach ${comment.workflowId}`, { cause: err });
      }
    },
  };
}

/** GitHub will not say who is in the team (a permission, not a moment's failure): said on the issue. */
class TeamUnreadable extends Error {}

/**
 * Whether `login` is an active member of `@org/team`, by GitHub's team membership API, remembered for
 * a while. Only answers are remembered, never failures.
 */
function teamMembership(github: Pick<GitHubClient, 'rest'> | undefined) {
  const known = new Map<string, { member: boolean; until: number }>();
  return async (org: string, team: string, login: string): Promise<boolean> => {
    if (!github) return false;
    const key = `${org}/${team}/${login}`.toLowerCase();
    const at = Date.now();
    const cached = known.get(key);
    if (cached && cached.until > at) return cached.member;
    let member: boolean;
    try {
      const { data } = await github.rest.teams.getMembershipForUserInOrg({ org, team_slug: team, username: login });
      member = data.state === 'active';
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      if (status === 404) member = false;
      else if (status === 401 || status === 403) {
        throw new TeamUnreadable(
          `GitHub did not let Vigil read the members of ${code(`@${org}/${team}`)} (${status}): its token or app needs the organization's *Members: read* permission`,
        );
      } else throw err;
    }
    if (known.size >= 1000) for (const [stale, entry] of known) if (entry.until <= at) known.delete(stale);
    known.set(key, { member, until: at + TEAM_ANSWER_TTL_MS });
    return member;
  };
}
