// The accounts the AWS inventory reads: the hand-listed ones (inventory.aws.accounts) and those the
// organisation holds (inventory.aws.organization), as the last discovery found them.
//
// Each worker process keeps its own copy. The discovery activity (run on a schedule by whichever
// worker takes it) refreshes the copy of that worker; any other worker that meets an account it does
// not hold (an alert, a re-scan) lists the organisation's accounts again, at most once per
// `membershipTtlMs` and never twice at once, so that an alert storm does not call Organizations per
// alert. An account found that way is read in the alert's region, or in each region it has enabled.
//
// An organisation (or unit) that cannot be listed leaves the accounts held as they were, and a fresh
// process takes the re-scan scopes Temporal keeps (what earlier discoveries found) as the accounts it
// covers: a refusal during a deploy must not drop 850 re-scans. Such a report says it is incomplete.
import type { EC2Client } from '@aws-sdk/client-ec2';
import { mapConcurrent } from '../../../lib/concurrency';
import type { CoverageGap, CoverageReport, CoveredAccount } from '../types';
import { checkAccount, enabledRegions, type AccountCheck } from './coverage';
import { failureName, lastingListingFailure, noAnswerReason, type AwsEndpoint } from './errors';
import { createOrganizationReader, WHOLE_ORGANIZATION, type ListingFailure, type Membership, type OrganizationMember } from './organization';
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

/** Where a discovered account is first read (its enabled regions listed) unless organization.homeRegion says otherwise: no account can disable it. */
export const DEFAULT_HOME_REGION = 'us-east-1';

const accountOfScope = (scope: string) => scope.slice(0, scope.indexOf('/'));
const regionOfScope = (scope: string) => scope.slice(scope.indexOf('/') + 1);

/** What an account's check came to: its result, or the failure (no refusal) that left its state unknown this run. */
type Checked = { result: AccountCheck } | { failure: { name: string; reason: string } };

/** The name of a listing's failure to find any account (its units were listed all right). */
const NO_MEMBER = 'NoActiveAccount';

const listingReason = ({ place, name, reason }: ListingFailure) =>
  reason ??
  (place === WHOLE_ORGANIZATION ? `cannot list the organisation's accounts (${name})` : `cannot list the accounts of organisational unit ${place} (${name})`);

