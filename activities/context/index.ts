// The registry of inventory providers, the one place a new provider is added, and the activity that
// asks every configured one about an alert.
import path from 'node:path';
import type { NormalizedAlert } from '../../lib/alert';
import type { InventorySettings } from '../../lib/config';
import { mergeContexts, type ResourceContext } from '../../lib/context';
import { createStaticInventory } from './static';
import type { ContextQuery, InventoryProvider } from './types';

/**
 * The configured providers. The cloud SDKs load only when their provider is configured: the EC2
 * client alone adds about 90 MiB to a worker that never reads AWS.
 */
export async function createInventoryProviders(settings: InventorySettings, cwd = process.cwd()): Promise<InventoryProvider[]> {
  const providers: InventoryProvider[] = [];
  if (settings.aws) providers.push((await import('./aws')).createAwsInventory(settings.aws));
  if (settings.gcp) providers.push((await import('./gcp')).createGcpInventory(settings.gcp));
  if (settings.static) providers.push(createStaticInventory({ files: settings.static.files.map((file) => path.resolve(cwd, file)) }));
  return providers;
}

function contextQueryOf(alert: NormalizedAlert): ContextQuery {
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
