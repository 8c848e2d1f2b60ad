// Vigil against a TLS-protected Temporal: the run's dev server behind a TLS terminator on loopback,
// once asking for a client certificate (a self-hosted cluster with mutual TLS) and once for an API
// key (Temporal Cloud). A client and an investigation-capable worker connect and run a real
// workflow; each way of getting it wrong (certificate, server name, client certificate, API key,
// namespace, permission, address) fails and `vigil doctor`'s check names the cause.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { configSchema, loadConfig, type Config } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { vigilSearchAttributeKeys } from '../../lib/search-attributes';
import { checkTemporalConnection } from '../../lib/temporal-connection-check';
import { connectTemporal, connectTemporalWorker } from '../../lib/temporal-connection';
import { prepareTemporal } from '../../lib/temporal-setup';
import { runDoctor } from '../../scripts/doctor';
import { createMainWorker } from '../../workers/main-worker';
import { issueCertificate, makeCertificateAuthority } from '../helpers/tls-certificates';
import { startTlsTerminator, type TlsTerminator } from '../helpers/tls-terminator';
import { claimNamespace, loopbackOnlyProbes } from '../helpers/vigil';

const SERVER_NAME = 'temporal.vigil.test';
const API_KEY = 'test-api-key-0123456789abcdef';

let dir: string;
let files: { ca: string; otherCa: string; cert: string; key: string; strangerCert: string; strangerKey: string };
let clientPem: { cert: string; key: string };
let mtls: TlsTerminator;
let cloud: TlsTerminator;
let readOnly: TlsTerminator;
let namespace: string;

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Installed already in this process.
  }
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-temporal-tls-'));
  const ca = makeCertificateAuthority('vigil-test-ca');
  const clientCa = makeCertificateAuthority('vigil-test-client-ca');
  const server = issueCertificate(ca, { commonName: SERVER_NAME, subjectAltName: `DNS:${SERVER_NAME}`, usage: 'server' });
  clientPem = issueCertificate(clientCa, { commonName: 'vigil-worker', subjectAltName: 'DNS:vigil-worker', usage: 'client' });
  // Signed by a CA the cluster does not trust.
  const stranger = issueCertificate(makeCertificateAuthority('someone-else-ca'), { commonName: 'stranger', subjectAltName: 'DNS:stranger', usage: 'client' });
  files = {
    ca: path.join(dir, 'ca.pem'),
    otherCa: path.join(dir, 'other-ca.pem'),
    cert: path.join(dir, 'client.pem'),
    key: path.join(dir, 'client-key.pem'),
    strangerCert: path.join(dir, 'stranger.pem'),
    strangerKey: path.join(dir, 'stranger-key.pem'),
  };
  await Promise.all([
    writeFile(files.ca, ca.cert),
    writeFile(files.otherCa, makeCertificateAuthority('vigil-other-ca').cert),
    writeFile(files.cert, clientPem.cert),
    writeFile(files.key, clientPem.key),
    writeFile(files.strangerCert, stranger.cert),
    writeFile(files.strangerKey, stranger.key),
  ]);
  const upstream = inject('temporalAddress');
  mtls = await startTlsTerminator({ upstream, server, clientCa: clientCa.cert });
  cloud = await startTlsTerminator({ upstream, server, apiKey: API_KEY });
  readOnly = await startTlsTerminator({ upstream, server, apiKey: API_KEY, deniedMethods: ['DescribeNamespace'] });
  namespace = await claimNamespace();
});

afterAll(async () => {
  await Promise.all([mtls?.close(), cloud?.close(), readOnly?.close()]);
  await rm(dir, { recursive: true, force: true });
});

/** Temporal settings as a configuration file would give them. */
const temporal = (settings: Record<string, unknown>): Config['temporal'] =>
  configSchema.parse({ temporal: { namespace, ...settings } }).temporal;

const mutualTls = () => ({ caFile: files.ca, certFile: files.cert, keyFile: files.key, serverName: SERVER_NAME });

