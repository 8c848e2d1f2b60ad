// Blocklist feeds on disk: downloaded on a schedule, checked against actor IPs with no network.
//
// Each feed keeps its last good copy as `<dir>/<name>.json` (the parsed entries plus where and when
// they came from), written atomically so a reader never sees half a list. A failed refresh leaves
// that copy alone and records why in `<dir>/<name>.status.json`. Checks read the copies, cache
// the built sets in memory, and rebuild one when its file changes (the scheduled refresh may run
// in another process).
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../lib/files';
import { isBogon } from './bogons';
import { CidrSet, parseAddress } from './cidr-set';
import type { FeedDefinition } from './feeds/definition';
import type { SourceResult } from './types';

export interface FeedSource {
  definition: FeedDefinition;
  /** Usually `definition.defaultUrl`; configuration may point at a mirror. */
  url: string;
}

export interface FeedStoreOptions {
  /** Folder for the copies, e.g. `<dataDir>/feeds`. */
  dir: string;
  feeds: readonly FeedSource[];
  /** For tests; the global fetch otherwise. */
  fetch?: typeof fetch;
  /** Bound on one download, headers and body together. */
  timeoutMs: number;
  /** Bound on one body; larger downloads are refused. */
  maxBytes?: number;
  /** Copies older than this give `unknown`: an old list says little about today. */
  maxAgeMs?: number;
  /** For tests. */
  now?: () => Date;
}

export const defaultFeedMaxBytes = 32 * 1024 * 1024;
export const defaultFeedMaxAgeMs = 3 * 24 * 60 * 60 * 1000;

/** The last good copy of a feed, as stored. */
export interface FeedCopy {
  name: string;
  url: string;
  fetchedAt: string;
  entryCount: number;
  /** Of the downloaded body, to tell a changed list from a re-download of the same one. */
  sha256: string;
  bytes: number;
  entries: string[];
}

/** The last refresh attempt, kept apart from the copy so a failure never rewrites it. */
interface FeedStatus {
  lastAttemptAt: string;
  lastError?: string;
}

export interface RefreshOutcome {
  feed: string;
  ok: boolean;
  entryCount?: number;
  error?: string;
}

interface LoadedCopy {
  /** Identity of the file it was read from: a rename gives a new inode, a rewrite a new mtime. */
  fileKey: string;
  copy: Omit<FeedCopy, 'entries'>;
  set: CidrSet;
}

export interface FeedStore {
  /** Downloads one feed (by name) or all of them; never throws for a feed that fails. */
  refresh(name?: string): Promise<RefreshOutcome[]>;
  /** Reads every copy into memory now rather than on the first check. */
  load(): Promise<void>;
  /** One result per feed for an IP address. */
  check(ip: string): Promise<SourceResult[]>;
}

