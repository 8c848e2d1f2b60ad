// Auth bypasses, one per way in, against real intakes: every credential method intake supports
// (intake/auth.ts, docs/intake.md) — the bearer token, a per-source API key, HMAC signatures with
// timestamps, Pub/Sub OIDC JWTs checked against a key set served from loopback — and the local
// tracker's token, sessions and CSRF tokens, and GitHub's webhook signature. Each forged, stale or
// misplaced credential must be refused with 401/403, and nothing may come of it: no archive record,
// no investigation started or signalled, no issue changed. A correct credential of each kind is the
// control that shows the refusals are not the setup's doing.
import { createHash, createHmac, hkdfSync, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalIssue } from '../../lib/local-issues';
import { investigationWorkflowId } from '../../lib/workflow-id';
import { githubTrackerSettings, startFakeGitHub, type FakeGitHub } from '../helpers/github-server';
import { logIn, postLogin, type PageSession } from '../helpers/tracker-page';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';
import { send, type Answer } from './hostile/http';
import { recordTrial } from './tally';

const apiKey = 'api-key-for-bypass-tests-0123456789';
const hmacSecret = 'hmac-secret-for-bypass-tests-0123456789';
const trackerToken = 'tracker-token-apart-for-bypass-tests-01';
const audience = 'https://vigil.example/v1/alerts/scc';
const pushAccount = 'scc-push@project.iam.gserviceaccount.com';
const githubToken = 'ghp_bypasstokenbypasstokenbypass000';
const webhookSecret = 'webhook-secret-for-bypass-tests-0123';

