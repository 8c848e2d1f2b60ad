// Fast membership for blocklists: which CIDR (or single address) of a list covers an IP.
//
// Entries become numeric ranges (BigInt, one table per address family). CIDRs are either nested or
// disjoint, so one sweep over the sorted ranges cuts them into disjoint segments, each labelled
// with the most specific entry covering it; a lookup is then one binary search. Matching is on
// numbers, never on text, so 10.0.0.1 can never match 110.0.0.1.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** IPv4 as a plain number (quick, and exact up to 2^53), IPv6 as a BigInt. */
export type ParsedAddress = { version: 4; value: number } | { version: 6; value: bigint };

/**
 * An IP address as a number, or undefined when the text is not a strict IP address (node's rules:
 * dotted-quad IPv4 only, so `10.1` or `0x0a.0.0.1` are refused). IPv4-mapped IPv6 addresses
 * (`::ffff:192.0.2.1`) come back as IPv4: it is the same host, and blocklists list it as IPv4.
 * So do the deprecated IPv4-compatible ones (`::192.0.2.1`), which ipaddr.js reads as mapped.
 */
export function parseAddress(text: string): ParsedAddress | undefined {
  const trimmed = text.trim();
  const v4 = ipv4ToNumber(trimmed);
  if (v4 !== undefined) return { version: 4, value: v4 };
  if (isIP(trimmed) !== 6) return undefined;
  const address = ipaddr.IPv6.parse(trimmed);
  if (address.isIPv4MappedAddress()) {
    const [a = 0, b = 0, c = 0, d = 0] = address.toIPv4Address().octets;
    return { version: 4, value: ((a * 256 + b) * 256 + c) * 256 + d };
  }
  return { version: 6, value: partsToBigInt(address.parts) };
}

const dottedQuad = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * A strict dotted quad (no leading zeros, no short or hex forms, as node's isIP) as a number, else
 * undefined. Hand-rolled because this is the hot path: most feed entries and actors are IPv4.
 */
function ipv4ToNumber(text: string): number | undefined {
  const parts = dottedQuad.exec(text);
  if (!parts) return undefined;
  return ((Number(parts[1]) * 256 + Number(parts[2])) * 256 + Number(parts[3])) * 256 + Number(parts[4]);
}

type ParsedRange = { version: 4; start: number; end: number } | { version: 6; start: bigint; end: bigint };

/** A CIDR (`192.0.2.0/24`) or a single address as a range; host bits set below the prefix are ignored. */
export function parseCidr(text: string): ParsedRange | undefined {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash === -1 ? undefined : trimmed.slice(slash + 1);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? undefined : Number(prefixText);
  const v4 = ipv4ToNumber(addressText);
  if (v4 !== undefined) {
    if (prefix !== undefined && prefix > 32) return undefined;
    const size = 2 ** (32 - (prefix ?? 32));
    const start = v4 - (v4 % size);
    return { version: 4, start, end: start + size - 1 };
  }
  if (isIP(addressText) !== 6 || (prefix !== undefined && prefix > 128)) return undefined;
  // No ipaddr.process here: an IPv6 entry stays IPv6 even when written in the mapped form.
  const value = partsToBigInt(ipaddr.IPv6.parse(addressText).parts);
  const hostBits = BigInt(128 - (prefix ?? 128));
  const start = (value >> hostBits) << hostBits;
  return { version: 6, start, end: start + (1n << hostBits) - 1n };
}

export const isCidrOrAddress = (text: string): boolean => parseCidr(text) !== undefined;

function partsToBigInt(parts: readonly number[]): bigint {
  // Hex is the quickest way from eight 16-bit groups to a BigInt in plain JavaScript.
  let hex = '0x';
  for (const part of parts) hex += part.toString(16).padStart(4, '0');
  return BigInt(hex);
}

/** Disjoint sorted segments, each labelled with the most specific entry that covers it. */
interface SegmentTable<T extends number | bigint> {
  starts: T[];
  ends: T[];
  labels: string[];
}

interface Entry<T extends number | bigint> {
  start: T;
  end: T;
  text: string;
}

export class CidrSet {
  readonly size: number;
  private readonly v4: SegmentTable<number>;
  private readonly v6: SegmentTable<bigint>;

  /** Throws on an entry that is neither a CIDR nor an address (feed parsers check entries first). */
  constructor(entries: Iterable<string>) {
    const v4: Entry<number>[] = [];
    const v6: Entry<bigint>[] = [];
    let size = 0;
    for (const text of entries) {
      const range = parseCidr(text);
      if (!range) throw new Error(`not a CIDR or IP address: ${JSON.stringify(text.slice(0, 80))}`);
      if (range.version === 4) v4.push({ start: range.start, end: range.end, text: text.trim() });
      else v6.push({ start: range.start, end: range.end, text: text.trim() });
      size++;
    }
    this.size = size;
    this.v4 = buildSegments(v4, 0, 1);
    this.v6 = buildSegments(v6, 0n, 1n);
  }

  /** The most specific entry covering `ip`, as it was written; undefined when none does or `ip` is not an IP. */
  match(ip: string): string | undefined {
    const address = parseAddress(ip);
    if (!address) return undefined;
    return address.version === 4 ? lookup(this.v4, address.value) : lookup(this.v6, address.value);
  }
}

function lookup<T extends number | bigint>(table: SegmentTable<T>, value: T): string | undefined {
  const index = lastAtOrBelow(table.starts, value);
  return index >= 0 && table.ends[index]! >= value ? table.labels[index] : undefined;
}

/** Index of the last element of sorted `starts` that is <= value, or -1. */
export function lastAtOrBelow<T extends number | bigint>(starts: ArrayLike<T>, value: T): number {
  let low = 0;
  let high = starts.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (starts[middle]! <= value) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

function buildSegments<T extends number | bigint>(entries: Entry<T>[], zero: T, one: T): SegmentTable<T> {
  // Outer ranges before the ranges they contain: by start, then widest first.
  entries.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.end > b.end ? -1 : a.end < b.end ? 1 : 0));
  const table: SegmentTable<T> = { starts: [], ends: [], labels: [] };
  // `+` and `-` on a number|bigint generic need a cast; both operands are always the same kind.
  const add = (a: T, b: T): T => ((a as number) + (b as number)) as T;
  const subtract = (a: T, b: T): T => ((a as number) - (b as number)) as T;
  const emit = (start: T, end: T, label: string): void => {
    if (start <= end) {
      table.starts.push(start);
      table.ends.push(end);
      table.labels.push(label);
    }
  };
  const open: Entry<T>[] = [];
  let cursor = zero;
  const closeUntil = (limit: T | undefined): void => {
    // Finish every open range that ends before `limit` (all of them when undefined).
    while (open.length > 0 && (limit === undefined || open.at(-1)!.end < limit)) {
      const done = open.pop()!;
      emit(cursor, done.end, done.text);
      cursor = add(done.end, one);
    }
  };
  for (const entry of entries) {
    closeUntil(entry.start);
    const parent = open.at(-1);
    // The same range written twice: the first spelling wins.
    if (parent && parent.start === entry.start && parent.end === entry.end) continue;
    if (parent) emit(cursor, subtract(entry.start, one), parent.text);
    cursor = entry.start;
    open.push(entry);
  }
  closeUntil(undefined);
  return table;
}
