// The issue of a coverage gap: a place an inventory should read and cannot. Names and reasons come
// from cloud APIs (an account's name is whatever its owner typed), so they reach the issue inert.
import { code, plainTitle } from '../../lib/markdown';
import type { CoverageGap } from '../context/types';

/**
 * One gap, one issue: `coverage/<provider>/<account>`, or `…/<account>/<region>` for one region. A
 * gap about the provider's hierarchy itself (an organisation that cannot be listed) has the account
 * `organization`.
 */
export const gapFingerprint = ({ provider, account, region }: Pick<CoverageGap, 'provider' | 'account' | 'region'>) =>
  `coverage/${provider}/${account}${region ? `/${region}` : ''}`;

const placeOf = ({ provider, account, region }: CoverageGap) => `${provider} ${account}${region ? ` ${region}` : ''}`;

export const gapTitle = (gap: CoverageGap) => plainTitle(`Coverage gap: ${placeOf(gap)}: ${gap.reason}`);

export function gapBody(gap: CoverageGap, workflowId: string): string {
  return [
    `Vigil cannot read ${gap.region ? `region ${code(gap.region)} of ` : ''}${code(`${gap.provider} ${gap.account}`)}: ${code(gap.reason)}.`,
    '',
    'Until this is fixed, alerts about it get no resource context (so their exposures cannot be confirmed by the inventory), and its re-scan finds nothing.',
    '',
    `- **Found by**: the inventory discovery, workflow ${code(workflowId)}`,
    '- **Closes by itself** when a later discovery reads it; it reopens if the gap comes back.',
    '',
    'docs/inventories.md lists the permissions each provider needs.',
  ].join('\n');
}

export const gapReturnedComment = (gap: CoverageGap, at: string) => `The gap is back (${code(at)}): ${code(gap.reason)}.`;

export const gapHealedComment = (at: string) => `Healed: the discovery of ${code(at)} read it. Closed by Vigil.`;
