import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBogon } from '../../../activities/intel/bogons';
import { CidrSet, parseAddress, parseCidr } from '../../../activities/intel/cidr-set';

// A naive reference: every entry as a (start, end) range, the narrowest covering one wins. The
// address is parsed as CidrSet does (IPv4-mapped forms become IPv4); the matching is what's checked.
function naiveMatch(entries: string[], ip: string): string | undefined {
  const address = parseAddress(ip)!;
  let best: { text: string; width: bigint } | undefined;
  for (const text of entries) {
    const range = parseCidr(text)!;
    if (range.version !== address.version) continue;
    const start = BigInt(range.start);
    const end = BigInt(range.end);
    const value = BigInt(address.value);
    // The first-written of identical ranges wins, as in CidrSet.
    if (start <= value && value <= end && (!best || end - start < best.width)) best = { text, width: end - start };
  }
  return best?.text;
}

const v4Address = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((octets) => octets.join('.'));
// Clustered addresses, so random CIDRs and random addresses actually meet and nest.
const v4Clustered = fc.tuple(fc.constantFrom(10, 110, 192), fc.nat(3), fc.nat(255), fc.nat(255)).map((octets) => octets.join('.'));
const v4Cidr = fc.tuple(fc.oneof(v4Address, v4Clustered), fc.nat(32)).map(([address, prefix]) => `${address}/${prefix}`);
const v6Address = fc.tuple(fc.constantFrom('2001:db8', 'fd00:1', '2001:db8:0:1'), fc.nat(0xffff), fc.nat(0xffff)).map(
  ([head, a, b]) => `${head}::${a.toString(16)}:${b.toString(16)}`,
);
const v6Cidr = fc.tuple(fc.oneof(v6Address, fc.ipV6()), fc.nat(128)).map(([address, prefix]) => `${address}/${prefix}`);
const entry = fc.oneof(v4Cidr, v4Address, v4Clustered, v6Cidr, v6Address);

describe('CidrSet', () => {
  it('agrees with a naive scan for random IPv4 and IPv6 entries and addresses', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 40 }), fc.array(fc.oneof(v4Address, v4Clustered, v6Address, fc.ipV6()), { maxLength: 30 }), (entries, ips) => {
        const set = new CidrSet(entries);
        for (const ip of [...ips, ...entries.map((text) => text.split('/')[0]!)]) {
          expect(set.match(ip)).toBe(naiveMatch(entries, ip));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never matches on text: 10.0.0.1 is not 110.0.0.1, 1.2.3.4 is not 1.2.3.40', () => {
    const set = new CidrSet(['10.0.0.1', '1.2.3.4', '2001:db8::1']);
    expect(set.match('110.0.0.1')).toBeUndefined();
    expect(set.match('10.0.0.10')).toBeUndefined();
    expect(set.match('1.2.3.40')).toBeUndefined();
    expect(set.match('2001:db8::10')).toBeUndefined();
    expect(set.match('10.0.0.1')).toBe('10.0.0.1');
    fc.assert(
      fc.property(v4Address, v4Address, (listed, other) => {
        fc.pre(listed !== other);
        expect(new CidrSet([listed]).match(other)).toBeUndefined();
      }),
    );
  });

  it('answers the most specific of nested and overlapping entries, as written', () => {
    const set = new CidrSet(['0.0.0.0/0', '10.0.0.0/8', '10.1.0.0/16', '10.1.2.3', '10.1.2.0/24', '10.200.0.9/8', '::/0', '2001:db8::/32', '2001:db8:1::/48']);
    expect(set.match('10.1.2.3')).toBe('10.1.2.3');
    expect(set.match('10.1.2.4')).toBe('10.1.2.0/24');
    expect(set.match('10.1.3.4')).toBe('10.1.0.0/16');
    expect(set.match('10.2.0.0')).toBe('10.0.0.0/8'); // the first spelling of a range wins
    expect(set.match('11.0.0.0')).toBe('0.0.0.0/0');
    expect(set.match('2001:db8:1::9')).toBe('2001:db8:1::/48');
    expect(set.match('2001:db8:2::9')).toBe('2001:db8::/32');
    expect(set.match('2001:db9::1')).toBe('::/0');
  });

  it('matches IPv4-mapped IPv6 addresses against IPv4 entries', () => {
    const set = new CidrSet(['198.51.100.0/24']);
    expect(set.match('::ffff:198.51.100.23')).toBe('198.51.100.0/24');
    expect(set.match('::FFFF:c633:6417')).toBe('198.51.100.0/24');
    expect(set.match('::ffff:198.51.101.1')).toBeUndefined();
  });

  it('refuses bad entries and answers undefined for non-addresses', () => {
    expect(() => new CidrSet(['10.0.0.0/33'])).toThrow(/not a CIDR/);
    expect(() => new CidrSet(['2001:db8::/129'])).toThrow(/not a CIDR/);
    expect(() => new CidrSet(['<html>'])).toThrow(/not a CIDR/);
    expect(() => new CidrSet(['10.1'])).toThrow(/not a CIDR/);
    const set = new CidrSet(['0.0.0.0/0']);
    expect(set.match('example.com')).toBeUndefined();
    expect(set.match('10.1')).toBeUndefined();
    expect(set.match('')).toBeUndefined();
  });

  // At a blocklist's size: right answers, not a time (speed is npm run bench's to measure, and a
  // timed assertion fails on a busier machine than the one that wrote it).
  it('holds 100k entries and answers as a naive scan of them does', () => {
    const entries = fc.sample(fc.tuple(v4Address, fc.integer({ min: 8, max: 32 })), { numRuns: 100_000, seed: 42 }).map(([address, prefix]) => `${address}/${prefix}`);
    const set = new CidrSet(entries);
    expect(set.size).toBe(100_000);
    for (const ip of fc.sample(v4Address, { numRuns: 50, seed: 7 })) expect(set.match(ip)).toBe(naiveMatch(entries, ip));
  });
});

describe('isBogon', () => {
  it('flags private, loopback, link-local, CGNAT, multicast, reserved and unspecified space', () => {
    for (const ip of ['10.0.0.1', '172.16.5.4', '192.168.1.1', '127.0.0.1', '169.254.169.254', '100.64.0.1', '224.0.0.1', '240.0.0.1', '255.255.255.255', '0.0.0.0', '::', '::1', 'fe80::1', 'fd00::1', 'ff02::1', '::ffff:10.0.0.1']) {
      expect(isBogon(ip), ip).toBe(true);
    }
  });

  it('keeps public and documentation addresses (the demo uses them as public stand-ins)', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '192.0.2.1', '198.51.100.23', '203.0.113.7', '2001:db8::1', '2606:4700::1111', '::ffff:8.8.8.8', '110.0.0.1']) {
      expect(isBogon(ip), ip).toBe(false);
    }
  });
});
