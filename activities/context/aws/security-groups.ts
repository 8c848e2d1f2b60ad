// Security groups and the managed prefix lists they name, read through one EC2 client: what the
// machines' inventory and the database and load-balancer readers judge exposure by (./exposure).
import { paginateDescribeSecurityGroups, paginateGetManagedPrefixListEntries, type EC2Client } from '@aws-sdk/client-ec2';
import { isRefusal } from './errors';
import type { PrefixListEntries, SecurityGroup } from './exposure';
import { collectPages } from './pages';
import { chunks, unique } from './resources/reading';

/** AWS takes at most 200 values in one EC2 filter. */
export const EC2_FILTER_VALUES = 200;

export interface Ec2Paging {
  client: EC2Client;
  pageSize?: number;
}

/**
 * The groups of these ids, every one of the account and region without ids. A filter rather than an
 * id list: a group deleted meanwhile matches nothing instead of failing the call.
 */
export async function readSecurityGroups(paging: Ec2Paging, ids?: readonly string[]): Promise<SecurityGroup[]> {
  const list = (values?: string[]) =>
    collectPages(paginateDescribeSecurityGroups(paging, values ? { Filters: [{ Name: 'group-id', Values: values }] } : {}), (page) => page.SecurityGroups);
  if (!ids) return list();
  return (await Promise.all(chunks(unique([...ids]), EC2_FILTER_VALUES).map(list))).flat();
}

/** The prefix lists the groups name. */
export const prefixListIdsOf = (groups: readonly SecurityGroup[]) =>
  unique(groups.flatMap((group) => (group.IpPermissions ?? []).flatMap((permission) => (permission.PrefixListIds ?? []).map((list) => list.PrefixListId))));

/** Entries of each prefix list that can be read; one that cannot is left out (and counts as the internet). */
export async function readPrefixLists(paging: Ec2Paging, ids: readonly string[]): Promise<PrefixListEntries> {
  const read = await Promise.all(
    ids.map(async (id) => {
      try {
        const entries = await collectPages(paginateGetManagedPrefixListEntries(paging, { PrefixListId: id }), (page) => page.Entries);
        return [[id, unique(entries.map((entry) => entry.Cidr))] as const];
      } catch (err) {
        if (isRefusal(err) || (err instanceof Error && err.name.endsWith('.NotFound'))) return [];
        throw err;
      }
    }),
  );
  return new Map(read.flat());
}
