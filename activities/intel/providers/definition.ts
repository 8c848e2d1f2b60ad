// The shape every threat-intelligence provider module shares, so the runner can treat them alike.
import type { ActorTarget, SourceResult } from '../types';

/** What a lookup gets from the runner: never a logger, never settings beyond these. */
export interface LookupContext {
  /** The API's base URL (the real one by default; a loopback server in tests). */
  baseUrl: string;
  /** The API key, when the provider takes one and it is set. */
  key?: string;
  fetch: typeof fetch;
  /** Aborted when the runner's time for the call is up. */
  signal: AbortSignal;
}

export interface ProviderDefinition {
  /** Source name in results and the key of its settings (`intel.providers.<name>`). */
  name: string;
  description: string;
  /** `optional`: works without a key, with better limits when one is given. */
  key: 'required' | 'optional' | 'none';
  targets: readonly ActorTarget['kind'][];
  defaultBaseUrl: string;
  defaultRatePerMinute: number;
  defaultDailyQuota: number;
  defaultTtlMs: number;
  /** One line for docs/actor-checks.md: free tier limits, whether a key is needed. */
  cost: string;
  /**
   * Asks the API and maps its answer to `listed` / `not-listed`. Any answer it cannot map (401,
   * 429, 5xx, an unexpected 404) is thrown as a `ProviderHttpError` for the runner to interpret,
   * so that statuses and retries are decided in one place.
   */
  lookup(target: ActorTarget, context: LookupContext): Promise<SourceResult>;
}

export const HOUR_MS = 60 * 60 * 1000;
