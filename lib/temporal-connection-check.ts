// `vigil doctor`'s Temporal check: connects as Vigil will and, when that fails, says why in the
// operator's terms (untrusted certificate, wrong server name, refused client certificate or API key,
// unknown namespace, no permission, nothing there) with the setting that fixes it.
import http2 from 'node:http2';
import net, { isIP } from 'node:net';
import tls from 'node:tls';
import { status as grpcStatus } from '@grpc/grpc-js';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, configSchema } from './config';
import { describeProtection, temporalConnectionOptions, type TemporalConnectionOptions, type TemporalSettings } from './temporal-connection';

export type TemporalCheck =
  | { ok: true; summary: string; note?: string }
  | { ok: false; summary: string; problem: string; fix: string };

type Failure = { problem: string; fix: string };

const CONNECT_TIMEOUT_MS = 10_000;

const setting = {
  address: 'temporal.address (TEMPORAL_ADDRESS)',
  namespace: 'temporal.namespace (TEMPORAL_NAMESPACE)',
  caFile: 'temporal.tls.caFile (TEMPORAL_TLS_SERVER_CA_CERT_PATH)',
  caText: 'temporal.tls.ca (TEMPORAL_TLS_SERVER_CA_CERT_DATA)',
  serverName: 'temporal.tls.serverName (TEMPORAL_TLS_SERVER_NAME)',
  clientCert: 'temporal.tls.certFile and keyFile (TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH)',
  apiKey: 'temporal.apiKey (TEMPORAL_API_KEY)',
};

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
/** TLS alerts a server sends when it will not take the client's certificate (or its absence). */
const CLIENT_CERT_REFUSED = /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|ACCESS_DENIED|UNSUPPORTED_CERTIFICATE|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|HANDSHAKE_FAILURE)/;
const NOT_TLS = /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|RECORD_LAYER_FAILURE/;

/** `host:port`, the host of `[::1]:7233` without its brackets (a socket takes the bare address). */
export function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  return { host: /^\[.*\]$/.test(host) ? host.slice(1, -1) : host, port: Number(address.slice(at + 1)) };
}

/** Where `vigil dev` starts its server when nothing is configured: temporal.address's default. */
const DEV_SERVER_ADDRESS = configSchema.shape.temporal.parse({}).address;

/**
 * Whether nothing listening at the address is expected: a fresh checkout, with no configuration
 * file and the default address, where `vigil dev` has not started the dev server yet. Anywhere else
 * (compose's Temporal, a cluster) nothing listening is a Temporal that is down.
 */
export function awaitsDevServer(temporal: TemporalSettings, configFile: string | undefined): boolean {
  return configFile === undefined && temporal.address === DEV_SERVER_ADDRESS && !temporal.tls && !temporal.apiKey;
}

/**
 * One HTTP/2 session up to the server's first SETTINGS frame: the TLS handshake, client certificate
 * included, is then done. The socket is watched itself: with TLS 1.3 a refused client certificate
 * comes as an alert after the client's handshake, which the session does not pass on.
 */
