// The two log sources Vigil reads. A rule for anything else (Azure, M365, Okta, a category such
// as process_creation) could never see its events here, so it is skipped, saying so.
import type { SigmaLogsource } from './index';
import { Unsupported, isRecord } from './unsupported';

const readLogsources: Record<SigmaLogsource, { product: string; service: string }> = {
  'aws-cloudtrail': { product: 'aws', service: 'cloudtrail' },
  'gcp-audit': { product: 'gcp', service: 'gcp.audit' },
};

const described = (fields: Record<string, unknown>) =>
  ['category', 'product', 'service']
    .filter((key) => fields[key] !== undefined && fields[key] !== null)
    .map((key) => `${key}: ${String(fields[key])}`)
    .join(', ');

const known = Object.values(readLogsources)
  .map((logsource) => described(logsource))
  .join(' or ');

/** Which of Vigil's sources a rule's `logsource` is (its `definition` and custom keys are notes). */
export function logsourceOf(logsource: unknown): SigmaLogsource {
  if (!isRecord(logsource)) throw new Unsupported('the rule has no logsource');
  const wanted = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value);
  for (const [name, { product, service }] of Object.entries(readLogsources)) {
    if (logsource.category == null && wanted(logsource.product) === product && wanted(logsource.service) === service) return name as SigmaLogsource;
  }
  throw new Unsupported(`logsource ${described(logsource) || 'without category, product or service'} is not one Vigil reads (it reads ${known})`);
}
