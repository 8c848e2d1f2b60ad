// When a firewall source range counts as "the internet". Pure: the inventory providers and the
// re-scan share it, so the issue and the scan never disagree about what is exposed.
import ipaddr from 'ipaddr.js';

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Blocks of /8 or wider that hold no public address. */
const nonPublicV4 = ['0.0.0.0/8', '10.0.0.0/8', '127.0.0.0/8', '224.0.0.0/4', '240.0.0.0/4'].map((c) => ipaddr.parseCIDR(c));
/** IPv6 global unicast: everything else is local, multicast or reserved. */
const globalUnicastV6 = ipaddr.parseCIDR('2000::/3');

const contains = ([outer, bits]: Cidr, [inner, innerBits]: Cidr) => innerBits >= bits && inner.kind() === outer.kind() && inner.match(outer, bits);

/**
 * True for a source range that lets in a large part of the internet: an IPv4 range of /8 or wider
 * holding public addresses (0.0.0.0/0, 0.0.0.0/1, 52.0.0.0/8...), or an IPv6 range of /32 or wider
 * overlapping global unicast (::/0, 2000::/3...). Narrower ranges are someone's known network,
 * not the internet. Wrong or non-CIDR text (a group or prefix-list reference) is false.
 */
export function isInternetWide(source: string): boolean {
  if (!ipaddr.isValidCIDR(source)) return false;
  const cidr = ipaddr.parseCIDR(source) as Cidr;
  const [address, bits] = cidr;
  if (address.kind() === 'ipv4') return bits <= 8 && !nonPublicV4.some((block) => contains(block as Cidr, cidr));
  if ((address as ipaddr.IPv6).isIPv4MappedAddress()) return false;
  return bits <= 32 && (contains(globalUnicastV6 as Cidr, cidr) || contains(cidr, globalUnicastV6 as Cidr));
}

