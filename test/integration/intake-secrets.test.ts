// Credentials stay out of the archive and out of the logs, wherever a sender puts them: in a header
// whose name says nothing, in a query string, or in an error that carries the request's headers.
import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createArchive } from '../../activities/archive';
import type { Archive } from '../../activities/archive/types';
import { configSchema, type Config } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { startIntake } from '../../workers/intake';
import { claimNamespace } from '../helpers/vigil';

const token = 'intake-token-for-secrets-0123456789';
const vendorKey = 'vendor-key-for-secrets-0123456789';
const hmacSecret = 'hmac-secret-for-secrets-0123456789';
// Secrets intake itself does not check, configured all the same.
const trackerToken = 'tracker-token-for-secrets-0123456789';
const webhookSecret = 'webhook-secret-for-secrets-0123456789';
const appPrivateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const providerKey = 'provider-key-for-secrets-0123456789';
const secrets = [token, vendorKey, hmacSecret, trackerToken, webhookSecret, providerKey];
const alert = JSON.stringify({ id: 'secrets-test', title: 'secrets test', severity: 'low' });

let config: Config;
let connection: Connection;
let app: FastifyInstance;
let url: string;
let archive: Archive;
/** Every line intake logged, at debug level, as written. */
const logLines: string[] = [];
/** Set by a test that needs the archive to fail, with the error it fails with. */
let archiveFailure: Error | undefined;

// Intake alone, with its log captured: what it keeps is the question here, not the investigations
// (the workflows it starts have no worker).
beforeAll(async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-secrets-'));
  config = configSchema.parse({
    dataDir,
    temporal: { address: inject('temporalAddress'), namespace: await claimNamespace(), taskQueue: `test-${randomUUID()}` },
    intake: {
      port: 0,
      sources: {
        // Header names that say nothing about what they carry.
        guardduty: { auth: [{ kind: 'api-key', header: 'X-Vendor-Auth', key: vendorKey }] },
        securityhub: { auth: [{ kind: 'hmac', secret: hmacSecret, signatureHeader: 'x-sig', timestampHeader: 'x-sig-time' }] },
      },
    },
    tracker: {
      local: { token: trackerToken },
      github: { owner: 'o', repo: 'r', auth: { appId: 1, privateKey: appPrivateKey, installationId: 2 }, webhookSecret },
    },
    intel: { providers: { abuseipdb: { key: providerKey } } },
  });
  archive = createArchive(config);
  connection = await Connection.connect({ address: config.temporal.address });
  ({ app, url } = await startIntake({
    config,
    token,
    client: new Client({ connection, namespace: config.temporal.namespace }),
    logger: createLogger('intake-secrets-test', 'debug', { write: (line: string) => logLines.push(line) }),
    archive: {
      ...archive,
      put: (input) => (archiveFailure ? Promise.reject(archiveFailure) : archive.put(input)),
    },
  }));
});

afterAll(async () => {
  await app?.close();
  await connection?.close();
  // Lines written while the server closed count too.
  expect(leakedSecrets()).toEqual([]);
  await rm(config.dataDir, { recursive: true, force: true });
});

/** The secrets found in the lines logged since line `from`. */
const leakedSecrets = (from = 0) => secrets.filter((secret) => logLines.slice(from).some((line) => line.includes(secret)));

