// The actor-check activities: every actor IP against the blocklist feeds' local copies and the
// configured providers, with its ASN; and the feeds' scheduled refresh.
import path from 'node:path';
import { ConfigError, resolveSecret, type Config } from '../../lib/config';
import { verdictOf, type ActorReport, type ActorTarget } from '../../lib/intel';
import { lookupAsn } from './asn';
import { createFeedStore, type FeedStore, type RefreshOutcome } from './feed-store';
import { feedDefinitions } from './feeds';
import { fetchWithFiles } from './fetch-with-files';
import { createProviderRunner, defaultProviderSettings, type ProviderRunner } from './provider-runner';
import { providerDefinition, providerDefinitions } from './providers';

/** More actors than this in one alert are a list, not actors: the rest are left out, visibly. */
const MAX_ACTORS = 25;

export interface IntelDeps {
  feeds: FeedStore;
  providers: ProviderRunner;
}

export function createIntelActivities({ feeds, providers }: IntelDeps) {
  return {
    async checkActors({ ips, domains }: { ips: string[]; domains: string[] }): Promise<ActorReport[]> {
      const targets: ActorTarget[] = [
        ...ips.map((value) => ({ kind: 'ip' as const, value })),
        ...domains.map((value) => ({ kind: 'domain' as const, value })),
      ].slice(0, MAX_ACTORS);
      return Promise.all(
        targets.map(async (target) => {
          const results = [...(target.kind === 'ip' ? await feeds.check(target.value) : []), ...(await providers.check(target))];
          const asn = target.kind === 'ip' ? await lookupAsn(target.value) : undefined;
          return { target, ...verdictOf(results), ...(asn ? { asn } : {}), results };
        }),
      );
    },

    async refreshFeeds(): Promise<RefreshOutcome[]> {
      return feeds.refresh();
    },
  };
}

export type IntelActivities = ReturnType<typeof createIntelActivities>;

/** Feed and provider names in the configuration that Vigil does not know (for `vigil config check`). */
export function intelSettingsProblems({ intel }: Config): string[] {
  return [
    ...Object.keys(intel.feeds)
      .filter((name) => !feedDefinitions.some((feed) => feed.name === name))
      .map((name) => `intel.feeds.${name}: unknown feed (known: ${feedDefinitions.map((feed) => feed.name).join(', ')})`),
    ...Object.keys(intel.providers)
      .filter((name) => !providerDefinition(name))
      .map((name) => `intel.providers.${name}: unknown provider (known: ${providerDefinitions.map((p) => p.name).join(', ')})`),
  ];
}

/** The feeds and providers as configured; unknown names in the configuration are errors. */
export function createConfiguredIntel(config: Config): IntelDeps {
  const { feeds, providers, maxFeedAgeHours } = config.intel;
  const problems = intelSettingsProblems(config);
  if (problems.length > 0) throw new ConfigError('intel', problems);

  const root = path.join(config.dataDir, 'intel');
  return {
    feeds: createFeedStore({
      dir: path.join(root, 'feeds'),
      feeds: feedDefinitions
        .filter((definition) => feeds[definition.name]?.enabled ?? true)
        .map((definition) => ({ definition, url: feeds[definition.name]?.url ?? definition.defaultUrl })),
      fetch: fetchWithFiles,
      timeoutMs: 60_000,
      maxAgeMs: maxFeedAgeHours * 3600_000,
    }),
    // Only the providers the configuration names run: each costs quota, and most need a key.
    providers: createProviderRunner({
      dir: path.join(root, 'providers'),
      providers: Object.entries(providers).map(([name, settings]) =>
        defaultProviderSettings(providerDefinition(name)!, {
          enabled: settings.enabled,
          ...(settings.key ? { key: resolveSecret(settings.key, `intel.providers.${name}.key`) } : {}),
          ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}),
          ...(settings.ratePerMinute ? { ratePerMinute: settings.ratePerMinute } : {}),
          ...(settings.dailyQuota !== undefined ? { dailyQuota: settings.dailyQuota } : {}),
          ...(settings.ttlMinutes ? { ttlMs: settings.ttlMinutes * 60_000 } : {}),
        }),
      ),
    }),
  };
}
