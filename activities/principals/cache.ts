// What a principal reader learnt, kept for a while in the worker: an alert storm naming one role or
// one project's service account asks IAM or Cloud Asset once, not once per alert. The promise is
// kept, so lookups that arrive while the first is under way share it; a failure is not kept (the
// next lookup asks again), a lasting answer ("access denied", "no such user") is, like any other.

export interface TtlCache<T> {
  /** The value kept for `key`, or the one `load` gives (kept for the cache's TTL). */
  get(key: string, load: () => Promise<T>): Promise<T>;
}

export function createTtlCache<T>({ ttlMs, maxEntries = 1000, now = Date.now }: { ttlMs: number; maxEntries?: number; now?: () => number }): TtlCache<T> {
  // A Map keeps insertion order: the first entry is the oldest, dropped when the cache is full.
  const entries = new Map<string, { value: Promise<T>; expires: number }>();
  return {
    get(key, load) {
      const kept = entries.get(key);
      if (kept && kept.expires > now()) return kept.value;
      entries.delete(key);
      const value = load();
      entries.set(key, { value, expires: now() + ttlMs });
      value.catch(() => {
        if (entries.get(key)?.value === value) entries.delete(key);
      });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return value;
    },
  };
}