let vigil: TestVigil;
let githubVigil: TestVigil;
let github: FakeGitHub;
let jwks: Server;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let signingKey: PrivateKey;
let otherKey: PrivateKey;
let publicPem: string;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'google-key', alg: 'RS256', use: 'sig' };
  // The key set's own public key: what an HS256 "algorithm confusion" token is keyed with.
  publicPem = await exportSPKI(pair.publicKey);
  // Google's key set, served from loopback.
  jwks = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [publicJwk] }));
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => jwks.once('listening', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/certs`;

  vigil = await startTestVigil({
    intake: {
      sources: {
        // generic keeps the default: the intake bearer token.
        guardduty: { auth: [{ kind: 'api-key', header: 'x-api-key', key: apiKey }] },
        securityhub: { auth: [{ kind: 'hmac', secret: hmacSecret }] },
        prowler: { auth: [{ kind: 'hmac', secret: hmacSecret, signatureHeader: 'x-prowler-signature', timestampHeader: 'x-prowler-time', toleranceSeconds: 60 }] },
        scc: { auth: [{ kind: 'pubsub-oidc', audience, serviceAccountEmail: pushAccount, jwksUrl }] },
        // Any one of several suffices: none of them may be bypassed through another.
        'gcp-audit': {
          auth: [
            { kind: 'api-key', header: 'x-audit-key', key: apiKey },
            { kind: 'hmac', secret: hmacSecret },
          ],
        },
      },
    },
    tracker: { local: { token: trackerToken } },
  });
  github = await startFakeGitHub({ tokens: [githubToken] });
  github.addRepo('acme', 'security', { branches: ['main', 'vigil-evidence'] });
  process.env.VIGIL_BYPASS_GITHUB_TOKEN = githubToken;
  process.env.VIGIL_BYPASS_WEBHOOK_SECRET = webhookSecret;
  githubVigil = await startTestVigil({ tracker: githubTrackerSettings(github.url, { token: 'VIGIL_BYPASS_GITHUB_TOKEN', webhookSecret: 'VIGIL_BYPASS_WEBHOOK_SECRET' }) });
});

afterAll(async () => {
  await vigil?.stop();
  await githubVigil?.stop();
  await github?.close();
  jwks?.close();
});

// ---------------------------------------------------------------------------------------------

/** Every archived record of an intake (`.raw` bodies under its data folder's archive). */
async function archivedBodies(of: TestVigil): Promise<number> {
  const entries = await readdir(path.join(of.config.dataDir, 'archive'), { recursive: true }).catch(() => [] as string[]);
  return entries.filter((name) => name.endsWith('.raw')).length;
}

/** Whether an investigation with this id exists at all (running or not): described by the server, not listed. */
async function started(of: TestVigil, workflowId: string): Promise<boolean> {
  try {
    await of.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

interface Attempt {
  name: string;
  headers: Record<string, string>;
  body: string;
}

/** A generic alert that no other attempt sends: its investigation would be named after its id. */
function uniqueAlert(): string {
  return JSON.stringify({ id: `bypass-${randomUUID()}`, title: 'auth bypass attempt', severity: 'low' });
}

/** The investigations a body would start on `source`: its own fingerprint, or its unparsed one. */
function wouldStart(source: string, body: string): string[] {
  const sha = createHash('sha256').update(body).digest('hex');
  return [investigationWorkflowId(source, (JSON.parse(body) as { id: string }).id), investigationWorkflowId(source, `unparsed:${sha}`)];
}

const shown = (answer: Answer) => (answer.kind === 'answer' ? `${answer.status} ${answer.body.toString('utf8').slice(0, 160)}` : answer.kind);
const postTo = (of: TestVigil, source: string, attempt: Attempt) =>
  send(of.url, { method: 'POST', path: `/v1/alerts/${source}`, headers: { 'content-type': 'application/json', ...attempt.headers }, body: attempt.body });

interface Row {
  fault: string;
  tried: number;
  held: number;
  failures: string[];
}

function record(row: Row, check: string): void {
  recordTrial({ fault: row.fault, tried: row.tried, held: row.held, check });
  expect(row.failures).toEqual([]);
  expect(row.held).toBe(row.tried);
}

/**
 * Sends each forged attempt to `source` and checks it was refused (401/403) with nothing archived or
 * started; then the control (a correct credential) must be accepted and start its investigation.
 */
async function refuseAll(row: Row, source: string, attempts: Attempt[], control: Attempt): Promise<void> {
  const before = await archivedBodies(vigil);
  const starts: string[] = [];
  for (const attempt of attempts) {
    row.tried++;
    const answer = await postTo(vigil, source, attempt);
    starts.push(...wouldStart(source, attempt.body));
    if (answer.kind === 'answer' && (answer.status === 401 || answer.status === 403)) row.held++;
    else row.failures.push(`${source}: ${attempt.name} got ${shown(answer)}`);
  }
  const after = await archivedBodies(vigil);
  if (after !== before) row.failures.push(`${source}: ${after - before} record(s) archived by refused attempts`);
  for (const workflowId of starts) if (await started(vigil, workflowId)) row.failures.push(`${source}: ${workflowId} started by a refused attempt`);

  const accepted = await postTo(vigil, source, control);
  if (accepted.kind !== 'answer' || accepted.status !== 202) row.failures.push(`${source}: the correct credential (${control.name}) got ${shown(accepted)}`);
  else if (!(await eventually(async () => ((await Promise.all(wouldStart(source, control.body).map((id) => started(vigil, id)))).some(Boolean) ? true : undefined), 60_000))) {
    row.failures.push(`${source}: the control started nothing`);
  }
}

const now = () => Math.floor(Date.now() / 1000);
const hmac = (timestamp: string | number, body: string, secret = hmacSecret) => `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

// ---------------------------------------------------------------------------------------------

describe('alert senders', () => {
  it('refuse every wrong, stale or misplaced bearer token, API key and HMAC signature', async () => {
    const row: Row = { fault: 'auth bypass on alert routes: bearer token, API key, HMAC (wrong, replayed/old, future, tampered, misplaced)', tried: 0, held: 0, failures: [] };
    try {
      const token = vigil.token;
      // The bearer token (generic keeps the default).
      const bearer = (name: string, headers: Record<string, string>): Attempt => ({ name, headers, body: uniqueAlert() });
      await refuseAll(
        row,
        'generic',
        [
          bearer('no credentials', {}),
          bearer('empty bearer', { authorization: 'Bearer ' }),
          bearer('wrong token', { authorization: 'Bearer wrong-token' }),
          bearer('token with one character more', { authorization: `Bearer ${token}x` }),
          bearer('token without its last character', { authorization: `Bearer ${token.slice(0, -1)}` }),
          bearer('token twice', { authorization: `Bearer ${token} ${token}` }),
          bearer('token as Basic', { authorization: `Basic ${Buffer.from(`vigil:${token}`).toString('base64')}` }),
          bearer('token without the scheme', { authorization: token }),
          bearer('token in a cookie', { cookie: `token=${token}` }),
          bearer('token in x-api-key', { 'x-api-key': token }),
          bearer('the tracker token (configured apart)', { authorization: `Bearer ${trackerToken}` }),
          bearer('the API key of another source', { authorization: `Bearer ${apiKey}`, 'x-api-key': apiKey }),
          bearer('the HMAC secret as a token', { authorization: `Bearer ${hmacSecret}` }),
          bearer('upper-cased token', { authorization: `Bearer ${token.toUpperCase()}` }),
        ],
        bearer('the intake token', { authorization: `Bearer ${token}` }),
      );
      // Token in the query string: a different path, refused the same.
      row.tried++;
      const query = await send(vigil.url, { method: 'POST', path: `/v1/alerts/generic?token=${token}&access_token=${token}`, headers: { 'content-type': 'application/json' }, body: uniqueAlert() });
      if (query.kind === 'answer' && query.status === 401) row.held++;
      else row.failures.push(`token in the query string got ${shown(query)}`);

      // A per-source API key: it replaces the intake token for that source.
      const keyed = (name: string, headers: Record<string, string>): Attempt => ({ name, headers, body: uniqueAlert() });
      await refuseAll(
        row,
        'guardduty',
        [
          keyed('no key', {}),
          keyed('wrong key', { 'x-api-key': 'wrong' }),
          keyed('key with a trailing character', { 'x-api-key': `${apiKey}!` }),
          keyed('empty key', { 'x-api-key': '' }),
          keyed('key as a bearer token', { authorization: `Bearer ${apiKey}` }),
          keyed('key under another header', { 'x-api-token': apiKey, 'x-vigil-key': apiKey }),
          keyed('the intake token (replaced by the key)', { authorization: `Bearer ${token}` }),
          keyed('the intake token in the key header', { 'x-api-key': token }),
          keyed('upper-cased key', { 'x-api-key': apiKey.toUpperCase() }),
        ],
        keyed('the API key', { 'x-api-key': apiKey }),
      );

      // HMAC over "<timestamp>.<body>", within 300 s (securityhub) or 60 s (prowler, its own headers).
      const signed = (name: string, timestamp: string | number, signature: (body: string) => string, extra: Record<string, string> = {}, names = ['x-vigil-timestamp', 'x-vigil-signature']): Attempt => {
        const body = uniqueAlert();
        return { name, body, headers: { [names[0]!]: String(timestamp), [names[1]!]: signature(body), ...extra } };
      };
      const hmacAttempts = (names: string[], tolerance: number): Attempt[] => {
        const t = now();
        const other = uniqueAlert();
        return [
          { name: 'no signature headers', headers: {}, body: uniqueAlert() },
          signed('timestamp without signature', t, () => '', {}, names),
          signed('signature without timestamp', '', (body) => hmac(t, body), {}, names),
          signed('wrong secret', t, (body) => hmac(t, body, 'another-secret-0123456789'), {}, names),
          signed('signature of another body', t, () => hmac(t, other), {}, names),
          signed('signature of the body without the timestamp', t, (body) => `sha256=${createHmac('sha256', hmacSecret).update(body).digest('hex')}`, {}, names),
          signed('replayed: old timestamp, signed correctly for it', t - tolerance - 100, (body) => hmac(t - tolerance - 100, body), {}, names),
          signed('replayed a day later', t - 86_400, (body) => hmac(t - 86_400, body), {}, names),
          signed('from the future', t + tolerance + 100, (body) => hmac(t + tolerance + 100, body), {}, names),
          signed('timestamp 0', 0, (body) => hmac(0, body), {}, names),
          signed('timestamp NaN', 'NaN', (body) => hmac('NaN', body), {}, names),
          signed('timestamp Infinity', 'Infinity', (body) => hmac('Infinity', body), {}, names),
          signed('timestamp in milliseconds', Date.now(), (body) => hmac(Date.now(), body), {}, names),
          signed('timestamp as a date', new Date().toISOString(), (body) => hmac(new Date().toISOString(), body), {}, names),
          signed('signed timestamp differs from the header', t, (body) => hmac(t - 1, body), {}, names),
          signed('truncated signature', t, (body) => hmac(t, body).slice(0, -2), {}, names),
          signed('signature in base64', t, (body) => `sha256=${createHmac('sha256', hmacSecret).update(`${t}.${body}`).digest('base64')}`, {}, names),
          signed('sha1 signature', t, (body) => `sha1=${createHmac('sha1', hmacSecret).update(`${t}.${body}`).digest('hex')}`, {}, names),
          signed('the secret itself as the signature', t, () => hmacSecret, {}, names),
          signed('right signature, the intake token beside it', t - tolerance - 100, (body) => hmac(t - tolerance - 100, body), { authorization: `Bearer ${vigil.token}` }, names),
        ];
      };
      await refuseAll(row, 'securityhub', hmacAttempts(['x-vigil-timestamp', 'x-vigil-signature'], 300), signed('a fresh signature', now(), (body) => hmac(now(), body)));
      await refuseAll(
        row,
        'prowler',
        [
          ...hmacAttempts(['x-prowler-time', 'x-prowler-signature'], 60),
          // The default header names do not count where the source names its own.
          signed('right signature under the default headers', now(), (body) => hmac(now(), body)),
        ],
        signed('a fresh signature', now(), (body) => hmac(now(), body), {}, ['x-prowler-time', 'x-prowler-signature']),
      );

      // Two methods, either suffices: a wrong key does not help a wrong signature, nor the reverse.
      const t = now();
      await refuseAll(
        row,
        'gcp-audit',
        [
          signed('wrong key and stale signature', t - 1000, (body) => hmac(t - 1000, body), { 'x-audit-key': 'wrong' }),
          signed('wrong key and wrong signature', t, (body) => hmac(t, body, 'nope-nope-nope-nope'), { 'x-audit-key': `${apiKey}x` }),
          signed('the key in the signature header', t, () => apiKey),
          signed('the intake token', t, () => 'sha256=00', { authorization: `Bearer ${vigil.token}` }),
        ],
        signed('a fresh signature', t, (body) => hmac(t, body)),
      );
    } finally {
      record(row, 'refused with 401; no archive record, no investigation; the correct credential accepted');
    }
  });

  it('refuse Pub/Sub OIDC tokens of the wrong audience, issuer, account, key or algorithm, and expired ones', async () => {
    const row: Row = { fault: 'auth bypass with Pub/Sub OIDC JWTs (key set on loopback): wrong audience, issuer, account, key, `alg: none`, expired', tried: 0, held: 0, failures: [] };
    const claims = { email: pushAccount, email_verified: true };
    const token = async ({
      payload = claims as Record<string, unknown>,
      // null leaves the claim out (undefined would take the default).
      issuer = 'https://accounts.google.com' as string | null,
      tokenAudience = audience as string | string[] | null,
      expires = '5m' as string | number,
      key = signingKey,
      header = { alg: 'RS256', kid: 'google-key' } as Record<string, unknown>,
      notBefore = undefined as number | undefined,
    } = {}) => {
      const jwt = new SignJWT(payload).setProtectedHeader(header as { alg: string }).setIssuedAt().setExpirationTime(expires);
      if (issuer !== null) jwt.setIssuer(issuer);
      if (tokenAudience !== null) jwt.setAudience(tokenAudience);
      if (notBefore !== undefined) jwt.setNotBefore(notBefore);
      return jwt.sign(key);
    };
    const bearer = (name: string, jwt: string): Attempt => ({ name, headers: { authorization: `Bearer ${jwt}` }, body: uniqueAlert() });
    /** A JWT jose would not sign (a critical header it does not know), signed with the key set's own key. */
    const signedByHand = async (header: object, payload: object) => {
      const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', signingKey as Parameters<typeof crypto.subtle.sign>[1], new TextEncoder().encode(input));
      return `${input}.${Buffer.from(signature).toString('base64url')}`;
    };
    try {
      const good = await token();
      const [head, body] = good.split('.');
      const past = now() - 3600;
      const unsecured = new UnsecuredJWT(claims).setIssuer('https://accounts.google.com').setAudience(audience).setIssuedAt().setExpirationTime('5m').encode();
      const hs256 = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: 'google-key' })
        .setIssuer('https://accounts.google.com')
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(publicPem));
      const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      await refuseAll(
        row,
        'scc',
        [
          bearer('wrong audience', await token({ tokenAudience: 'https://elsewhere.example/v1/alerts/scc' })),
          bearer('audience of another source', await token({ tokenAudience: 'https://vigil.example/v1/alerts/generic' })),
          bearer('no audience', await token({ tokenAudience: null })),
          bearer('wrong issuer', await token({ issuer: 'https://evil.example' })),
          bearer('issuer that starts like Google', await token({ issuer: 'https://accounts.google.com.evil.example' })),
          bearer('no issuer', await token({ issuer: null })),
          bearer('alg none', unsecured),
          bearer('alg none with a signature', `${unsecured}${body}`),
          bearer('header rewritten to alg none', `${base64url({ alg: 'none', kid: 'google-key' })}.${body}.`),
          bearer('HS256 keyed with a public key', hs256),
          bearer('expired an hour ago', await token({ expires: past })),
          bearer('not valid for an hour', await token({ notBefore: now() + 3600 })),
          bearer('another service account', await token({ payload: { ...claims, email: 'intruder@evil.iam.gserviceaccount.com' } })),
          bearer('the account in another case', await token({ payload: { ...claims, email: pushAccount.toUpperCase() } })),
          bearer('email not verified', await token({ payload: { ...claims, email_verified: false } })),
          bearer('email_verified as text', await token({ payload: { ...claims, email_verified: 'true' } })),
          bearer('no email', await token({ payload: { email_verified: true } })),
          bearer('the account as subject only', await token({ payload: { sub: pushAccount, email_verified: true } })),
          bearer('signed by another key, same kid', await token({ key: otherKey })),
          bearer('unknown kid', await token({ key: otherKey, header: { alg: 'RS256', kid: 'attacker-key' } })),
          bearer('key set URL in the header', await token({ key: otherKey, header: { alg: 'RS256', kid: 'google-key', jku: 'http://127.0.0.1:1/certs' } })),
          bearer('unknown critical header, correctly signed', await signedByHand({ alg: 'RS256', kid: 'google-key', crit: ['vigil-bypass'], 'vigil-bypass': true }, { ...claims, iss: 'https://accounts.google.com', aud: audience, iat: now(), exp: now() + 300 })),
          bearer('payload swapped under a valid signature', `${head}.${base64url({ ...claims, iss: 'https://accounts.google.com', aud: audience, exp: now() + 600, email: 'intruder@evil.example' })}.${good.split('.')[2]}`),
          bearer('signature stripped', `${head}.${body}.`),
          bearer('not a JWT', 'not.a.jwt'),
          bearer('empty token', ''),
          { name: 'valid token in another header', headers: { 'x-goog-authorization': `Bearer ${good}`, 'x-cloud-trace-context': good }, body: uniqueAlert() },
          bearer('the intake token', vigil.token),
        ],
        bearer('a token from the push account', good),
      );
    } finally {
      record(row, 'refused with 401; no archive record, no investigation; a valid token accepted');
    }
  });
});

