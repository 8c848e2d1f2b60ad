// The exposure-check contracts: what is probed, what was skipped and why, and the interface every
// service check implements. Checks are registered in ./checks/index.ts; adding one touches nothing else.
import type { ProbeSettings } from '../../lib/config';
import type { Finding } from '../../lib/finding';
import type { ProbeScope } from './scope';

/** One address × port to connect to, with where it came from (for the table). */
export interface ProbeTarget {
  address: string;
  port: number;
  /** `ContextInstance.id` and `ExposingRule.id` that put it on the list, when the inventory did. */
  instance?: string;
  rule?: string;
}

/** A target not probed, and why: every one is shown in the issue. */
export interface SkippedTarget {
  /** `203.0.113.10:22`, `169.254.169.254:80`, `203.0.113.10 udp/53`, a URL. */
  target: string;
  reason: string;
}

export interface ProbeReport {
  findings: Finding[];
  skipped: SkippedTarget[];
  /** Web pages that answered (final URLs after in-scope redirects): what the browser queue photographs. */
  webPages: string[];
}

export interface CheckContext {
  scope: ProbeScope;
  settings: ProbeSettings;
  /** Aborted when the activity is cancelled or times out. */
  signal: AbortSignal;
}

/** An open port, as the TCP sweep left it: what the service sent first, if anything. */
export interface OpenPort {
  address: string;
  port: number;
  /**
   * The name the target was planned by (a load balancer's or database's endpoint), when it was one:
   * web checks ask for it by name, over the checked address, so virtual hosts and TLS (SNI) answer
   * as they do to the internet.
   */
  host?: string;
  /** Up to a few hundred bytes the service sent unasked within a short wait (SSH and MySQL speak first; Redis and HTTP do not). */
  banner?: string;
}

export interface ServiceCheck {
  /** `http`, `ssh`, `redis`...: the finding's `check` and the first part of its key. */
  readonly name: string;
  /** Whether the check applies to this open port: its well-known ports, or the banner it sent. */
  matches(open: OpenPort): boolean;
  /** Findings about the service; a service that turns out not to be this one gives none. */
  run(open: OpenPort, context: CheckContext): Promise<Finding[]>;
}

/** `203.0.113.10:443`, `[2001:db8::1]:443`: the target part of probe finding keys. */
export const endpoint = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);
