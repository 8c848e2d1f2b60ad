// VirusTotal v3: what the antivirus and URL-scanning engines last said of an IP or a domain.
// https://docs.virustotal.com/reference/ip-info, https://docs.virustotal.com/reference/domain-info
import type { SourceResult } from '../types';
import { HOUR_MS, type ProviderDefinition } from './definition';
import { asObject, getJson, numberOr, segment, UnreadableAnswerError } from './http';

/** A single engine flags plenty of clean addresses; three agreeing is a real signal. */
const MALICIOUS_ENGINES = 3;

export const virustotal: ProviderDefinition = {
  name: 'virustotal',
  description: 'VirusTotal: verdicts of its scanning engines on an IP address or domain',
  key: 'required',
  targets: ['ip', 'domain'],
  defaultBaseUrl: 'https://www.virustotal.com',
  defaultRatePerMinute: 4,
  defaultDailyQuota: 500,
  defaultTtlMs: 24 * HOUR_MS,
  cost: 'free account key; public API 4 requests a minute, 500 a day, non-commercial use only',

  async lookup(target, context): Promise<SourceResult> {
    const collection = target.kind === 'ip' ? 'ip_addresses' : 'domains';
    const { status, body } = await getJson(context, `/api/v3/${collection}/${segment(target.value)}`, { 'x-apikey': context.key ?? '' }, { allowNotFound: true });
    const answer = asObject(body, 'an object');
    if (status === 404) {
      const error = asObject(answer.error, 'an `error` object');
      if (error.code !== 'NotFoundError') throw new UnreadableAnswerError('a 404 that is not VirusTotal’s NotFoundError');
      return { source: 'virustotal', status: 'not-listed', evidence: `unknown to VirusTotal` };
    }

    const attributes = asObject(asObject(answer.data, 'a `data` object').attributes, '`data.attributes`');
    const stats = asObject(attributes.last_analysis_stats, '`last_analysis_stats`');
    const malicious = numberOr(stats.malicious, 0);
    const suspicious = numberOr(stats.suspicious, 0);
    const engines = Object.values(stats).reduce<number>((sum, count) => sum + numberOr(count, 0), 0);
    const details = { lastAnalysisStats: stats, reputation: attributes.reputation, asOwner: attributes.as_owner, country: attributes.country };
    const evidence = `${malicious} of ${engines} engines say malicious, ${suspicious} suspicious`;

    if (malicious >= MALICIOUS_ENGINES) return { source: 'virustotal', status: 'listed', verdict: 'malicious', evidence, details };
    if (malicious > 0 || suspicious > 0) return { source: 'virustotal', status: 'listed', verdict: 'suspicious', evidence, details };
    return { source: 'virustotal', status: 'not-listed', evidence, details };
  },
};
