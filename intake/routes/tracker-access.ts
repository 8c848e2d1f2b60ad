// Who may read and act on the local tracker. Its routes answer only to our own host names (DNS
// rebinding), send headers that keep the page out of frames, and need a credential: the tracker
// token as a bearer (scripts), or a session from logging in with it (the page), whose forms also
// carry the session's CSRF token. People (tracker.local.people) have tokens of their own, which do
// the same and name them: comments need one (as the bearer, or the login of the page's session).
// Origin and Referer grant nothing. Guessing a token is bounded: past a few wrong ones from an
// address, that address is refused (429), right token or not, for a while.
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHostCheck } from '../allowed-hosts';
import { bearerOf, sameSecret } from '../auth';
import { registerSessions, type Session, type TrackerPerson } from '../tracker-session';
import { loginPage, styleHash } from './issues-page';

export interface TrackerAccessSettings {
  /** The tracker token: the API's bearer token, and what a person logs in to the page with. */
  token: string;
  /** intake.host, whose name is one of the tracker's. */
  intakeHost: string;
  /** tracker.local.allowedHosts. */
  allowedHosts: string[];
  sessionTtlMs: number;
  /** tracker.local.people, their tokens resolved. */
  people: readonly TrackerPerson[];
}

type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export interface TrackerGuards {
  /** The bearer token or a session: reading (the API, evidence). */
  reader: Guard;
  /** The bearer token: the API's actions. */
  bearer: Guard;
  /** A person's own token as the bearer (sets `trackerPerson`): the API's comments. */
  person: Guard;
  /** A session, else to the login page: the issues page. */
  page: Guard;
  /** A session and its CSRF token (a preHandler: the token is in the body): the page's forms. */
  form: Guard;
  /** The CSRF token of the session the `page` guard let through. */
  csrfOf(request: FastifyRequest): string;
}

declare module 'fastify' {
  interface FastifyRequest {
    trackerSession?: Session;
    /** The person whose token the request bore. */
    trackerPerson?: string;
  }
}

const html = 'text/html; charset=utf-8';

/**
 * Wrong tokens (at the login, or as the API's bearer) an address may present in a window. A person
 * mistyping needs a few; a generated token (24 random bytes) is out of reach at any rate, a chosen one
 * of 16 characters perhaps not at thousands a second. The address is the client's as intake sees it:
 * behind a proxy, set intake.trustProxy so that it is not the proxy's, which every client shares.
 */
const WRONG_TOKENS = 10;
const WRONG_TOKENS_WINDOW_MS = 15 * 60_000;