describe('a TLS-protected cluster (mutual TLS)', () => {
  it('takes a client and an investigation-capable worker, which run a real workflow', async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const config = configSchema.parse({
      dataDir,
      temporal: { address: mtls.address, namespace, taskQueue: `tls-${randomUUID()}`, tls: mutualTls() },
      probe: loopbackOnlyProbes,
      screenshots: { enabled: false },
    });
    const connection = await connectTemporal(config.temporal);
    const workerConnection = await connectTemporalWorker(config.temporal);
    try {
      // Namespace and search attributes checked (and registered) over TLS.
      await prepareTemporal(connection, namespace);
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(vigilSearchAttributeKeys.map(({ name }) => name)));

      const client = new Client({ connection, namespace });
      const worker = await createMainWorker({ config, connection: workerConnection, client, logger: createLogger('tls-worker', 'silent'), workflowBundle: { code: inject('workflowBundleCode') } });
      const summary = await worker.runUntil(
        client.workflow.execute('sweepArchive', { taskQueue: config.temporal.taskQueue, workflowId: `sweep-${randomUUID()}`, args: [{ lookbackDays: 1 }] }),
      );
      expect(summary).toMatchObject({ examined: 0, dispatched: 0 });
    } finally {
      await workerConnection.close();
      await connection.close();
    }
  });

  it("takes the client certificate and key as PEM text from the temporal CLI's environment variables", async () => {
    const config = loadConfig({
      cwd: dir,
      env: {
        TEMPORAL_ADDRESS: mtls.address,
        TEMPORAL_NAMESPACE: namespace,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: files.ca,
        TEMPORAL_TLS_CLIENT_CERT_DATA: clientPem.cert,
        TEMPORAL_TLS_CLIENT_KEY_DATA: clientPem.key,
        TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
      },
    });
    const check = await checkTemporalConnection(config.temporal);
    expect(check).toMatchObject({ ok: true, summary: expect.stringContaining('TLS, own CA, client certificate') });
    expect(JSON.stringify(check)).not.toContain('PRIVATE KEY');
  });

  it.each([
    ['the CA is not the one that signed the server certificate', () => ({ ...mutualTls(), caFile: files.otherCa }), /not trusted/, /temporal\.tls\.caFile/],
    ['the server name is not the certificate’s', () => ({ ...mutualTls(), serverName: 'elsewhere.vigil.test' }), /wrong server name/, /temporal\.tls\.serverName \(TEMPORAL_TLS_SERVER_NAME\)/],
    ['no client certificate is given', () => ({ caFile: files.ca, serverName: SERVER_NAME }), /asks for a client certificate and none is set/, /temporal\.tls\.certFile/],
    [
      'the CA given as PEM text is not the one that signed the server certificate',
      async () => ({ ca: await readFile(files.otherCa, 'utf8'), certFile: files.cert, keyFile: files.key, serverName: SERVER_NAME }),
      /not trusted/,
      /temporal\.tls\.ca \(TEMPORAL_TLS_SERVER_CA_CERT_DATA\)/,
    ],
    ['the client certificate is from a CA the cluster does not trust', () => ({ ...mutualTls(), certFile: files.strangerCert, keyFile: files.strangerKey }), /refused the client certificate/, /temporal\.tls\.certFile/],
  ])('fails, saying so, when %s', async (_case, tls, problem, fix) => {
    const settings = temporal({ address: mtls.address, tls: await tls() });
    await expect(connectTemporal(settings, { connectTimeout: 1000 })).rejects.toThrow();
    const check = await checkTemporalConnection(settings);
    expect(check).toMatchObject({ ok: false, problem: expect.stringMatching(problem), fix: expect.stringMatching(fix) });
  });

  it('names a namespace the cluster does not have', async () => {
    const check = await checkTemporalConnection(temporal({ address: mtls.address, namespace: 'vigil-no-such-namespace', tls: mutualTls() }));
    expect(check).toMatchObject({ ok: false, problem: 'namespace vigil-no-such-namespace not found', fix: expect.stringMatching(/TEMPORAL_NAMESPACE/) });
  });

  it('says the server expects TLS when connecting in plain', async () => {
    const check = await checkTemporalConnection(temporal({ address: mtls.address }));
    expect(check).toMatchObject({ ok: false, problem: expect.stringMatching(/expects TLS/), fix: expect.stringMatching(/temporal\.tls/) });
  });

  it('says when nothing answers at the address', async () => {
    const check = await checkTemporalConnection(temporal({ address: `127.0.0.1:${await getPort()}`, tls: mutualTls() }));
    expect(check).toMatchObject({ ok: false, problem: expect.stringMatching(/^not reachable/), fix: expect.stringMatching(/TEMPORAL_ADDRESS/) });
  });
});

