// The accounts the AWS inventory reads: the hand-listed ones (inventory.aws.accounts) and those the
// organisation holds (inventory.aws.organization), as the last discovery found them.
//
// Each worker process keeps its own copy. The discovery activity (run on a schedule by whichever
// worker takes it) refreshes the copy of that worker; any other worker that meets an account it does
// not hold (an alert, a re-scan) lists the organisation's accounts again, at most once per
// `membershipTtlMs` and never twice at once, so that an alert storm does not call Organizations per
// alert. An account found that way is read in the alert's region, or in each region it has enabled.
import type { EC2Client } from '@aws-sdk/client-ec2';
import { mapConcurrent } from '../../../lib/concurrency';
import type { CoverageGap, CoverageReport, CoveredAccount } from '../types';
import { checkAccount, enabledRegions, type AccountCheck } from './coverage';
import { refusalName } from './errors';
import { createOrganizationReader, type OrganizationMember } from './organization';
import type { AwsAccount, AwsInventoryOptions } from './inventory';
import type { AwsInventorySettings } from '.';

export interface CoveredEntry {
  account: AwsAccount;
  name?: string;
  /** Listed by the organisation (not hand-listed): read through the organisation's role, in its enabled regions. */
  discovered: boolean;
  /** The regions read: hand-listed, or found by the last discovery; unknown until then for a discovered account. */
  regions?: readonly string[];
}

// Accounts checked at once by a discovery (each reads its regions a few at a time).
const ACCOUNT_CONCURRENCY = 8;
const DEFAULT_MEMBERSHIP_TTL_MS = 5 * 60_000;

/** The fingerprintable place of the organisation itself, when its accounts cannot be listed. */
export const ORGANIZATION_GAP_ACCOUNT = 'organization';

