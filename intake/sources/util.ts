// Small helpers shared by source adapters, for the odd shapes real payloads have.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Severity } from '../../lib/alert';

/** A list that may arrive as a list, a single value, `{}` or nothing (CloudTrail writes `{}`). */
export function asArray<T = unknown>(value: unknown): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value === undefined || value === null) return [];
  if (typeof value === 'object' && Object.keys(value).length === 0) return [];
  return [value as T];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string, or undefined. */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** An IP address (v4 or v6) or undefined: service hostnames and "AWS Internal" are not IPs. */
export function ipOrUndefined(value: unknown): string | undefined {
  const text = str(value)?.trim();
  return text && isIP(text) ? text : undefined;
}

export function uniq<T>(values: readonly (T | undefined)[]): T[] {
  return [...new Set(values.filter((value): value is T => value !== undefined))];
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const severityWords: Record<string, Severity> = {
  informational: 'informational',
  info: 'informational',
  low: 'low',
  medium: 'medium',
  moderate: 'medium',
  high: 'high',
  critical: 'critical',
};

/** A severity word in any case (`HIGH`, `Informational`), or undefined. */
export function severityFromWord(value: unknown): Severity | undefined {
  return severityWords[str(value)?.toLowerCase() ?? ''];
}

/**
 * The internet range a CIDR stands for, or undefined. Any address with prefix /0 covers every
 * address (the Stratus samples anonymise 0.0.0.0/0 as `208.236.235.254/0`), so the canonical
 * `0.0.0.0/0` or `::/0` is reported rather than the odd spelling.
 */
export function internetRange(value: unknown): string | undefined {
  const [address, prefix, ...rest] = (str(value) ?? '').trim().split('/');
  if (rest.length > 0 || prefix !== '0' || !address) return undefined;
  const version = isIP(address);
  return version === 4 ? '0.0.0.0/0' : version === 6 ? '::/0' : undefined;
}

/** Open to the whole internet: a /0 range, however written. */
export const isInternetRange = (cidr: string): boolean => internetRange(cidr) !== undefined;

/** A number, also when written as a string (some exports write scores as "5.0"). */
export function numeric(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

/**
 * A lookup table's own entry for a key that comes from a payload, never an inherited one: a check id
 * or type named `constructor` or `toString` must find nothing rather than a function of Object.
 */
export function ownEntry<T>(table: Readonly<Record<string, T>>, key: string | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}
