// The HTTP(S) check against real loopback web servers: pages, favicon hashes, redirect chains
// (one leaving the scope), and TLS certificates that are self-signed, expired or for another name.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpCheck } from '../../activities/probe/checks/http';
import { faviconHash } from '../../activities/probe/favicon';
import { makeCertificate, type TestCertificate } from '../helpers/certificates';
import { checkContext, close, countingListener, listen } from '../helpers/loopback';

const servers: Server[] = [];
async function serve(handler: RequestListener, tls?: TestCertificate): Promise<number> {
  const server = tls ? createTlsServer(tls, handler) : createServer(handler);
  servers.push(server);
  return listen(server);
}
afterAll(() => Promise.all(servers.map(close)));

const open = (port: number) => ({ address: '127.0.0.1', port });

/**
 * Shodan's favicon hash computed apart from the code under test: Python's base64.encodebytes and
 * a plain MurmurHash3 x86-32, itself checked against mmh3's documented value for "foo".
 */
function pythonFaviconHash(bytes: Buffer): number {
  const script = `
import base64, sys
def mmh3_32(data, seed=0):
    c1, c2, h, n = 0xcc9e2d51, 0x1b873593, seed, len(data) // 4 * 4
    rotl = lambda x, r: ((x << r) | (x >> (32 - r))) & 0xffffffff
    for i in range(0, n, 4):
        k = rotl((int.from_bytes(data[i:i + 4], 'little') * c1) & 0xffffffff, 15) * c2 & 0xffffffff
        h = (rotl(h ^ k, 13) * 5 + 0xe6546b64) & 0xffffffff
    tail = data[n:]
    if tail:
        h ^= rotl((int.from_bytes(tail, 'little') * c1) & 0xffffffff, 15) * c2 & 0xffffffff
    h ^= len(data)
    h = ((h ^ (h >> 16)) * 0x85ebca6b) & 0xffffffff
    h = ((h ^ (h >> 13)) * 0xc2b2ae35) & 0xffffffff
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h
assert mmh3_32(b'foo') == -156908512
print(mmh3_32(base64.encodebytes(sys.stdin.buffer.read())))
`;
  return Number(execFileSync('python3', ['-c', script], { input: bytes }).toString().trim());
}

/** An icon long enough that its base64 spans several 76-character lines. */
const icon = Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 37 + 11) % 256));

describe('favicon hash', () => {
  it('matches Python base64.encodebytes + MurmurHash3 as Shodan computes it', () => {
    for (const bytes of [icon, Buffer.from('GIF89a'), icon.subarray(0, 57), icon.subarray(0, 58)]) {
      expect(faviconHash(bytes)).toBe(pythonFaviconHash(bytes));
    }
  });
});

