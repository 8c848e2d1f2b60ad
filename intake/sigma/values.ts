// How a value found in an event is seen by a rule. Events are untrusted: nothing here throws or
// trusts a type.

/**
 * The text a string pattern is matched against: a string as it is, a number or boolean as its
 * JavaScript string (`22`, `true`), an object as its compact JSON text (SigmaHQ matches
 * `requestParameters|contains: 'Suspended'` against a whole object). Null has no text: only a
 * `null` in the rule matches it.
 */
export function textOf(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      if (value === null) return undefined;
      try {
        return JSON.stringify(value);
      } catch {
        return undefined;
      }
    default:
      return undefined;
  }
}

// The same few event names and sources are lower-cased by every rule for every record: remember
// them. Bounded, because field values are the events' and unbounded in variety.
const lowerCases = new Map<string, string>();
export function lowerCase(text: string): string {
  let lower = lowerCases.get(text);
  if (lower === undefined) {
    lower = text.toLowerCase();
    if (lowerCases.size >= 10_000) lowerCases.clear();
    if (text.length <= 256) lowerCases.set(text, lower);
  }
  return lower;
}

const decimal = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number an event value holds: a number, or a string of decimal notation (`"22"`, `"1.5e3"`). */
export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || !decimal.test(value.trim())) return undefined;
  const number = Number(value.trim());
  return Number.isFinite(number) ? number : undefined;
}

export type TimePart = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

const isoDateTime = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?/;

/** ISO 8601 week number of a calendar date (weeks start on Monday; week 1 holds the first Thursday). */
function isoWeek(year: number, month: number, day: number): number {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  return Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
}

/**
 * A part of an ISO 8601 timestamp (`2025-11-28T09:14:03Z`) as written: the Sigma time modifiers do
 * no time-zone or format conversion, so the hour of `…T09:14:03-08:00` is 9.
 */
export function timePartOf(value: unknown, part: TimePart): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = isoDateTime.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const clock = (digits: string | undefined) => (digits === undefined ? undefined : Number(digits));
  switch (part) {
    case 'year':
      return year;
    case 'month':
      return month;
    case 'day':
      return day;
    case 'week':
      return isoWeek(year, month, day);
    case 'hour':
      return clock(match[4]);
    case 'minute':
      return clock(match[5]);
  }
}
