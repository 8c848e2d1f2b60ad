// Logins to the local tracker's page. A session is a cookie `<id>.<expiry>` signed (by
// @fastify/cookie) with a key derived from the tracker token: no state to keep, so a session
// survives intake restarts, and changing the token ends every one. A person who logged in with their
// own token (tracker.local.people) has `<id>.<expiry>.<name>.<tag>`, the tag a digest of that token:
// changing a person's token, or removing the person, ends their sessions. A form's CSRF token is an
// HMAC of the session id under a second derived key, so only a page served to that session can post.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sameSecret } from './auth';

/**
 * Browsers keep cookies by host name, whatever the port, so two Vigils on one host (a dev one and the
 * demo, or two behind port mappings) would each overwrite the other's session: the cookie's name
 * carries the port the browser addressed, as its Host header says (443 or 80 when it names none).
 */
export function sessionCookieName(request: FastifyRequest): string {
  const port = /:(\d{1,5})$/.exec(request.headers.host ?? '')?.[1] ?? (request.protocol === 'https' ? '443' : '80');
  return `vigil_session_${port}`;
}

export interface Session {
  id: string;
  expiresAt: number;
  /** The person logged in (tracker.local.people); none for a login with the tracker token. */
  person?: string;
}

/** A person of the tracker, with their token (resolved). */
export interface TrackerPerson {
  name: string;
  token: string;
}

export interface TrackerSessions {
  /** The request's session, while it lasts and was not logged out. */
  of(request: FastifyRequest): Session | undefined;
  /** Logs in: as a person, or (without one) with the tracker token. */
  start(reply: FastifyReply, person?: TrackerPerson): void;
  end(session: Session | undefined, reply: FastifyReply): void;
  csrfToken(session: Session): string;
  csrfValid(session: Session, presented: unknown): boolean;
}

const derive = (token: string, purpose: string) => Buffer.from(hkdfSync('sha256', token, '', `vigil tracker ${purpose}`, 32));

/** Registers cookie handling on `scope` (the tracker's routes only). */
export async function registerSessions(scope: FastifyInstance, token: string, ttlMs: number, people: readonly TrackerPerson[]): Promise<TrackerSessions> {
  await scope.register(fastifyCookie, { secret: derive(token, 'session') });
  const csrfKey = derive(token, 'csrf');
  const personKey = derive(token, 'person');
  /** Ties a session to the person's token as it is now. */
  const tagOf = (person: TrackerPerson) => createHmac('sha256', personKey).update(person.token).digest('base64url').slice(0, 22);
  const byName = new Map(people.map((person) => [person.name.toLowerCase(), person]));
  /** The person a session names, while they are configured with the token the session was started with. */
  const personOf = (name: string | undefined, tag: string | undefined): string | undefined | null => {
    if (name === undefined) return undefined;
    const person = byName.get(name.toLowerCase());
    return person && tag && sameSecret(tag, tagOf(person)) ? person.name : null;
  };
  // A logged-out session stays refused until it would have expired, so a copy of its cookie is no
  // use either; this process's memory is enough, since the browser's cookie is gone with the logout.
  const ended = new Map<string, number>();
  const csrfToken = (session: Session) => createHmac('sha256', csrfKey).update(session.id).digest('base64url');

  return {
    of(request) {
      const signed = request.cookies[sessionCookieName(request)];
      const { valid, value } = signed ? request.unsignCookie(signed) : { valid: false, value: null };
      const [id, expiry, name, tag] = valid && value ? value.split('.') : [];
      const expiresAt = Number(expiry);
      const person = personOf(name, tag);
      if (!id || !(expiresAt > Date.now()) || ended.has(id) || person === null) return undefined;
      return person ? { id, expiresAt, person } : { id, expiresAt };
    },
    start(reply, person) {
      const value = `${randomBytes(18).toString('base64url')}.${Date.now() + ttlMs}${person ? `.${person.name}.${tagOf(person)}` : ''}`;
      // Secure when the request came over https, as the TLS proxy in front says when intake.trustProxy trusts it.
      reply.setCookie(sessionCookieName(reply.request), value, {
        signed: true,
        httpOnly: true,
        sameSite: 'strict',
        path: '/',
        secure: 'auto',
        maxAge: Math.floor(ttlMs / 1000),
      });
    },
    end(session, reply) {
      if (session) {
        for (const [id, expiresAt] of ended) if (expiresAt <= Date.now()) ended.delete(id);
        ended.set(session.id, session.expiresAt);
      }
      reply.clearCookie(sessionCookieName(reply.request), { path: '/' });
    },
    csrfToken,
    csrfValid: (session, presented) => typeof presented === 'string' && sameSecret(presented, csrfToken(session)),
  };
}
