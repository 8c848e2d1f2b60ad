// The provider runner: which providers run, keys, cache, daily quota, rate limits and failures,
// with a few providers as examples. What each provider makes of its API's answers is in
// intel-provider-cases.test.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProviderRunnerOptions } from '../../activities/intel/provider-runner';
import type { ActorTarget } from '../../activities/intel/types';
import { closedPort } from '../helpers/loopback';
import { checkedRunner, testKey, useProviderApis, type Reply } from '../helpers/intel-providers';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, '../fixtures/intel/providers', name), 'utf8');

const apis = useProviderApis();
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const runner = (providers: ProviderRunnerOptions['providers'], extra: Omit<ProviderRunnerOptions, 'dir' | 'providers'> = {}) => checkedRunner({ dir: apis.cacheDir, providers, ...extra });

const ip = (value: string): ActorTarget => ({ kind: 'ip', value });
const domain = (value: string): ActorTarget => ({ kind: 'domain', value });
const abusePath = (address: string) => `/api/v2/check?ipAddress=${encodeURIComponent(address)}&maxAgeInDays=90`;

/**
 * A fetch answering from `replies` in order (the last one repeating) and noting the clock at each
 * call. With vitest's fake clock, waits show as exact clock distances instead of elapsed time.
 */
function scriptedFetch(...replies: Reply[]) {
  const calledAt: number[] = [];
  const fetch: typeof globalThis.fetch = async () => {
    calledAt.push(Date.now());
    const reply = replies.length > 1 ? replies.shift()! : replies[0]!;
    return new Response(reply.body, { status: reply.status ?? 200, headers: reply.headers });
  };
  return { fetch, calledAt };
}

/** Fakes the clock and its timers from `start`; the runner must be created after this. */
function fakeClock(start: string) {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.parse(start) });
}

/** File work in flight (the runner's cache and quota files), which a jump of the clock must not overtake. */
const fileWorkPending = () => process.getActiveResourcesInfo().some((type) => type.startsWith('FSReq') || type === 'CloseReq');

/**
 * Settles `work` on the fake clock: whenever nothing but timers is left to wait for, the clock jumps
 * to the next one, so it moves exactly as far as the runner chose to wait.
 */
async function settle<T>(work: Promise<T>): Promise<T> {
  let settled = false;
  const watched = work.finally(() => {
    settled = true;
  });
  while (!settled) {
    await new Promise((resolve) => setImmediate(resolve));
    if (!settled && !fileWorkPending()) await vi.advanceTimersToNextTimerAsync();
  }
  return watched;
}

describe('which providers run', () => {
  it('disabled providers return nothing; domains go only to providers that take them', async () => {
    apis.route('virustotal', '/api/v3/domains/www.example.com', { body: fixture('virustotal/domain-clean.json') });
    apis.route('otx', '/api/v1/indicators/domain/www.example.com/general', { body: fixture('otx/domain-mentioned.json') });
    const results = await runner([apis.settings('abuseipdb'), apis.settings('virustotal'), apis.settings('otx', { enabled: false })]).check(domain('www.example.com'));
    expect(results.map((r) => r.source)).toEqual(['virustotal']);
    expect(apis.requests.map((r) => r.url)).toEqual(['/virustotal/api/v3/domains/www.example.com']);
  });
});

describe('keys', () => {
  it('gives each provider its own key', async () => {
    apis.route('abuseipdb', abusePath('192.0.2.10'), { body: fixture('abuseipdb/clean.json') });
    apis.route('virustotal', '/api/v3/ip_addresses/192.0.2.10', { body: fixture('virustotal/ip-suspicious.json') });
    const results = await runner([apis.settings('abuseipdb'), apis.settings('virustotal')]).check(ip('192.0.2.10'));
    expect(results.map((r) => r.status)).toEqual(['not-listed', 'listed']);
    const headersOf = (provider: string) => apis.requests.find((r) => r.url.startsWith(`/${provider}/`))!.headers;
    expect(headersOf('abuseipdb').key).toBe(testKey('abuseipdb'));
    expect(headersOf('virustotal')['x-apikey']).toBe(testKey('virustotal'));
    expect(JSON.stringify(headersOf('abuseipdb'))).not.toContain(testKey('virustotal'));
    expect(JSON.stringify(headersOf('virustotal'))).not.toContain(testKey('abuseipdb'));
  });

  it('a key echoed back by an API is blanked out of the result', async () => {
    const echoed = JSON.parse(fixture('abuseipdb/malicious.json'));
    echoed.data.isp = `ISP ${testKey('abuseipdb')}`;
    apis.route('abuseipdb', abusePath('203.0.113.66'), { body: JSON.stringify(echoed) });
    const result = await apis.checkOne('abuseipdb', ip('203.0.113.66'));
    expect(JSON.stringify(result)).not.toContain(testKey('abuseipdb'));
    expect(result.evidence).toContain('ISP [redacted]');
  });
});

