// Probing safety: the one place that decides whether Vigil may open a connection to an address.
// Every probe and every browser request goes through it at connect time (after DNS, on every
// redirect), so a crafted alert or a hostile redirect cannot turn Vigil into a scanner.
import { lookup, Resolver } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

export interface ProbeScope {
  /** Ranges probed although reserved (private, loopback...): `127.0.0.0/8` for tests and the demo. */
  allowRanges: readonly string[];
  /** When not empty, a fence: no address outside these ranges is ever contacted, whatever else says. */
  onlyRanges: readonly string[];
  /**
   * DNS servers (`1.1.1.1`, `[2606:4700::1111]:53`) that resolve names as an outsider does; the
   * system's resolver when unset. Inside a VPC the system's resolver answers a public database or
   * load balancer name with its private address, which is not what the internet reaches.
   */
  resolvers?: readonly string[];
}

export type ScopeVerdict = { allowed: true } | { allowed: false; reason: string };

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

function parseRanges(ranges: readonly string[]): Range[] {
  return ranges.map((range) => (range.includes('/') ? ipaddr.parseCIDR(range) : [ipaddr.parse(range), ipaddr.parse(range).kind() === 'ipv4' ? 32 : 128]));
}

function inAny(address: ipaddr.IPv4 | ipaddr.IPv6, ranges: Range[]): boolean {
  return ranges.some((range) => address.kind() === range[0].kind() && address.match(range));
}

/** Whether an address (text) lies in any of the ranges (CIDRs or single addresses). */
export const inRanges = (address: string, ranges: readonly string[]): boolean =>
  ipaddr.isValid(address) && inAny(ipaddr.parse(address), parseRanges(ranges));

/** Names ipaddr.js gives reserved space, in the words shown in the issue. */
const rangeWords: Record<string, string> = {
  private: 'a private address',
  loopback: 'a loopback address',
  linkLocal: 'a link-local address (cloud metadata lives here)',
  carrierGradeNat: 'a carrier-grade NAT address',
  uniqueLocal: 'a unique-local address',
  ipv4Mapped: 'an IPv4-mapped IPv6 address',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved or documentation address',
};

/** Whether an IP address may be contacted, and if not, why (the most telling reason first). */
export function scopeVerdict(address: string, scope: ProbeScope): ScopeVerdict {
  if (!ipaddr.isValid(address)) return { allowed: false, reason: 'not an IP address' };
  const parsed = ipaddr.parse(address);
  const fenced = scope.onlyRanges.length > 0 && !inAny(parsed, parseRanges(scope.onlyRanges));
  const outsideFence: ScopeVerdict = { allowed: false, reason: `outside the probe fence (${scope.onlyRanges.join(', ')})` };
  if (inAny(parsed, parseRanges(scope.allowRanges))) return fenced ? outsideFence : { allowed: true };
  const range = parsed.range();
  if (range !== 'unicast') {
    return { allowed: false, reason: `${rangeWords[range] ?? `a special-purpose address (${range})`}, not allowed by probe.allowRanges` };
  }
  return fenced ? outsideFence : { allowed: true };
}

export class OutOfScopeError extends Error {
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`${host}: ${reason}`);
    this.name = 'OutOfScopeError';
  }
}

/** Both families' addresses of `name` from the given DNS servers; a family with no record adds none. */
async function resolveWith(servers: readonly string[], name: string): Promise<{ address: string }[]> {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  resolver.setServers([...servers]);
  const family = (records: Promise<string[]>) =>
    records.catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENODATA') return [];
      throw err;
    });
  const [v4, v6] = await Promise.allSettled([family(resolver.resolve4(name)), family(resolver.resolve6(name))]);
  const found = [v4, v6].flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
  // No address at all is "does not resolve", whichever family failed or had none.
  if (found.length === 0) throw [v4, v6].find((result) => result.status === 'rejected')?.reason ?? Object.assign(new Error(`${name} has no address`), { code: 'ENODATA' });
  return found.map((address) => ({ address }));
}

/**
 * The address to connect to for `host` (an IP or a name), checked now: a name is resolved and the
 * first allowed address is returned, so the caller connects to exactly what was checked.
 */
export async function resolveInScope(host: string, scope: ProbeScope): Promise<string> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (ipaddr.isValid(bare)) {
    const verdict = scopeVerdict(bare, scope);
    if (!verdict.allowed) throw new OutOfScopeError(host, verdict.reason);
    return bare;
  }
  let addresses: { address: string }[];
  try {
    addresses = scope.resolvers?.length ? await resolveWith(scope.resolvers, bare) : await lookup(bare, { all: true, verbatim: true });
  } catch (err) {
    const through = scope.resolvers?.length ? `probe.resolvers (${scope.resolvers.join(', ')})` : "the system's resolver (probe.resolvers is not set)";
    throw new OutOfScopeError(host, `does not resolve (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'}) through ${through}`);
  }
  const reasons: string[] = [];
  for (const { address } of addresses) {
    const verdict = scopeVerdict(address, scope);
    if (verdict.allowed) return address;
    reasons.push(`${address} is ${verdict.reason}`);
  }
  throw new OutOfScopeError(host, `resolves only outside the probe scope: ${reasons.join('; ')}`);
}
