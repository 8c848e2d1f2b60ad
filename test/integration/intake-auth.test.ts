// Every way a sender can prove who it is, good and bad, through real HTTP.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestVigil, type TestVigil } from '../helpers/vigil';

const alert = JSON.stringify({ id: 'auth-test', title: 'auth test', severity: 'low' });
const hmacSecret = 'hmac-secret-for-tests-0123456789';
const apiKey = 'api-key-for-tests-0123456789';
const audience = 'https://vigil.example/v1/alerts/generic';
const pushAccount = 'pubsub-push@project.iam.gserviceaccount.com';

let vigil: TestVigil;
let jwks: Server;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let signingKey: PrivateKey;
let otherKey: PrivateKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  // Google's key set, served from loopback.
  jwks = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [publicJwk] }));
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => jwks.once('listening', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/certs`;

  process.env.VIGIL_TEST_HMAC_SECRET = hmacSecret;
  vigil = await startTestVigil({
    intake: {
      sources: {
        generic: {
          auth: [
            { kind: 'api-key', header: 'x-api-key', key: apiKey },
            { kind: 'hmac', secret: { env: 'VIGIL_TEST_HMAC_SECRET' } },
            { kind: 'pubsub-oidc', audience, serviceAccountEmail: pushAccount, jwksUrl },
          ],
        },
      },
    },
  });
});
afterAll(async () => {
  await vigil.stop();
  jwks.close();
});

const post = (headers: Record<string, string>, body = alert) =>
  fetch(`${vigil.url}/v1/alerts/generic`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then(
    async (response) => ({ status: response.status, body: (await response.json()) as { error?: string } }),
  );

const sign = (timestamp: number, body = alert, secret = hmacSecret) =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

const oidcToken = (claims: Record<string, unknown>, key = signingKey, tokenAudience = audience) =>
  new SignJWT({ email: pushAccount, email_verified: true, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
    .setIssuer('https://accounts.google.com')
    .setAudience(tokenAudience)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);

describe('per-source credentials', () => {
  it('accepts the API key header, and refuses a wrong one', async () => {
    expect((await post({ 'x-api-key': apiKey })).status).toBe(202);
    expect(await post({ 'x-api-key': `${apiKey}x` })).toMatchObject({ status: 401, body: { error: expect.stringMatching(/x-api-key/) } });
  });

  it('no longer takes the intake token once the source names its own credentials', async () => {
    expect((await post({ authorization: `Bearer ${vigil.token}` })).status).toBe(401);
    // Other sources keep the default.
    expect((await vigil.post('auto', alert)).status).toBe(202);
  });

  it('accepts an HMAC signature within the window, refuses bad, stale and replayed-late ones', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await post({ 'x-vigil-timestamp': String(now), 'x-vigil-signature': sign(now) })).status).toBe(202);
    const badSignature = await post({ 'x-vigil-timestamp': String(now), 'x-vigil-signature': sign(now, alert, 'another-secret-0123456789') });
    expect(badSignature).toMatchObject({ status: 401, body: { error: expect.stringMatching(/bad signature/) } });
    const tampered = await post({ 'x-vigil-timestamp': String(now), 'x-vigil-signature': sign(now) }, alert.replace('low', 'high'));
    expect(tampered.status).toBe(401);
    const old = now - 301;
    const replayed = await post({ 'x-vigil-timestamp': String(old), 'x-vigil-signature': sign(old) });
    expect(replayed).toMatchObject({ status: 401, body: { error: expect.stringMatching(/outside the 300 s window/) } });
  });

  it('accepts a Pub/Sub OIDC token, refuses a wrong audience, account or key', async () => {
    expect((await post({ authorization: `Bearer ${await oidcToken({})}` })).status).toBe(202);
    const wrongAudience = await post({ authorization: `Bearer ${await oidcToken({}, signingKey, 'https://elsewhere.example')}` });
    expect(wrongAudience).toMatchObject({ status: 401, body: { error: expect.stringMatching(/invalid OIDC token.*aud/) } });
    const otherAccount = await post({ authorization: `Bearer ${await oidcToken({ email: 'intruder@evil.example' })}` });
    expect(otherAccount).toMatchObject({ status: 401, body: { error: expect.stringMatching(/another service account/) } });
    const unverified = await post({ authorization: `Bearer ${await oidcToken({ email_verified: false })}` });
    expect(unverified).toMatchObject({ status: 401, body: { error: expect.stringMatching(/another service account/) } });
    const noAccount = await post({ authorization: `Bearer ${await oidcToken({ email: undefined })}` });
    expect(noAccount).toMatchObject({ status: 401, body: { error: expect.stringMatching(/another service account/) } });
    const forged = await post({ authorization: `Bearer ${await oidcToken({}, otherKey)}` });
    expect(forged).toMatchObject({ status: 401, body: { error: expect.stringMatching(/signature verification failed/) } });
  });

  it('refuses an unknown source only after checking credentials', async () => {
    const anonymous = await fetch(`${vigil.url}/v1/alerts/nagios`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: alert });
    expect(anonymous.status).toBe(401);
    expect((await vigil.post('nagios', alert)).status).toBe(404);
  });
});