describe('cache', () => {
  it('answers from disk within the TTL with the original fetchedAt, and asks again after it', async () => {
    let clock = Date.parse('2026-11-28T09:00:00Z');
    apis.route('virustotal', '/api/v3/ip_addresses/203.0.113.66', { body: fixture('virustotal/ip-malicious.json') });
    const settings = [apis.settings('virustotal', { ttlMs: 60 * 60 * 1000 })];
    const first = await runner(settings, { now: () => clock }).check(ip('203.0.113.66'));
    expect(first[0]!.fetchedAt).toBe('2026-11-28T09:00:00.000Z');

    clock += 59 * 60 * 1000;
    // A new runner: the cache is on disk, not in memory.
    const second = await runner(settings, { now: () => clock }).check(ip('203.0.113.66'));
    expect(second).toEqual(first);
    expect(apis.requests).toHaveLength(1);

    clock += 2 * 60 * 1000;
    const third = await runner(settings, { now: () => clock }).check(ip('203.0.113.66'));
    expect(third[0]!.fetchedAt).toBe('2026-11-28T10:01:00.000Z');
    expect(apis.requests).toHaveLength(2);
  });

  it('does not cache failures', async () => {
    apis.route('shodan-internetdb', '/192.0.2.10', { status: 500, body: '{}' }, { body: fixture('shodan-internetdb/plain.json') });
    const run = runner([apis.settings('shodan-internetdb')]);
    expect((await run.check(ip('192.0.2.10')))[0]).toMatchObject({ status: 'unknown' });
    expect((await run.check(ip('192.0.2.10')))[0]).toMatchObject({ status: 'not-listed' });
    expect(apis.requests).toHaveLength(2);
  });
});

describe('daily quota', () => {
  it('is counted on disk, survives a new runner, and resets the next UTC day', async () => {
    let clock = Date.parse('2026-11-28T09:00:00Z');
    for (const address of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) apis.route('shodan-internetdb', `/${address}`, { body: fixture('shodan-internetdb/plain.json') });
    const settings = [apis.settings('shodan-internetdb', { dailyQuota: 2 })];
    const first = runner(settings, { now: () => clock });
    await first.check(ip('192.0.2.1'));
    await first.check(ip('192.0.2.2'));
    const spent = await first.check(ip('192.0.2.3'));
    expect(spent[0]).toMatchObject({ status: 'unknown', evidence: 'daily quota of 2 spent, resets at 2026-11-29T00:00:00.000Z' });

    const restarted = await runner(settings, { now: () => clock }).check(ip('192.0.2.3'));
    expect(restarted[0]).toMatchObject({ status: 'unknown', evidence: expect.stringContaining('daily quota of 2 spent') });
    expect(apis.requests).toHaveLength(2);

    // Cached answers still come back while the quota is spent.
    expect((await runner(settings, { now: () => clock }).check(ip('192.0.2.1')))[0]).toMatchObject({ status: 'not-listed' });

    clock = Date.parse('2026-11-29T00:00:01Z');
    expect((await runner(settings, { now: () => clock }).check(ip('192.0.2.3')))[0]).toMatchObject({ status: 'not-listed' });
    expect(apis.requests).toHaveLength(3);
  });
});