// ---------------------------------------------------------------------------------------------

const sessionKey = (token: string) => Buffer.from(hkdfSync('sha256', token, '', 'vigil tracker session', 32));
/** A cookie as @fastify/cookie signs it: `<value>.<base64 HMAC-SHA256, unpadded>`. */
const signedCookie = (value: string, key: Buffer) => `vigil_session=${encodeURIComponent(`${value}.${createHmac('sha256', key).update(value).digest('base64').replace(/=/g, '')}`)}`;

describe('the local tracker', () => {
  let issue: LocalIssue;
  let workflowId: string;
  let session: PageSession;

  beforeAll(async () => {
    const body = uniqueAlert();
    workflowId = wouldStart('generic', body)[0]!;
    await vigil.post('generic', body);
    issue = await eventually(async () => (await vigil.tracker.listIssues()).find((candidate) => candidate.workflowId === workflowId && candidate.comments.length > 0), 120_000);
    session = await logIn(vigil.url, trackerToken);
  });

  it('refuses forged, expired and logged-out sessions, missing or foreign CSRF tokens and wrong tokens, and nothing changes', async () => {
    const row: Row = { fault: 'auth bypass on the local tracker: wrong tokens, forged/expired/ended session cookies, missing/foreign CSRF token, forged Origin', tried: 0, held: 0, failures: [] };
    const expectRefused = async (name: string, answer: Answer, statuses = [401, 403]) => {
      row.tried++;
      if (answer.kind === 'answer' && statuses.includes(answer.status)) row.held++;
      else row.failures.push(`${name} got ${shown(answer)}`);
    };
    const form = (fields: Record<string, string>, headers: Record<string, string> = {}, action = 'close') =>
      send(vigil.url, {
        method: 'POST',
        path: `/issues/${issue.number}/actions`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ action, ...fields }).toString(),
      });
    const api = (token: string | undefined, action = 'close') =>
      send(vigil.url, {
        method: 'POST',
        path: `/v1/issues/${issue.number}/${action}`,
        headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        body: action === 'labels' ? JSON.stringify({ add: ['vigil:suppress'] }) : '{}',
      });
    const read = (headers: Record<string, string>, what = '/v1/issues') => send(vigil.url, { path: what, headers });
    try {
      const before = await vigil.tracker.readIssue(issue.number);
      const key = sessionKey(trackerToken);
      const future = Date.now() + 3_600_000;
      const cookies: [string, string][] = [
        ['a made-up session', 'vigil_session=abc.123'],
        ['an unsigned session value', `vigil_session=${encodeURIComponent(`forged.${future}`)}`],
        ['a session signed with a wrong key', signedCookie(`forged.${future}`, Buffer.alloc(32, 7))],
        ["a session signed with the intake token's key", signedCookie(`forged.${future}`, sessionKey(vigil.token))],
        ['an expired session, correctly signed', signedCookie(`expired.${Date.now() - 1000}`, key)],
        ['a session with no expiry, correctly signed', signedCookie('forever', key)],
        ['a session expiring in the year 275760, signature cut', `${signedCookie(`forged.8640000000000000`, key).slice(0, -4)}`],
        ['the real session with its signature altered', session.cookie.replace(/.$/, (char) => (char === 'A' ? 'B' : 'A'))],
      ];
      for (const [name, cookie] of cookies) {
        await expectRefused(`reading the API with ${name}`, await read({ cookie }));
        await expectRefused(`pressing close with ${name} and the real CSRF token`, await form({ csrf: session.csrf }, { cookie }));
        const page = await read({ cookie }, '/issues');
        row.tried++;
        if (page.kind === 'answer' && page.status === 303 && page.headers.location === '/login') row.held++;
        else row.failures.push(`the page with ${name} got ${shown(page)}`);
      }

      // A session is not a bearer token for the API's actions.
      await expectRefused('API close with the session cookie', await send(vigil.url, { method: 'POST', path: `/v1/issues/${issue.number}/close`, headers: { 'content-type': 'application/json', cookie: session.cookie }, body: '{}' }));

      // CSRF: the session alone is not enough; nor a token of another session, nor Origin/Referer.
      const other = await logIn(vigil.url, trackerToken);
      const forms: [string, Record<string, string>, Record<string, string>][] = [
        ['the session without a CSRF token', {}, { cookie: session.cookie }],
        ['the session with an empty CSRF token', { csrf: '' }, { cookie: session.cookie }],
        ['the session with a wrong CSRF token', { csrf: 'x'.repeat(43) }, { cookie: session.cookie }],
        ["the session with another session's CSRF token", { csrf: other.csrf }, { cookie: session.cookie }],
        ['the CSRF token without the session', { csrf: session.csrf }, {}],
        ['a forged Origin and Referer', {}, { origin: vigil.url, referer: `${vigil.url}/issues` }],
        ['the session, the CSRF token in a header only', {}, { cookie: session.cookie, 'x-csrf-token': session.csrf }],
        ['the tracker token as a bearer on the page form', {}, { authorization: `Bearer ${trackerToken}` }],
      ];
      for (const [name, fields, headers] of forms) {
        for (const action of ['close', 'suppress']) await expectRefused(`pressing ${action} with ${name}`, await form(fields, headers, action), [403]);
      }
      await expectRefused('logging out without the CSRF token', await send(vigil.url, { method: 'POST', path: '/logout', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookie }, body: '' }), [403]);

      // A session that logged out stays refused, even presented again as it was.
      const ended = await logIn(vigil.url, trackerToken);
      const logout = await send(vigil.url, { method: 'POST', path: '/logout', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: ended.cookie }, body: new URLSearchParams({ csrf: ended.csrf }).toString() });
      expect(logout.kind === 'answer' && logout.status).toBe(303);
      await expectRefused('reading with a logged-out session', await read({ cookie: ended.cookie }));
      await expectRefused('pressing close with a logged-out session and its CSRF token', await form({ csrf: ended.csrf }, { cookie: ended.cookie }), [403]);
      // Tokens: none, wrong, the intake token (the tracker's is configured apart). Last, since wrong
      // tokens from one address are soon answered 429 (a refusal too) before any token is compared.
      for (const [name, token] of [['no token', undefined], ['a wrong token', 'wrong'], ['the intake token', vigil.token], ['the HMAC secret', hmacSecret]] as const) {
        for (const action of ['close', 'reopen', 'labels']) await expectRefused(`API ${action} with ${name}`, await api(token, action), [401, 429]);
        await expectRefused(`reading the API with ${name}`, await read(token === undefined ? {} : { authorization: `Bearer ${token}` }), [401, 429]);
        if (token !== undefined) await expectRefused(`logging in with ${name}`, await send(vigil.url, { method: 'POST', path: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() }), [401, 429]);
      }
      expect([401, 429]).toContain((await postLogin(vigil.url, 'wrong')).status);
      // Past ten wrong tokens the address is refused, the right token too (or guessing would go on); a
      // forged X-Forwarded-For does not make it another address (intake.trustProxy is off).
      for (const [name, token] of [['a wrong token', 'wrong-again'], ['the right token', trackerToken]] as const) {
        for (const forwarded of ['203.0.113.77', '127.0.0.2', `10.${Math.floor(Math.random() * 250)}.0.1`]) {
          await expectRefused(`${name} with X-Forwarded-For ${forwarded} once the address is limited`, await read({ authorization: `Bearer ${token}`, 'x-forwarded-for': forwarded, 'x-real-ip': forwarded }), [429]);
        }
      }

      // Nothing changed: the issue as it was, and the investigation told nothing.
      const after = await vigil.tracker.readIssue(issue.number);
      row.tried++;
      if (after?.state === before?.state && JSON.stringify(after?.labels) === JSON.stringify(before?.labels)) row.held++;
      else row.failures.push(`the issue changed: ${before?.state} ${before?.labels} → ${after?.state} ${after?.labels}`);
      const progress = await queryProgress(vigil.client, workflowId);
      row.tried++;
      if (progress && progress.issueState !== 'closed' && !progress.suppressed) row.held++;
      else row.failures.push(`the investigation was told: ${JSON.stringify(progress)}`);

      // The control: the real session and its CSRF token do act.
      const pressed = await form({ csrf: session.csrf }, { cookie: session.cookie }, 'suppress');
      expect(pressed.kind === 'answer' && pressed.status).toBe(303);
      expect((await vigil.tracker.readIssue(issue.number))?.labels).toContain('vigil:suppress');
    } finally {
      record(row, 'refused with 401/403 (the page: to the login); the issue and its investigation unchanged; the real session acts');
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("GitHub's webhook", () => {
  it('refuses deliveries not signed with the secret, and tells the investigation nothing', async () => {
    const row: Row = { fault: "auth bypass on GitHub's issues webhook: unsigned, wrong secret, another body's signature, sha1, empty", tried: 0, held: 0, failures: [] };
    try {
      const body = uniqueAlert();
      const workflowId = wouldStart('generic', body)[0]!;
      expect((await githubVigil.post('generic', body)).status).toBe(202);
      const repo = github.repo('acme', 'security');
      const issue = await eventually(async () => [...repo.issues.values()].find((candidate) => candidate.body?.includes(encodeURIComponent(workflowId)) || candidate.body?.includes(workflowId)), 120_000);
      await eventually(async () => ((await queryProgress(githubVigil.client, workflowId))?.issueState === 'open' ? true : undefined), 60_000);
      const payload = JSON.stringify({
        action: 'closed',
        issue: { number: issue.number, state: 'closed', body: issue.body, labels: [{ name: 'vigil' }, { name: 'vigil:suppress' }] },
        repository: { name: 'security', owner: { login: 'acme' } },
      });
      const sign = (text: string, secret = webhookSecret, algorithm = 'sha256') => `${algorithm}=${createHmac(algorithm, secret).update(text).digest('hex')}`;
      const attempts: [string, Record<string, string>][] = [
        ['unsigned', {}],
        ['signed with a wrong secret', { 'x-hub-signature-256': sign(payload, 'not-the-secret') }],
        ["another body's signature", { 'x-hub-signature-256': sign(`${payload} `) }],
        ['sha1 signature only', { 'x-hub-signature': sign(payload, webhookSecret, 'sha1') }],
        ['sha1 signature under the sha256 header', { 'x-hub-signature-256': sign(payload, webhookSecret, 'sha1') }],
        ['signature without the algorithm', { 'x-hub-signature-256': createHmac('sha256', webhookSecret).update(payload).digest('hex') }],
        ['signed with the intake token', { 'x-hub-signature-256': sign(payload, githubVigil.token) }],
        ['signed with an empty secret', { 'x-hub-signature-256': sign(payload, '') }],
        ['the intake token instead', { authorization: `Bearer ${githubVigil.token}` }],
        ['truncated signature', { 'x-hub-signature-256': sign(payload).slice(0, -1) }],
      ];
      for (const [name, headers] of attempts) {
        row.tried++;
        const answer = await send(githubVigil.url, {
          method: 'POST',
          path: '/v1/github/webhook',
          headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': randomUUID(), ...headers },
          body: payload,
        });
        if (answer.kind === 'answer' && [400, 401].includes(answer.status)) row.held++;
        else row.failures.push(`${name} got ${shown(answer)}`);
      }
      const progress = await queryProgress(githubVigil.client, workflowId);
      row.tried++;
      if (progress?.issueState === 'open' && !progress.suppressed) row.held++;
      else row.failures.push(`the investigation was told: ${JSON.stringify(progress)}`);
      // The control: GitHub's own signature is heard.
      const heard = await send(githubVigil.url, {
        method: 'POST',
        path: '/v1/github/webhook',
        headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': sign(payload) },
        body: payload,
      });
      expect(heard.kind === 'answer' && heard.status).toBe(204);
      await eventually(async () => ((await queryProgress(githubVigil.client, workflowId))?.issueState === 'closed' ? true : undefined), 60_000);
    } finally {
      record(row, 'refused with 400/401; the investigation told nothing; the signed delivery heard');
    }
  });
});
