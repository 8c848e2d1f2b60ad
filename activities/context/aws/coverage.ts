// Whether Vigil can read an account: the role assumed (and, for an account of the organisation, its
// enabled regions listed), then one cheap read in each region. What is refused is a coverage gap;
// a transient failure is thrown, so that the discovery is retried rather than a gap opened.
import { DescribeRegionsCommand, DescribeSecurityGroupsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { mapConcurrent } from '../../../lib/concurrency';
import { refusalReason } from './errors';

export interface AccountCheck {
  /** Refused before any region could be read: the role, or the list of regions. */
  reason?: string;
  /** The regions covered: those wanted (and enabled, when the account's regions were listed). */
  regions: string[];
  /** Regions that could not be read, with why. */
  regionGaps: { region: string; reason: string }[];
}

export interface AccountCheckInput {
  /** A client of the account in a region (through the assumed role, cached by the caller). */
  ec2: (region: string) => EC2Client;
  /** Where the account is read first. */
  homeRegion: string;
  /** The regions wanted; every enabled one when unset. */
  regions?: readonly string[];
  /** List the account's enabled regions and keep only those (accounts of the organisation). */
  enabledOnly: boolean;
}

// Regions of one account read at once; accounts are also read a few at a time by the caller.
const REGION_CONCURRENCY = 6;

/** The smallest page of a call every read-only role may make: proves the region can be read. */
const cheapRead = (ec2: EC2Client) => ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 5 }));

/** The regions the account has enabled, as EC2 lists them there. */
export async function enabledRegions(ec2: EC2Client): Promise<string[]> {
  // Without AllRegions, EC2 lists only the regions the account has enabled.
  const { Regions = [] } = await ec2.send(new DescribeRegionsCommand({}));
  return Regions.flatMap((region) => (region.RegionName ? [region.RegionName] : [])).sort();
}

export async function checkAccount({ ec2, homeRegion, regions, enabledOnly }: AccountCheckInput): Promise<AccountCheck> {
  const configured = [...(regions ?? [homeRegion])];
  let covered: string[];
  try {
    if (enabledOnly) {
      const enabled = await enabledRegions(ec2(homeRegion));
      covered = regions ? regions.filter((region) => enabled.includes(region)) : enabled;
    } else {
      covered = configured;
      await cheapRead(ec2(homeRegion));
    }
  } catch (err) {
    // A hand-listed account keeps the regions configured; an account of the organisation, those found before.
    return { reason: refusalReason(err), regions: enabledOnly ? [] : configured, regionGaps: [] };
  }
  const unread = enabledOnly ? covered : covered.filter((region) => region !== homeRegion);
  const failures = await mapConcurrent(unread, REGION_CONCURRENCY, async (region) => {
    try {
      await cheapRead(ec2(region));
      return [];
    } catch (err) {
      return [{ region, reason: `cannot read ${region}: ${refusalReason(err)}` }];
    }
  });
  return { regions: covered, regionGaps: failures.flat() };
}
