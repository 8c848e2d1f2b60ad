// Insights rules: CloudTrail Insights events, CloudTrail's own notice of unusual API call or error rates.
import { str } from '../../util';
import { at, insightAttributions, isInsight, short } from '../record';
import type { CloudTrailRule, RuleMatch } from './common';

const insightTypes: Record<string, string> = {
  ApiCallRateInsight: 'API call rate',
  ApiErrorRateInsight: 'API error rate',
};

const insight: CloudTrailRule = {
  id: 'cloudtrail-insight',
  description: 'CloudTrail Insights event (Start or End of unusual API call or error rates)',
  kind: 'actor',
  severity: 'medium',
  match(record): RuleMatch | undefined {
    if (!isInsight(record)) return undefined;
    const details = record.insightDetails;
    const state = str(at(details, 'state'));
    const type = str(at(details, 'insightType'));
    const service = str(at(details, 'eventSource'))?.replace(/\.amazonaws\.com$/, '');
    const api = [service, str(at(details, 'eventName'))].filter(Boolean).join(':') || 'unknown API';
    const what = (type && insightTypes[type]) ?? type ?? 'activity';
    const statistics = at(details, 'insightContext', 'statistics');
    const average = (of: string) => str(at(statistics, of, 'average')) ?? '?';
    const shared = str(record.sharedEventID);
    const minutes = str(at(statistics, 'insightDuration'));
    return {
      title: `CloudTrail Insight ${state === 'End' ? 'ended' : 'started'}: unusual ${what} of ${short(api)}`,
      resources: [],
      // Start and End share sharedEventID: the End lands on the Start's investigation, as its resolution.
      fingerprint: shared ? `cloudtrail:insight:${shared}` : undefined,
      ...(state === 'End' ? { resolution: `CloudTrail Insights state End${minutes ? ` after ${minutes} minutes` : ''}` } : {}),
      details: [
        `State: ${state ?? 'not recorded'}`,
        `Average per minute: ${average('baseline')} usually, ${average('insight')} during the insight`,
        ...insightAttributions(record, 'userIdentityArn').map((arn) => `Caller behind it: ${arn}`),
        ...insightAttributions(record, 'errorCode').map((code) => `Error code: ${code}`),
      ],
    };
  },
};

export const insightsRules: readonly CloudTrailRule[] = [insight];
