// Sender authentication, per source: any one of the configured methods suffices. Comparisons of
// secrets are constant-time; nothing about a failed attempt is archived.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { resolveSecret, type AuthMethod } from '../lib/config';

const digest = (text: string | Buffer) => createHash('sha256').update(text).digest();
/** Equal-length digests, so neither length nor content leaks through timing. */
export const sameSecret = (presented: string | Buffer, expected: string | Buffer) =>
  timingSafeEqual(digest(presented), digest(expected));

const header = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
};

export const bearerOf = (headers: IncomingHttpHeaders) => /^Bearer\s+(\S+)\s*$/i.exec(header(headers, 'authorization') ?? '')?.[1];

export type AuthResult = { ok: true; method: AuthMethod['kind'] } | { ok: false; reason: string };

interface Check {
  method: AuthMethod['kind'];
  /** Methods that sign the body can only be checked once it is read (it is still not archived). */
  needsBody: boolean;
  verify(headers: IncomingHttpHeaders, body?: Buffer): Promise<string | undefined>;
}

function checkFor(method: AuthMethod, token: string, sourceKey: string): Check {
  switch (method.kind) {
    case 'bearer':
      return {
        method: method.kind,
        needsBody: false,
        verify: async (headers) => {
          const presented = bearerOf(headers);
          return presented !== undefined && sameSecret(presented, token) ? undefined : 'missing or wrong bearer token';
        },
      };
    case 'api-key': {
      const key = resolveSecret(method.key, `${sourceKey}.key`);
      return {
        method: method.kind,
        needsBody: false,
        verify: async (headers) => {
          const presented = header(headers, method.header);
          return presented !== undefined && sameSecret(presented, key) ? undefined : `missing or wrong ${method.header} header`;
        },
      };
    }
    case 'hmac': {
      const secret = resolveSecret(method.secret, `${sourceKey}.secret`);
      return {
        method: method.kind,
        needsBody: true,
        verify: async (headers, body = Buffer.alloc(0)) => {
          const timestamp = header(headers, method.timestampHeader);
          const signature = header(headers, method.signatureHeader)?.replace(/^sha256=/, '');
          if (!timestamp || !signature) return `missing ${method.signatureHeader} or ${method.timestampHeader} header`;
          const age = Math.abs(Date.now() / 1000 - Number(timestamp));
          if (!Number.isFinite(age) || age > method.toleranceSeconds) {
            return `signature timestamp outside the ${method.toleranceSeconds} s window (replayed or delayed)`;
          }
          const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
          return sameSecret(signature.toLowerCase(), expected) ? undefined : 'bad signature';
        },
      };
    }
    case 'pubsub-oidc': {
      const keys = createRemoteJWKSet(new URL(method.jwksUrl));
      return {
        method: method.kind,
        needsBody: false,
        verify: async (headers) => {
          const jwt = bearerOf(headers);
          if (!jwt) return 'missing Pub/Sub OIDC token';
          try {
            const { payload } = await jwtVerify(jwt, keys, { audience: method.audience, issuer: method.issuers });
            // Any Google service account can get a token for our audience: only the configured one's counts.
            if (payload.email !== method.serviceAccountEmail || payload.email_verified !== true) {
              return 'OIDC token from another service account';
            }
            return undefined;
          } catch (err) {
            return `invalid OIDC token: ${(err as Error).message}`;
          }
        },
      };
    }
  }
}

/** The headers a method's credential travels in, and the secret behind it: neither is archived. */
export function credentialOf(method: AuthMethod, token: string, sourceKey: string): { headers: string[]; secret?: string } {
  switch (method.kind) {
    case 'bearer':
      return { headers: ['authorization'], secret: token };
    case 'api-key':
      return { headers: [method.header.toLowerCase()], secret: resolveSecret(method.key, `${sourceKey}.key`) };
    case 'hmac':
      // The timestamp header is kept: it is not secret and records when the sender signed. The
      // signature is not: with the timestamp and the body it replays within the tolerance window.
      return { headers: [method.signatureHeader.toLowerCase()], secret: resolveSecret(method.secret, `${sourceKey}.secret`) };
    case 'pubsub-oidc':
      return { headers: ['authorization'] };
  }
}

export interface Authenticator {
  /** Whether some method can only be checked with the body. */
  needsBody: boolean;
  /** Checks the methods that need no body; with `body`, all of them. */
  authenticate(headers: IncomingHttpHeaders, body?: Buffer): Promise<AuthResult>;
}

export function createAuthenticator(methods: AuthMethod[], token: string, sourceKey: string): Authenticator {
  const checks = methods.map((method) => checkFor(method, token, sourceKey));
  return {
    needsBody: checks.some((check) => check.needsBody),
    async authenticate(headers, body) {
      const reasons = [];
      for (const check of checks) {
        if (check.needsBody && body === undefined) continue;
        const failure = await check.verify(headers, body);
        if (failure === undefined) return { ok: true, method: check.method };
        reasons.push(failure);
      }
      return { ok: false, reason: reasons.join('; ') || 'missing credentials' };
    },
  };
}
