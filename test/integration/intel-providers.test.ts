// Threat-intelligence providers against a loopback server that answers in each API's format.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProviderRunner, defaultProviderSettings, type ProviderSettings } from '../../activities/intel/provider-runner';
import { providerDefinition, providerDefinitions } from '../../activities/intel/providers';
import type { ActorTarget, SourceResult } from '../../activities/intel/types';

const FIXTURES = path.join(import.meta.dirname, '../fixtures/intel/providers');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

/** Distinct per provider, so a test can tell which key went where. */
const KEYS: Record<string, string> = {
  abuseipdb: 'abuse-KEY-1f2e3d4c5b6a7980',
  greynoise: 'greynoise-KEY-0a9b8c7d6e5f4a3b',
  virustotal: 'vt-KEY-77aa88bb99cc00dd',
  otx: 'otx-KEY-0011223344556677',
};

interface Reply {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Never answer (for timeouts). */
  hang?: boolean;
}
interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
  at: number;
}

let server: Server;
let base: string;
/** Replies by request URL (`/<provider>/<path>?<query>`); a list is answered in order, the last one repeating. */
const routes = new Map<string, Reply[]>();
const requests: Seen[] = [];
let dir: string;
/** Every result any test saw, checked at the end for keys. */
const allResults: SourceResult[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = request.url ?? '';
    requests.push({ url, headers: request.headers, at: Date.now() });
    const replies = routes.get(url);
    const reply = replies && (replies.length > 1 ? replies.shift()! : replies[0]!);
    if (!reply) {
      response.writeHead(599, { 'content-type': 'text/plain' }).end(`no route for ${url}`);
      return;
    }
    if (reply.hang) return;
    response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers }).end(reply.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  // Keys must never show, whatever went wrong in any test.
  const text = JSON.stringify(allResults);
  for (const key of Object.values(KEYS)) expect(text).not.toContain(key);
  expect(allResults.length).toBeGreaterThan(20);
});

