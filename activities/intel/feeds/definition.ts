// What Vigil knows about one blocklist feed: where it lives, what a listing means, how to read it.
import type { Verdict } from '../types';

export interface FeedDefinition {
  /** Short stable name, used in results, file names and configuration (`tor-exits`). */
  name: string;
  /** What the list is, in a few words, for evidence lines (`Tor exit node list`). */
  description: string;
  /** The real public URL; configuration may point elsewhere (a mirror, a proxy). */
  defaultUrl: string;
  /** What being on the list means. */
  verdict: Verdict;
  /** Cost and licence, one line for docs/actor-checks.md. */
  cost: string;
  /**
   * The entries (CIDRs or addresses) of a downloaded copy. Throws when the text is not this feed —
   * an HTML error page, an empty or truncated body — so a bad download never replaces a good copy
   * with an empty list.
   */
  parse(text: string): string[];
}

/** Thrown by parsers for a body that is not the feed. */
export class FeedFormatError extends Error {
  override name = 'FeedFormatError';
}

/** The lines of a body, trimmed, without blank lines (`\r\n` tolerated). */
export function contentLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** A short quote of an offending line for error messages (HTML pages can have very long lines). */
export function quote(line: string): string {
  return JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}…` : line);
}

/** Refuses a body that cannot be a feed at all, before format-specific checks. */
export function assertNotEmpty(text: string, feed: string): void {
  if (text.trim() === '') throw new FeedFormatError(`${feed}: empty body`);
}