function openSession(options: TemporalConnectionOptions): Promise<NodeJS.ErrnoException | undefined> {
  const { host, port } = splitAddress(options.address);
  return new Promise((resolve) => {
    let socket: net.Socket | undefined;
    let secured = false;
    // Destroying the socket ends the session on it too.
    const finish = (err?: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket?.destroy();
      resolve(err);
    };
    const timer = setTimeout(() => finish(Object.assign(new Error(`no answer in ${CONNECT_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
    try {
      const tlsOptions = options.tls;
      socket = tlsOptions
        ? tls.connect({
            host,
            port,
            ALPNProtocols: ['h2'],
            ...(tlsOptions.serverRootCACertificate ? { ca: Buffer.from(tlsOptions.serverRootCACertificate) } : {}),
            ...(tlsOptions.clientCertPair ? { cert: Buffer.from(tlsOptions.clientCertPair.crt), key: Buffer.from(tlsOptions.clientCertPair.key) } : {}),
            ...(tlsOptions.serverNameOverride ? { servername: tlsOptions.serverNameOverride } : isIP(host) ? {} : { servername: host }),
          }).once('secureConnect', () => (secured = true))
        : net.connect({ host, port });
    } catch (err) {
      finish(err as NodeJS.ErrnoException);
      return;
    }
    socket.once('error', (err) => finish(err));
    socket.once('close', () =>
      finish(Object.assign(new Error('the server closed the connection without answering'), { code: secured ? 'ECLOSED_AFTER_HANDSHAKE' : 'ECLOSED' })),
    );
    const connected = socket;
    const session = http2.connect(`${options.tls ? 'https' : 'http'}://${options.address}`, { createConnection: () => connected });
    session.once('remoteSettings', () => finish());
    session.on('error', (err) => finish(err));
  });
}

/** `caSetting`: the setting the CA came from, to name in a fix. */
function transportFailure(err: NodeJS.ErrnoException, options: TemporalConnectionOptions, caSetting: string): Failure {
  const code = err.code ?? '';
  if (UNREACHABLE.has(code)) {
    return { problem: `not reachable: nothing answers at ${options.address} (${err.message})`, fix: `check ${setting.address}, and that the cluster's frontend is up and reachable from this machine` };
  }
  if (!options.tls) {
    return {
      problem: `the server does not answer plain gRPC (${err.message}): it probably expects TLS`,
      fix: `set temporal.tls: true (or TEMPORAL_TLS_SERVER_CA_CERT_PATH to the cluster's CA), or temporal.apiKey for Temporal Cloud`,
    };
  }
  if (UNTRUSTED.has(code)) {
    return {
      problem: `the server's certificate is not trusted (${code})`,
      fix: options.tls.serverRootCACertificate
        ? `${caSetting} is not the CA that signed the server's certificate: give the cluster's CA`
        : `set ${setting.caFile} to the CA that signed the server's certificate`,
    };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return {
      problem: `wrong server name: ${(err as { reason?: string }).reason ?? err.message}`,
      fix: `set ${setting.serverName} to a name the server's certificate carries (or use that name in temporal.address)`,
    };
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return { problem: `the server's certificate is out of its validity period (${code})`, fix: "the cluster's operator renews it (or this machine's clock is wrong)" };
  }
  if (CLIENT_CERT_REFUSED.test(code)) {
    return options.tls.clientCertPair
      ? { problem: `the server refused the client certificate (${code})`, fix: `${setting.clientCert}: use a certificate signed by a CA the cluster trusts (Temporal Cloud: the CA certificates of the namespace)` }
      : { problem: `the server asks for a client certificate and none is set (${code})`, fix: `set ${setting.clientCert}` };
  }
  if (code === 'ECLOSED_AFTER_HANDSHAKE') {
    // What a server that checks the client certificate after the handshake does with one it refuses.
    return options.tls.clientCertPair
      ? { problem: 'the server closed the connection right after the TLS handshake: it most likely refused the client certificate', fix: `${setting.clientCert}: use a certificate signed by a CA the cluster trusts` }
      : { problem: 'the server closed the connection right after the TLS handshake: it most likely asks for a client certificate', fix: `set ${setting.clientCert}` };
  }
  if (/KEY_VALUES_MISMATCH/.test(code)) {
    return { problem: 'the client certificate and key do not belong together', fix: `${setting.clientCert}: the key must be the certificate's own` };
  }
  if (NOT_TLS.test(code)) {
    return { problem: `the server does not speak TLS (${code})`, fix: `remove temporal.tls and temporal.apiKey, or check ${setting.address}` };
  }
  return { problem: `the TLS connection failed: ${err.message}`, fix: `check temporal.tls and ${setting.address}` };
}

function grpcFailure(err: unknown, options: TemporalConnectionOptions, namespace: string): Failure {
  const cause = isGrpcServiceError(err) ? err : isGrpcServiceError((err as Error)?.cause) ? (err as Error).cause : undefined;
  if (!isGrpcServiceError(cause)) return { problem: `cannot talk to Temporal: ${(err as Error).message}`, fix: `check ${setting.address} and temporal.tls` };
  const said = cause.details || cause.message;
  switch (cause.code) {
    case grpcStatus.UNAUTHENTICATED:
      return options.apiKey
        ? { problem: `the API key was refused (UNAUTHENTICATED: ${said})`, fix: `${setting.apiKey}: a current key of a user or service account with access to ${namespace}` }
        : { problem: `the server asks for credentials (UNAUTHENTICATED: ${said})`, fix: `set ${setting.apiKey}, or a client certificate: ${setting.clientCert}` };
    case grpcStatus.PERMISSION_DENIED:
      return { problem: `permission denied in namespace ${namespace} (${said})`, fix: `give this identity (its certificate or API key) access to ${namespace}, or check ${setting.namespace}` };
    case grpcStatus.NOT_FOUND:
      return { problem: `namespace ${namespace} not found`, fix: `${setting.namespace}: a namespace that exists (Temporal Cloud: <name>.<account id>), or create it` };
    case grpcStatus.UNAVAILABLE:
    case grpcStatus.DEADLINE_EXCEEDED:
      return { problem: `not reachable over gRPC (${said})`, fix: `check ${setting.address} and temporal.tls` };
    default:
      return { problem: `Temporal answered ${grpcStatus[cause.code] ?? cause.code}: ${said}`, fix: `check the temporal settings` };
  }
}

/** The client's way (a call that needs the namespace), then the worker's (the SDK's native connection). */
async function talk(options: TemporalConnectionOptions, namespace: string): Promise<Failure | undefined> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ ...options, connectTimeout: CONNECT_TIMEOUT_MS });
    await connection.withDeadline(Date.now() + CONNECT_TIMEOUT_MS, () => connection!.workflowService.describeNamespace({ namespace }));
  } catch (err) {
    return grpcFailure(err, options, namespace);
  } finally {
    await connection?.close();
  }
  try {
    await (await NativeConnection.connect(options)).close();
  } catch (err) {
    return { problem: `the client connects but a worker cannot: ${(err as Error).message}`, fix: 'check temporal.tls (a worker verifies certificates more strictly: the server certificate needs a subject alternative name, and a CA certificate cannot be the server certificate)' };
  }
  return undefined;
}

