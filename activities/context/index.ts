// The registry of inventory providers, the one place a new provider is added, and the activity that
// asks every configured one about an alert.
import path from 'node:path';
import type { NormalizedAlert } from '../../lib/alert';
import type { InventorySettings } from '../../lib/config';
import { mergeContexts, type ResourceContext } from '../../lib/context';
import { createAwsInventory } from './aws';
import { createGcpInventory } from './gcp';
import { createStaticInventory } from './static';
import type { ContextQuery, InventoryProvider } from './types';

export function createInventoryProviders(settings: InventorySettings, cwd = process.cwd()): InventoryProvider[] {
  const providers: InventoryProvider[] = [];
  if (settings.aws) providers.push(createAwsInventory(settings.aws));
  if (settings.gcp) providers.push(createGcpInventory(settings.gcp));
  if (settings.static) providers.push(createStaticInventory({ files: settings.static.files.map((file) => path.resolve(cwd, file)) }));
  return providers;
}

export function contextQueryOf(alert: NormalizedAlert): ContextQuery {
  return {
    ...(alert.cloud?.provider ? { provider: alert.cloud.provider } : {}),
    ...(alert.cloud?.account ? { account: alert.cloud.account } : {}),
    ...(alert.cloud?.region ? { region: alert.cloud.region } : {}),
    resources: alert.resources,
    addresses: alert.network.ips,
  };
}

export function createContextActivities(providers: readonly InventoryProvider[]) {
  return {
    /** What every configured inventory knows about the machines the alert names. */
    async collectContext({ alert }: { alert: NormalizedAlert }): Promise<ResourceContext> {
      const query = contextQueryOf(alert);
      const contexts = await Promise.all(providers.map(async (provider) => ({ ...(await provider.collect(query)), consulted: [provider.name] })));
      return mergeContexts(contexts);
    },
  };
}