/** Registers the checks, headers and login routes on `scope`, the tracker's own plugin scope. */
export async function registerTrackerAccess(scope: FastifyInstance, settings: TrackerAccessSettings): Promise<TrackerGuards> {
  const { token, people } = settings;
  /** Whose token it is: the tracker's (`tracker`), a person's, or no one's. Every one compared, in constant time. */
  const holderOf = (presented: string): 'tracker' | TrackerPerson | undefined => {
    let holder: 'tracker' | TrackerPerson | undefined = sameSecret(presented, token) ? 'tracker' : undefined;
    for (const person of people) if (sameSecret(presented, person.token)) holder ??= person;
    return holder;
  };
  await scope.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: [styleHash],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Whether a name is HTTPS-only for a year is for the TLS proxy in front to decide.
    strictTransportSecurity: false,
  });

  const hostAllowed = createHostCheck(settings.intakeHost, settings.allowedHosts);
  scope.addHook('onRequest', async (request, reply) => {
    if (!hostAllowed(request.headers.host, request.socket.localPort ?? 0, request.protocol === 'https' ? 443 : 80)) {
      return reply.code(421).send({ error: "this host name is not one of the tracker's: add it to tracker.local.allowedHosts" });
    }
  });

  const sessions = await registerSessions(scope, token, settings.sessionTtlMs, people);
  scope.decorateRequest('trackerSession', undefined);
  scope.decorateRequest('trackerPerson', undefined);

  // Counted by hand, wrong tokens only: a person's right ones, and every other request, cost nothing.
  await scope.register(rateLimit, { global: false });
  const wrongTokens = scope.createRateLimit({ max: WRONG_TOKENS, timeWindow: WRONG_TOKENS_WINDOW_MS });
  /**
   * Counts a wrong token, and answers 429 once the address has presented too many: then a right one
   * too, or a guess would still tell right from wrong. True when it answered.
   */
  const refusedAfter = async (request: FastifyRequest, reply: FastifyReply, right: boolean): Promise<boolean> => {
    const status = await wrongTokens(request, { increment: !right });
    if (status.isAllowed || !status.isExceeded) return false;
    reply
      .code(429)
      .header('retry-after', String(status.ttlInSeconds))
      .send({ error: `too many wrong tokens from this address: retry in ${status.ttlInSeconds} s` });
    return true;
  };
  /** The bearer token's verdict (`right`: the tracker's; or a person), or undefined when refused (429, answered). */
  const bearerVerdict = async (request: FastifyRequest, reply: FastifyReply): Promise<'right' | TrackerPerson | 'wrong' | 'absent' | undefined> => {
    const presented = bearerOf(request.headers);
    if (presented === undefined) return 'absent';
    const holder = holderOf(presented);
    if (await refusedAfter(request, reply, holder !== undefined)) return undefined;
    return holder === 'tracker' ? 'right' : (holder ?? 'wrong');
  };
  const unauthenticated = (reply: FastifyReply) =>
    reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthenticated: send Authorization: Bearer <tracker token>, or log in at /login' });

  const guards: TrackerGuards = {
    reader: async (request, reply) => {
      const bearer = await bearerVerdict(request, reply);
      if (bearer === undefined) return reply;
      if (bearer !== 'right' && typeof bearer !== 'object' && !sessions.of(request)) return unauthenticated(reply);
    },
    bearer: async (request, reply) => {
      const bearer = await bearerVerdict(request, reply);
      if (bearer === undefined) return reply;
      if (bearer !== 'right') return unauthenticated(reply);
    },
    person: async (request, reply) => {
      const bearer = await bearerVerdict(request, reply);
      if (bearer === undefined) return reply;
      if (bearer === 'right') return reply.code(403).send({ error: "comments need a person's own token (tracker.local.people), not the tracker token: the comment carries its author" });
      if (typeof bearer !== 'object') {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthenticated: send Authorization: Bearer <your own token> (tracker.local.people)' });
      }
      request.trackerPerson = bearer.name;
    },
    page: async (request, reply) => {
      request.trackerSession = sessions.of(request);
      if (!request.trackerSession) return reply.redirect('/login', 303);
    },
    form: async (request, reply) => {
      const session = sessions.of(request);
      if (!session || !sessions.csrfValid(session, (request.body as Record<string, string> | undefined)?.csrf)) {
        return reply.code(403).send({ error: "refused: the page's forms need a login and the page's CSRF token" });
      }
      request.trackerSession = session;
    },
    csrfOf: (request) => sessions.csrfToken(request.trackerSession!),
  };

  // The page's forms are plain form posts.
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  scope.get('/login', async (_request, reply) => reply.type(html).send(loginPage(false)));
  scope.post<{ Body: Record<string, string> | undefined }>('/login', async (request, reply) => {
    const presented = request.body?.token;
    const holder = typeof presented === 'string' ? holderOf(presented) : undefined;
    if (await refusedAfter(request, reply, holder !== undefined)) return reply;
    if (!holder) return reply.code(401).type(html).send(loginPage(true));
    sessions.start(reply, holder === 'tracker' ? undefined : holder);
    return reply.redirect('/issues', 303);
  });
  scope.post('/logout', { preHandler: guards.form }, async (request, reply) => {
    sessions.end(request.trackerSession, reply);
    return reply.redirect('/login', 303);
  });
  return guards;
}
