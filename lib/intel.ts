// Actor checks: what each intelligence source says about an IP address or a domain, and the
// verdict drawn from all of them. Pure code: shared by activities and rendering.

/** The verdict scale, most severe first. `unknown` is never "clean": it means no source could say. */
export type Verdict = 'malicious' | 'suspicious' | 'known-benign' | 'unknown';

/** What one source said about one actor. */
export interface SourceResult {
  /** The feed or provider name (`tor-exits`, `abuseipdb`, ...). */
  source: string;
  /**
   * `listed`: the source knows the actor (see `verdict`); `not-listed`: it looked and does not;
   * `unknown`: it could not look (feed unreadable, provider down, quota spent, rate-limited);
   * `misconfigured`: a person must fix something (bad or missing key).
   */
  status: 'listed' | 'not-listed' | 'unknown' | 'misconfigured';
  /** What a listing means, when `status` is `listed`. */
  verdict?: Verdict;
  /** One line for the issue, e.g. `Tor exit node (list of 2026-11-28 09:00, 3 h old)`. */
  evidence: string;
  /** When the data behind the answer was fetched (feed copy, or provider answer, possibly cached). */
  fetchedAt?: string;
  /** Extra facts for the collapsible detail. */
  details?: Record<string, unknown>;
}

export interface ActorTarget {
  kind: 'ip' | 'domain';
  value: string;
}

export interface AsnInfo {
  asn: number;
  organisation: string;
  country?: string;
}

/** Everything Vigil learned about one actor. */
export interface ActorReport {
  target: ActorTarget;
  verdict: Verdict;
  /** The sources that decided the verdict, for the one-line summary. */
  because: string[];
  asn?: AsnInfo;
  results: SourceResult[];
}

const rank: Record<Verdict, number> = { malicious: 3, suspicious: 2, 'known-benign': 1, unknown: 0 };

export const worstVerdict = (verdicts: readonly Verdict[]): Verdict =>
  verdicts.reduce<Verdict>((worst, verdict) => (rank[verdict] > rank[worst] ? verdict : worst), 'unknown');

/**
 * The actor's verdict: the most severe thing any source listed it as. Nothing listed is `unknown`,
 * whether the sources looked or not: the table says which looked, and "not listed" is not "clean".
 */
export function verdictOf(results: readonly SourceResult[]): { verdict: Verdict; because: string[] } {
  const listed = results.filter((result) => result.status === 'listed' && result.verdict);
  const verdict = worstVerdict(listed.map((result) => result.verdict!));
  return { verdict, because: listed.filter((result) => result.verdict === verdict).map((result) => result.source) };
}
