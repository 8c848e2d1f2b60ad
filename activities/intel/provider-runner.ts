// Runs the enabled threat-intelligence providers for one actor: rate-limited, within a daily
// quota, cached, and with every failure reported as `unknown` or `misconfigured`, never as clean.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Bottleneck from 'bottleneck';
import { writeFileAtomic } from '../../lib/files';
import { intelLookups, type IntelResult } from '../../lib/metrics';
import type { ProviderDefinition } from './providers/definition';
import { ProviderHttpError, UnreadableAnswerError } from './providers/http';
import type { ActorTarget, SourceResult } from './types';

export interface ProviderSettings {
  definition: ProviderDefinition;
  enabled: boolean;
  baseUrl: string;
  /** Already resolved (see `resolveSecret`); never written anywhere. */
  key?: string;
  ratePerMinute: number;
  dailyQuota: number;
  ttlMs: number;
  /** The setting a person fixes when the key is missing or refused. */
  keySetting?: string;
}

export interface ProviderRunnerOptions {
  /** Folder for the cache and the quota counters (kept across restarts). */
  dir: string;
  providers: ProviderSettings[];
  fetch?: typeof fetch;
  /** Clock, in epoch milliseconds (tests move it). */
  now?: () => number;
  /** Bound on one HTTP call. */
  timeoutMs?: number;
  /** A 429 asking to wait this long or less is waited out and tried once more. */
  maxRetryWaitMs?: number;
}

export interface ProviderRunner {
  check(target: ActorTarget): Promise<SourceResult[]>;
}

/** Provider settings with the definition's defaults, for callers that override only a few. */
export function defaultProviderSettings(definition: ProviderDefinition, overrides: Partial<Omit<ProviderSettings, 'definition'>> = {}): ProviderSettings {
  return {
    definition,
    enabled: true,
    baseUrl: definition.defaultBaseUrl,
    ratePerMinute: definition.defaultRatePerMinute,
    dailyQuota: definition.defaultDailyQuota,
    ttlMs: definition.defaultTtlMs,
    ...overrides,
  };
}

interface CacheEntry {
  storedAt: number;
  result: SourceResult;
}

