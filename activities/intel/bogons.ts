// Addresses no blocklist verdict should be drawn from: private, loopback, link-local, CGNAT,
// multicast, reserved and unspecified space. Actor IPs in these ranges are taken out before
// matching, because some feeds (FireHOL level1) list the bogons themselves, and 10.0.0.1 would
// otherwise come out "malicious".
//
// The documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are
// deliberately NOT bogons here: Vigil's demo and tests use them as stand-ins for public addresses,
// and they must stay matchable. No real alert carries them, so nothing is lost.
import { CidrSet } from './cidr-set';

const bogonRanges = [
  // IPv4 (RFC 6890 special-purpose registry, less the documentation ranges).
  '0.0.0.0/8', // "this network", including the unspecified 0.0.0.0
  '10.0.0.0/8', // private
  '100.64.0.0/10', // carrier-grade NAT
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local
  '172.16.0.0/12', // private
  '192.0.0.0/24', // IETF protocol assignments
  '192.168.0.0/16', // private
  '198.18.0.0/15', // benchmarking
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, including the broadcast 255.255.255.255
  // IPv6: everything outside global unicast 2000::/3 — the unspecified ::, loopback ::1, unique
  // local fc00::/7, link-local fe80::/10, multicast ff00::/8, discard 100::/64, NAT64 64:ff9b::/96.
  // IPv4-mapped addresses (::ffff:a.b.c.d) are judged as the IPv4 address they carry.
  '::/3',
  '4000::/2',
  '8000::/1',
];

const bogons = new CidrSet(bogonRanges);

/** True for a private or reserved address (see above); false for public ones and for non-addresses. */
export function isBogon(ip: string): boolean {
  return bogons.match(ip) !== undefined;
}