describe('HTTP', () => {
  it('reports status, title, server, content type and the favicon the page declares', async () => {
    const port = await serve((request, response) => {
      if (request.url === '/') {
        response.writeHead(200, { server: 'TestServer/1.0', 'content-type': 'text/html; charset=utf-8' });
        response.end('<html><head><title>\n  Admin &amp; Console &#8212; login </title><link rel="shortcut icon" href="/static/brand.ico"></head></html>');
      } else if (request.url === '/static/brand.ico') {
        response.writeHead(200, { 'content-type': 'image/x-icon' }).end(icon);
      } else {
        response.writeHead(404).end();
      }
    });
    const [finding, ...rest] = await httpCheck.run(open(port), checkContext());
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      key: `http/127.0.0.1:${port}`,
      check: 'http',
      status: 'answered',
      fields: {
        scheme: 'http',
        statusCode: 200,
        finalUrl: `http://127.0.0.1:${port}/`,
        redirects: 0,
        redirectStopped: null,
        title: 'Admin & Console — login',
        server: 'TestServer/1.0',
        contentType: 'text/html; charset=utf-8',
        faviconHash: pythonFaviconHash(icon),
      },
      detail: { favicon: { url: `http://127.0.0.1:${port}/static/brand.ico` } },
    });
  });

  it('falls back to /favicon.ico and leaves the hash empty when there is none', async () => {
    const port = await serve((request, response) => {
      if (request.url === '/favicon.ico') response.writeHead(404).end();
      else response.writeHead(401, { 'www-authenticate': 'Basic realm="x"', 'content-type': 'text/plain' }).end('no');
    });
    const [finding] = await httpCheck.run(open(port), checkContext());
    expect(finding).toMatchObject({ status: 'auth-required', fields: { statusCode: 401, title: null, faviconHash: null, contentLength: 2 } });
    expect(finding!.detail).toMatchObject({ favicon: { url: `http://127.0.0.1:${port}/favicon.ico`, hash: null, note: 'answered 404' }, wwwAuthenticate: 'Basic realm="x"' });
  });

  it('follows a chain of three redirects across servers, checking each hop', async () => {
    const last = await serve((request, response) => {
      if (request.url === '/three') response.writeHead(307, { location: '/done' }).end();
      else response.writeHead(200, { 'content-type': 'text/html' }).end('<title>Arrived</title>');
    });
    const port = await serve((request, response) => {
      if (request.url === '/') response.writeHead(301, { location: '/two' }).end();
      else if (request.url === '/two') response.writeHead(302, { location: `http://127.0.0.1:${last}/three` }).end();
      else response.writeHead(404).end();
    });
    const [finding] = await httpCheck.run(open(port), checkContext());
    expect(finding!.fields).toMatchObject({ statusCode: 200, redirects: 3, redirectStopped: null, title: 'Arrived', finalUrl: `http://127.0.0.1:${last}/done` });
    expect(finding!.detail!.redirectChain).toEqual([
      { url: `http://127.0.0.1:${port}/`, statusCode: 301, location: `http://127.0.0.1:${port}/two` },
      { url: `http://127.0.0.1:${port}/two`, statusCode: 302, location: `http://127.0.0.1:${last}/three` },
      { url: `http://127.0.0.1:${last}/three`, statusCode: 307, location: `http://127.0.0.1:${last}/done` },
    ]);
  });

  it('stops at a redirect out of scope, says why, and never connects there', async () => {
    const forbidden = await countingListener('127.0.0.2');
    try {
      const port = await serve((request, response) => {
        if (request.url === '/') response.writeHead(302, { location: '/next' }).end();
        else if (request.url === '/next') response.writeHead(302, { location: `http://127.0.0.2:${forbidden.port}/admin` }).end();
        else response.writeHead(404).end();
      });
      const [finding] = await httpCheck.run(open(port), checkContext());
      expect(finding!.status).toBe('redirect-stopped');
      expect(finding!.fields).toMatchObject({
        statusCode: 302,
        redirects: 1,
        finalUrl: `http://127.0.0.1:${port}/next`,
        redirectStopped: `http://127.0.0.2:${forbidden.port}/admin: a loopback address, not allowed by probe.allowRanges`,
      });
      expect(finding!.detail!.redirectStopped).toEqual({ url: `http://127.0.0.2:${forbidden.port}/admin`, reason: 'a loopback address, not allowed by probe.allowRanges' });
      expect(forbidden.seen.connections).toBe(0);
    } finally {
      await close(forbidden.server);
    }
  });

  it('does not fetch a declared icon that lives out of scope', async () => {
    const forbidden = await countingListener('127.0.0.2');
    try {
      const port = await serve((request, response) => {
        if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html' }).end(`<link href="http://127.0.0.2:${forbidden.port}/i.ico" rel=icon>`);
        else response.writeHead(404).end();
      });
      const [finding] = await httpCheck.run(open(port), checkContext());
      expect(finding!.fields.faviconHash).toBeNull();
      expect(finding!.detail!.favicon).toMatchObject({ hash: null, note: `not fetched: 127.0.0.2: a loopback address, not allowed by probe.allowRanges` });
      expect(forbidden.seen.connections).toBe(0);
    } finally {
      await close(forbidden.server);
    }
  });
});

describe('HTTPS and the certificate', () => {
  let selfSigned: TestCertificate;
  let expired: TestCertificate;
  let otherName: TestCertificate;
  beforeAll(() => {
    selfSigned = makeCertificate({ commonName: 'vigil-test', subjectAltName: 'IP:127.0.0.1' });
    expired = makeCertificate({ commonName: 'expired.test', subjectAltName: 'IP:127.0.0.1', expired: true });
    otherName = makeCertificate({ commonName: 'other.example', subjectAltName: 'DNS:other.example' });
  });
  const page: RequestListener = (_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<title>Secure</title>');

  it('reads a self-signed certificate (over TLS after plain HTTP fails on a port not known as TLS)', async () => {
    const port = await serve(page, selfSigned);
    const findings = await httpCheck.run(open(port), checkContext());
    expect(findings.map((f) => f.key)).toEqual([`http/127.0.0.1:${port}`, `tls/127.0.0.1:${port}`]);
    expect(findings[0]!.fields).toMatchObject({ scheme: 'https', statusCode: 200, title: 'Secure', finalUrl: `https://127.0.0.1:${port}/` });
    const x509 = new X509Certificate(selfSigned.cert);
    expect(findings[1]!.status).toBe('self-signed');
    expect(findings[1]!.fields).toMatchObject({
      subject: 'CN=vigil-test',
      issuer: 'CN=vigil-test',
      selfSigned: true,
      expired: false,
      nameMismatch: false,
      fingerprint256: x509.fingerprint256,
      validTo: new Date(x509.validTo).toISOString(),
    });
    expect(findings[1]!.fields.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(findings[1]!.detail).toMatchObject({ subjectAltName: 'IP Address:127.0.0.1', trusted: false, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });

  it('flags an expired certificate', async () => {
    const port = await serve(page, expired);
    const tls = (await httpCheck.run(open(port), checkContext())).find((f) => f.check === 'tls');
    expect(tls).toMatchObject({ status: 'expired', fields: { expired: true, validTo: '2020-02-01T00:00:00.000Z', nameMismatch: false } });
  });

  it('flags a certificate for another name', async () => {
    const port = await serve(page, otherName);
    const tls = (await httpCheck.run(open(port), checkContext())).find((f) => f.check === 'tls');
    expect(tls!.fields).toMatchObject({ nameMismatch: true, subject: 'CN=other.example', expired: false });
    expect(tls!.detail).toMatchObject({ nameChecked: '127.0.0.1', subjectAltName: 'DNS:other.example' });
  });
});