describe('vigil doctor', () => {
  it('passes a fresh checkout, where nothing runs yet at the default local address, with a note', async () => {
    const check = await checkTemporalConnection(temporal({ address: `127.0.0.1:${await getPort()}` }), { awaitsDevServer: true });
    expect(check).toMatchObject({ ok: true, note: expect.stringMatching(/vigil dev/) });
  });

  it('fails when nothing listens at a configured local address (a local Temporal that is down)', async () => {
    const check = await checkTemporalConnection(temporal({ address: `127.0.0.1:${await getPort()}` }));
    expect(check).toMatchObject({ ok: false, problem: expect.stringMatching(/^not reachable/), fix: expect.stringMatching(/TEMPORAL_ADDRESS/) });
  });

  it('reaches a Temporal at a bracketed IPv6 address', async () => {
    // The suite's server, forwarded from ::1.
    const [upstreamHost, upstreamPort] = inject('temporalAddress').split(':');
    const forwarder = net.createServer((socket) => {
      const upstream = net.connect({ host: upstreamHost, port: Number(upstreamPort) });
      socket.pipe(upstream).pipe(socket);
      const end = () => (socket.destroy(), upstream.destroy());
      socket.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => forwarder.listen(0, '::1', resolve));
    try {
      // The configuration's pattern takes no brackets yet; the check must not be the reason.
      const settings = { ...temporal({}), address: `[::1]:${(forwarder.address() as net.AddressInfo).port}` };
      expect(await checkTemporalConnection(settings)).toMatchObject({ ok: true });
    } finally {
      await new Promise((resolve) => forwarder.close(resolve));
    }
  });

  it('fails on a Temporal it cannot trust, saying which setting to fix', async () => {
    const file = path.join(dir, 'doctor.yaml');
    await writeFile(file, JSON.stringify({ dataDir: path.join(dir, 'doctor-data'), temporal: { address: mtls.address, namespace, tls: { ...mutualTls(), caFile: files.otherCa } } }));
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    try {
      expect(await runDoctor(file)).toBe(false);
    } finally {
      log.mockRestore();
    }
    const temporalLine = lines.find((line) => line.startsWith('failed   temporal'));
    expect(temporalLine).toMatch(/the server's certificate is not trusted/);
    expect(temporalLine).toMatch(/fix: temporal\.tls\.caFile \(TEMPORAL_TLS_SERVER_CA_CERT_PATH\) is not the CA/);
  });
});

describe('Temporal Cloud (an API key)', () => {
  it('takes a client and a worker with the key, from the environment', async () => {
    const settings = temporal({ address: cloud.address, apiKey: { env: 'VIGIL_TEST_TEMPORAL_KEY' }, tls: { caFile: files.ca, serverName: SERVER_NAME } });
    process.env.VIGIL_TEST_TEMPORAL_KEY = API_KEY;
    try {
      const connection = await connectTemporal(settings);
      try {
        const { namespaceInfo } = await connection.workflowService.describeNamespace({ namespace });
        expect(namespaceInfo?.name).toBe(namespace);
      } finally {
        await connection.close();
      }
      await (await connectTemporalWorker(settings)).close();
      expect(await checkTemporalConnection(settings)).toMatchObject({ ok: true, summary: expect.stringContaining('API key') });
    } finally {
      delete process.env.VIGIL_TEST_TEMPORAL_KEY;
    }
  });

  it('says the API key was refused, without showing it', async () => {
    const wrongKey = 'not-the-key-0123456789abcdef';
    const check = await checkTemporalConnection(temporal({ address: cloud.address, apiKey: wrongKey, tls: { caFile: files.ca, serverName: SERVER_NAME } }));
    expect(check).toMatchObject({ ok: false, problem: expect.stringMatching(/^the API key was refused/), fix: expect.stringMatching(/temporal\.apiKey \(TEMPORAL_API_KEY\)/) });
    expect(JSON.stringify(check)).not.toContain(wrongKey);
  });

  it('says when the key may not use the namespace', async () => {
    const check = await checkTemporalConnection(temporal({ address: readOnly.address, apiKey: API_KEY, tls: { caFile: files.ca, serverName: SERVER_NAME } }));
    expect(check).toMatchObject({ ok: false, problem: expect.stringMatching(new RegExp(`^permission denied in namespace ${namespace}`)), fix: expect.stringMatching(/access to/) });
  });
});
