// AlienVault OTX: community "pulses" (threat reports) that mention an IP or a domain.
// https://otx.alienvault.com/api (indicators/{type}/{value}/general)
import { isIPv6 } from 'node:net';
import type { SourceResult } from '../types';
import { HOUR_MS, type ProviderDefinition } from './definition';
import { asObject, getJson, numberOr, segment, shortList, stringList } from './http';

/** Pulse tags that mean the indicator was reported as part of malware operations. */
const MALICIOUS_TAGS = new Set(['malware', 'botnet', 'c2', 'c&c', 'cnc']);
const NAMES_SHOWN = 3;

export const otx: ProviderDefinition = {
  name: 'otx',
  description: 'AlienVault OTX: community threat reports (pulses) naming the IP or domain',
  key: 'required',
  targets: ['ip', 'domain'],
  defaultBaseUrl: 'https://otx.alienvault.com',
  defaultRatePerMinute: 60,
  defaultDailyQuota: 10000,
  defaultTtlMs: 24 * HOUR_MS,
  cost: 'free account key; no tight published limit (Vigil caps itself at 60 a minute, 10,000 a day)',

  async lookup(target, context): Promise<SourceResult> {
    const section = target.kind === 'domain' ? 'domain' : isIPv6(target.value) ? 'IPv6' : 'IPv4';
    const { body } = await getJson(context, `/api/v1/indicators/${section}/${segment(target.value)}/general`, { 'X-OTX-API-KEY': context.key ?? '' });
    const pulseInfo = asObject(asObject(body, 'an object').pulse_info, 'a `pulse_info` object');
    const count = numberOr(pulseInfo.count, 0);
    const pulses = Array.isArray(pulseInfo.pulses) ? pulseInfo.pulses.map((pulse) => asObject(pulse, 'a pulse')) : [];
    const names = pulses.map((pulse) => pulse.name).filter((name): name is string => typeof name === 'string');
    const tags = [...new Set(pulses.flatMap((pulse) => stringList(pulse.tags).map((tag) => tag.toLowerCase())))];
    const details = { pulseCount: count, pulses: names.slice(0, 10), tags: tags.slice(0, 20) };

    if (count === 0) return { source: 'otx', status: 'not-listed', evidence: 'in no OTX pulse', details };
    const bad = tags.filter((tag) => MALICIOUS_TAGS.has(tag));
    const evidence = `in ${count} OTX pulse${count === 1 ? '' : 's'}${names.length ? `: ${shortList(names.map((n) => `“${n}”`), NAMES_SHOWN)}` : ''}${bad.length ? ` (tagged ${bad.join(', ')})` : ''}`;
    // Pulses mention plenty of shared infrastructure, so a mention alone is only suspicious.
    return { source: 'otx', status: 'listed', verdict: bad.length ? 'malicious' : 'suspicious', evidence, details };
  },
};
