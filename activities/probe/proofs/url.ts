// The proof of a serverless entry point (a function URL, an API stage): asked as an outsider would,
// without credentials and without a body. A HEAD first; when it does not answer 2xx/3xx (a method
// not routed, a HEAD refused), one GET, whose answer decides. Both go through the probe scope: the
// name is resolved and checked first, and a host outside the scope is never contacted.
import type { Finding } from '../../../lib/finding';
import { httpRequest, type HttpAnswer } from '../http-client';
import { OutOfScopeError, resolveInScope } from '../scope';
import type { ProofCheck } from './types';

/** Header values kept in the finding: enough to name a server, not a place to carry a payload. */
const MAX_HEADER_CHARS = 80;

const header = (answer: HttpAnswer, name: string): string | null => {
  const value = answer.headers[name];
  const text = Array.isArray(value) ? value.join(', ') : value;
  return text ? text.slice(0, MAX_HEADER_CHARS) : null;
};

/** Answered without asking who is calling (even a 404 or a 500 is the function or API answering); 401 and 403 refuse. */
const verdict = (statusCode: number) => (statusCode === 401 || statusCode === 403 ? 'refused' : 'public');

export const urlProof: ProofCheck<'url'> = {
  kind: 'url',
  async run({ url: text }, _resource, context): Promise<Finding[]> {
    const base = { key: `url/${text}`, check: 'url', target: text };
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return [{ ...base, status: 'skipped', fields: { reason: 'not a valid URL' } }];
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return [{ ...base, status: 'skipped', fields: { reason: `not an HTTP URL (${url.protocol})` } }];
    let address: string;
    try {
      address = await resolveInScope(url.hostname, context.scope);
    } catch (err) {
      if (!(err instanceof OutOfScopeError)) throw err;
      return [{ ...base, status: 'skipped', fields: { reason: err.reason } }];
    }
    let method: 'HEAD' | 'GET' = 'HEAD';
    let answer = await httpRequest(url, address, context, method);
    if (answer.statusCode < 200 || answer.statusCode >= 400) {
      method = 'GET';
      answer = await httpRequest(url, address, context, method);
    }
    return [
      {
        ...base,
        status: verdict(answer.statusCode),
        fields: { method, 'status code': answer.statusCode, server: header(answer, 'server'), 'content type': header(answer, 'content-type') },
        detail: { address },
      },
    ];
  },
};