export interface CheckOptions {
  env?: NodeJS.ProcessEnv;
  /** Nothing listening is then fine, with a note (`awaitsDevServer`). */
  awaitsDevServer?: boolean;
}

export async function checkTemporalConnection(temporal: TemporalSettings, { env = process.env, awaitsDevServer = false }: CheckOptions = {}): Promise<TemporalCheck> {
  const target = `${temporal.address} namespace ${temporal.namespace}`;
  let options: TemporalConnectionOptions;
  try {
    options = temporalConnectionOptions(temporal, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { ok: false, summary: target, problem: err.problems.join('; '), fix: 'correct the setting named (or the environment variable it comes from)' };
  }
  const summary = `${target} (${describeProtection(options)})`;
  const transportError = await openSession(options);
  if (transportError?.code === 'ECONNREFUSED' && awaitsDevServer) {
    // A fresh checkout: nothing runs yet, and `vigil dev` will start the dev server right there.
    return { ok: true, summary, note: 'nothing listens there yet; `npx vigil dev` starts a local dev server' };
  }
  const caSetting = typeof temporal.tls === 'object' && temporal.tls.ca !== undefined ? setting.caText : setting.caFile;
  const failure = transportError ? transportFailure(transportError, options, caSetting) : await talk(options, temporal.namespace);
  return failure ? { ok: false, summary, ...failure } : { ok: true, summary };
}
