// HTTP and HTTPS: what a web service shows a stranger (status, redirects, title, server, favicon
// hash) and, over TLS, what its certificate says. The final page is what the browser queue photographs.
import type { FieldValue, Finding } from '../../../lib/finding';
import { faviconHash, iconHref } from '../favicon';
import { webGet, httpFollow, type FollowedAnswer } from '../http-client';
import { OutOfScopeError, resolveInScope } from '../scope';
import { tlsVerdict, type TlsFacts } from '../tls-facts';
import type { CheckContext, OpenPort, ServiceCheck } from '../types';
import { probeFinding } from './finding';

const WEB_PORTS = new Set([80, 81, 443, 3000, 4443, 5000, 5601, 8000, 8008, 8080, 8081, 8443, 8880, 8888, 9000, 9090, 9443, 10443]);
const TITLE_CHARS = 200;

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function pageTitle(html: string): string | null {
  const raw = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1];
  if (raw === undefined) return null;
  const text = raw
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name.startsWith('#')) {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return entities[name.toLowerCase()] ?? whole;
    })
    .replace(/\s+/g, ' ')
    .trim();
  return text.slice(0, TITLE_CHARS);
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(', ') : (value ?? null));

interface Favicon {
  url: string;
  hash: number | null;
  note?: string;
}

/** The page's declared icon when it is in scope, else `/favicon.ico`, hashed as Shodan does. */
async function favicon(page: FollowedAnswer, context: CheckContext): Promise<Favicon> {
  const base = new URL(page.final.url);
  const declared = page.final.headers['content-type']?.includes('html') ? iconHref(page.final.body.toString('utf8')) : undefined;
  let url = new URL('/favicon.ico', base);
  let note: string | undefined;
  if (declared) {
    const candidate = URL.canParse(declared, base.href) ? new URL(declared, base) : undefined;
    if (candidate && (candidate.protocol === 'http:' || candidate.protocol === 'https:')) url = candidate;
    else note = `declared icon ${declared} is not an HTTP URL`;
  }
  try {
    const address = await resolveInScope(url.hostname, context.scope);
    const answer = await httpFollow(url, address, context);
    const { statusCode, body, truncated } = answer.final;
    if (statusCode !== 200 || body.length === 0 || truncated) return { url: answer.final.url, hash: null, note: `answered ${statusCode}${truncated ? ', too large' : ''}` };
    return { url: answer.final.url, hash: faviconHash(body), ...(note ? { note } : {}) };
  } catch (err) {
    if (context.signal.aborted) throw err;
    return { url: url.href, hash: null, note: err instanceof OutOfScopeError ? `not fetched: ${err.message}` : (err as Error).message };
  }
}

function tlsFinding(open: OpenPort, facts: TlsFacts): Finding {
  const { protocol, cipher, subject, issuer, validTo, selfSigned, expired, nameMismatch, fingerprint256 } = facts;
  const fields: Record<string, FieldValue> = { protocol, cipher, subject, issuer, validTo, selfSigned, expired, nameMismatch, fingerprint256 };
  return probeFinding('tls', open, tlsVerdict(facts), fields, { ...facts });
}

export const httpCheck: ServiceCheck = {
  name: 'http',
  matches: ({ port, banner }) => (banner === undefined ? WEB_PORTS.has(port) : banner.startsWith('HTTP/')),
  async run(open, context) {
    const page = await webGet(open, '/', context);
    const { final, hops, stopped } = page;
    const html = final.headers['content-type']?.includes('html') ? final.body.toString('utf8') : '';
    const icon = stopped ? undefined : await favicon(page, context);
    const contentLength = final.headers['content-length'];
    const status = stopped ? 'redirect-stopped' : final.statusCode === 401 || final.statusCode === 407 ? 'auth-required' : 'answered';
    const fields: Record<string, FieldValue> = {
      scheme: new URL(page.first.url).protocol.replace(':', ''),
      statusCode: final.statusCode,
      finalUrl: final.url,
      redirects: hops.length,
      redirectStopped: stopped ? `${stopped.url}: ${stopped.reason}` : null,
      title: pageTitle(html),
      server: header(final.headers.server),
      contentType: header(final.headers['content-type']),
      contentLength: contentLength !== undefined ? Number(contentLength) : final.truncated ? null : final.body.length,
      faviconHash: icon?.hash ?? null,
    };
    const detail = {
      redirectChain: hops,
      ...(stopped ? { redirectStopped: stopped } : {}),
      ...(icon ? { favicon: icon } : {}),
      ...(header(final.headers['www-authenticate']) ? { wwwAuthenticate: header(final.headers['www-authenticate']) } : {}),
      ...(final.truncated ? { bodyTruncated: true } : {}),
    };
    return [probeFinding('http', open, status, fields, detail), ...(page.first.tls ? [tlsFinding(open, page.first.tls)] : [])];
  },
};

/** The page a finding of this check ends on, when it ended in scope: what the browser queue photographs. */
export function webPageOf(finding: Finding): string | undefined {
  return finding.check === 'http' && finding.fields.redirectStopped === null && typeof finding.fields.finalUrl === 'string' ? finding.fields.finalUrl : undefined;
}
