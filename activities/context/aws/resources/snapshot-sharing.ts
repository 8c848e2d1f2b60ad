// Whether a snapshot or image is public, from whom it is shared with: everyone (EC2's group `all`,
// RDS's `all`) or an account outside the accounts Vigil covers is public; accounts of the
// organisation (and the owner itself) are not. The sharing attribute read again is the whole proof:
// nothing of the data is ever read.
import { plural } from './reading';

export interface Sharing {
  /** Shared with every AWS account. */
  everyone: boolean;
  /** Account ids it is shared with. */
  accounts: readonly string[];
  /** Organisations or units it is shared with (AMIs only), by ARN. */
  organizations?: readonly string[];
}

export interface SharingVerdict {
  public: boolean;
  reasons: string[];
  /** `everyone`, account ids and organisation ARNs, for the facts (empty when not shared). */
  sharedWith: string[];
}

/**
 * The verdict for one snapshot or image. `attribute` names where everyone is granted
 * (`createVolumePermission group all`, `restore attribute all`); `own` are the accounts Vigil covers.
 */
export function judgeSharing(sharing: Sharing, attribute: string, own: ReadonlySet<string>): SharingVerdict {
  const foreign = sharing.accounts.filter((account) => !own.has(account));
  const inside = sharing.accounts.filter((account) => own.has(account));
  const organizations = sharing.organizations ?? [];
  const reasons = [
    ...(sharing.everyone ? [`shared with everyone (${attribute})`] : []),
    ...foreign.map((account) => `shared with account ${account}, not one Vigil covers`),
  ];
  const sharedWith = [...(sharing.everyone ? ['everyone'] : []), ...sharing.accounts, ...organizations];
  if (reasons.length > 0) return { public: true, reasons, sharedWith };
  const privately = [
    ...(inside.length > 0 ? [`shared with ${plural(inside.length, 'account')} Vigil covers`] : []),
    // An organisation or unit ARN: AWS only lets an owner share with its own organisation.
    ...organizations.map((arn) => `shared with the organisation or unit ${arn}`),
  ];
  return { public: false, reasons: privately.length > 0 ? privately : ['not shared'], sharedWith };
}

/** The accounts counting as ours: the ones Vigil covers, and the owner itself. */
export const ownAccountsWith = (own: ReadonlySet<string>, account: string): ReadonlySet<string> => new Set([...own, account]);