describe('rate limits and failures', () => {
  it('spaces requests to the configured rate per minute', async () => {
    fakeClock('2026-11-28T09:00:00Z');
    const { fetch, calledAt } = scriptedFetch({ body: fixture('shodan-internetdb/plain.json') });
    const run = runner([apis.settings('shodan-internetdb', { ratePerMinute: 120 })], { fetch });
    const results = await settle(Promise.all([run.check(ip('192.0.2.1')), run.check(ip('192.0.2.2'))]));
    expect(results.flat().map((r) => r.status)).toEqual(['not-listed', 'not-listed']);
    expect(calledAt.map((at) => at - calledAt[0]!)).toEqual([0, 500]);
  });

  it('waits out a short Retry-After and tries once more', async () => {
    fakeClock('2026-11-28T09:00:00Z');
    const { fetch, calledAt } = scriptedFetch(
      { status: 429, headers: { 'retry-after': '1' }, body: '{"errors":[{"detail":"Too Many Requests","status":429}]}' },
      { body: fixture('abuseipdb/malicious.json') },
    );
    const [result] = await settle(runner([apis.settings('abuseipdb')], { fetch }).check(ip('203.0.113.66')));
    expect(result).toMatchObject({ status: 'listed', verdict: 'malicious' });
    expect(calledAt.map((at) => at - calledAt[0]!)).toEqual([0, 1000]);
  });

  it('reports a long Retry-After as unknown without waiting', async () => {
    fakeClock('2026-11-28T09:00:00Z');
    const { fetch, calledAt } = scriptedFetch({ status: 429, headers: { 'retry-after': '3600' }, body: '{"error":{"code":"QuotaExceededError","message":"Quota exceeded"}}' });
    const [result] = await settle(runner([apis.settings('virustotal')], { fetch }).check(ip('203.0.113.66')));
    expect(result).toMatchObject({ status: 'unknown', evidence: 'rate-limited, retry after 2026-11-28T10:00:00.000Z' });
    expect(calledAt).toHaveLength(1);
    expect(new Date().toISOString()).toBe('2026-11-28T09:00:00.000Z');
  });

  it('a refused key is misconfigured, names the setting, and is neither retried nor cached', async () => {
    apis.route('virustotal', '/api/v3/ip_addresses/203.0.113.66', { status: 401, body: '{"error":{"code":"WrongCredentialsError","message":"Wrong API key"}}' });
    apis.route('otx', '/api/v1/indicators/IPv4/203.0.113.66/general', { status: 403, body: '{"detail":"Authentication required"}' });
    const run = runner([apis.settings('virustotal'), apis.settings('otx', { keySetting: 'intel.providers.otx.apiKey' })]);
    const results = await run.check(ip('203.0.113.66'));
    expect(results).toEqual([
      { source: 'virustotal', status: 'misconfigured', evidence: 'the API key was refused (HTTP 401): check intel.providers.virustotal.key' },
      { source: 'otx', status: 'misconfigured', evidence: 'the API key was refused (HTTP 403): check intel.providers.otx.apiKey' },
    ]);
    expect(apis.requests).toHaveLength(2);
    await run.check(ip('203.0.113.66'));
    expect(apis.requests).toHaveLength(4);
  });

  it('a 5xx is unknown with the reason, never not-listed', async () => {
    apis.route('greynoise', '/v3/community/203.0.113.66', { status: 503, body: '{"message":"maintenance"}' });
    expect(await apis.checkOne('greynoise', ip('203.0.113.66'))).toEqual({ source: 'greynoise', status: 'unknown', evidence: 'the provider failed: HTTP 503' });
  });

  it('a refused connection is unknown', async () => {
    const result = await apis.checkOne('virustotal', ip('203.0.113.66'), { baseUrl: `http://127.0.0.1:${await closedPort()}` });
    expect(result).toMatchObject({ status: 'unknown', evidence: expect.stringMatching(/^request failed: .*ECONNREFUSED/) });
  });

  it('a provider that does not answer in time is unknown', async () => {
    apis.route('otx', '/api/v1/indicators/IPv4/203.0.113.66/general', { hang: true });
    const timeouts = vi.spyOn(AbortSignal, 'timeout');
    const signals: unknown[] = [];
    const fetch: typeof globalThis.fetch = (input, init) => {
      signals.push(init?.signal);
      return globalThis.fetch(input, init);
    };
    const [result] = await runner([apis.settings('otx')], { timeoutMs: 300, fetch }).check(ip('203.0.113.66'));
    expect(result).toMatchObject({ status: 'unknown', evidence: 'no answer within 0.3 s' });
    // The request itself carried the 300 ms bound (the proof that it cannot hang longer).
    expect(timeouts.mock.calls).toEqual([[300]]);
    expect(signals).toHaveLength(1);
    expect(signals[0]).toBe(timeouts.mock.results[0]!.value);
  });
});
