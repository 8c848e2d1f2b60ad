// temporal.tls and temporal.apiKey: what the configuration accepts, what it refuses (naming the key
// and what completes it), and the connection options made of it.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../../lib/config';
import { problemsOf } from '../helpers/config-files';
import { describeProtection, temporalConnectionOptions } from '../../lib/temporal-connection';
import { awaitsDevServer, splitAddress } from '../../lib/temporal-connection-check';

const PEM = (label: string) => `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;

const temporal = (settings: Record<string, unknown>) => configSchema.parse({ temporal: settings }).temporal;

describe('temporal connection settings', () => {
  it('is plain by default, and TLS with the system CAs for `tls: true` or an API key', () => {
    expect(temporalConnectionOptions(temporal({}))).toEqual({ address: '127.0.0.1:7233' });
    expect(temporalConnectionOptions(temporal({ tls: true })).tls).toEqual({});
    const cloud = temporalConnectionOptions(temporal({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', apiKey: { env: 'KEY' } }), { KEY: 'a-temporal-cloud-api-key' });
    expect(cloud).toEqual({ address: 'ns.acct.tmprl.cloud:7233', tls: {}, apiKey: 'a-temporal-cloud-api-key', metadata: { 'temporal-namespace': 'ns.acct' } });
    expect(describeProtection(cloud)).toBe('TLS, system CAs, API key');
  });

  it("takes the temporal CLI's environment variables, files or PEM text", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-temporal-'));
    await writeFile(path.join(dir, 'ca.pem'), PEM('CERTIFICATE'));
    const config = loadConfig({
      cwd: dir,
      env: {
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.pem'),
        TEMPORAL_TLS_CLIENT_CERT_DATA: PEM('CERTIFICATE'),
        TEMPORAL_TLS_CLIENT_KEY_DATA: PEM('PRIVATE KEY'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
        TEMPORAL_API_KEY: 'a-temporal-cloud-api-key',
      },
    });
    const options = temporalConnectionOptions(config.temporal, {});
    expect(options.tls?.serverNameOverride).toBe('temporal.internal');
    expect(String(options.tls?.serverRootCACertificate)).toBe(PEM('CERTIFICATE'));
    expect(String(options.tls?.clientCertPair?.key)).toBe(PEM('PRIVATE KEY'));
    expect(options.apiKey).toBe('a-temporal-cloud-api-key');
    expect(describeProtection(options)).toBe('TLS, own CA, client certificate, API key, server name temporal.internal');
  });

  it('refuses half a client certificate, naming the settings and variables that complete it', () => {
    const certOnly = loadConfig({ env: { TEMPORAL_TLS_CLIENT_CERT_DATA: PEM('CERTIFICATE') } });
    expect(problemsOf(() => temporalConnectionOptions(certOnly.temporal, {}))).toEqual([
      'temporal.tls.certFile: a client certificate needs its private key: set temporal.tls.keyFile or key (TEMPORAL_TLS_CLIENT_KEY_PATH or TEMPORAL_TLS_CLIENT_KEY_DATA)',
    ]);
    expect(problemsOf(() => temporalConnectionOptions(temporal({ tls: { key: { env: 'KEY' } } }), { KEY: PEM('PRIVATE KEY') }))[0]).toMatch(
      /^temporal\.tls\.keyFile: a client key needs its certificate/,
    );
  });

  it('refuses a PEM given twice, and an API key without TLS', () => {
    const twice = configSchema.safeParse({ temporal: { tls: { caFile: 'ca.pem', ca: { env: 'CA' } } } });
    expect(twice.error?.issues[0]).toMatchObject({ path: ['temporal', 'tls', 'ca'], message: 'give caFile or ca, not both' });
    const plainKey = configSchema.safeParse({ temporal: { tls: false, apiKey: { env: 'KEY' } } });
    expect(plainKey.error?.issues[0]).toMatchObject({ path: ['temporal', 'tls'], message: expect.stringMatching(/^an API key is only sent over TLS/) });
  });

  it('names the key and the file it cannot read, and never quotes PEM text that is not PEM', () => {
    expect(problemsOf(() => temporalConnectionOptions(temporal({ tls: { caFile: '/nonexistent/ca.pem' } })))).toEqual([
      'temporal.tls.caFile: cannot read /nonexistent/ca.pem (no such file)',
    ]);
    const notPem = problemsOf(() => temporalConnectionOptions(temporal({ tls: { cert: PEM('CERTIFICATE'), key: { env: 'KEY' } } }), { KEY: 'secret-key-material-not-pem' }));
    expect(notPem).toEqual(['temporal.tls.key: not PEM text (no -----BEGIN line)']);
    expect(problemsOf(() => temporalConnectionOptions(temporal({ apiKey: { env: 'TEMPORAL_KEY' } }), {}))).toEqual([
      'temporal.apiKey: the environment variable TEMPORAL_KEY is not set',
    ]);
  });
});

describe("vigil doctor's Temporal check", () => {
  it('expects nothing listening only on a fresh checkout: no configuration file, the default address, no TLS', () => {
    expect(awaitsDevServer(temporal({}), undefined)).toBe(true);
    expect(awaitsDevServer(temporal({}), '/srv/vigil/vigil.yaml')).toBe(false);
    expect(awaitsDevServer(temporal({ address: '127.0.0.1:7234' }), undefined)).toBe(false);
    expect(awaitsDevServer(temporal({ tls: true }), undefined)).toBe(false);
  });

  it('splits host and port, an IPv6 host without its brackets', () => {
    expect(splitAddress('[::1]:7233')).toEqual({ host: '::1', port: 7233 });
    expect(splitAddress('temporal.example.com:7233')).toEqual({ host: 'temporal.example.com', port: 7233 });
  });
});
