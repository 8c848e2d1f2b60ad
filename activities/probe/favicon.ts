// The favicon hash as Shodan computes it (`http.favicon.hash`), so a service can be matched with
// what Shodan has indexed: MurmurHash3 (x86, 32-bit, signed) of the icon's base64 text laid out as
// Python's base64.encodebytes writes it, a newline after every 76 characters and at the end.
import murmurHash3 from 'murmurhash3js-revisited';

function encodebytes(bytes: Buffer): string {
  const text = bytes.toString('base64');
  let out = '';
  for (let at = 0; at < text.length; at += 76) out += `${text.slice(at, at + 76)}\n`;
  return out;
}

export function faviconHash(bytes: Buffer): number {
  return murmurHash3.x86.hash32(Buffer.from(encodebytes(bytes), 'ascii')) | 0;
}

/** The href of the page's `<link rel="icon">` (or `shortcut icon`), if it names one. */
export function iconHref(html: string): string | undefined {
  for (const [tag] of html.matchAll(/<link\b[^>]*>/gi)) {
    const rel = /\brel\s*=\s*["']?([^"'>]+)/i.exec(tag)?.[1];
    if (!rel || !rel.toLowerCase().split(/\s+/).includes('icon')) continue;
    const href = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
    const value = href?.[1] ?? href?.[2] ?? href?.[3];
    if (value) return value;
  }
  return undefined;
}