export function createCoveredAccounts(settings: AwsInventorySettings, options: AwsInventoryOptions, clientFor: (account: AwsAccount, region: string) => EC2Client) {
  const organizationSettings = settings.organization;
  const organization = organizationSettings
    ? createOrganizationReader(organizationSettings, {
        maxAttempts: settings.maxAttempts,
        ...(organizationSettings.endpoint || settings.endpoint ? { endpoint: organizationSettings.endpoint ?? settings.endpoint } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      })
    : undefined;
  const membershipTtlMs = options.membershipTtlMs ?? DEFAULT_MEMBERSHIP_TTL_MS;
  const handListed = new Map<string, CoveredEntry>(
    settings.accounts.map((account) => [account.id, { account, discovered: false, regions: account.regions ?? settings.regions }]),
  );
  let discovered = new Map<string, CoveredEntry>();
  /** When each account was last read whole, for as long as this process lives. */
  const lastRead = new Map<string, string>();
  /** The last listing of the organisation's accounts (kept even when it failed: the bound holds either way). */
  let listing: { at: number; done: Promise<void> } | undefined;

  const roleName = organizationSettings?.roleName ?? settings.roleName;
  const memberEntry = (member: OrganizationMember, previous?: CoveredEntry): CoveredEntry => ({
    account: { id: member.id, roleArn: `arn:aws:iam::${member.id}:role/${roleName}`, useOwnCredentials: false },
    ...(member.name ? { name: member.name } : {}),
    discovered: true,
    ...(previous?.regions ? { regions: previous.regions } : {}),
  });

  /** The organisation's accounts replace the ones held, keeping the regions already known. */
  function holdMembers(members: readonly OrganizationMember[]): void {
    discovered = new Map(members.map((member) => [member.id, memberEntry(member, discovered.get(member.id))]));
  }

  /** Lists the organisation's accounts again unless a listing is under way or recent. */
  function refreshMembers(): Promise<void> {
    if (!organization) return Promise.resolve();
    if (listing && Date.now() - listing.at < membershipTtlMs) return listing.done;
    // A failure leaves the accounts held as they were; the next discovery says why.
    const done = organization.members().then(holdMembers, () => undefined);
    listing = { at: Date.now(), done };
    return done;
  }

  const held = (id: string) => handListed.get(id) ?? discovered.get(id);
  const homeRegionOf = (entry: CoveredEntry) => entry.regions?.[0] ?? organizationSettings?.regions?.[0] ?? settings.regions[0] ?? 'us-east-1';

  async function check(entry: CoveredEntry): Promise<AccountCheck> {
    return checkAccount({
      ec2: (region) => clientFor(entry.account, region),
      homeRegion: homeRegionOf(entry),
      enabledOnly: entry.discovered,
      ...(entry.discovered ? (organizationSettings?.regions ? { regions: organizationSettings.regions } : {}) : { regions: entry.regions ?? settings.regions }),
    });
  }

  function coveredAccount(entry: CoveredEntry, result: AccountCheck, now: string): CoveredAccount {
    const base = { provider: 'aws', id: entry.account.id, ...(entry.name ? { name: entry.name } : {}) };
    const reasons = result.reason ? [result.reason] : result.regionGaps.map((gap) => gap.reason);
    if (reasons.length === 0) lastRead.set(entry.account.id, now);
    const read = lastRead.get(entry.account.id);
    const state = result.reason ?? (result.regionGaps.length === 1 ? reasons[0]! : reasons.length > 1 ? `cannot read ${reasons.length} regions` : 'ok');
    return { ...base, state, ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}), ...(read ? { lastRead: read } : {}) };
  }

  return {
    /** Where an account must be to be read, for the problem that says it is not. */
    source: organization ? 'inventory.aws.accounts or inventory.aws.organization' : 'inventory.aws.accounts',

    /** The account as held; an account of the organisation not yet held is looked for (bounded). */
    async find(id: string): Promise<CoveredEntry | undefined> {
      const known = held(id);
      if (known || !organization) return known;
      await refreshMembers();
      return held(id);
    },

    notCovered: (id: string) =>
      organization
        ? `account ${id} is neither in inventory.aws.accounts nor an active account of the organisation that Vigil covers`
        : `account ${id} is not configured in inventory.aws.accounts`,

    /** The regions to read when the alert names none. */
    async regionsOf(entry: CoveredEntry): Promise<readonly string[]> {
      if (entry.regions) return entry.regions;
      const enabled = await enabledRegions(clientFor(entry.account, homeRegionOf(entry)));
      const regions = organizationSettings?.regions ? organizationSettings.regions.filter((region) => enabled.includes(region)) : enabled;
      entry.regions = regions;
      return regions;
    },

    /** `<account>/<region>` of every account held whose regions are known. */
    scopes: (): string[] =>
      [...handListed.values(), ...[...discovered.values()].filter((entry) => !handListed.has(entry.account.id))].flatMap((entry) =>
        (entry.regions ?? []).map((region) => `${entry.account.id}/${region}`),
      ),

    /** Lists the organisation's accounts, checks every account held, and holds what it found. */
    async discover(): Promise<CoverageReport> {
      const gaps: CoverageGap[] = [];
      if (organization) {
        const started = Date.now();
        try {
          const members = await organization.members();
          holdMembers(members);
          listing = { at: started, done: Promise.resolve() };
        } catch (err) {
          const name = refusalName(err);
          if (!name) throw err;
          // The accounts held before stay covered; the gap says the organisation cannot be listed.
          gaps.push({ provider: 'aws', account: ORGANIZATION_GAP_ACCOUNT, reason: `cannot list the organisation's accounts (${name})` });
        }
      }
      const entries = [...handListed.values(), ...[...discovered.values()].filter((entry) => !handListed.has(entry.account.id))];
      // A hand-listed account keeps its own settings, and takes its name from the organisation.
      for (const entry of handListed.values()) {
        const name = discovered.get(entry.account.id)?.name;
        if (name) entry.name = name;
      }
      const now = new Date().toISOString();
      const results = await mapConcurrent(entries, ACCOUNT_CONCURRENCY, check);
      const accounts = entries.map((entry, i) => {
        const result = results[i]!;
        // An account whose regions could not be listed keeps those found before.
        if (result.regions.length > 0 || !result.reason) entry.regions = result.regions;
        if (result.reason) gaps.push({ provider: 'aws', account: entry.account.id, reason: result.reason });
        for (const { region, reason } of result.regionGaps) gaps.push({ provider: 'aws', account: entry.account.id, region, reason });
        return coveredAccount(entry, result, now);
      });
      const scopes = entries.flatMap((entry) => (entry.regions ?? []).map((region) => `${entry.account.id}/${region}`));
      return { accounts, gaps, scopes };
    },
  };
}
