// The one place that turns `temporal.*` settings into a connection: plain, TLS with a CA of the
// cluster's own, mutual TLS, or a Temporal Cloud API key. Clients, workers and `vigil doctor` all
// connect through here, so a setting that works for one works for all.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, resolveSecret, type Config } from './config';

export type TemporalSettings = Config['temporal'];

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/** A PEM from its file or as text; `key` names the setting in the error. */
function readPem(setting: { file?: string; text?: string | { env: string } }, key: string, env: NodeJS.ProcessEnv): Buffer | undefined {
  if (setting.file !== undefined) {
    const file = path.resolve(setting.file);
    let pem: Buffer;
    try {
      pem = readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (err as Error).message);
      throw new ConfigError('temporal', [`${key}File: cannot read ${file} (${why})`]);
    }
    if (!pem.includes('-----BEGIN')) throw new ConfigError('temporal', [`${key}File: ${file} is not a PEM file (no -----BEGIN line)`]);
    return pem;
  }
  if (setting.text === undefined) return undefined;
  const pem = typeof setting.text === 'string' ? setting.text : resolveSecret(setting.text, key, env);
  // Never quoted: the text may be a private key.
  if (!pem.includes('-----BEGIN')) throw new ConfigError('temporal', [`${key}: not PEM text (no -----BEGIN line)`]);
  return Buffer.from(pem);
}

/** What both kinds of connection take; files are read and environment variables resolved now. */
export function temporalConnectionOptions(temporal: TemporalSettings, env: NodeJS.ProcessEnv = process.env): TemporalConnectionOptions {
  const apiKey = temporal.apiKey === undefined ? undefined : resolveSecret(temporal.apiKey, 'temporal.apiKey', env);
  const settings = typeof temporal.tls === 'object' ? temporal.tls : temporal.tls || apiKey ? {} : undefined;
  const options: TemporalConnectionOptions = { address: temporal.address };
  if (settings) {
    const ca = readPem({ file: settings.caFile, text: settings.ca }, 'temporal.tls.ca', env);
    const crt = readPem({ file: settings.certFile, text: settings.cert }, 'temporal.tls.cert', env);
    const key = readPem({ file: settings.keyFile, text: settings.key }, 'temporal.tls.key', env);
    if (crt && !key) throw new ConfigError('temporal', ['temporal.tls.certFile: a client certificate needs its private key: set temporal.tls.keyFile or key (TEMPORAL_TLS_CLIENT_KEY_PATH or TEMPORAL_TLS_CLIENT_KEY_DATA)']);
    if (key && !crt) throw new ConfigError('temporal', ['temporal.tls.keyFile: a client key needs its certificate: set temporal.tls.certFile or cert (TEMPORAL_TLS_CLIENT_CERT_PATH or TEMPORAL_TLS_CLIENT_CERT_DATA)']);
    options.tls = {
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
      ...(settings.serverName ? { serverNameOverride: settings.serverName } : {}),
    };
  }
  if (apiKey) {
    options.apiKey = apiKey;
    // Temporal Cloud's regional endpoints route an API-key request by this header.
    options.metadata = { 'temporal-namespace': temporal.namespace };
  }
  return options;
}

/** How the connection is protected, for logs and `vigil doctor` (never the secrets themselves). */
export function describeProtection(options: TemporalConnectionOptions): string {
  if (!options.tls) return 'plain, no TLS';
  return ['TLS', options.tls.serverRootCACertificate ? 'own CA' : 'system CAs', options.tls.clientCertPair && 'client certificate', options.apiKey && 'API key', options.tls.serverNameOverride && `server name ${options.tls.serverNameOverride}`]
    .filter(Boolean)
    .join(', ');
}

/** A client connection, checked by a first call. */
export function connectTemporal(temporal: TemporalSettings, extra: { connectTimeout?: number } = {}): Promise<Connection> {
  return Connection.connect({ ...temporalConnectionOptions(temporal), ...extra });
}

/** A client connection that connects on first use (intake answers while Temporal is away). */
export function lazyTemporalConnection(temporal: TemporalSettings): Connection {
  return Connection.lazy(temporalConnectionOptions(temporal));
}

/** A worker's connection (the SDK's native one). */
export function connectTemporalWorker(temporal: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionOptions(temporal));
}
