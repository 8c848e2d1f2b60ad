// The request headers kept with an archived body. Whoever can read the archive must not find a
// credential in it, and what a credential is called is configuration (an API key may travel in
// `x-vendor-auth`), so each source drops the headers its own methods read. Names that usually carry
// a credential are dropped too, for the ones a sender adds that no method reads; and a header whose
// value holds any configured secret (intake's, the tracker's, GitHub's, a provider's, Temporal's, the
// mirror's) is dropped whatever its name, should a sender put one elsewhere.
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthMethod, Config, SecretSetting } from '../lib/config';
import { credentialOf } from './auth';

/** Credentials whatever the source's methods, and hop-by-hop noise. */
const alwaysDropped = ['authorization', 'proxy-authorization', 'cookie', 'connection', 'host'];
const credentialLikeName = /token|secret|signature|key|auth|passw|credential|session|cookie/i;

export type ArchivableHeaders = (source: string, headers: IncomingHttpHeaders) => Record<string, string>;

/**
 * The secrets configured besides intake's own (the token and the sources' methods, which
 * `archivableHeaders` reads itself): the tracker token, GitHub's token, App private key and webhook
 * secret, the intel providers' keys, Temporal's API key and client key, and the staging intake's
 * token (archived headers are forwarded there by the mirror). A private key also by each line of its
 * base64, since a header cannot hold it whole. A variable that is not set holds nothing to keep out.
 */
export function configuredSecrets(config: Config, env: NodeJS.ProcessEnv = process.env): string[] {
  const { local, github } = config.tracker;
  const auth = github?.auth;
  const temporalTls = config.temporal.tls;
  const settings: (SecretSetting | undefined)[] = [
    local.token,
    ...local.people.map((person) => person.token),
    github?.webhookSecret,
    auth && 'token' in auth ? auth.token : undefined,
    auth && 'privateKey' in auth ? auth.privateKey : undefined,
    ...Object.values(config.intel.providers).map((provider) => provider.key),
    config.temporal.apiKey,
    typeof temporalTls === 'object' ? temporalTls.key : undefined,
    config.intake.mirror?.token,
  ];
  return settings.flatMap((setting) => {
    const value = typeof setting === 'object' ? env[setting.env] : setting;
    if (!value) return [];
    const lines = value.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length >= 16 && !line.startsWith('-----'));
    return [value, ...(lines.length > 1 ? lines : [])];
  });
}

/** `otherSecrets`: every other configured secret (`configuredSecrets`), kept out by value. */
export function archivableHeaders(sources: { name: string; methods: AuthMethod[] }[], token: string, otherSecrets: readonly string[] = []): ArchivableHeaders {
  const credentials = sources.map(({ name, methods }) => ({
    name,
    of: methods.map((method) => credentialOf(method, token, `intake.sources.${name}.auth`)),
  }));
  const droppedBy = new Map(credentials.map(({ name, of }) => [name, new Set([...alwaysDropped, ...of.flatMap(({ headers }) => headers)])]));
  // Every source's secrets, not only the route's: a key sent to the wrong route is no less a key.
  const secrets = [token, ...credentials.flatMap(({ of }) => of.flatMap(({ secret }) => secret ?? [])), ...otherSecrets];

  return (source, headers) => {
    const dropped = droppedBy.get(source) ?? new Set(alwaysDropped);
    return Object.fromEntries(
      Object.entries(headers).flatMap(([name, value]) => {
        if (value === undefined || dropped.has(name) || credentialLikeName.test(name)) return [];
        const text = Array.isArray(value) ? value.join(', ') : value;
        return secrets.some((secret) => text.includes(secret)) ? [] : [[name, text]];
      }),
    );
  };
}
