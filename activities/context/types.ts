// The inventory provider interface: given what an alert refers to, the resources it concerns.
// Providers are registered in ./index.ts; adding one touches nothing else but its rows in docs/inventories.md.
import type { z } from 'zod';
import type { ResourceRef } from '../../lib/alert';
import type { ProviderContext } from '../../lib/context';

/** What an alert says about the machines it concerns. */
export interface ContextQuery {
  /** `aws`, `gcp`, or a source's own name (from the alert's cloud reference). */
  provider?: string;
  /** AWS account id or GCP project id. */
  account?: string;
  region?: string;
  /** Security groups, firewalls, instances, network interfaces... as the alert names them. */
  resources: ResourceRef[];
  /** Addresses of the alerted-on machines. */
  addresses: string[];
}

export interface InventoryProvider {
  /** Registry name, also `ContextInstance.provider` of what it returns. */
  readonly name: string;
  /**
   * The resources the query concerns, read now. A provider the query is not about returns an empty
   * context. Context that cannot be read for a lasting reason (access denied, an account that is
   * not configured) is returned as a problem; a transient failure (network, 5xx after the SDK's own
   * retries) is thrown, so that Temporal retries the activity.
   */
  collect(query: ContextQuery): Promise<ProviderContext>;
  /**
   * The scopes a re-scan reads one at a time (`<account>/<region>`, `projects/p`, `static`), from
   * the configuration alone. A provider without it is not re-scanned.
   */
  scopes?(): string[];
  /**
   * Everything in one scope: every instance, rule and exposure, for the re-scan to judge. Lasting
   * failures are problems and transient ones are thrown, as for `collect`.
   */
  scan?(scope: string): Promise<ProviderContext>;
  /**
   * Every account or project the provider covers (hand-listed and discovered: AWS Organizations, the
   * GCP hierarchy), each read once now to find what it cannot reach. Afterwards `scopes()` and
   * `collect` follow the set found. A provider without it covers exactly its configuration.
   * `known` are the scopes whose re-scans exist (what earlier discoveries found, kept by Temporal):
   * what a fresh process still covers when its hierarchy cannot be listed.
   */
  discover?(known?: { scopes: readonly string[] }): Promise<CoverageReport>;
}

/** A place the provider should read and cannot: an account or project, or one region of an account. */
export interface CoverageGap {
  provider: string;
  /** AWS account id or GCP project id. */
  account: string;
  /** Set when only this region of the account cannot be read. */
  region?: string;
  /** Why, in words fit for an issue title (`cannot assume arn:aws:iam::…:role/VigilReadOnly (AccessDenied)`). */
  reason: string;
}

/** One account or project as discovery last found it (`vigil inventory accounts --json`). */
export interface CoveredAccount {
  provider: string;
  id: string;
  /** The provider's own name for it; null when it has none or none is known (a unit, a place never read). */
  name: string | null;
  /** `ok`, or the reason it (or one of its regions) cannot be read. */
  state: string;
  reason?: string;
  /** When this process last read it whole (ISO time); null when it has not. */
  lastRead: string | null;
}

export interface CoverageReport {
  accounts: CoveredAccount[];
  gaps: CoverageGap[];
  /** The re-scan scopes that follow from what was found (`<account>/<region>`, `projects/p`). */
  scopes: string[];
  /**
   * Set when part of the hierarchy could not be listed (an organisation or unit refused or gone): a
   * place missing from `accounts` may still be covered, so nothing is taken as gone.
   */
  incomplete?: boolean;
  /**
   * Accounts or projects whose state this run does not know: read with a failure that is no refusal
   * (after the SDK's retries). Their issues and re-scans are left as they are; the next run reads them again.
   */
  unsettled?: string[];
}

/**
 * A provider as the registry knows it: its name, its settings and how to build it from them. The
 * module that exports it stays light (a schema and a lazy import): it is loaded whether or not the
 * provider is configured, for validating the configuration.
 */
export interface InventoryDefinition<Settings = unknown> {
  /** The key of its settings (`inventory.<name>`), and the `InventoryProvider.name` it creates. */
  readonly name: string;
  /** Its settings: strict objects, so that a misspelt key is an error naming it. */
  readonly settings: z.ZodType<Settings>;
  /** The provider, from valid settings. A large SDK is imported here, so it loads only when configured. */
  create(settings: Settings): Promise<InventoryProvider>;
}
