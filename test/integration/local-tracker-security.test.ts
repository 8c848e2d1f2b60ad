// The local tracker's page and API against a real intake (issue 13): reading and acting need the
// tracker token (as a bearer, or a login session whose forms carry its CSRF token), Origin and
// Referer grant nothing, foreign Host names are refused, and the page cannot be framed. Guessing the
// token is refused (429) after a few wrong ones; two Vigils on one host keep their sessions apart; and
// behind a TLS proxy intake.trustProxy makes the session cookie Secure.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { configSchema } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import type { LocalIssue } from '../../lib/local-issues';
import { startIntake } from '../../workers/intake';
import { logIn, postLogin, pressAsPage, pressButton } from '../helpers/tracker-page';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

// Configured apart from the intake token, so that the intake token is one of the wrong ones.
const trackerToken = 'tracker-token-apart-0123456789';
const workflowId = 'alert/generic/tracker-security-1';

let vigil: TestVigil;
let issue: LocalIssue;
let evidenceUrl: string;
beforeAll(async () => {
  vigil = await startTestVigil({ tracker: { local: { token: trackerToken, allowedHosts: ['vigil.test', 'proxy.test:9443'] } } });
  await vigil.post('generic', { id: 'tracker-security-1', title: 'Tracker security test', severity: 'low' });
  issue = await eventually(async () => (await vigil.tracker.listIssues()).find((candidate) => candidate.comments.length > 0));
  const png = Buffer.from('89504e470d0a1a0a', 'hex');
  evidenceUrl = (await vigil.tracker.attachEvidence(issue.number, { name: 'shot.png', contentType: 'image/png', data: png })).url;
});
afterAll(() => vigil?.stop());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${vigil.url}${path}`, { headers, redirect: 'manual' });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const stateOf = async () => (await vigil.tracker.readIssue(issue.number))!.state;

/** fetch() always sends the real Host; node:http sends the one given, as a rebound browser would. */
function withHost(host: string, method: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  const { hostname, port } = new URL(vigil.url);
  return new Promise((resolve, reject) => {
    http
      .request({ hostname, port, method, path, headers: { ...headers, host } }, (response) => {
        response.resume();
        resolve(response.statusCode!);
      })
      .on('error', reject)
      .end();
  });
}

describe('the local tracker', () => {
  it('needs a credential to read: the page sends to the login, the API and evidence answer 401', async () => {
    const page = await get('/issues');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login');
    for (const path of ['/v1/issues', `/v1/issues/${issue.number}`, evidenceUrl]) {
      const refused = await get(path);
      expect(refused.status, path).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer');
      expect((await get(path, bearer(vigil.token))).status, `${path} with the intake token`).toBe(401);
      expect((await get(path, bearer(trackerToken))).status, `${path} with the tracker token`).toBe(200);
    }
    expect((await get(evidenceUrl, bearer(trackerToken))).headers.get('content-type')).toBe('image/png');
  });

  it("takes the API's actions with the tracker token only", async () => {
    const label = (token: string) =>
      fetch(`${vigil.url}/v1/issues/${issue.number}/labels`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(token) },
        body: JSON.stringify({ add: ['triaged'] }),
      });
    expect((await label(vigil.token)).status).toBe(401);
    expect(await (await label(trackerToken)).json()).toMatchObject({ labels: expect.arrayContaining(['triaged']) });
  });

  it('grants nothing for a forged Origin or Referer, and answers Origin: null with a clean 403', async () => {
    const forged = await pressButton(vigil.url, issue.number, 'close', {}, { origin: vigil.url, referer: `${vigil.url}/issues` });
    expect(forged.status).toBe(403);
    for (const origin of ['null', 'not a url at all']) {
      const refused = await pressButton(vigil.url, issue.number, 'close', {}, { origin });
      expect(refused.status, origin).toBe(403);
      expect(await refused.json()).toEqual({ error: expect.stringContaining('CSRF') });
    }
    expect(await stateOf()).toBe('open');
  });

  it('refuses a wrong token at the login, and gives for the right one a strict, HttpOnly session cookie', async () => {
    const form = await get('/login');
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('<input type="password" name="token"');
    for (const wrong of [vigil.token, '', trackerToken.slice(0, -1)]) {
      const refused = await postLogin(vigil.url, wrong);
      expect(refused.status).toBe(401);
      expect(refused.headers.getSetCookie()).toEqual([]);
      expect(await refused.text()).toContain('Wrong token.');
    }
    const { setCookie, cookie } = await logIn(vigil.url, trackerToken);
    const attributes = setCookie.split(';').slice(1).map((attribute) => attribute.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/', 'max-age=43200']));
    expect(attributes).not.toContain('secure'); // plain http here; over https the cookie is Secure
    expect((await get('/issues', { cookie })).status).toBe(200);

    // The cookie is signed: its expiry cannot be moved, nor a session made up.
    const name = `vigil_session_${new URL(vigil.url).port}`;
    expect(cookie.startsWith(`${name}=`)).toBe(true);
    const [id] = cookie.slice(`${name}=`.length).split('.');
    for (const madeUp of [`${name}=${id}.99999999999999.c2lnbmF0dXJl`, cookie.slice(0, -2)]) {
      expect((await get('/issues', { cookie: madeUp })).headers.get('location')).toBe('/login');
    }
  });

  it("refuses a logged-in session's post without its own CSRF token", async () => {
    const session = await logIn(vigil.url, trackerToken);
    const other = await logIn(vigil.url, trackerToken);
    const cookie = { cookie: session.cookie, origin: vigil.url };
    const attempts: Record<string, string>[] = [{}, { csrf: 'wrong' }, { csrf: other.csrf }];
    for (const fields of attempts) {
      expect((await pressButton(vigil.url, issue.number, 'close', fields, cookie)).status, JSON.stringify(fields)).toBe(403);
    }
    expect(await stateOf()).toBe('open');
  });

  it('closes the issue from a logged-in page post, and the investigation hears of it', async () => {
    const session = await logIn(vigil.url, trackerToken);
    // Browsers send Origin: null on a form post from a page with Referrer-Policy: no-referrer.
    const pressed = await pressButton(vigil.url, issue.number, 'close', { csrf: session.csrf }, { cookie: session.cookie, origin: 'null' });
    expect(pressed.status).toBe(303);
    expect(await stateOf()).toBe('closed');
    await eventually(async () => ((await queryProgress(vigil.client, workflowId))?.issueState === 'closed' ? true : undefined));
  });

  it('ends the session at logout, for a copy of its cookie too', async () => {
    const session = await logIn(vigil.url, trackerToken);
    const logout = (fields: Record<string, string>) =>
      fetch(`${vigil.url}/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookie },
        body: new URLSearchParams(fields).toString(),
      });
    expect((await logout({})).status).toBe(403);
    const out = await logout({ csrf: session.csrf });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login');
    expect(out.headers.getSetCookie()[0]).toMatch(new RegExp(`^vigil_session_${new URL(vigil.url).port}=;.*Max-Age=0`, 'i'));
    expect((await get('/issues', { cookie: session.cookie })).headers.get('location')).toBe('/login');
    expect((await pressAsPage(vigil.url, session, issue.number, 'reopen')).status).toBe(403);
    expect(await stateOf()).toBe('closed');
  });

  it('answers only to its own host names, so a rebound DNS name gets nowhere', async () => {
    const { port } = new URL(vigil.url);
    const hosts = {
      [`rebound.attacker.example:${port}`]: 421,
      [`localhost:${Number(port) + 1}`]: 421,
      'proxy.test:9444': 421,
      [`localhost:${port}`]: 200,
      [`127.0.0.1:${port}`]: 200,
      'vigil.test': 200,
      [`vigil.test:${port}`]: 200,
      'proxy.test:9443': 200,
    };
    for (const [host, status] of Object.entries(hosts)) {
      expect(await withHost(host, 'GET', '/v1/issues', bearer(trackerToken)), host).toBe(status);
    }
    expect(await withHost(`rebound.attacker.example:${port}`, 'GET', '/login')).toBe(421);
    // Alert senders are not the tracker's business: their Host is whatever their proxy sends.
    expect(await withHost('alerts.example.com', 'GET', '/healthz')).toBe(200);
  });

  it('keeps the page and the API out of frames and their referrers private', async () => {
    const { cookie } = await logIn(vigil.url, trackerToken);
    const page = await get('/issues', { cookie });
    const style = /<style>([\s\S]*?)<\/style>/.exec(await page.text())![1]!;
    for (const [what, response] of [
      ['the page', page],
      ['the login', await get('/login')],
      ['the API', await get('/v1/issues', bearer(trackerToken))],
      ['a refusal', await get('/v1/issues')],
    ] as const) {
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp, what).toContain("frame-ancestors 'none'");
      expect(csp, what).toContain("default-src 'none'");
      expect(response.headers.get('x-frame-options'), what).toBe('DENY');
      expect(response.headers.get('referrer-policy'), what).toBe('no-referrer');
      expect(response.headers.get('x-content-type-options'), what).toBe('nosniff');
    }
    // The page's one inline style is the one the policy allows.
    expect(page.headers.get('content-security-policy')).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect((await get(evidenceUrl, bearer(trackerToken))).headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  });
});