interface QuotaFile {
  /** UTC day, YYYY-MM-DD: quotas of the providers here all reset at 00:00 UTC. */
  day: string;
  used: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function createProviderRunner(options: ProviderRunnerOptions): ProviderRunner {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRetryWaitMs = options.maxRetryWaitMs ?? 10_000;
  // Spacing requests evenly (minTime) rather than a refilling reservoir keeps no timers alive.
  const limiters = new Map(
    options.providers.map((settings) => [settings.definition.name, new Bottleneck({ minTime: Math.ceil(60_000 / Math.max(settings.ratePerMinute, 0.001)) })]),
  );

  async function runOne(settings: ProviderSettings, target: ActorTarget): Promise<SourceResult> {
    const { definition } = settings;
    const source = definition.name;
    const keySetting = settings.keySetting ?? `intel.providers.${source}.key`;
    if (definition.key === 'required' && !settings.key) {
      return { source, status: 'misconfigured', evidence: `no API key: set ${keySetting}` };
    }

    const cacheFile = path.join(options.dir, 'cache', source, `${createHash('sha256').update(`${target.kind}:${target.value.toLowerCase()}`).digest('hex')}.json`);
    const cached = await readJson<CacheEntry>(cacheFile);
    if (cached && now() - cached.storedAt < settings.ttlMs) return cached.result;

    const limiter = limiters.get(source)!;
    const quotaFile = path.join(options.dir, 'quota', `${source}.json`);

    const attempt = async (): Promise<SourceResult> => {
      if (!(await takeQuota(quotaFile, settings.dailyQuota, now()))) {
        const resets = new Date((Math.floor(now() / DAY_MS) + 1) * DAY_MS).toISOString();
        return { source, status: 'unknown', evidence: `daily quota of ${settings.dailyQuota} spent, resets at ${resets}` };
      }
      const fetchedAt = new Date(now()).toISOString();
      const signal = AbortSignal.timeout(timeoutMs);
      const result = await definition.lookup(target, { baseUrl: settings.baseUrl, key: settings.key, fetch: fetchImpl, signal });
      return { ...result, source, fetchedAt };
    };

    let result: SourceResult;
    try {
      result = await limiter.schedule(attempt);
    } catch (error) {
      const wait = error instanceof ProviderHttpError && error.status === 429 ? retryAfterMs(error.retryAfter, now()) : undefined;
      if (wait !== undefined && wait <= maxRetryWaitMs) {
        await sleep(wait);
        try {
          result = await limiter.schedule(attempt);
        } catch (again) {
          result = failure(source, again, keySetting, timeoutMs, now());
        }
      } else {
        result = failure(source, error, keySetting, timeoutMs, now());
      }
    }

    // Only real answers are cached: a failure must be retried on the next check.
    if (result.status === 'listed' || result.status === 'not-listed') {
      await writeFileAtomic(cacheFile, JSON.stringify({ storedAt: now(), result } satisfies CacheEntry));
    }
    return result;
  }

  return {
    async check(target) {
      const chosen = options.providers.filter((settings) => settings.enabled && settings.definition.targets.includes(target.kind));
      const results = await Promise.all(
        chosen.map((settings) =>
          runOne(settings, target).catch((error: unknown) => failure(settings.definition.name, error, '', timeoutMs, now())),
        ),
      );
      for (const result of results) intelLookups.inc({ provider: result.source, result: lookupResult(result) });
      const keys = options.providers.map((settings) => settings.key).filter((key): key is string => Boolean(key));
      return results.map((result) => redact(result, keys));
    },
  };
}

/** What a lookup came to, for the metric: a spent quota and a rate limit are told apart from other failures by the evidence runOne and failure() write. */
function lookupResult({ status, evidence }: SourceResult): IntelResult {
  if (status === 'listed' || status === 'not-listed' || status === 'misconfigured') return status;
  if (evidence?.startsWith('daily quota of ')) return 'quota';
  if (evidence?.startsWith('rate-limited')) return 'rate-limited';
  return 'failed';
}

/** Maps what went wrong to a result a person can act on; never `not-listed`. */
function failure(source: string, error: unknown, keySetting: string, timeoutMs: number, now: number): SourceResult {
  if (error instanceof ProviderHttpError) {
    if (error.status === 401 || error.status === 403) {
      return { source, status: 'misconfigured', evidence: `the API key was refused (HTTP ${error.status}): check ${keySetting}` };
    }
    if (error.status === 429) {
      const wait = retryAfterMs(error.retryAfter, now);
      const when = wait === undefined ? 'later' : new Date(now + wait).toISOString();
      return { source, status: 'unknown', evidence: `rate-limited, retry after ${when}` };
    }
    return { source, status: 'unknown', evidence: `the provider failed: HTTP ${error.status}` };
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { source, status: 'unknown', evidence: `no answer within ${Math.round(timeoutMs / 100) / 10} s` };
  }
  if (error instanceof UnreadableAnswerError) return { source, status: 'unknown', evidence: `unreadable answer: ${error.message}` };
  return { source, status: 'unknown', evidence: `request failed: ${describe(error)}` };
}

/** `fetch failed` says nothing; its cause (ECONNREFUSED, ENOTFOUND, ...) is the useful part. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause && typeof cause.code === 'string') return `${error.message} (${cause.code})`;
  if (cause && typeof cause.message === 'string') return `${error.message} (${cause.message})`;
  return error.message;
}

/** Retry-After as milliseconds from now: either seconds or an HTTP date. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Belt and braces: a key echoed by an API or an error message is blanked out of every field. */
function redact(result: SourceResult, keys: string[]): SourceResult {
  if (keys.length === 0) return result;
  let text = JSON.stringify(result);
  if (!keys.some((key) => text.includes(JSON.stringify(key).slice(1, -1)))) return result;
  for (const key of keys) text = text.split(JSON.stringify(key).slice(1, -1)).join('[redacted]');
  return JSON.parse(text) as SourceResult;
}

// In-process lock per quota file, so that concurrent checks cannot both take the last request.
const quotaLocks = new Map<string, Promise<unknown>>();

/** Counts one request against today's quota on disk; false when it is spent. */
async function takeQuota(file: string, dailyQuota: number, now: number): Promise<boolean> {
  const previous = quotaLocks.get(file) ?? Promise.resolve();
  const turn = previous.then(async () => {
    const day = new Date(now).toISOString().slice(0, 10);
    const stored = await readJson<QuotaFile>(file);
    const used = stored?.day === day ? stored.used : 0;
    if (used >= dailyQuota) return false;
    await writeFileAtomic(file, JSON.stringify({ day, used: used + 1 } satisfies QuotaFile));
    return true;
  });
  const settled = turn.catch(() => undefined);
  quotaLocks.set(file, settled);
  void settled.then(() => {
    if (quotaLocks.get(file) === settled) quotaLocks.delete(file);
  });
  return turn;
}

/** A JSON file, or undefined when missing or unreadable (a torn cache entry is just a miss). */
async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