beforeEach(async () => {
  routes.clear();
  requests.length = 0;
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-intel-providers-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function route(provider: string, pathAndQuery: string, ...replies: Reply[]) {
  routes.set(`/${provider}${pathAndQuery}`, replies);
}

function settingsFor(name: string, overrides: Partial<Omit<ProviderSettings, 'definition'>> = {}): ProviderSettings {
  const definition = providerDefinition(name)!;
  return defaultProviderSettings(definition, { baseUrl: `${base}/${name}`, key: KEYS[name], ratePerMinute: 60_000, ...overrides });
}

function runner(providers: ProviderSettings[], extra: { now?: () => number; timeoutMs?: number } = {}) {
  const created = createProviderRunner({ dir, providers, ...extra });
  return {
    async check(target: ActorTarget) {
      const results = await created.check(target);
      allResults.push(...results);
      return results;
    },
  };
}

async function checkOne(name: string, target: ActorTarget, overrides: Partial<Omit<ProviderSettings, 'definition'>> = {}): Promise<SourceResult> {
  const results = await runner([settingsFor(name, overrides)]).check(target);
  expect(results).toHaveLength(1);
  return results[0]!;
}

const ip = (value: string): ActorTarget => ({ kind: 'ip', value });
const domain = (value: string): ActorTarget => ({ kind: 'domain', value });
const abusePath = (address: string) => `/api/v2/check?ipAddress=${encodeURIComponent(address)}&maxAgeInDays=90`;

describe('provider definitions', () => {
  it('each declares the shared interface with the real API as its default', () => {
    expect(providerDefinitions.map((d) => d.name)).toEqual(['abuseipdb', 'greynoise', 'shodan-internetdb', 'virustotal', 'otx']);
    for (const definition of providerDefinitions) {
      expect(definition.defaultBaseUrl).toMatch(/^https:\/\//);
      expect(definition.defaultRatePerMinute).toBeGreaterThan(0);
      expect(definition.defaultDailyQuota).toBeGreaterThan(0);
      expect(definition.defaultTtlMs).toBeGreaterThan(0);
      expect(definition.cost).not.toBe('');
    }
  });
});

describe('mapping of each provider’s answers', () => {
  const cases: { provider: string; target: ActorTarget; path: string; reply: Reply; status: SourceResult['status']; verdict?: string; evidence: RegExp }[] = [
    { provider: 'abuseipdb', target: ip('203.0.113.66'), path: abusePath('203.0.113.66'), reply: { body: fixture('abuseipdb/malicious.json') }, status: 'listed', verdict: 'malicious', evidence: /abuse confidence 100% from 1432 reports .*Tor/ },
    { provider: 'abuseipdb', target: ip('198.51.100.23'), path: abusePath('198.51.100.23'), reply: { body: fixture('abuseipdb/suspicious.json') }, status: 'listed', verdict: 'suspicious', evidence: /abuse confidence 41% from 7 reports/ },
    { provider: 'abuseipdb', target: ip('192.0.2.10'), path: abusePath('192.0.2.10'), reply: { body: fixture('abuseipdb/clean.json') }, status: 'not-listed', evidence: /abuse confidence 0% from 0 reports/ },
    { provider: 'greynoise', target: ip('203.0.113.66'), path: '/v3/community/203.0.113.66', reply: { body: fixture('greynoise/malicious.json') }, status: 'listed', verdict: 'malicious', evidence: /classified malicious.*last seen 2026-11-27/ },
    { provider: 'greynoise', target: ip('198.51.100.7'), path: '/v3/community/198.51.100.7', reply: { body: fixture('greynoise/benign.json') }, status: 'listed', verdict: 'known-benign', evidence: /benign scanner \(Example Research Scanner\)/ },
    { provider: 'greynoise', target: ip('192.0.2.53'), path: '/v3/community/192.0.2.53', reply: { body: fixture('greynoise/riot.json') }, status: 'listed', verdict: 'known-benign', evidence: /common business service \(Example Public DNS\)/ },
    { provider: 'greynoise', target: ip('198.51.100.99'), path: '/v3/community/198.51.100.99', reply: { body: fixture('greynoise/unknown.json') }, status: 'listed', verdict: 'suspicious', evidence: /scans the internet, intent unknown/ },
    { provider: 'greynoise', target: ip('192.0.2.10'), path: '/v3/community/192.0.2.10', reply: { status: 404, body: fixture('greynoise/not-found.json') }, status: 'not-listed', evidence: /not observed scanning/ },
    { provider: 'shodan-internetdb', target: ip('203.0.113.66'), path: '/203.0.113.66', reply: { body: fixture('shodan-internetdb/malware.json') }, status: 'listed', verdict: 'malicious', evidence: /tagged c2; open ports 22, 443, 8443; 1 known vulnerability/ },
    { provider: 'shodan-internetdb', target: ip('198.51.100.23'), path: '/198.51.100.23', reply: { body: fixture('shodan-internetdb/vpn.json') }, status: 'listed', verdict: 'suspicious', evidence: /tagged vpn/ },
    { provider: 'shodan-internetdb', target: ip('192.0.2.10'), path: '/192.0.2.10', reply: { body: fixture('shodan-internetdb/plain.json') }, status: 'not-listed', evidence: /no threat tags; open ports 22, 80, 443; 2 known vulnerabilities/ },
    { provider: 'shodan-internetdb', target: ip('192.0.2.11'), path: '/192.0.2.11', reply: { status: 404, body: fixture('shodan-internetdb/not-found.json') }, status: 'not-listed', evidence: /no information/ },
    { provider: 'virustotal', target: ip('203.0.113.66'), path: '/api/v3/ip_addresses/203.0.113.66', reply: { body: fixture('virustotal/ip-malicious.json') }, status: 'listed', verdict: 'malicious', evidence: /^9 of 94 engines say malicious, 2 suspicious$/ },
    { provider: 'virustotal', target: ip('198.51.100.23'), path: '/api/v3/ip_addresses/198.51.100.23', reply: { body: fixture('virustotal/ip-suspicious.json') }, status: 'listed', verdict: 'suspicious', evidence: /^1 of 94 engines say malicious/ },
    { provider: 'virustotal', target: domain('www.example.com'), path: '/api/v3/domains/www.example.com', reply: { body: fixture('virustotal/domain-clean.json') }, status: 'not-listed', evidence: /^0 of 94 engines/ },
    { provider: 'virustotal', target: domain('unseen.example.net'), path: '/api/v3/domains/unseen.example.net', reply: { status: 404, body: fixture('virustotal/not-found.json') }, status: 'not-listed', evidence: /unknown to VirusTotal/ },
    { provider: 'otx', target: ip('203.0.113.66'), path: '/api/v1/indicators/IPv4/203.0.113.66/general', reply: { body: fixture('otx/ip-botnet.json') }, status: 'listed', verdict: 'malicious', evidence: /in 4 OTX pulses: “Example botnet C2 servers”, “SSH brute force sources”, “Honeypot hits week 47” and 1 more \(tagged botnet, c2\)/ },
    { provider: 'otx', target: domain('files.example.net'), path: '/api/v1/indicators/domain/files.example.net/general', reply: { body: fixture('otx/domain-mentioned.json') }, status: 'listed', verdict: 'suspicious', evidence: /in 1 OTX pulse: “Phishing kit hosting”/ },
    { provider: 'otx', target: ip('2001:db8::1'), path: '/api/v1/indicators/IPv6/2001:db8::1/general', reply: { body: fixture('otx/ipv6-none.json') }, status: 'not-listed', evidence: /in no OTX pulse/ },
  ];

  it.each(cases)('$provider $target.value → $status $verdict', async ({ provider, target, path: pathAndQuery, reply, status, verdict, evidence }) => {
    route(provider, pathAndQuery, reply);
    const result = await checkOne(provider, target);
    expect(result).toMatchObject({ source: provider, status });
    expect(result.verdict).toBe(verdict);
    expect(result.evidence).toMatch(evidence);
    expect(Date.parse(result.fetchedAt!)).not.toBeNaN();
    expect(requests).toHaveLength(1);
  });

  it('a 404 that is not the provider’s own answer is unknown, not clean', async () => {
    route('greynoise', '/v3/community/192.0.2.20', { status: 404, body: '<html>Not Found</html>', headers: { 'content-type': 'text/html' } });
    route('virustotal', '/api/v3/domains/wrong.example.com', { status: 404, body: '{"message":"no such route"}' });
    expect(await checkOne('greynoise', ip('192.0.2.20'))).toMatchObject({ status: 'unknown', evidence: expect.stringMatching(/unreadable answer/) });
    expect(await checkOne('virustotal', domain('wrong.example.com'))).toMatchObject({ status: 'unknown' });
  });
});

describe('keys', () => {
  it('sends each key in the provider’s documented header, and only there', async () => {
    route('abuseipdb', abusePath('192.0.2.10'), { body: fixture('abuseipdb/clean.json') });
    route('greynoise', '/v3/community/192.0.2.10', { status: 404, body: fixture('greynoise/not-found.json') });
    route('shodan-internetdb', '/192.0.2.10', { body: fixture('shodan-internetdb/plain.json') });
    route('virustotal', '/api/v3/ip_addresses/192.0.2.10', { body: fixture('virustotal/domain-clean.json') });
    route('otx', '/api/v1/indicators/IPv4/192.0.2.10/general', { body: fixture('otx/ipv6-none.json') });
    const results = await runner(providerDefinitions.map((d) => settingsFor(d.name))).check(ip('192.0.2.10'));
    expect(results.map((r) => r.status)).toEqual(['not-listed', 'not-listed', 'not-listed', 'not-listed', 'not-listed']);

    const headersOf = (provider: string) => requests.find((r) => r.url.startsWith(`/${provider}/`))!.headers;
    expect(headersOf('abuseipdb').key).toBe(KEYS.abuseipdb);
    expect(headersOf('abuseipdb').accept).toBe('application/json');
    expect(headersOf('greynoise').key).toBe(KEYS.greynoise);
    expect(headersOf('virustotal')['x-apikey']).toBe(KEYS.virustotal);
    expect(headersOf('otx')['x-otx-api-key']).toBe(KEYS.otx);
    const shodan = JSON.stringify(headersOf('shodan-internetdb'));
    for (const key of Object.values(KEYS)) expect(shodan).not.toContain(key);
    expect(requests.every((r) => !Object.values(KEYS).some((key) => r.url.includes(key)))).toBe(true);
  });

  it('GreyNoise works without a key and sends no key header', async () => {
    route('greynoise', '/v3/community/203.0.113.66', { body: fixture('greynoise/malicious.json') });
    expect(await checkOne('greynoise', ip('203.0.113.66'), { key: undefined })).toMatchObject({ status: 'listed', verdict: 'malicious' });
    expect(requests[0]!.headers.key).toBeUndefined();
  });

  it('a provider that needs a key and has none is misconfigured, without a request', async () => {
    for (const name of ['abuseipdb', 'virustotal', 'otx']) {
      expect(await checkOne(name, ip('192.0.2.10'), { key: undefined })).toMatchObject({ status: 'misconfigured', evidence: `no API key: set intel.providers.${name}.key` });
    }
    expect(requests).toHaveLength(0);
  });

  it('a key echoed back by an API is blanked out of the result', async () => {
    const echoed = JSON.parse(fixture('abuseipdb/malicious.json'));
    echoed.data.isp = `ISP ${KEYS.abuseipdb}`;
    route('abuseipdb', abusePath('203.0.113.66'), { body: JSON.stringify(echoed) });
    const result = await checkOne('abuseipdb', ip('203.0.113.66'));
    expect(JSON.stringify(result)).not.toContain(KEYS.abuseipdb);
    expect(result.evidence).toContain('ISP [redacted]');
  });
});

describe('which providers run', () => {
  it('disabled providers return nothing; domains go only to providers that take them', async () => {
    route('virustotal', '/api/v3/domains/www.example.com', { body: fixture('virustotal/domain-clean.json') });
    route('otx', '/api/v1/indicators/domain/www.example.com/general', { body: fixture('otx/domain-mentioned.json') });
    const all = providerDefinitions.map((d) => settingsFor(d.name, { enabled: d.name !== 'otx' }));
    const results = await runner(all).check(domain('www.example.com'));
    expect(results.map((r) => r.source)).toEqual(['virustotal']);
    expect(requests.map((r) => r.url)).toEqual(['/virustotal/api/v3/domains/www.example.com']);
  });
});

describe('cache', () => {
  it('answers from disk within the TTL with the original fetchedAt, and asks again after it', async () => {
    let clock = Date.parse('2026-11-28T09:00:00Z');
    route('virustotal', '/api/v3/ip_addresses/203.0.113.66', { body: fixture('virustotal/ip-malicious.json') });
    const settings = [settingsFor('virustotal', { ttlMs: 60 * 60 * 1000 })];
    const first = await runner(settings, { now: () => clock }).check(ip('203.0.113.66'));
    expect(first[0]!.fetchedAt).toBe('2026-11-28T09:00:00.000Z');

    clock += 59 * 60 * 1000;
    // A new runner: the cache is on disk, not in memory.
    const second = await runner(settings, { now: () => clock }).check(ip('203.0.113.66'));
    expect(second).toEqual(first);
    expect(requests).toHaveLength(1);

    clock += 2 * 60 * 1000;
    const third = await runner(settings, { now: () => clock }).check(ip('203.0.113.66'));
    expect(third[0]!.fetchedAt).toBe('2026-11-28T10:01:00.000Z');
    expect(requests).toHaveLength(2);
  });

  it('does not cache failures', async () => {
    route('shodan-internetdb', '/192.0.2.10', { status: 500, body: '{}' }, { body: fixture('shodan-internetdb/plain.json') });
    const run = runner([settingsFor('shodan-internetdb')]);
    expect((await run.check(ip('192.0.2.10')))[0]).toMatchObject({ status: 'unknown' });
    expect((await run.check(ip('192.0.2.10')))[0]).toMatchObject({ status: 'not-listed' });
    expect(requests).toHaveLength(2);
  });
});

describe('daily quota', () => {
  it('is counted on disk, survives a new runner, and resets the next UTC day', async () => {
    let clock = Date.parse('2026-11-28T09:00:00Z');
    for (const address of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) route('shodan-internetdb', `/${address}`, { body: fixture('shodan-internetdb/plain.json') });
    const settings = [settingsFor('shodan-internetdb', { dailyQuota: 2 })];
    const first = runner(settings, { now: () => clock });
    await first.check(ip('192.0.2.1'));
    await first.check(ip('192.0.2.2'));
    const spent = await first.check(ip('192.0.2.3'));
    expect(spent[0]).toMatchObject({ status: 'unknown', evidence: 'daily quota of 2 spent, resets at 2026-11-29T00:00:00.000Z' });

    const restarted = await runner(settings, { now: () => clock }).check(ip('192.0.2.3'));
    expect(restarted[0]).toMatchObject({ status: 'unknown', evidence: expect.stringContaining('daily quota of 2 spent') });
    expect(requests).toHaveLength(2);

    // Cached answers still come back while the quota is spent.
    expect((await runner(settings, { now: () => clock }).check(ip('192.0.2.1')))[0]).toMatchObject({ status: 'not-listed' });

    clock = Date.parse('2026-11-29T00:00:01Z');
    expect((await runner(settings, { now: () => clock }).check(ip('192.0.2.3')))[0]).toMatchObject({ status: 'not-listed' });
    expect(requests).toHaveLength(3);
  });
});

describe('rate limits and failures', () => {
  it('spaces requests to the configured rate per minute', async () => {
    route('shodan-internetdb', '/192.0.2.1', { body: fixture('shodan-internetdb/plain.json') });
    route('shodan-internetdb', '/192.0.2.2', { body: fixture('shodan-internetdb/plain.json') });
    const run = runner([settingsFor('shodan-internetdb', { ratePerMinute: 120 })]);
    await Promise.all([run.check(ip('192.0.2.1')), run.check(ip('192.0.2.2'))]);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(450);
  });

  it('waits out a short Retry-After and tries once more', async () => {
    route('abuseipdb', abusePath('203.0.113.66'), { status: 429, headers: { 'retry-after': '1' }, body: '{"errors":[{"detail":"Too Many Requests","status":429}]}' }, { body: fixture('abuseipdb/malicious.json') });
    const started = Date.now();
    const result = await checkOne('abuseipdb', ip('203.0.113.66'));
    expect(result).toMatchObject({ status: 'listed', verdict: 'malicious' });
    expect(requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('reports a long Retry-After as unknown without waiting', async () => {
    const clock = Date.parse('2026-11-28T09:00:00Z');
    route('virustotal', '/api/v3/ip_addresses/203.0.113.66', { status: 429, headers: { 'retry-after': '3600' }, body: '{"error":{"code":"QuotaExceededError","message":"Quota exceeded"}}' });
    const started = Date.now();
    const [result] = await runner([settingsFor('virustotal')], { now: () => clock }).check(ip('203.0.113.66'));
    expect(result).toMatchObject({ status: 'unknown', evidence: 'rate-limited, retry after 2026-11-28T10:00:00.000Z' });
    expect(requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('a refused key is misconfigured, names the setting, and is neither retried nor cached', async () => {
    route('virustotal', '/api/v3/ip_addresses/203.0.113.66', { status: 401, body: '{"error":{"code":"WrongCredentialsError","message":"Wrong API key"}}' });
    route('otx', '/api/v1/indicators/IPv4/203.0.113.66/general', { status: 403, body: '{"detail":"Authentication required"}' });
    const run = runner([settingsFor('virustotal'), settingsFor('otx', { keySetting: 'intel.providers.otx.apiKey' })]);
    const results = await run.check(ip('203.0.113.66'));
    expect(results).toEqual([
      { source: 'virustotal', status: 'misconfigured', evidence: 'the API key was refused (HTTP 401): check intel.providers.virustotal.key' },
      { source: 'otx', status: 'misconfigured', evidence: 'the API key was refused (HTTP 403): check intel.providers.otx.apiKey' },
    ]);
    expect(requests).toHaveLength(2);
    await run.check(ip('203.0.113.66'));
    expect(requests).toHaveLength(4);
  });

  it('a 5xx is unknown with the reason, never not-listed', async () => {
    route('greynoise', '/v3/community/203.0.113.66', { status: 503, body: '{"message":"maintenance"}' });
    expect(await checkOne('greynoise', ip('203.0.113.66'))).toEqual({ source: 'greynoise', status: 'unknown', evidence: 'the provider failed: HTTP 503' });
  });

  it('a refused connection is unknown', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await checkOne('virustotal', ip('203.0.113.66'), { baseUrl: `http://127.0.0.1:${port}` });
    expect(result).toMatchObject({ status: 'unknown', evidence: expect.stringMatching(/^request failed: .*ECONNREFUSED/) });
  });

  it('a provider that does not answer in time is unknown', async () => {
    route('otx', '/api/v1/indicators/IPv4/203.0.113.66/general', { hang: true });
    const started = Date.now();
    const [result] = await runner([settingsFor('otx')], { timeoutMs: 300 }).check(ip('203.0.113.66'));
    expect(result).toMatchObject({ status: 'unknown', evidence: 'no answer within 0.3 s' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('an answer of the wrong shape is unknown', async () => {
    route('abuseipdb', abusePath('192.0.2.10'), { body: '{"data":{}}' });
    route('otx', '/api/v1/indicators/IPv4/192.0.2.10/general', { body: 'not json' });
    const results = await runner([settingsFor('abuseipdb'), settingsFor('otx')]).check(ip('192.0.2.10'));
    expect(results.map((r) => r.status)).toEqual(['unknown', 'unknown']);
    expect(results[0]!.evidence).toMatch(/unreadable answer/);
  });
});
