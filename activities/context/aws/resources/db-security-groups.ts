// Which security groups of a database or load balancer let the internet reach one of its ports.
// The groups are read with EC2 and judged by the rules that judge machines' groups (../exposure),
// so a database and the instance beside it, behind the same group, are never judged differently.
// Shared by the database and load-balancer readers.
import { EC2Client } from '@aws-sdk/client-ec2';
import { isInternetWide } from '../../../../lib/internet';
import { openingsOf, type Opening } from '../exposure';
import { prefixListIdsOf, readPrefixLists, readSecurityGroups } from '../security-groups';
import { unique, withClient } from './reading';
import type { AwsRegionSession } from './types';

export interface GroupJudge {
  /**
   * One sentence per permission of these groups that lets the internet reach the TCP port
   * (`web (sg-0abc…) opens 5432/tcp to 0.0.0.0/0`); none when no group does.
   */
  opening(groupIds: readonly string[], port: number): string[];
}

const reaches = (opening: Opening, port: number) =>
  (opening.rule.protocol === 'tcp' || opening.rule.protocol === 'all') &&
  opening.ports.from <= port &&
  port <= opening.ports.to &&
  (opening.internet.ipv4 || opening.internet.ipv6);

/** The internet-wide sources of a rule: its wide ranges, and prefix lists that could not be read (they count as the internet). */
const internetSources = (opening: Opening) => opening.rule.sources.filter((source) => isInternetWide(source) || source.endsWith('(entries unreadable)'));

/** Reads the groups (and the prefix lists they name) once, for judging any of their ports. */
export async function readGroupJudge(session: AwsRegionSession, groupIds: readonly string[]): Promise<GroupJudge> {
  const ids = unique([...groupIds]);
  if (ids.length === 0) return { opening: () => [] };
  // The EC2 client is loaded already: the inventory reads machines with it.
  const { groups, prefixLists } = await withClient(new EC2Client(session.clientConfig), async (client) => {
    const paging = { client, ...(session.pageSize ? { pageSize: session.pageSize } : {}) };
    const groups = await readSecurityGroups(paging, ids);
    return { groups, prefixLists: await readPrefixLists(paging, prefixListIdsOf(groups)) };
  });
  const byId = new Map(groups.map((group) => [group.GroupId, { group, openings: openingsOf(group, prefixLists) }]));
  return {
    opening(groupIds, port) {
      return unique([...groupIds]).flatMap((id) => {
        const read = byId.get(id);
        if (!read) return [];
        const label = read.group.GroupName ? `${read.group.GroupName} (${id})` : id;
        return read.openings.filter((opening) => reaches(opening, port)).map((opening) => `${label} opens ${port}/tcp to ${internetSources(opening).join(', ')}`);
      });
    },
  };
}
