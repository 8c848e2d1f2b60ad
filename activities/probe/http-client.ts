// HTTP(S) requests for the checks, connected to a checked IP only (never through DNS of their own),
// with the original host as Host header and TLS server name; redirects followed one hop at a time,
// each hop resolved and checked against the scope before anything connects to it.
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import ipaddr from 'ipaddr.js';
import { ProbeTimeoutError } from './connection';
import { OutOfScopeError, resolveInScope, scopeVerdict } from './scope';
import { tlsFacts, type TlsFacts } from './tls-facts';
import type { CheckContext } from './types';

/** Bodies are read up to this: enough for a title, a favicon, a JSON version document. */
const MAX_BODY_BYTES = 256 * 1024;
const MAX_REDIRECTS = 5;
const USER_AGENT = 'Vigil exposure check (+https://github.com/vigil)';

export interface HttpAnswer {
  url: string;
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body was longer than MAX_BODY_BYTES and was cut. */
  truncated: boolean;
  /** The TLS session the answer came over. */
  tls?: TlsFacts;
}

export interface Hop {
  url: string;
  statusCode: number;
  location: string;
}

export interface FollowedAnswer {
  /** The answer of the probed endpoint itself (its TLS session is the one reported). */
  first: HttpAnswer;
  /** Redirects followed, in order (the final answer not included). */
  hops: Hop[];
  /** The last answer received: the page, or the redirect that was not followed. */
  final: HttpAnswer;
  /** A redirect not followed, and why: out of scope, not HTTP, or one too many. */
  stopped?: { url: string; reason: string };
}

const isRedirect = (status: number) => [301, 302, 303, 307, 308].includes(status);

/** `host` without IPv6 brackets, and whether it is an IP literal (then no SNI is sent). */
function bareHost(url: URL): { host: string; isIp: boolean } {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, isIp: ipaddr.isValid(host) };
}

/**
 * One request for `url` (a GET, or a HEAD where only the headers may be read), connecting to
 * `address` (which must be in scope now). Nothing is sent but the method, the path and these headers.
 */
export function httpRequest(url: URL, address: string, { scope, settings, signal }: CheckContext, method: 'GET' | 'HEAD' = 'GET'): Promise<HttpAnswer> {
  const verdict = scopeVerdict(address, scope);
  if (!verdict.allowed) return Promise.reject(new OutOfScopeError(address, verdict.reason));
  const { host, isIp } = bareHost(url);
  const secure = url.protocol === 'https:';
  const timeout = AbortSignal.timeout(settings.serviceTimeoutMs);
  const options: https.RequestOptions = {
    host: address,
    port: url.port || (secure ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    method,
    headers: { host: url.host, 'user-agent': USER_AGENT, accept: '*/*', connection: 'close' },
    agent: false,
    signal: AbortSignal.any([signal, timeout]),
    // Judged afterwards from the certificate itself: an untrusted certificate is a finding, not a failure.
    ...(secure ? { rejectUnauthorized: false, ...(isIp ? {} : { servername: host }) } : {}),
  };
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(options, (response) => {
      const tls = secure ? tlsFacts(response.socket as TLSSocket, host) : undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const finish = () =>
        resolve({
          url: url.href,
          statusCode: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES),
          truncated,
          ...(tls ? { tls } : {}),
        });
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          truncated = true;
          finish();
          response.destroy();
        }
      });
      response.on('end', finish);
      response.on('error', reject);
    });
    request.on('error', (err) => reject(timeout.aborted && !signal.aborted ? new ProbeTimeoutError(`${method} ${url.href}`, settings.serviceTimeoutMs) : err));
    request.end();
  });
}

/**
 * GETs `start` on `address`, then follows redirects while each next host resolves inside the scope.
 * A hop that does not is recorded with its reason and never connected to.
 */
export async function httpFollow(start: URL, address: string, context: CheckContext): Promise<FollowedAnswer> {
  const hops: Hop[] = [];
  const first = await httpRequest(start, address, context);
  let answer = first;
  while (isRedirect(answer.statusCode) && typeof answer.headers.location === 'string') {
    const current = new URL(answer.url);
    let next: URL;
    try {
      next = new URL(answer.headers.location, current);
    } catch {
      return { first, hops, final: answer, stopped: { url: answer.headers.location, reason: 'not a valid URL' } };
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') return { first, hops, final: answer, stopped: { url: next.href, reason: `not an HTTP URL (${next.protocol})` } };
    if (hops.length >= MAX_REDIRECTS) return { first, hops, final: answer, stopped: { url: next.href, reason: `more than ${MAX_REDIRECTS} redirects` } };
    let nextAddress: string;
    try {
      nextAddress = await resolveInScope(bareHost(next).host, context.scope);
    } catch (err) {
      if (!(err instanceof OutOfScopeError)) throw err;
      return { first, hops, final: answer, stopped: { url: next.href, reason: err.reason } };
    }
    hops.push({ url: answer.url, statusCode: answer.statusCode, location: next.href });
    answer = await httpRequest(next, nextAddress, context);
  }
  return { first, hops, final: answer };
}

/** Ports where TLS is tried first; elsewhere plain HTTP is, and TLS only when plain HTTP fails. */
const TLS_FIRST_PORTS: ReadonlySet<number> = new Set([443, 2376, 4443, 6443, 8443, 9443, 10443]);

/** A 400 that web servers send when plain HTTP reaches their TLS port (nginx, Apache). */
const plainToTlsPort = (answer: HttpAnswer) =>
  answer.statusCode === 400 && /plain HTTP request|speaking plain HTTP|HTTPS port|SSL-enabled/i.test(answer.body.toString('latin1'));

/**
 * `path` on an open port, over whichever of HTTPS and HTTP it speaks: the likelier first, the other
 * when the first fails. Redirects are followed when `follow` is set.
 */
export async function webGet(open: { address: string; port: number; host?: string }, path: string, context: CheckContext, follow = true): Promise<FollowedAnswer> {
  const schemes = TLS_FIRST_PORTS.has(open.port) ? (['https', 'http'] as const) : (['http', 'https'] as const);
  // By name when it was planned by one (sent as Host and SNI), always connected to the checked address.
  const host = open.host ?? (open.address.includes(':') ? `[${open.address}]` : open.address);
  const ask = async (scheme: string) => {
    const url = new URL(`${scheme}://${host}:${open.port}${path}`);
    if (follow) return httpFollow(url, open.address, context);
    const answer = await httpRequest(url, open.address, context);
    return { first: answer, hops: [], final: answer };
  };
  let firstError: unknown;
  try {
    const answer = await ask(schemes[0]);
    if (!plainToTlsPort(answer.first)) return answer;
  } catch (err) {
    // Only a refusal to speak the scheme is worth the other one; silence would just be waited out twice.
    if (err instanceof OutOfScopeError || err instanceof ProbeTimeoutError || context.signal.aborted) throw err;
    firstError = err;
  }
  try {
    return await ask(schemes[1]);
  } catch (err) {
    throw firstError ?? err;
  }
}
