// The issues of coverage gaps: places an inventory should read and cannot. One issue per account (or
// project, or organisational unit) that cannot be read at all, and one per account listing the
// regions of it that cannot be read: a service control policy that denies regions (Control Tower's
// region deny) makes one issue per account, not one per region. The title names the place only, so
// it never goes stale; the body says why now and is kept current. Names and reasons come from cloud
// APIs (an account's name is whatever its owner typed), so they reach the issue inert.
import { code, plainTitle } from '../../lib/markdown';
import type { CoverageGap } from '../context/types';

/** What the regions issue of an account adds to the account's fingerprint. */
const REGIONS = 'regions';

/**
 * `coverage/<provider>/<account>`, or `…/<account>/regions` for the regions of an account. A gap of
 * the provider's hierarchy itself (an organisation or unit that cannot be listed) has that place as
 * its account (`organization`, `ou-…`).
 */
export const gapFingerprint = (provider: string, account: string, regions = false) => `coverage/${provider}/${account}${regions ? `/${REGIONS}` : ''}`;

/** The place a gap issue's fingerprint names; `regions` also for the per-region issues of earlier versions (`…/<account>/<region>`). */
export function placeOf(fingerprint: string): { provider: string; account: string; regions: boolean } | undefined {
  const [kind, provider, ...rest] = fingerprint.split('/');
  if (kind !== 'coverage' || !provider || rest.length === 0) return undefined;
  // GCP's places hold slashes (`organizations/123`); AWS regions issues end in `/regions`, or a region.
  if (provider === 'aws' && rest.length === 2) return { provider, account: rest[0]!, regions: true };
  return { provider, account: rest.join('/'), regions: false };
}

/** One issue's worth: the gap of a whole place, or every region of an account that cannot be read. */
export interface GapIssue {
  fingerprint: string;
  title: string;
  body: string;
  /** The reason in one line, for the comments that say it changed or came back. */
  reason: string;
}

const placeText = (provider: string, account: string) => code(`${provider} ${account}`);

const AFTERWORD = [
  '',
  'Until this is fixed, alerts about it get no resource context (so their exposures cannot be confirmed by the inventory), and its re-scan finds nothing.',
  '',
  '- **Found by**: the inventory discovery (schedule `vigil-inventory-discovery`), which keeps this text current.',
  '- **Closes by itself** when a later discovery reads it, or once Vigil no longer covers it; it reopens if the gap comes back.',
  '',
  'docs/inventories.md lists the permissions each provider needs.',
];

function placeIssue(gap: CoverageGap): GapIssue {
  return {
    fingerprint: gapFingerprint(gap.provider, gap.account),
    title: plainTitle(`Coverage gap: ${gap.provider} ${gap.account}`),
    body: [`Vigil cannot read ${placeText(gap.provider, gap.account)}: ${code(gap.reason)}.`, ...AFTERWORD].join('\n'),
    reason: gap.reason,
  };
}

function regionsIssue(provider: string, account: string, gaps: readonly CoverageGap[]): GapIssue {
  const sorted = [...gaps].sort((a, b) => a.region!.localeCompare(b.region!));
  return {
    fingerprint: gapFingerprint(provider, account, true),
    title: plainTitle(`Coverage gap: regions of ${provider} ${account}`),
    body: [
      `Vigil cannot read ${sorted.length === 1 ? 'this region' : `these ${sorted.length} regions`} of ${placeText(provider, account)}:`,
      '',
      ...sorted.map((gap) => `- ${code(gap.region!)}: ${code(gap.reason)}`),
      ...AFTERWORD,
      '',
      'Regions a service control policy denies on purpose are left out with `inventory.aws.organization.regions`.',
    ].join('\n'),
    reason: sorted.map((gap) => gap.reason).join('; '),
  };
}

/** The issues a provider's gaps make: one per place that cannot be read, one per account with unreadable regions. */
export function gapIssues(gaps: readonly CoverageGap[]): GapIssue[] {
  const issues = gaps.filter((gap) => !gap.region).map(placeIssue);
  const byAccount = new Map<string, CoverageGap[]>();
  for (const gap of gaps) if (gap.region) byAccount.set(`${gap.provider}/${gap.account}`, [...(byAccount.get(`${gap.provider}/${gap.account}`) ?? []), gap]);
  for (const regional of byAccount.values()) issues.push(regionsIssue(regional[0]!.provider, regional[0]!.account, regional));
  return issues;
}

export const gapReturnedComment = (reason: string, at: string) => `The gap is back (${code(at)}): ${code(reason)}.`;

export const gapChangedComment = (reason: string, at: string) => `Changed (${code(at)}): now ${code(reason)}. The description above says it whole.`;

export const gapHealedComment = (at: string) => `Healed: the discovery of ${code(at)} read it. Closed by Vigil.`;

export const gapGoneComment = (at: string) =>
  `No longer covered: the discovery of ${code(at)} no longer finds this place among those Vigil reads (it left the organisation, was excluded, closed or deleted, or its region is no longer read). Closed by Vigil.`;
