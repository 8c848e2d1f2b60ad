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
  kind: 'ip' | 'domain' | 'principal';
  value: string;
}

/** A principal as an alert names it, with the cloud account it acted in (a bare user name needs it). */
export interface PrincipalRef {
  name: string;
  /** The alert's cloud: `aws`, `gcp`, or a source's own name. */
  provider?: string;
  /** The alert's AWS account or GCP project. */
  account?: string;
}

/** An access key of an AWS user, and when it was last used (absent: never). */
export interface AccessKeyFacts {
  id: string;
  status: string;
  created?: string;
  lastUsed?: { at: string; service?: string; region?: string };
}

/** A policy that makes the principal an administrator, and how it holds it. */
export interface AdminGrant {
  policy: string;
  /** `attached`, `inline`, or `group <name>` (attached to or inline in a group of the user). */
  via: string;
}

/** What the inventories know about a principal; `unread` with the reason when they could not tell. */
export type PrincipalFacts =
  | {
      kind: 'aws-user' | 'aws-role';
      account: string;
      name: string;
      arn: string;
      created?: string;
      /** The session of an assumed-role ARN, or the access key the alert named. */
      seenAs?: string;
      /** Users: MFA devices, console password (and its last use), access keys. */
      mfaDevices?: number;
      console?: { enabled: boolean; lastUsed?: string };
      accessKeys?: AccessKeyFacts[];
      /** Roles: when the role was last used. */
      lastUsed?: string;
      adminPolicies: AdminGrant[];
    }
  | { kind: 'gcp-service-account'; email: string; displayName?: string; disabled: boolean; project?: string }
  | { kind: 'organisation-account'; email: string; domain: string }
  | { kind: 'external'; email: string; domain: string; account: 'user' | 'service-account' }
  | { kind: 'unread'; reason: string };

/** An earlier investigation that named the same actor, with its outcome as Temporal records it. */
export interface PastInvestigation {
  workflowId: string;
  source?: string;
  alertKind?: string;
  verdict?: string;
  exposure?: string;
  /** `running`, `completed`, `failed`… (the execution's status, lower case). */
  status: string;
  startedAt?: string;
  issue?: { number: number; state?: string };
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
  /** Principals: what the inventories know about it. */
  identity?: PrincipalFacts;
  /** Earlier investigations naming the same actor, most recent first (bounded); absent when not looked up. */
  history?: PastInvestigation[];
  /** More earlier investigations exist than `history` shows. */
  moreHistory?: boolean;
  /** Why the earlier investigations were not looked up, when they could not be. */
  historyUnread?: string;
  /** Private and reserved addresses: not checked at all, shown together on one line. */
  reserved?: boolean;
  /** Past the actors one check takes (`actorShares`): not checked this time, counted on one line. */
  notChecked?: boolean;
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
