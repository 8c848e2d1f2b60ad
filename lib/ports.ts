// Port ranges as sources and providers write them: AWS from/to pairs, GCP's "22" / "8000-8080".
import type { PortRange } from './alert';

/** Ports from a from/to pair, where -1 or missing means all ports (as AWS writes it). */
export function portRange(from: unknown, to: unknown): PortRange | undefined {
  const low = portNumber(from);
  const high = portNumber(to ?? from);
  if (!Number.isInteger(low) || !Number.isInteger(high)) return undefined;
  if (low < 0 || high < 0) return { from: 0, to: 65535 };
  if (low > 65535 || high > 65535 || low > high) return undefined;
  return { from: low, to: high };
}

/**
 * A number, or a string that is one; anything else (an object, an array, a blank) is no port. Never
 * `Number()` on a payload's value: an object's `toString` or a nested array would run or recurse.
 */
function portNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
}

/** Ports from GCP's `["22", "8000-8080"]` form. */
export function parsePortSpec(spec: string): PortRange | undefined {
  const match = /^(\d+)(?:-(\d+))?$/.exec(spec.trim());
  return match ? portRange(match[1], match[2] ?? match[1]) : undefined;
}

/** Each port range once (TCP and UDP often list the same), lowest first. */
export function uniqPorts(ports: readonly (PortRange | undefined)[]): PortRange[] {
  const byRange = new Map(ports.filter((port): port is PortRange => port !== undefined).map((port) => [`${port.from}-${port.to}`, port]));
  return [...byRange.values()].sort((a, b) => a.from - b.from || a.to - b.to);
}

/** Sorted, with overlapping and adjacent ranges joined. */
export function mergePorts(ranges: readonly PortRange[]): PortRange[] {
  const merged: PortRange[] = [];
  for (const range of [...ranges].sort((a, b) => a.from - b.from)) {
    const last = merged.at(-1);
    if (last && range.from <= last.to + 1) last.to = Math.max(last.to, range.to);
    else merged.push({ ...range });
  }
  return merged;
}