describe('the local tracker of intakes of their own', () => {
  const started: { app: FastifyInstance; connection: Connection; dataDir: string }[] = [];
  afterEach(async () => {
    for (const { app, connection, dataDir } of started.splice(0)) {
      await app.close();
      await connection.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  /** Intake alone, with the local tracker's page: logging in needs no Temporal. */
  async function startTracker(token: string, intake: Record<string, unknown> = {}): Promise<string> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-tracker-access-'));
    const config = configSchema.parse({ dataDir, intake: { port: 0, ...intake }, tracker: { local: { token } } });
    const connection = Connection.lazy({ address: inject('temporalAddress') });
    const { app, url } = await startIntake({
      config,
      token: `intake-${token}`,
      client: new Client({ connection }),
      logger: createLogger('tracker-access-test', 'silent'),
    });
    started.push({ app, connection, dataDir });
    return url;
  }

  const login = (url: string, token: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ token }).toString(),
    });

  it('keeps the sessions of two Vigils on one host apart, as a browser keeps cookies whatever the port', async () => {
    const tokens = ['tracker-token-first-0123456789', 'tracker-token-second-0123456789'];
    const urls = await Promise.all(tokens.map((token) => startTracker(token)));
    // A browser's cookies for 127.0.0.1, by name: a second one of the same name replaces the first.
    const jar = new Map<string, string>();
    for (const [n, url] of urls.entries()) {
      const [setCookie] = (await login(url, tokens[n]!)).headers.getSetCookie();
      const [name, value] = setCookie!.split(';')[0]!.split(/=(.*)/s);
      jar.set(name!, value!);
    }
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    for (const url of urls) {
      expect((await fetch(`${url}/issues`, { headers: { cookie }, redirect: 'manual' })).status, url).toBe(200);
    }
  });

  it('refuses an address that guessed wrong too often, the right token too, and no other address', async () => {
    const token = 'tracker-token-guessed-0123456789';
    // Behind a proxy it trusts, each client is its own address.
    const url = await startTracker(token, { trustProxy: ['127.0.0.1'] });
    const from = (address: string) => ({ 'x-forwarded-for': address });
    const guesser = from('203.0.113.7');
    for (let n = 0; n < 10; n++) expect((await login(url, `wrong-guess-${n}-0123456789`, guesser)).status).toBe(401);

    const refused = await login(url, 'wrong-guess-10-0123456789', guesser);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toEqual({ error: expect.stringContaining('too many wrong tokens') });
    // A right guess now would tell right from wrong: refused too, and so is the API's bearer.
    expect((await login(url, token, guesser)).status).toBe(429);
    const api = (headers: Record<string, string>) => fetch(`${url}/v1/issues`, { headers: { authorization: `Bearer ${token}`, ...headers } });
    expect((await api(guesser)).status).toBe(429);

    // Another client is not held to the guesser's count.
    expect((await login(url, token, from('203.0.113.8'))).status).toBe(303);
    expect((await api(from('203.0.113.8'))).status).toBe(200);
  });

  it('counts wrong bearer tokens of the API as guesses too', async () => {
    const token = 'tracker-token-bearer-0123456789';
    const url = await startTracker(token);
    const api = (bearer: string) => fetch(`${url}/v1/issues`, { headers: { authorization: `Bearer ${bearer}` } });
    for (let n = 0; n < 10; n++) expect((await api(`wrong-bearer-${n}-0123456789`)).status).toBe(401);
    expect((await api('wrong-bearer-10-0123456789')).status).toBe(429);
    expect((await api(token)).status).toBe(429);
  });

  it('makes the session cookie Secure behind a TLS proxy it trusts, and only then', async () => {
    const token = 'tracker-token-proxied-0123456789';
    const viaTls = { 'x-forwarded-proto': 'https' };
    const attributes = async (url: string) => {
      const [setCookie] = (await login(url, token, viaTls)).headers.getSetCookie();
      return setCookie!.split(';').slice(1).map((attribute) => attribute.trim().toLowerCase());
    };
    expect(await attributes(await startTracker(token, { trustProxy: true }))).toContain('secure');
    // Without it, anyone can say https: the header is not believed.
    expect(await attributes(await startTracker(token))).not.toContain('secure');
  });
});
