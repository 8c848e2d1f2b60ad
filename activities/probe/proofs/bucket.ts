// The proof of a bucket (S3 or Cloud Storage), asked as an outsider would, without any credential:
// an anonymous list of at most one object, then, when one was listed, an anonymous read of that
// object's metadata (S3: HEAD of the object; Cloud Storage: its JSON metadata, never `alt=media`).
// The content is never asked for. Every request goes through the probe scope: the endpoint's name is
// resolved and checked first, and an endpoint outside the scope is never contacted.
//
// A metadata read makes the finding `public`; a list alone, `listable` (its objects' names are out,
// though none was read). Both are an outsider reaching the bucket. The proof runs only for a bucket
// the inventory judged public (moto answers any anonymous list with 200 whatever the policy, so a
// private bucket's list would prove nothing there).
import { truncate } from '../../../lib/markdown';
import type { Finding } from '../../../lib/finding';
import type { ResourceProof } from '../../../lib/context';
import { httpRequest, type HttpAnswer } from '../http-client';
import { OutOfScopeError, resolveInScope } from '../scope';
import type { CheckContext } from '../types';
import type { ProofCheck } from './types';

type BucketProof = Extract<ResourceProof, { kind: 'bucket' }>;

/** Object names are the bucket owner's (or anyone's who could write): kept short in the finding. */
const MAX_KEY_CHARS = 120;

/** The two requests of each provider's API, path-style under `baseUrl`. */
interface ProviderApi {
  /** Lists at most one object. */
  list(base: URL, bucket: string): URL;
  /** The first object's name in the list's answer, if any. */
  firstKey(body: string): string | undefined;
  /** Reads one object's metadata without its content; undefined when no URL can name the object. */
  metadata(base: URL, bucket: string, key: string): { url: URL; method: 'GET' | 'HEAD' } | undefined;
}

/** `base` with `segments` (already encoded) appended to its path, and a query. */
function under(base: URL, segments: string[], query = ''): URL {
  const url = new URL(base.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${segments.join('/')}`;
  url.search = query;
  return url;
}

const xmlEntities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescapeXml = (text: string) =>
  text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity, name: string) => {
    if (name[0] !== '#') return xmlEntities[name] ?? entity;
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  });

const apis: Record<BucketProof['provider'], ProviderApi> = {
  aws: {
    list: (base, bucket) => under(base, [encodeURIComponent(bucket)], '?list-type=2&max-keys=1'),
    firstKey: (body) => {
      const key = /<Contents>[\s\S]*?<Key>([\s\S]*?)<\/Key>/.exec(body)?.[1];
      return key === undefined ? undefined : unescapeXml(key);
    },
    // S3 keys are paths: each segment encoded, the slashes kept. A `.` or `..` segment cannot be
    // asked for: URLs resolve such segments away (even encoded), and would name another object.
    metadata: (base, bucket, key) => {
      const segments = key.split('/');
      if (segments.some((segment) => segment === '.' || segment === '..')) return undefined;
      return { url: under(base, [encodeURIComponent(bucket), ...segments.map(encodeURIComponent)]), method: 'HEAD' };
    },
  },
  gcp: {
    list: (base, bucket) => under(base, ['storage', 'v1', 'b', encodeURIComponent(bucket), 'o'], '?maxResults=1'),
    firstKey: (body) => {
      try {
        const name: unknown = (JSON.parse(body) as { items?: { name?: unknown }[] }).items?.[0]?.name;
        return typeof name === 'string' ? name : undefined;
      } catch {
        return undefined;
      }
    },
    // The object's resource in the JSON API is its metadata; only `alt=media` would be its content.
    metadata: (base, bucket, key) => ({ url: under(base, ['storage', 'v1', 'b', encodeURIComponent(bucket), 'o', encodeURIComponent(key)]), method: 'GET' }),
  },
};

/** An answer in a few words: `allowed`, `refused (403)`, `not found (404)`, `answered 301`. */
function outcome(statusCode: number): string {
  if (statusCode >= 200 && statusCode < 300) return 'allowed';
  if (statusCode === 401 || statusCode === 403) return `refused (${statusCode})`;
  if (statusCode === 404) return 'not found (404)';
  return `answered ${statusCode}`;
}

/** `public` when an object's metadata was read, `listable` when only the list answered, `refused` when both were refused. */
function verdict(list: HttpAnswer, metadata: HttpAnswer | undefined): string {
  if (metadata && outcome(metadata.statusCode) === 'allowed') return 'public';
  if (outcome(list.statusCode) === 'allowed') return 'listable';
  if (list.statusCode === 404) return 'not-found';
  return list.statusCode === 401 || list.statusCode === 403 ? 'refused' : 'unknown';
}

async function prove({ provider, bucket, baseUrl }: BucketProof, context: CheckContext): Promise<Finding> {
  const target = `${baseUrl.replace(/\/+$/, '')}/${bucket}`;
  const base = { key: `bucket/${provider}/${bucket}`, check: 'bucket', target };
  const api = apis[provider];
  let endpoint: URL;
  try {
    endpoint = new URL(baseUrl);
  } catch {
    return { ...base, status: 'skipped', fields: { reason: 'not a valid URL' } };
  }
  if (!api || (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:')) return { ...base, status: 'skipped', fields: { reason: `not an ${provider} HTTP endpoint` } };
  let address: string;
  try {
    address = await resolveInScope(endpoint.hostname, context.scope);
  } catch (err) {
    if (!(err instanceof OutOfScopeError)) throw err;
    return { ...base, status: 'skipped', fields: { reason: err.reason } };
  }
  try {
    const list = await httpRequest(api.list(endpoint, bucket), address, context, 'GET');
    const key = outcome(list.statusCode) === 'allowed' ? api.firstKey(list.body.toString('utf8')) : undefined;
    let metadata: HttpAnswer | undefined;
    let metadataWords: string;
    const request = key === undefined ? undefined : api.metadata(endpoint, bucket, key);
    if (request) {
      metadata = await httpRequest(request.url, address, context, request.method);
      metadataWords = outcome(metadata.statusCode);
    } else if (key !== undefined) metadataWords = 'not tried (no URL names that key)';
    else metadataWords = outcome(list.statusCode) === 'allowed' ? 'not tried (nothing listed)' : 'not tried (no object known)';
    return {
      ...base,
      status: verdict(list, metadata),
      fields: { list: outcome(list.statusCode), metadata: metadataWords, ...(key !== undefined ? { key: truncate(key, MAX_KEY_CHARS) } : {}) },
      // The first object listed changes as objects come and go: that is no change of exposure.
      volatile: ['key'],
      detail: { address },
    };
  } catch (err) {
    context.signal.throwIfAborted();
    return { ...base, status: 'unknown', fields: { error: truncate((err as Error).message ?? String(err), 200) }, detail: { address } };
  }
}

export const bucketProof: ProofCheck<'bucket'> = {
  kind: 'bucket',
  run: async (proof, _resource, context) => [await prove(proof, context)],
};
