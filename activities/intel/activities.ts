// The actor-check activities: every actor IP against the blocklist feeds' local copies and the
// configured providers, with its ASN; every principal against the inventories; every address and
// principal against Vigil's earlier investigations; and the feeds' scheduled refresh.
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ConfigError, resolveSecret, type Config } from '../../lib/config';
import { verdictOf, type ActorReport, type ActorTarget, type PrincipalFacts, type PrincipalRef } from '../../lib/intel';
import { actorShares } from '../../lib/investigation-state';
import { actorKeywords } from '../../lib/search-attributes';
import type { PrincipalLookup } from '../principals';
import { isSearchable, type ActorHistory } from './actor-history';
import { lookupAsn } from './asn';
import { isBogon } from './bogons';
import { createFeedStore, type FeedStore, type RefreshOutcome } from './feed-store';
import { feedDefinitions } from './feeds';
import { fetchWithFiles } from './fetch-with-files';
import { createProviderRunner, defaultProviderSettings, type ProviderRunner } from './provider-runner';
import { providerDefinition, providerDefinitions } from './providers';

export interface IntelDeps {
  feeds: FeedStore;
  providers: ProviderRunner;
  /** What the inventories know about a principal; without it principals are named, not described. */
  principals?: PrincipalLookup;
  /** Earlier investigations naming an actor; without it no history is shown. */
  history?: ActorHistory;
}

/** How investigations carry an address or principal (`ip:…`, `principal:…`); domains are not carried. */
const historyKeyword = ({ kind, value }: ActorTarget): string | undefined =>
  kind === 'domain' ? undefined : actorKeywords(kind === 'ip' ? { ips: [value], principals: [] } : { ips: [], principals: [value] })[0];

/** The investigation this activity works for, so that its own history leaves it out. */
function currentWorkflowId(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.workflowId;
  } catch {
    return undefined; // Called outside an activity (a test, the CLI).
  }
}

export function createIntelActivities({ feeds, providers, principals: lookup, history }: IntelDeps) {
  /** An address or domain: every feed and provider, with its network. */
  async function checkIntel(target: ActorTarget): Promise<ActorReport> {
    const results = [...(target.kind === 'ip' ? await feeds.check(target.value) : []), ...(await providers.check(target))];
    const asn = target.kind === 'ip' ? await lookupAsn(target.value) : undefined;
    return { target, ...verdictOf(results), ...(asn ? { asn } : {}), results };
  }

  return {
    /**
     * Who acted: addresses and domains against the feeds and providers, principals against the
     * inventories, and every address and principal against Vigil's earlier investigations. Private
     * and reserved addresses are not checked at all (they say nothing outside their own network).
     * Only each kind's share is checked (`actorShares`, as the workflow remembers it); the rest are
     * reported as not checked.
     */
    async checkActors({ ips, domains, principals = [] }: { ips: string[]; domains: string[]; principals?: PrincipalRef[] }): Promise<ActorReport[]> {
      const share = actorShares({ ips: ips.length, domains: domains.length, principals: principals.length });
      const reserved = ips.slice(0, share.ips).filter((ip) => isBogon(ip.trim()));
      const named = principals.slice(0, share.principals);
      const targets = [
        ...ips.slice(0, share.ips).filter((ip) => !reserved.includes(ip)).map((value) => ({ kind: 'ip' as const, value })),
        ...domains.slice(0, share.domains).map((value) => ({ kind: 'domain' as const, value })),
        ...named.map(({ name }) => ({ kind: 'principal' as const, value: name })),
      ];
      const left: ActorTarget[] = [
        ...ips.slice(share.ips).map((value) => ({ kind: 'ip' as const, value })),
        ...domains.slice(share.domains).map((value) => ({ kind: 'domain' as const, value })),
        ...principals.slice(share.principals).map(({ name }) => ({ kind: 'principal' as const, value: name })),
      ];
      const [identities, past] = await Promise.all([
        lookup ? lookup.describe(named) : named.map((): PrincipalFacts => ({ kind: 'unread', reason: 'no inventory is configured' })),
        history?.earlier(targets.flatMap((target) => historyKeyword(target) ?? []), currentWorkflowId()),
      ]);
      const reports = await Promise.all(
        targets.map(async (target): Promise<ActorReport> => {
          const report: ActorReport =
            target.kind === 'principal'
              ? { target, verdict: 'unknown', because: [], results: [], identity: identities[named.findIndex(({ name }) => name === target.value)]! }
              : await checkIntel(target);
          const keyword = historyKeyword(target);
          if (!past || !keyword) return report;
          if (!isSearchable(keyword)) return { ...report, historyUnread: 'the name holds characters a visibility query cannot take' };
          const earlier = past.get(keyword);
          return { ...report, history: earlier?.investigations ?? [], ...(earlier?.more ? { moreHistory: true } : {}) };
        }),
      );
      return [
        ...reports,
        ...reserved.map((value): ActorReport => ({ target: { kind: 'ip', value }, verdict: 'unknown', because: [], results: [], reserved: true })),
        ...left.map((target): ActorReport => ({ target, verdict: 'unknown', because: [], results: [], notChecked: true })),
      ];
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
