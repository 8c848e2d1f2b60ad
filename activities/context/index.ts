// The registry of inventory providers, the one place a new provider is added, and the activity that
// asks every configured one about an alert.
//
// Adding a provider: a module (or a folder, when it needs an SDK) that exports an
// `InventoryDefinition` — its name, the zod schema of its settings and `create` — and one entry in
// `inventoryDefinitions` below. Its settings are then `inventory.<name>`, checked here by `vigil config check`,
// `vigil doctor` and every worker at start; the instances it returns carry their own resource
// `type`, which the re-scan's alerts use. An SDK is imported inside `create` (see ./aws/index.ts),
// so a worker that does not configure the provider never loads it.
import type { NormalizedAlert } from '../../lib/alert';
import { ConfigError, settingsProblems, type Config } from '../../lib/config';
import { mergeContexts, type ResourceContext } from '../../lib/context';
import { awsInventory } from './aws';
import { gcpInventory } from './gcp';
import { staticInventory } from './static';
import type { ContextQuery, InventoryDefinition, InventoryProvider } from './types';

export const inventoryDefinitions: readonly InventoryDefinition[] = [awsInventory, gcpInventory, staticInventory];

/** A configured provider's definition with its settings, validated. */
interface Configured {
  definition: InventoryDefinition;
  settings: unknown;
}

/**
 * The providers that `inventory` configures, in registry order, with their settings validated.
 * Every problem names its key (`inventory.aws.accounts.0.id: …`), an unknown provider among them.
 */
export function configuredInventory(inventory: Config['inventory']): Configured[] {
  const problems = Object.keys(inventory)
    .filter((name) => !inventoryDefinitions.some((definition) => definition.name === name))
    .map((name) => `inventory.${name}: unknown inventory provider (known: ${inventoryDefinitions.map((definition) => definition.name).join(', ')})`);
  const configured: Configured[] = [];
  for (const definition of inventoryDefinitions) {
    // An absent key, or one set to undefined by code that rebuilds a configuration, is not configured.
    if (inventory[definition.name] === undefined) continue;
    const parsed = definition.settings.safeParse(inventory[definition.name]);
    if (parsed.success) configured.push({ definition, settings: parsed.data });
    else problems.push(...settingsProblems(parsed.error.issues, ['inventory', definition.name]));
  }
  if (problems.length > 0) throw new ConfigError('inventory', problems);
  return configured;
}

/** The configured providers; a provider's SDK loads only when it is configured. */
export async function createInventoryProviders(inventory: Config['inventory']): Promise<InventoryProvider[]> {
  return Promise.all(configuredInventory(inventory).map(({ definition, settings }) => definition.create(settings)));
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
