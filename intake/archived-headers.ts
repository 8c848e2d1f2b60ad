// The request headers kept with an archived body. Whoever can read the archive must not find a
// credential in it, and what a credential is called is configuration (an API key may travel in
// `x-vendor-auth`), so each source drops the headers its own methods read. Names that usually carry
// a credential are dropped too, for the ones a sender adds that no method reads; and a header whose
// value holds any configured secret is dropped whatever its name, should a sender put one elsewhere.
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthMethod } from '../lib/config';
import { credentialOf } from './auth';

/** Credentials whatever the source's methods, and hop-by-hop noise. */
const alwaysDropped = ['authorization', 'proxy-authorization', 'cookie', 'connection', 'host'];
const credentialLikeName = /token|secret|signature|key|auth|passw|credential|session|cookie/i;

export type ArchivableHeaders = (source: string, headers: IncomingHttpHeaders) => Record<string, string>;

export function archivableHeaders(sources: { name: string; methods: AuthMethod[] }[], token: string): ArchivableHeaders {
  const credentials = sources.map(({ name, methods }) => ({
    name,
    of: methods.map((method) => credentialOf(method, token, `intake.sources.${name}.auth`)),
  }));
  const droppedBy = new Map(credentials.map(({ name, of }) => [name, new Set([...alwaysDropped, ...of.flatMap(({ headers }) => headers)])]));
  // Every source's secrets, not only the route's: a key sent to the wrong route is no less a key.
  const secrets = [token, ...credentials.flatMap(({ of }) => of.flatMap(({ secret }) => secret ?? []))];

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
