// The accounts of an AWS organisation that Vigil covers: the active ones, under the configured
// organisational units (at any depth), minus the exclusions. Read with the worker's own credentials,
// which must belong to the management account or a delegated administrator.
import {
  OrganizationsClient,
  paginateListAccounts,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
  type Account,
} from '@aws-sdk/client-organizations';
import type { EC2ClientConfig } from '@aws-sdk/client-ec2';
import { lastingListingFailure } from './errors';
import { collectPages } from './pages';
import type { AwsInventorySettings } from '.';

type OrganizationSettings = NonNullable<AwsInventorySettings['organization']>;

export interface OrganizationMember {
  id: string;
  name?: string;
}

export interface OrganizationReaderOptions {
  endpoint?: string;
  maxAttempts: number;
  credentials?: EC2ClientConfig['credentials'];
}

/**
 * Active: `State` since 2025, `Status` before it (moto and older APIs give only `Status`, both say
 * ACTIVE; a closed account is SUSPENDED, PENDING_CLOSURE or CLOSED).
 */
const isActive = (account: Account) => (account.State ?? account.Status) === 'ACTIVE';

/** A place of the organisation that could not be listed, lastingly: `organization` itself, or one of the configured units. */
export interface ListingFailure {
  place: string;
  /** The refusal or the not-found answer (`AccessDeniedException`, `ParentNotFoundException`). */
  name: string;
  /** Said instead of the usual `cannot list …` (a listing that found no account). */
  reason?: string;
}

export interface Membership {
  members: OrganizationMember[];
  /** Places whose accounts are missing from `members`; empty when the listing is whole. */
  failures: ListingFailure[];
}

/** The place `organization` names the whole organisation (ListAccounts) among the failures. */
export const WHOLE_ORGANIZATION = 'organization';

export function createOrganizationReader(settings: OrganizationSettings, options: OrganizationReaderOptions) {
  // Organizations answers in us-east-1 only (its one endpoint in the commercial partition).
  const client = new OrganizationsClient({
    region: 'us-east-1',
    maxAttempts: options.maxAttempts,
    retryMode: 'adaptive',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const paging = { client };

  /** Every account under a parent, and under its organisational units, depth first. */
  async function under(parentId: string, seen: Set<string>): Promise<Account[]> {
    if (seen.has(parentId)) return [];
    seen.add(parentId);
    const [accounts, units] = await Promise.all([
      collectPages(paginateListAccountsForParent(paging, { ParentId: parentId }), (page) => page.Accounts),
      collectPages(paginateListOrganizationalUnitsForParent(paging, { ParentId: parentId }), (page) => page.OrganizationalUnits),
    ]);
    const nested = [];
    for (const unit of units) if (unit.Id) nested.push(...(await under(unit.Id, seen)));
    return [...accounts, ...nested];
  }

  return {
    /**
     * The accounts Vigil covers, in the order Organizations gives them. A unit (or the organisation)
     * refused or not found is a failure of that place, lasting; the other units are listed all the
     * same. Anything else (after the SDK's retries) is thrown.
     */
    async members(): Promise<Membership> {
      const seen = new Set<string>();
      const failures: ListingFailure[] = [];
      const listedIn = async (place: string, list: () => Promise<Account[]>): Promise<Account[]> => {
        try {
          return await list();
        } catch (err) {
          const name = lastingListingFailure(err);
          if (!name) throw err;
          failures.push({ place, name });
          return [];
        }
      };
      const listed = settings.ous
        ? (await Promise.all(settings.ous.map((ou) => listedIn(ou, () => under(ou, seen))))).flat()
        : await listedIn(WHOLE_ORGANIZATION, () => collectPages(paginateListAccounts(paging, {}), (page) => page.Accounts));
      const excluded = new Set(settings.exclude);
      const members = new Map<string, OrganizationMember>();
      for (const account of listed) {
        if (!account.Id || excluded.has(account.Id) || !isActive(account)) continue;
        members.set(account.Id, { id: account.Id, ...(account.Name ? { name: account.Name } : {}) });
      }
      return { members: [...members.values()], failures };
    },
  };
}

export type OrganizationReader = ReturnType<typeof createOrganizationReader>;
