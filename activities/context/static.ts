// The static inventory: resources declared in YAML or JSON files, for machines no cloud API
// describes (on-premises, other clouds) and for the demo. Read at every collection, so an edited
// file counts from the next alert on without a restart.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ContextInstance, ExposingRule, Exposure, ProviderContext } from '../../lib/context';
import { emptyContext, mergeContexts } from '../../lib/context';
import { isInternetWide } from '../../lib/internet';
import { parsePortSpec } from '../../lib/ports';
import type { ContextQuery, InventoryDefinition, InventoryProvider } from './types';

const address = z.string().refine((text) => ipaddr.isValid(text), 'expected an IP address');
const ports = z.union([z.int().min(0).max(65535).transform(String), z.string()]).transform((spec, context) => {
  const range = spec === 'all' ? { from: 0, to: 65535 } : parsePortSpec(spec);
  if (!range) context.addIssue({ code: 'custom', message: `expected a port, a range like "8000-8100", or "all"; got "${spec}"` });
  return range ?? { from: 0, to: 0 };
});

const ruleSchema = z.strictObject({
  name: z.string().min(1).optional(),
  protocol: z.string().min(1).default('tcp'),
  ports,
  /** Where traffic may come from; `0.0.0.0/0` and `::/0` make the rule an exposure. */
  sources: z.array(z.string().refine((text) => ipaddr.isValidCIDR(text), 'expected a CIDR range')).min(1).default(['0.0.0.0/0']),
});

const resourceSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1).optional(),
  /** The account or project it belongs to: an alert from another one is not about it. */
  account: z.string().min(1).optional(),
  region: z.string().min(1).optional(),
  /** Addresses reachable from outside: the ones the exposure checks probe. */
  addresses: z.array(address).default([]),
  privateAddresses: z.array(address).default([]),
  dnsNames: z.array(z.string().min(1)).default([]),
  tags: z.record(z.string(), z.string()).default({}),
  /** Other ids alerts use for it: its security groups, firewalls, network interfaces. */
  refs: z.array(z.string().min(1)).default([]),
  /** What its firewall lets in. */
  open: z.array(ruleSchema).default([]),
});

const inventoryFileSchema = z.strictObject({ resources: z.array(resourceSchema) });
type StaticResource = z.infer<typeof resourceSchema>;

/** The file's resources, or a message that names the file and the key at fault. */
async function readInventoryFile(file: string): Promise<StaticResource[] | string> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    return `cannot read it: ${(err as Error).message}`;
  }
  const parsed = inventoryFileSchema.safeParse(raw);
  if (parsed.success) return parsed.data.resources;
  return parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`).join('; ');
}

function concerns(resource: StaticResource, query: ContextQuery): boolean {
  if (query.account && resource.account && query.account !== resource.account) return false;
  const ids = new Set([resource.id, ...resource.refs]);
  return query.resources.some((ref) => ids.has(ref.id)) || query.addresses.some((a) => resource.addresses.includes(a) || resource.privateAddresses.includes(a));
}

/** What alerts would call a declared resource: the file says no more about what it is. */
const RESOURCE_TYPE = 'static:inventory:resource';

function contextOf(resource: StaticResource): ProviderContext {
  const instance: ContextInstance = {
    provider: 'static',
    type: RESOURCE_TYPE,
    id: resource.id,
    ...(resource.name ? { name: resource.name } : {}),
    ...(resource.account ? { account: resource.account } : {}),
    ...(resource.region ? { region: resource.region } : {}),
    publicAddresses: resource.addresses,
    privateAddresses: resource.privateAddresses,
    dnsNames: resource.dnsNames,
    tags: resource.tags,
  };
  const rules: ExposingRule[] = [];
  const exposures: Exposure[] = [];
  for (const rule of resource.open) {
    const portText = rule.ports.from === rule.ports.to ? `${rule.ports.from}` : `${rule.ports.from}-${rule.ports.to}`;
    const id = `${resource.id}/${rule.protocol}/${portText}`;
    rules.push({ id, name: rule.name ?? `${rule.protocol} ${portText}`, protocol: rule.protocol, ports: [rule.ports], sources: rule.sources });
    const families = new Set(rule.sources.filter(isInternetWide).map((source) => ipaddr.parseCIDR(source)[0].kind()));
    for (const address of resource.addresses) {
      if (families.has(ipaddr.parse(address).kind())) exposures.push({ instance: resource.id, address, protocol: rule.protocol, ports: rule.ports, rule: id });
    }
  }
  return { instances: [instance], rules, exposures, problems: [] };
}

/** The one scope of the static inventory: every file, read as a whole. */
export const STATIC_SCOPE = 'static';

export function createStaticInventory({ files }: { files: readonly string[] }): InventoryProvider {
  /** The context of the resources that `wanted` keeps, from every file. */
  async function read(wanted: (resource: StaticResource) => boolean): Promise<ProviderContext> {
    const contexts = await Promise.all(
      files.map(async (file) => {
        const resources = await readInventoryFile(file);
        if (typeof resources === 'string') return { ...emptyContext(), problems: [{ provider: 'static', scope: file, reason: resources }] };
        return mergeContexts(resources.filter(wanted).map(contextOf));
      }),
    );
    return mergeContexts(contexts);
  }

  return {
    name: 'static',
    collect: (query) => read((resource) => concerns(resource, query)),
    scopes: () => [STATIC_SCOPE],
    async scan(scope) {
      if (scope !== STATIC_SCOPE) return { ...emptyContext(), problems: [{ provider: 'static', scope, reason: `the static inventory has one scope, "${STATIC_SCOPE}"` }] };
      return read(() => true);
    },
  };
}

const settingsSchema = z.strictObject({
  /** YAML or JSON files declaring resources, their addresses and their open ports (docs/inventories.md). */
  files: z.array(z.string().min(1)).min(1),
});

export const staticInventory: InventoryDefinition<z.output<typeof settingsSchema>> = {
  name: 'static',
  settings: settingsSchema,
  // Relative to the worker's working folder, as the configuration file's own path is.
  create: async ({ files }) => createStaticInventory({ files: files.map((file) => path.resolve(file)) }),
};
