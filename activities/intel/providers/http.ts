// One GET-and-parse for all providers; anything but a usable answer becomes a ProviderHttpError.

import type { LookupContext } from './definition';

/** A status the provider did not map itself; the runner turns it into unknown or misconfigured. */
export class ProviderHttpError extends Error {
  constructor(
    readonly status: number,
    /** The raw Retry-After header of a 429, if any. */
    readonly retryAfter: string | null,
  ) {
    super(`the API answered HTTP ${status}`);
    this.name = 'ProviderHttpError';
  }
}

/** An answer that came back but could not be read (not JSON, or not the documented shape). */
export class UnreadableAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableAnswerError';
  }
}

export interface JsonAnswer {
  status: number;
  body: unknown;
}

/**
 * GETs `path` under the base URL. 200 answers are returned; so are 404s when `allowNotFound`
 * (several APIs say "not seen" that way), leaving the provider to check the body is really theirs.
 */
export async function getJson(
  context: LookupContext,
  path: string,
  headers: Record<string, string>,
  { allowNotFound = false }: { allowNotFound?: boolean } = {},
): Promise<JsonAnswer> {
  const url = context.baseUrl.replace(/\/+$/, '') + path;
  const response = await context.fetch(url, { headers: { accept: 'application/json', ...headers }, signal: context.signal });
  const wanted = response.ok || (allowNotFound && response.status === 404);
  if (!wanted) {
    // Drain the body so the connection can be reused; its content is not needed.
    await response.body?.cancel().catch(() => undefined);
    throw new ProviderHttpError(response.status, response.headers.get('retry-after'));
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    throw new UnreadableAnswerError(`the answer (HTTP ${response.status}) was not JSON`);
  }
}

/** A path segment from an IP or domain; colons of IPv6 stay readable, as the APIs document them. */
export function segment(value: string): string {
  return encodeURIComponent(value).replaceAll('%3A', ':');
}

/** The object at `body`, or an UnreadableAnswerError naming what was expected. */
export function asObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UnreadableAnswerError(`expected ${what} in the answer`);
  return body as Record<string, unknown>;
}

export function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

export function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** `a, b, c and 4 more`: keeps evidence lines to one line. */
export function shortList(items: readonly (string | number)[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
