// Who a principal is, as the configured inventories know it: each name routed by its shape (./names)
// to the AWS reader (IAM, through the inventory's role) or the GCP one (Cloud Asset). A reader's
// SDK loads only when its inventory is configured; an inventory that is not says so on the issue.
import type { Config } from '../../lib/config';
import { mapConcurrent } from '../../lib/concurrency';
import type { PrincipalFacts, PrincipalRef } from '../../lib/intel';
import type { AwsInventorySettings } from '../context/aws';
import type { GcpInventorySettings } from '../context/gcp';
import { configuredInventory } from '../context';
import type { AwsPrincipalOptions, AwsPrincipals } from './aws';
import type { GcpPrincipalName, GcpPrincipals } from './gcp';
import { principalName } from './names';

/** Principals described at once: each is several IAM requests, and the reader bounds those per account too. */
const PRINCIPALS_AT_ONCE = 8;

export interface PrincipalLookup {
  /** What the inventories know of each principal, in order; lasting failures are `unread`, transient ones throw. */
  describe(principals: readonly PrincipalRef[]): Promise<PrincipalFacts[]>;
}

export interface PrincipalReaders {
  aws?: AwsPrincipals;
  gcp?: GcpPrincipals;
}

export function createPrincipalLookup({ aws, gcp }: PrincipalReaders): PrincipalLookup {
  return {
    async describe(principals) {
      const names = principals.map(principalName);
      const emails = names.flatMap((name) => (name.provider === 'gcp' ? [name] : [])) as GcpPrincipalName[];
      const gcpFacts = gcp ? await gcp.describe(emails) : [];
      return mapConcurrent(names, PRINCIPALS_AT_ONCE, async (name): Promise<PrincipalFacts> => {
        if (name.provider === 'none') return { kind: 'unread', reason: name.reason };
        if (name.provider === 'aws') return aws ? aws.describe(name.principal) : { kind: 'unread', reason: 'an AWS principal, and inventory.aws is not configured' };
        return gcp ? gcpFacts[emails.indexOf(name)]! : { kind: 'unread', reason: `domain ${name.domain}; inventory.gcp is not configured` };
      });
    },
  };
}

/** The readers of the configured inventories (settings validated by the inventory registry). */
export async function createConfiguredPrincipals(inventory: Config['inventory'], aws: AwsPrincipalOptions = {}): Promise<PrincipalLookup> {
  const configured = configuredInventory(inventory);
  const settingsOf = (name: string) => configured.find(({ definition }) => definition.name === name)?.settings;
  const awsSettings = settingsOf('aws') as AwsInventorySettings | undefined;
  const gcpSettings = settingsOf('gcp') as GcpInventorySettings | undefined;
  return createPrincipalLookup({
    ...(awsSettings ? { aws: (await import('./aws')).createAwsPrincipals(awsSettings, aws) } : {}),
    ...(gcpSettings ? { gcp: (await import('./gcp')).createGcpPrincipals(gcpSettings) } : {}),
  });
}