export function createFeedStore(options: FeedStoreOptions): FeedStore {
  const { dir, feeds, timeoutMs } = options;
  const fetchImpl = options.fetch ?? fetch;
  const maxBytes = options.maxBytes ?? defaultFeedMaxBytes;
  const maxAgeMs = options.maxAgeMs ?? defaultFeedMaxAgeMs;
  const now = options.now ?? (() => new Date());
  const cache = new Map<string, LoadedCopy>();
  for (const { definition } of feeds) {
    // Names become file names.
    if (!/^[a-z0-9][a-z0-9-]*$/.test(definition.name)) throw new Error(`feed name not usable as a file name: ${definition.name}`);
  }
  const copyFile = (name: string) => path.join(dir, `${name}.json`);
  const statusFile = (name: string) => path.join(dir, `${name}.status.json`);

  async function refreshOne({ definition, url }: FeedSource): Promise<RefreshOutcome> {
    const attemptAt = now().toISOString();
    try {
      const body = await download(fetchImpl, url, timeoutMs, maxBytes);
      const entries = definition.parse(new TextDecoder('utf-8').decode(body));
      new CidrSet(entries); // refuse a list the checker could not load, before it replaces a good one
      const copy: FeedCopy = {
        name: definition.name,
        url,
        fetchedAt: attemptAt,
        entryCount: entries.length,
        sha256: createHash('sha256').update(body).digest('hex'),
        bytes: body.byteLength,
        entries,
      };
      await writeFileAtomic(copyFile(definition.name), JSON.stringify(copy));
      await writeStatus(definition.name, { lastAttemptAt: attemptAt });
      return { feed: definition.name, ok: true, entryCount: entries.length };
    } catch (error) {
      const message = describeError(error);
      await writeStatus(definition.name, { lastAttemptAt: attemptAt, lastError: message });
      return { feed: definition.name, ok: false, error: message };
    }
  }

  async function writeStatus(name: string, status: FeedStatus): Promise<void> {
    await writeFileAtomic(statusFile(name), `${JSON.stringify(status)}\n`);
  }

  async function readStatus(name: string): Promise<FeedStatus | undefined> {
    try {
      return JSON.parse(await readFile(statusFile(name), 'utf8')) as FeedStatus;
    } catch {
      return undefined;
    }
  }

  /** The current copy of a feed, from the cache unless its file changed; undefined when there is none. */
  async function current(name: string): Promise<LoadedCopy | undefined> {
    const file = copyFile(name);
    let fileKey: string;
    try {
      const info = await stat(file);
      fileKey = `${info.ino}:${info.mtimeMs}:${info.size}`;
    } catch {
      cache.delete(name);
      return undefined;
    }
    const cached = cache.get(name);
    if (cached?.fileKey === fileKey) return cached;
    try {
      const { entries, ...copy } = JSON.parse(await readFile(file, 'utf8')) as FeedCopy;
      const loaded: LoadedCopy = { fileKey, copy, set: new CidrSet(entries) };
      cache.set(name, loaded);
      return loaded;
    } catch {
      // Unreadable (hand-edited, disk trouble): treated as no copy, and the next refresh rewrites it.
      cache.delete(name);
      return undefined;
    }
  }

  async function checkOne({ definition }: FeedSource, ip: string, bogon: boolean): Promise<SourceResult> {
    const source = definition.name;
    const loaded = await current(source);
    if (!loaded) {
      const status = await readStatus(source);
      const why = status?.lastError ? `last refresh failed: ${status.lastError}` : 'the feed has not been refreshed yet';
      return { source, status: 'unknown', evidence: `no copy of the ${definition.description}: ${why}` };
    }
    const { copy } = loaded;
    const ageMs = now().getTime() - Date.parse(copy.fetchedAt);
    const fetched = `list fetched ${shortTime(copy.fetchedAt)}, ${formatAge(ageMs)} old`;
    const details = { url: copy.url, entryCount: copy.entryCount, sha256: copy.sha256 };
    if (ageMs > maxAgeMs) {
      const status = await readStatus(source);
      const why = status?.lastError ? `; last refresh failed: ${status.lastError}` : '';
      return {
        source,
        status: 'unknown',
        evidence: `copy of the ${definition.description} too old to trust (${fetched}, maximum ${formatAge(maxAgeMs)})${why}`,
        fetchedAt: copy.fetchedAt,
        details,
      };
    }
    if (bogon) {
      return { source, status: 'not-listed', evidence: 'private or reserved address: not matched', fetchedAt: copy.fetchedAt, details };
    }
    const entry = loaded.set.match(ip);
    if (entry === undefined) {
      return { source, status: 'not-listed', evidence: `not in the ${definition.description} (${fetched})`, fetchedAt: copy.fetchedAt, details };
    }
    return {
      source,
      status: 'listed',
      verdict: definition.verdict,
      evidence: `listed in the ${definition.description} as ${entry} (${fetched})`,
      fetchedAt: copy.fetchedAt,
      details: { ...details, entry },
    };
  }

  return {
    async refresh(name) {
      const selected = name === undefined ? feeds : feeds.filter((feed) => feed.definition.name === name);
      if (selected.length === 0) throw new Error(`no feed named ${name}`);
      return Promise.all(selected.map(refreshOne));
    },
    async load() {
      await Promise.all(feeds.map((feed) => current(feed.definition.name)));
    },
    async check(ip) {
      if (!parseAddress(ip)) {
        return feeds.map(({ definition }) => ({ source: definition.name, status: 'unknown', evidence: `not an IP address: ${JSON.stringify(ip.slice(0, 80))}` }));
      }
      // Bogons are taken out before matching: FireHOL level1 lists private space, and a private
      // actor address says nothing about the outside world. Each feed still answers, so the issue
      // shows the address was seen and deliberately not matched, rather than silently skipped.
      const bogon = isBogon(ip);
      return Promise.all(feeds.map((feed) => checkOne(feed, ip.trim(), bogon)));
    },
  };
}

/** The body of a 2xx answer, within the time and size bounds; throws otherwise. */
async function download(fetchImpl: typeof fetch, url: string, timeoutMs: number, maxBytes: number): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(timeoutMs);
  const response = await fetchImpl(url, { signal, redirect: 'follow', headers: { accept: 'text/plain, application/json, */*' } });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`HTTP ${response.status} from ${url}`);
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`body of ${declared} bytes is over the ${maxBytes}-byte limit`);
  }
  if (!response.body) throw new Error('no body');
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`body over the ${maxBytes}-byte limit`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return `timed out (${error.message})`;
    // Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND) is in `cause`.
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${(cause as { code?: string }).code ?? cause.message}` : '';
    return `${error.message}${detail}`;
  }
  return String(error);
}

/** `2026-11-28T09:00Z`: minutes are precise enough for a list's age, and shorter to read. */
function shortTime(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 16)}Z`;
}

/** `12 min`, `3 h`, `4 d`. */
export function formatAge(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}
