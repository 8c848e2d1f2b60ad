// AbuseIPDB: community abuse reports, summarised as a 0-100 confidence score.
// https://docs.abuseipdb.com/#check-endpoint
import type { SourceResult } from '../types';
import { HOUR_MS, type ProviderDefinition } from './definition';
import { asObject, getJson, numberOr, UnreadableAnswerError } from './http';

/** Thresholds on abuseConfidenceScore; the score is AbuseIPDB's own, so we only bucket it. */
const MALICIOUS_SCORE = 75;
const SUSPICIOUS_SCORE = 25;
const MAX_AGE_DAYS = 90;

export const abuseipdb: ProviderDefinition = {
  name: 'abuseipdb',
  description: 'AbuseIPDB: abuse reports from its community, as a confidence score',
  key: 'required',
  targets: ['ip'],
  defaultBaseUrl: 'https://api.abuseipdb.com',
  defaultRatePerMinute: 30,
  defaultDailyQuota: 1000,
  defaultTtlMs: 24 * HOUR_MS,
  cost: 'free account key; 1,000 checks a day on the free plan',

  async lookup(target, context): Promise<SourceResult> {
    const query = new URLSearchParams({ ipAddress: target.value, maxAgeInDays: String(MAX_AGE_DAYS) });
    const { body } = await getJson(context, `/api/v2/check?${query}`, { Key: context.key ?? '' });
    const data = asObject(asObject(body, 'an object').data, 'a `data` object');
    const score = numberOr(data.abuseConfidenceScore, Number.NaN);
    if (Number.isNaN(score)) throw new UnreadableAnswerError('the answer has no abuseConfidenceScore');
    const reports = numberOr(data.totalReports, 0);
    const details = {
      abuseConfidenceScore: score,
      totalReports: reports,
      numDistinctUsers: data.numDistinctUsers,
      isp: data.isp,
      countryCode: data.countryCode,
      usageType: data.usageType,
      domain: data.domain,
      isTor: data.isTor,
      isWhitelisted: data.isWhitelisted,
      lastReportedAt: data.lastReportedAt,
    };
    const about = [data.isp, data.countryCode, data.usageType, data.isTor === true ? 'Tor' : undefined]
      .filter((part): part is string => typeof part === 'string' && part !== '')
      .join(', ');
    const summary = `abuse confidence ${score}% from ${reports} report${reports === 1 ? '' : 's'} in ${MAX_AGE_DAYS} days${about ? ` (${about})` : ''}`;

    if (score >= MALICIOUS_SCORE) return { source: 'abuseipdb', status: 'listed', verdict: 'malicious', evidence: summary, details };
    if (score >= SUSPICIOUS_SCORE) return { source: 'abuseipdb', status: 'listed', verdict: 'suspicious', evidence: summary, details };
    return { source: 'abuseipdb', status: 'not-listed', evidence: summary, details };
  },
};
