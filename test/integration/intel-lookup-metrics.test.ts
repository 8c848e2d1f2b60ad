// vigil_intel_lookups_total, by provider and result, from the provider runner against the loopback
// stand-in of the intelligence APIs: an answer, a spent daily quota, a rate limit, a failure.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ActorTarget } from '../../activities/intel/types';
import { registry } from '../../lib/metrics';
import { checkedRunner, useProviderApis } from '../helpers/intel-providers';
import { parseExposition, total } from '../helpers/prometheus';

const apis = useProviderApis();
const ip = (value: string): ActorTarget => ({ kind: 'ip', value });
const plain = readFileSync(path.join(import.meta.dirname, '../fixtures/intel/providers/shodan-internetdb/plain.json'), 'utf8');

const lookups = async (provider: string, result: string) => total(parseExposition(await registry.metrics()), 'vigil_intel_lookups_total', { provider, result });

describe('intel lookup metrics', () => {
  it('counts answers, a spent quota, a rate limit and a failure apart', async () => {
    apis.route('shodan-internetdb', '/192.0.2.1', { body: plain });
    apis.route('shodan-internetdb', '/192.0.2.3', { status: 500, body: '{}' });
    apis.route('abuseipdb', '/api/v2/check?ipAddress=203.0.113.66&maxAgeInDays=90', { status: 429, headers: { 'retry-after': '3600' }, body: '{}' });
    const shodan = checkedRunner({ dir: apis.cacheDir, providers: [apis.settings('shodan-internetdb', { dailyQuota: 2 })] });
    await shodan.check(ip('192.0.2.1'));
    await shodan.check(ip('192.0.2.3'));
    await shodan.check(ip('192.0.2.4'));
    await checkedRunner({ dir: apis.cacheDir, providers: [apis.settings('abuseipdb')] }).check(ip('203.0.113.66'));

    expect(await lookups('shodan-internetdb', 'not-listed')).toBe(1);
    expect(await lookups('shodan-internetdb', 'failed')).toBe(1);
    expect(await lookups('shodan-internetdb', 'quota')).toBe(1);
    expect(await lookups('abuseipdb', 'rate-limited')).toBe(1);
  });
});
