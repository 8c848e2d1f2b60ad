// GreyNoise Community API: is this IP scanning the internet, or a known business service (RIOT)?
// https://docs.greynoise.io/reference/getcommunityip
import type { SourceResult } from '../types';
import { HOUR_MS, type ProviderDefinition } from './definition';
import { asObject, getJson, segment, UnreadableAnswerError } from './http';

export const greynoise: ProviderDefinition = {
  name: 'greynoise',
  description: 'GreyNoise Community: internet scanners and common business services (RIOT)',
  key: 'optional',
  targets: ['ip'],
  defaultBaseUrl: 'https://api.greynoise.io',
  defaultRatePerMinute: 10,
  defaultDailyQuota: 50,
  defaultTtlMs: 24 * HOUR_MS,
  cost: 'no key needed (a free community key is optional); about 50 lookups a day per address',

  async lookup(target, context): Promise<SourceResult> {
    const headers: Record<string, string> = context.key ? { key: context.key } : {};
    const { status, body } = await getJson(context, `/v3/community/${segment(target.value)}`, headers, { allowNotFound: true });
    const answer = asObject(body, 'an object');
    if (status === 404) {
      // Only GreyNoise's own "not observed" answer counts: a 404 from a wrong base URL must not
      // read as "clean".
      if (typeof answer.message !== 'string') throw new UnreadableAnswerError('a 404 without GreyNoise’s message');
      return { source: 'greynoise', status: 'not-listed', evidence: 'not observed scanning the internet, not a known business service', details: { message: answer.message } };
    }

    const name = typeof answer.name === 'string' && answer.name !== 'unknown' ? answer.name : undefined;
    const lastSeen = typeof answer.last_seen === 'string' ? answer.last_seen : undefined;
    const details = { noise: answer.noise, riot: answer.riot, classification: answer.classification, name: answer.name, lastSeen, link: answer.link };
    const seen = lastSeen ? `, last seen ${lastSeen}` : '';
    const named = name ? ` (${name})` : '';

    if (answer.classification === 'malicious') {
      return { source: 'greynoise', status: 'listed', verdict: 'malicious', evidence: `classified malicious by GreyNoise${named}${seen}`, details };
    }
    if (answer.riot === true) {
      return { source: 'greynoise', status: 'listed', verdict: 'known-benign', evidence: `common business service${named}`, details };
    }
    if (answer.classification === 'benign') {
      return { source: 'greynoise', status: 'listed', verdict: 'known-benign', evidence: `benign scanner${named}${seen}`, details };
    }
    // Seen scanning with no known intent: scanning the internet is itself a reason to look closer.
    if (answer.noise === true) {
      return { source: 'greynoise', status: 'listed', verdict: 'suspicious', evidence: `scans the internet, intent unknown${named}${seen}`, details };
    }
    return { source: 'greynoise', status: 'not-listed', evidence: 'not observed scanning the internet, not a known business service', details };
  },
};