export function createCoveredAccounts(settings: AwsInventorySettings, options: AwsInventoryOptions, clientFor: (account: AwsAccount, region: string) => EC2Client) {
  const organizationSettings = settings.organization;
  const organization = organizationSettings
    ? createOrganizationReader(organizationSettings, {
        maxAttempts: settings.maxAttempts,
        ...(organizationSettings.endpoint || settings.endpoint ? { endpoint: organizationSettings.endpoint ?? settings.endpoint } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      })
    : undefined;
  // Where each call goes, for the failure that says nothing answered there.
  const organizationEndpoint: AwsEndpoint = {
    service: 'Organizations',
    setting: !organizationSettings?.endpoint && settings.endpoint ? 'inventory.aws.endpoint' : 'inventory.aws.organization.endpoint',
    ...(organizationSettings?.endpoint || settings.endpoint ? { url: organizationSettings?.endpoint ?? settings.endpoint } : {}),
  };
  const accountEndpoint: AwsEndpoint = { service: 'EC2 and STS', setting: 'inventory.aws.endpoint', ...(settings.endpoint ? { url: settings.endpoint } : {}) };
  const membershipTtlMs = options.membershipTtlMs ?? DEFAULT_MEMBERSHIP_TTL_MS;
  const handListed = new Map<string, CoveredEntry>(
    settings.accounts.map((account) => [account.id, { account, discovered: false, regions: account.regions ?? settings.regions }]),
  );
  let discovered = new Map<string, CoveredEntry>();
  /** When each account (and the organisation) was last read whole, for as long as this process lives. */
  const lastRead = new Map<string, string>();
  /** The last listing of the organisation's accounts (kept even when it failed: the bound holds either way). */
  let listing: { at: number; done: Promise<void> } | undefined;

  const roleName = organizationSettings?.roleName ?? settings.roleName;
  const excluded = new Set(organizationSettings?.exclude);
  const memberEntry = (member: OrganizationMember, previous?: CoveredEntry): CoveredEntry => ({
    account: { id: member.id, roleArn: `arn:aws:iam::${member.id}:role/${roleName}`, useOwnCredentials: false },
    ...(member.name ? { name: member.name } : {}),
    discovered: true,
    ...(previous?.regions ? { regions: previous.regions } : {}),
  });

  /**
   * The organisation's accounts replace the ones held, keeping the regions already known. A listing
   * with failures adds to them instead: an account of a unit that could not be listed may still be there.
   */
  function holdMembers({ members, failures }: Membership): void {
    const listed = new Map(members.map((member) => [member.id, memberEntry(member, discovered.get(member.id))]));
    discovered = failures.length === 0 ? listed : new Map([...discovered, ...listed]);
  }

  /** Lists the organisation's accounts again unless a listing is under way or recent. */
  function refreshMembers(): Promise<void> {
    if (!organization) return Promise.resolve();
    if (listing && Date.now() - listing.at < membershipTtlMs) return listing.done;
    // A failure leaves the accounts held as they were; the next discovery says why.
    const done = organization.members().then((membership) => holdMembers(withNoMember(membership)), () => undefined);
    listing = { at: Date.now(), done };
    return done;
  }

  const held = (id: string) => handListed.get(id) ?? discovered.get(id);
  /** Every account held, each once: hand-listed first (they keep their own settings), then the discovered ones. */
  const heldEntries = () => [...handListed.values(), ...[...discovered.values()].filter((entry) => !handListed.has(entry.account.id))];
  const scopesOf = (entries: readonly CoveredEntry[]) => entries.flatMap((entry) => (entry.regions ?? []).map((region) => `${entry.account.id}/${region}`));
  const homeRegionOf = (entry: CoveredEntry) =>
    entry.discovered ? (organizationSettings?.homeRegion ?? DEFAULT_HOME_REGION) : (entry.regions?.[0] ?? settings.regions[0] ?? DEFAULT_HOME_REGION);

  /**
   * The re-scan scopes Temporal keeps stand for what earlier discoveries found: an account held
   * without known regions takes them, and when the organisation could not be listed whole, an
   * account not held (a fresh process) is held from them.
   */
  function holdKnown(known: readonly string[], incomplete: boolean): void {
    const regions = new Map<string, string[]>();
    for (const scope of known) if (scope.includes('/')) regions.set(accountOfScope(scope), [...(regions.get(accountOfScope(scope)) ?? []), regionOfScope(scope)]);
    for (const [id, found] of regions) {
      const entry = held(id);
      if (entry) {
        entry.regions ??= found.sort();
      } else if (incomplete && !excluded.has(id)) {
        discovered.set(id, { ...memberEntry({ id }), regions: found.sort() });
      }
    }
  }

  async function check(entry: CoveredEntry): Promise<Checked> {
    try {
      return {
        result: await checkAccount({
          ec2: (region) => clientFor(entry.account, region),
          homeRegion: homeRegionOf(entry),
          enabledOnly: entry.discovered,
          ...(entry.discovered ? (organizationSettings?.regions ? { regions: organizationSettings.regions } : {}) : { regions: entry.regions ?? settings.regions }),
        }),
      };
    } catch (err) {
      // No refusal, and still failing after the SDK's retries: this account's state is unknown this
      // run (said on its row), not the whole discovery's failure.
      return { failure: { name: failureName(err), reason: noAnswerReason(err, accountEndpoint) } };
    }
  }

  function coveredAccount(entry: CoveredEntry, checked: Checked, now: string): CoveredAccount {
    const base = { provider: 'aws', id: entry.account.id, name: entry.name ?? null };
    const previous = () => lastRead.get(entry.account.id) ?? null;
    if ('failure' in checked) {
      const state = `not read this time (${checked.failure.name})`;
      return { ...base, state, reason: `${checked.failure.reason}: read again by the next discovery`, lastRead: previous() };
    }
    const { result } = checked;
    const reasons = result.reason ? [result.reason] : result.regionGaps.map((gap) => gap.reason);
    if (reasons.length === 0) lastRead.set(entry.account.id, now);
    const state = result.reason ?? (result.regionGaps.length === 1 ? reasons[0]! : reasons.length > 1 ? `cannot read ${reasons.length} regions` : 'ok');
    return { ...base, state, ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}), lastRead: previous() };
  }

  /** The organisation's own row (and one per configured unit): `ok` once listed whole, or why not. */
  function organizationRows(failures: readonly ListingFailure[], unsettled: boolean, now: string): CoveredAccount[] {
    if (!organizationSettings) return [];
    const row = (id: string, failed: readonly ListingFailure[]): CoveredAccount => {
      if (failed.length === 0) lastRead.set(id, now);
      const reasons = failed.map(listingReason);
      const state =
        reasons.length === 0 ? 'ok' : unsettled ? `not read this time (${failed[0]!.name})` : reasons.length === 1 ? reasons[0]! : `cannot list ${reasons.length} organisational units`;
      return { provider: 'aws', id, name: null, state, ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}), lastRead: lastRead.get(id) ?? null };
    };
    const whole = failures.filter((failure) => failure.place === WHOLE_ORGANIZATION);
    // A listing that failed as a whole listed none of the units either (one that found no account did).
    const wholeFailed = whole.filter((failure) => failure.name !== NO_MEMBER);
    const units = (organizationSettings.ous ?? []).map((ou) => row(ou, wholeFailed.length > 0 ? wholeFailed : failures.filter((failure) => failure.place === ou)));
    return [row(WHOLE_ORGANIZATION, whole), ...units];
  }

  /**
   * A listing that found no account to cover: credentials of an account outside the organisation, a
   * unit emptied, every account excluded. Said as a gap of the organisation, and taken as incomplete
   * (the accounts held are kept) rather than as every account gone.
   */
  function withNoMember(membership: Membership): Membership {
    if (membership.members.length > 0 || membership.failures.length > 0) return membership;
    const under = organizationSettings?.ous ? ` under ${organizationSettings.ous.join(', ')}` : '';
    const reason = `the organisation lists no active account${under}${excluded.size > 0 ? ' but those excluded' : ''}`;
    return { ...membership, failures: [{ place: WHOLE_ORGANIZATION, name: NO_MEMBER, reason }] };
  }

  /** Lists the organisation: its members held, its failures said; a failure that is no refusal marks the listing unsettled. */
  async function listOrganization(): Promise<{ failures: ListingFailure[]; unsettled: boolean }> {
    if (!organization) return { failures: [], unsettled: false };
    const started = Date.now();
    try {
      const membership = await organization.members();
      const listed = withNoMember(membership);
      holdMembers(listed);
      listing = { at: started, done: Promise.resolve() };
      return { failures: listed.failures, unsettled: false };
    } catch (err) {
      const name = lastingListingFailure(err);
      if (name) return { failures: [{ place: WHOLE_ORGANIZATION, name }], unsettled: false };
      const reason = `cannot list the organisation's accounts: ${noAnswerReason(err, organizationEndpoint)}`;
      return { failures: [{ place: WHOLE_ORGANIZATION, name: failureName(err), reason }], unsettled: true };
    }
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

    /**
     * The accounts Vigil covers, hand-listed and the organisation's (those left out by `exclude` too):
     * sharing with one of them is not public. Waits for the organisation's listing (the one under
     * way, a recent one, or a new one): readers ask at once, and none may judge from a partial list.
     */
    async ownAccounts(): Promise<ReadonlySet<string>> {
      await refreshMembers();
      return new Set([...heldEntries().map((entry) => entry.account.id), ...excluded]);
    },

    /** `<account>/<region>` of every account held whose regions are known. */
    scopes: (): string[] => scopesOf(heldEntries()),

    /**
     * Lists the organisation's accounts, checks every account held, and holds what it found. `known`:
     * the re-scan scopes that exist, for what a fresh process cannot list.
     */
    async discover(known: readonly string[] = []): Promise<CoverageReport> {
      const { failures, unsettled: listingUnsettled } = await listOrganization();
      const incomplete = failures.length > 0;
      holdKnown(known, incomplete);
      // A failure that is no refusal is this run's, not a gap: said on the organisation's row only.
      const gaps: CoverageGap[] = listingUnsettled ? [] : failures.map((failure) => ({ provider: 'aws', account: failure.place, reason: listingReason(failure) }));
      const entries = heldEntries();
      // A hand-listed account keeps its own settings, and takes its name from the organisation.
      for (const entry of handListed.values()) {
        const name = discovered.get(entry.account.id)?.name;
        if (name) entry.name = name;
      }
      const now = new Date().toISOString();
      const checks = await mapConcurrent(entries, ACCOUNT_CONCURRENCY, check);
      const unsettled = listingUnsettled ? [WHOLE_ORGANIZATION] : [];
      const accounts = entries.map((entry, i) => {
        const checked = checks[i]!;
        if ('failure' in checked) {
          unsettled.push(entry.account.id);
        } else {
          const { result } = checked;
          // An account whose regions could not be listed keeps those found before.
          if (result.regions.length > 0 || !result.reason) entry.regions = result.regions;
          if (result.reason) gaps.push({ provider: 'aws', account: entry.account.id, reason: result.reason });
          for (const { region, reason } of result.regionGaps) gaps.push({ provider: 'aws', account: entry.account.id, region, reason });
        }
        return coveredAccount(entry, checked, now);
      });
      return {
        accounts: [...organizationRows(failures, listingUnsettled, now), ...accounts],
        gaps,
        scopes: scopesOf(entries),
        ...(incomplete ? { incomplete } : {}),
        ...(unsettled.length > 0 ? { unsettled } : {}),
      };
    },
  };
}