const post = (source: string, headers: Record<string, string>, query = '') =>
  fetch(`${url}/v1/alerts/${source}${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: alert }).then(
    async (response) => ({ status: response.status, body: (await response.json()) as { archiveId?: string; error?: string } }),
  );

async function archivedHeaders(response: { status: number; body: { archiveId?: string } }): Promise<Record<string, string>> {
  expect(response.status).toBe(202);
  return (await archive.read(response.body.archiveId!)).meta.headers;
}

describe('the archive keeps no credential', () => {
  it("drops the api-key method's header, whatever it is called", async () => {
    const headers = await archivedHeaders(await post('guardduty', { 'x-vendor-auth': vendorKey, 'x-request-id': 'kept-1' }));
    expect(headers).not.toHaveProperty('x-vendor-auth');
    expect(headers).toMatchObject({ 'x-request-id': 'kept-1' });
  });

  it("drops the hmac method's signature header and keeps its timestamp", async () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = `sha256=${createHmac('sha256', hmacSecret).update(`${timestamp}.${alert}`).digest('hex')}`;
    const headers = await archivedHeaders(await post('securityhub', { 'x-sig': signature, 'x-sig-time': timestamp }));
    expect(headers).not.toHaveProperty('x-sig');
    expect(headers).toMatchObject({ 'x-sig-time': timestamp });
  });

  it('drops a header holding any configured secret, under any name', async () => {
    const headers = await archivedHeaders(
      await post('generic', {
        authorization: `Bearer ${token}`,
        'x-forwarded-note': token,
        'x-relay': `via ${vendorKey}`,
        'x-request-id': 'kept-2',
      }),
    );
    expect(headers).not.toHaveProperty('x-forwarded-note');
    expect(headers).not.toHaveProperty('x-relay');
    expect(headers).not.toHaveProperty('authorization');
    expect(headers).toMatchObject({ 'x-request-id': 'kept-2' });
  });

  it("drops a header holding the tracker's, GitHub's or a provider's secret, under any name", async () => {
    const keyLine = appPrivateKey.split('\n')[3]!;
    // A body of its own: the archive keeps one record (and the first headers) per body.
    const response = await fetch(`${url}/v1/alerts/generic`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'x-forwarded-note': trackerToken,
        'x-relay': `via ${webhookSecret}`,
        'x-trace': providerKey,
        'x-blob': keyLine,
        'x-request-id': 'kept-3',
      },
      body: JSON.stringify({ id: 'secrets-test-3', title: 'secrets test 3', severity: 'low' }),
    });
    const headers = await archivedHeaders({ status: response.status, body: (await response.json()) as { archiveId?: string } });
    for (const name of ['x-forwarded-note', 'x-relay', 'x-trace', 'x-blob']) expect(headers, name).not.toHaveProperty(name);
    expect(headers).toMatchObject({ 'x-request-id': 'kept-3' });
  });
});

describe('the logs show no credential', () => {
  it('does not log a token sent in the query string, accepted or not', async () => {
    const from = logLines.length;
    expect((await post('generic', { authorization: `Bearer ${token}` }, `?token=${token}`)).status).toBe(202);
    // Intake takes no credential from the query string.
    expect((await post('generic', {}, `?token=${token}`)).status).toBe(401);
    expect((await post('guardduty', {}, `?key=${vendorKey}&${token}`)).status).toBe(401);
    const notFound = await fetch(`${url}/v1/alerts?token=${token}`);
    expect(notFound.status).toBe(404);
    expect(await notFound.text()).not.toContain(token);

    expect(leakedSecrets(from)).toEqual([]);
    // The request is still logged, its query string censored.
    const incoming = logLines.slice(from).map((line) => JSON.parse(line)).filter((line) => line.msg === 'incoming request');
    expect(incoming.map((line) => line.req.url)).toEqual(
      expect.arrayContaining(['/v1/alerts/generic?[redacted]', '/v1/alerts/guardduty?[redacted]', '/v1/alerts?[redacted]']),
    );
  });

  it("does not log an error's copy of the request headers", async () => {
    const from = logLines.length;
    // As an HTTP client's error carries the request it failed on.
    archiveFailure = Object.assign(new Error('the store refused the write'), {
      headers: { 'x-vendor-auth': vendorKey },
      request: { headers: { authorization: `Bearer ${token}` } },
      config: { headers: { 'x-signing-secret': hmacSecret } },
    });
    try {
      expect((await post('guardduty', { 'x-vendor-auth': vendorKey }, `?token=${token}`)).status).toBe(503);
    } finally {
      archiveFailure = undefined;
    }
    expect(logLines.slice(from).some((line) => line.includes('the store refused the write'))).toBe(true);
    expect(leakedSecrets(from)).toEqual([]);
  });
});
