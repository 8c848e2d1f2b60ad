// The principal readers' cache: one load per key while it is fresh, shared by lookups that arrive
// while it is under way; a failure is not kept; an old answer is asked again; the oldest goes first.
import { describe, expect, it } from 'vitest';
import { createTtlCache } from '../../activities/principals/cache';

describe('principal cache', () => {
  it('loads a key once while it is fresh, lookups under way sharing the load', async () => {
    let loads = 0;
    const cache = createTtlCache<number>({ ttlMs: 60_000 });
    const load = async () => ++loads;
    expect(await Promise.all([cache.get('role/deploy', load), cache.get('role/deploy', load)])).toEqual([1, 1]);
    expect(await cache.get('role/deploy', load)).toBe(1);
    expect(await cache.get('role/other', load)).toBe(2);
  });

  it('asks again once the answer is older than the TTL, or when the load failed', async () => {
    let clock = 0;
    let loads = 0;
    const cache = createTtlCache<number>({ ttlMs: 1000, now: () => clock });
    const load = async () => ++loads;
    await cache.get('k', load);
    clock = 999;
    expect(await cache.get('k', load)).toBe(1);
    clock = 1000;
    expect(await cache.get('k', load)).toBe(2);
    await expect(cache.get('failing', () => Promise.reject(new Error('throttled')))).rejects.toThrow('throttled');
    expect(await cache.get('failing', load)).toBe(3);
  });

  it('drops the oldest entry when full', async () => {
    let loads = 0;
    const cache = createTtlCache<number>({ ttlMs: 60_000, maxEntries: 2 });
    const load = async () => ++loads;
    await cache.get('a', load);
    await cache.get('b', load);
    await cache.get('c', load);
    expect(await cache.get('b', load)).toBe(2);
    expect(await cache.get('a', load)).toBe(4);
  });
});
