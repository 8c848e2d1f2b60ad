// The sweep's wait for a connect answer: RFC 6298's smoothing of the round trips a host showed, its
// bounds, and the per-host waits that move with the estimate.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HostWaits, RoundTripEstimate } from '../../../activities/probe/round-trip';

const bounds = { initialMs: 500, floorMs: 50, ceilingMs: 3000 };

describe('RoundTripEstimate', () => {
  it('waits the initial time until the host answers, kept within the floor and the ceiling', () => {
    expect(new RoundTripEstimate(bounds).waitMs()).toBe(500);
    expect(new RoundTripEstimate(bounds).answered).toBe(false);
    expect(new RoundTripEstimate({ ...bounds, ceilingMs: 300 }).waitMs()).toBe(300);
    expect(new RoundTripEstimate({ ...bounds, initialMs: 20 }).waitMs()).toBe(50);
  });

  it('takes the first answer as the round trip, half of it as the variation (RFC 6298 2.2)', () => {
    const estimate = new RoundTripEstimate(bounds);
    estimate.observe(100);
    expect(estimate.answered).toBe(true);
    expect(estimate.waitMs()).toBe(100 + 4 * 50);
  });

  it('smooths later answers with gains 1/8 and 1/4 (RFC 6298 2.3)', () => {
    const estimate = new RoundTripEstimate(bounds);
    estimate.observe(100);
    estimate.observe(200);
    // variation = 3/4 × 50 + 1/4 × |100 − 200| = 62.5; smoothed = 7/8 × 100 + 1/8 × 200 = 112.5
    expect(estimate.waitMs()).toBe(112.5 + 4 * 62.5);
  });

  it('never goes below the floor nor above the ceiling, and a share of it stops at the ceiling too', () => {
    const fast = new RoundTripEstimate(bounds);
    for (let n = 0; n < 50; n += 1) fast.observe(0.2);
    expect(fast.waitMs()).toBe(50);
    expect(fast.waitMs(2)).toBe(100);
    const slow = new RoundTripEstimate(bounds);
    slow.observe(2000);
    expect(slow.waitMs()).toBe(3000);
    expect(slow.waitMs(2)).toBe(3000);
  });

  it('always waits longer than the smoothed round trip the answers gave, within its bounds', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 5000, noNaN: true }), { minLength: 1, maxLength: 50 }), (samples) => {
        const estimate = new RoundTripEstimate(bounds);
        let smoothed = samples[0]!;
        samples.forEach((sample, n) => {
          estimate.observe(sample);
          if (n > 0) smoothed = (7 / 8) * smoothed + sample / 8;
        });
        const wait = estimate.waitMs();
        expect(wait).toBeGreaterThanOrEqual(Math.min(bounds.ceilingMs, Math.max(bounds.floorMs, smoothed)) - 1e-9);
        expect(wait).toBeLessThanOrEqual(bounds.ceilingMs);
      }),
    );
  });
});

describe('HostWaits', () => {
  const once = { share: 1, atLeastMs: 0 };
  const twice = { share: 2, atLeastMs: 0 };
  const expired = (waits: HostWaits, kind = once) => {
    let cancel = () => {};
    const done = new Promise<void>((resolve) => (cancel = waits.wait(kind, resolve)));
    return { done, cancel };
  };

  it('cuts the waits already begun short once the host answers (a first wave on the initial wait)', async () => {
    // Both would wait a minute; only the host that answers brings its wait down to the floor.
    const answering = new HostWaits({ initialMs: 60_000, floorMs: 10, ceilingMs: 60_000 });
    const silent = new HostWaits({ initialMs: 60_000, floorMs: 10, ceilingMs: 60_000 });
    const first = expired(answering);
    const other = expired(silent);
    let otherExpired = false;
    void other.done.then(() => (otherExpired = true));
    answering.answered(1);
    await first.done;
    expect(otherExpired).toBe(false);
    other.cancel();
  });

  it('never calls a waiter that stopped waiting', async () => {
    const waits = new HostWaits({ initialMs: 10, floorMs: 10, ceilingMs: 1000 });
    let called = false;
    const stop = waits.wait(once, () => (called = true));
    stop();
    // A later waiter on the same host expires, so the host's timer has run past the first deadline.
    await expired(waits).done;
    expect(called).toBe(false);
  });

  it('expires waiters in the order of their deadlines: their share of the wait, and their least wait', async () => {
    const waits = new HostWaits({ initialMs: 20, floorMs: 10, ceilingMs: 1000 });
    const order: string[] = [];
    const kinds = { c: { share: 1, atLeastMs: 200 }, a: once, b: twice };
    const all = Object.entries(kinds).map(([name, kind]) => new Promise<void>((resolve) => waits.wait(kind, () => resolve(void order.push(name)))));
    await Promise.all(all);
    expect(order).toEqual(['a', 'b', 'c']);
  });
});
