// Whether an OpenSearch domain's access policy lets anyone on the internet in. Pure, over the
// policy text the service returns. A statement opens the domain when it allows everyone (`*`,
// `{"AWS": "*"}`) with no condition, or with only source-address conditions that include an
// internet-wide range; any other condition (an account, a VPC endpoint, a narrow range) is taken
// as restricting who gets in.
import { isInternetWide } from '../../../../lib/internet';

interface Statement {
  Effect?: string;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

const everyone = (principal: unknown) =>
  principal === '*' || (typeof principal === 'object' && principal !== null && asList((principal as Record<string, unknown>).AWS).includes('*'));

/** The internet-wide ranges of an address-only condition; undefined when the condition restricts anything else. */
function openRanges(condition: Statement['Condition']): string[] | undefined {
  if (!condition) return [];
  const ranges: string[] = [];
  for (const [operator, keys] of Object.entries(condition)) {
    if (operator !== 'IpAddress') return undefined;
    for (const [key, values] of Object.entries(keys)) {
      if (key.toLowerCase() !== 'aws:sourceip') return undefined;
      const wide = asList(values).filter((value): value is string => typeof value === 'string' && isInternetWide(value));
      if (wide.length === 0) return undefined;
      ranges.push(...wide);
    }
  }
  return ranges;
}

/**
 * Why the policy lets everyone in (`the access policy allows everyone`, `… from 0.0.0.0/0`), or
 * undefined when it lets no one in anonymously (or cannot be read as JSON).
 */
export function openPolicyReason(policy: string | undefined): string | undefined {
  let statements: Statement[];
  try {
    statements = asList((JSON.parse(policy ?? '') as { Statement?: unknown }).Statement) as Statement[];
  } catch {
    return undefined;
  }
  for (const statement of statements) {
    if (statement?.Effect !== 'Allow' || !everyone(statement.Principal)) continue;
    const ranges = openRanges(statement.Condition);
    if (ranges) return ranges.length > 0 ? `the access policy allows everyone from ${ranges.join(', ')}` : 'the access policy allows everyone';
  }
  return undefined;
}
