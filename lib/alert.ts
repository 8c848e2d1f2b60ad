// The normalized alert: what every source adapter produces and every workflow consumes.
// Field names follow OCSF's Detection Finding (class 2004) where it has one.

export const severities = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof severities)[number];

/** Vigil's own re-scan findings: archived by the re-scan, parsed back by the source of that name. */
export const RESCAN_SOURCE = 'vigil-rescan';

export const alertKinds = ['exposure', 'actor', 'resource', 'unparsed'] as const;
export type AlertKind = (typeof alertKinds)[number];

export interface CloudRef {
  provider: string;
  account?: string;
  region?: string;
}

/**
 * `type` is `<provider>:<service>:<kind>`, for example `aws:ec2:instance`, `aws:ec2:security-group`,
 * `aws:ec2:network-acl`, `aws:ec2:snapshot`, `aws:ec2:image`, `aws:iam:user`, `aws:iam:role`,
 * `aws:iam:access-key`, `aws:s3:bucket`, `aws:cloudtrail:trail`, `aws:account`,
 * `gcp:compute:instance`, `gcp:compute:firewall`, `gcp:project`. `id` is the provider's own id or
 * ARN / full resource name.
 */
export interface ResourceRef {
  type: string;
  id: string;
  /** A human name (tag Name, display name) when the source gives one. */
  name?: string;
}

/**
 * A reference's id standing for every resource of its type in the alert's account (and region):
 * account-level controls (Security Hub's EC2.1, "EBS snapshots should not be publicly restorable")
 * judge them all at once. The inventory answers it with the public ones; correlation ignores it.
 */
export const EVERY_RESOURCE = '*';

/** An inclusive port range; a single port has `from === to`. */
export interface PortRange {
  from: number;
  to: number;
}

export interface NetworkFacts {
  /** Addresses of the alerted-on machines (not of actors). */
  ips: string[];
  /** Source ranges a rule opens to, for example `0.0.0.0/0`. */
  cidrs: string[];
  ports: PortRange[];
  /** `tcp`, `udp`, `icmp`, `all`, or the source's own protocol name. */
  protocol?: string;
}

export interface Actors {
  ips: string[];
  domains: string[];
  principals: string[];
  userAgents: string[];
}

/** Where the raw body that produced an alert is kept. */
export interface ArchiveRef {
  /** Stable record id: `<yyyy>/<mm>/<dd>/<source>/<sha256>`. */
  id: string;
  /** sha256 of the raw body; doubles as the delivery id, so a resent body is one delivery. */
  sha256: string;
  receivedAt: string;
}

/**
 * A rule that found the alert: one of its source's built-in rules, or a Sigma rule from the
 * configuration (`detections.sigma`). An alert several rules found carries each of them.
 */
export interface Detection {
  engine: 'built-in' | 'sigma';
  /** The rule's id: a built-in rule's id, or the Sigma rule's `id`. */
  id: string;
  title: string;
  /** The rule's own level (a Sigma `level`); the alert's severity is the worst of them. */
  level: Severity;
  /** As the rule writes them, for example `attack.t1562.001` or `attack.defense-evasion`. */
  tags?: string[];
  references?: string[];
  falsepositives?: string[];
  /** The Sigma rule file it was loaded from. */
  file?: string;
}

/** What a source adapter extracts from one payload, before intake adds source and archive. */
export interface ParsedAlert {
  kind: AlertKind;
  fingerprint: string;
  title: string;
  severity: Severity;
  occurredAt?: string;
  description?: string;
  cloud?: CloudRef;
  resources: ResourceRef[];
  network: NetworkFacts;
  actors: Actors;
  /**
   * The source says the finding is over (SCC `INACTIVE`, Security Hub `PASSED`/`RESOLVED`/`ARCHIVED`,
   * a Prowler `PASS`, a CloudTrail Insights end event), in its own words. Such an alert has the same
   * fingerprint as the finding it ends, so it reaches that finding's investigation, which re-checks.
   */
  resolution?: string;
  /** The rules that found it, when the source judges events by rules (CloudTrail, GCP audit logs). */
  detections?: Detection[];
}

export interface NormalizedAlert extends ParsedAlert {
  source: string;
  archive: ArchiveRef;
  /** Its position among the alerts of its body (0 when absent): with the body, one occurrence. */
  index?: number;
  /** How many alerts of its body with its fingerprint it stands for (1 when absent). */
  copies?: number;
  /** Fields cut short to keep the alert small; the archived body holds them whole. */
  truncated?: string[];
}

/** One occurrence of an alert: a resent body is the same occurrence, another alert of it is not. */
export const occurrenceKey = (alert: NormalizedAlert): string => `${alert.archive.sha256}#${alert.index ?? 0}`;

const severityRank = (severity: Severity) => severities.indexOf(severity);

export const worseSeverity = (a: Severity, b: Severity): Severity => (severityRank(b) > severityRank(a) ? b : a);

export function emptyNetwork(): NetworkFacts {
  return { ips: [], cidrs: [], ports: [] };
}

export function emptyActors(): Actors {
  return { ips: [], domains: [], principals: [], userAgents: [] };
}
