// The investigation's bookkeeping as pure functions: which deliveries count, and how the watch over
// an exposure moves (watching → remediated, clean → watching, stopped, aged out). The workflow
// decides when to call them and does the I/O; these decide what the state becomes, so they are
// tested without Temporal.
import { occurrenceKey, type NormalizedAlert } from './alert';
import { PROOF_CHECKS, publiclyExposed, type PublicResource, type ResourceContext } from './context';
import type { Finding } from './finding';
import type { PrincipalRef } from './intel';
import type { ExposureState, InvestigationProgress, IssueChange, WatchProgress } from './investigation';

/** Deliveries remembered across runs to recognise a resent body. */
const REMEMBERED_DELIVERIES = 200;

/**
 * A resent body (sender retry, sweeper, replay) is the same occurrence, reported or still queued;
 * another alert of the same body is another.
 */
export function isNewDelivery(progress: InvestigationProgress, queued: readonly NormalizedAlert[], alert: NormalizedAlert): boolean {
  const key = occurrenceKey(alert);
  return !progress.reportedDeliveries.includes(key) && !queued.some((other) => occurrenceKey(other) === key);
}

/** The counts once `alerts` are reported: occurrences (copies within a body count), first and last seen, keys. */
export function recordDeliveries(progress: InvestigationProgress, alerts: readonly NormalizedAlert[]): InvestigationProgress {
  let { occurrences, firstSeen, lastSeen } = progress;
  for (const { archive, copies = 1, resolution } of alerts) {
    // A resolution is news about the alert, not another sighting of it.
    if (resolution) continue;
    occurrences += copies;
    firstSeen ??= archive.receivedAt;
    if (!lastSeen || archive.receivedAt > lastSeen) lastSeen = archive.receivedAt;
  }
  const reportedDeliveries = [...progress.reportedDeliveries, ...alerts.map(occurrenceKey)];
  return { ...progress, occurrences, ...(firstSeen ? { firstSeen } : {}), ...(lastSeen ? { lastSeen } : {}), reportedDeliveries };
}

/** The latest of a batch of deliveries (what its comment shows). */
export const latestDelivery = (alerts: readonly NormalizedAlert[]): NormalizedAlert =>
  alerts.reduce((a, b) => (b.archive.receivedAt > a.archive.receivedAt ? b : a));

/** Progress small enough to carry into the next run: only the latest delivery ids. */
export const carriedProgress = (progress: InvestigationProgress): InvestigationProgress => ({
  ...progress,
  reportedDeliveries: progress.reportedDeliveries.slice(-REMEMBERED_DELIVERIES),
});

/** A watch that starts now: something answered. */
export const startWatch = (now: string): WatchProgress => ({ state: 'watching', since: now, checks: 0, cleanStreak: 0 });

/**
 * The watch after one re-check, and what changed for the issue: `exposed` when it is exposed and
 * was not (the watch starts over), `remediated` after enough clean checks in a row. A check that
 * could not tell (`exposed` undefined) counts as a check and leaves the streak as it was. A re-check
 * asked for although nothing ever answered begins from a `clean` watch.
 */
export function afterRecheck(
  watch: WatchProgress | undefined,
  { exposed, cleanChecks, now }: { exposed: boolean | undefined; cleanChecks: number; now: string },
): { watch: WatchProgress; change?: 'exposed' | 'remediated' } {
  const before = watch ?? { ...startWatch(now), state: 'clean' };
  const cleanStreak = exposed === undefined ? before.cleanStreak : exposed ? 0 : before.cleanStreak + 1;
  const checked = { ...before, checks: before.checks + 1, cleanStreak };
  if (exposed && checked.state !== 'watching') return { watch: { ...checked, state: 'watching', since: now, cleanStreak: 0 }, change: 'exposed' };
  if (exposed === false && checked.state === 'watching' && checked.cleanStreak >= cleanChecks) return { watch: { ...checked, state: 'remediated' }, change: 'remediated' };
  return { watch: checked };
}

/**
 * Why a watch ends without being remediated, if it does: a person closed or silenced the issue
 * (`stopped`), or it has watched for longer than `maxAgeMs` (`aged-out`).
 */
export function watchEnding(
  watch: WatchProgress | undefined,
  { closed, suppressed, nowMs, maxAgeMs }: { closed: boolean; suppressed: boolean; nowMs: number; maxAgeMs: number },
): 'stopped' | 'aged-out' | undefined {
  if (watch?.state !== 'watching') return undefined;
  if (closed || suppressed) return 'stopped';
  return nowMs - Date.parse(watch.since) >= maxAgeMs ? 'aged-out' : undefined;
}

/**
 * What a look at an exposure says: `exposed` while something answers or the inventory shows a rule
 * opening it; `clean` when nothing answers and the inventory found the machines and no exposure;
 * `unknown` when nothing answers and the inventory could not tell (nothing consulted, a problem
 * reading it, the machine not found): that is no evidence of a remediation.
 */
export type Evidence = 'exposed' | 'clean' | 'unknown';

export function exposureEvidence(answered: boolean, context: ResourceContext): Evidence {
  if (answered || publiclyExposed(context)) return 'exposed';
  const read = context.instances.length + (context.resources?.length ?? 0);
  const inventoryTold = context.consulted.length > 0 && context.problems.length === 0 && read > 0;
  return inventoryTold ? 'clean' : 'unknown';
}

/** Proof statuses that mean an outsider reached the resource: read something, or listed what it holds. */
const REACHED = new Set(['public', 'listable']);

/**
 * Whether a public resource was reached as an outsider reaches it: a bucket or URL answered without
 * credentials (a proof's `public` or `listable` finding), or a snapshot or image whose sharing, read
 * again, is public (its sharing is all there is to prove).
 */
export function provenPublic(findings: readonly Finding[], context: ResourceContext): boolean {
  return findings.some((finding) => PROOF_CHECKS.has(finding.check) && REACHED.has(finding.status)) || sharedPublicly(context).length > 0;
}

/** The snapshots and images whose sharing, as the inventory just read it, is public: that reading is their proof. */
export const sharedPublicly = (context: Pick<ResourceContext, 'resources'>): PublicResource[] =>
  (context.resources ?? []).filter((resource) => resource.public && resource.class === 'snapshot');

/** The exposure's label: `open` when something answers, `none` when clean, else `unconfirmed`. */
export const exposureState = (answered: boolean, evidence: Evidence): Exclude<ExposureState, 'remediated'> =>
  answered ? 'open' : evidence === 'clean' ? 'none' : 'unconfirmed';

/** A person reopened the issue or lifted the silence: the investigation looks again. */
export const resumes = (progress: InvestigationProgress, change: IssueChange): boolean =>
  (progress.issueState === 'closed' || progress.suppressed) && change.state === 'open' && !change.suppressed;

/** Actor addresses, domains and principals remembered as checked across runs. */
const REMEMBERED_ACTORS = 500;
/** Actors checked at once: more than this in one alert are a list, not actors; the rest wait, visibly. */
export const MAX_ACTORS = 25;

/**
 * How many of each kind one check takes: addresses, domains and principals in turn until
 * `MAX_ACTORS`, so that a long list of one kind does not crowd out the others. The workflow (what
 * it remembers as checked, in `newActors`) and the activity (what it checks) both apply it to the
 * same lists, so they agree without the workflow asking.
 */
export function actorShares(counts: { ips: number; domains: number; principals: number }): { ips: number; domains: number; principals: number } {
  const taken = { ips: 0, domains: 0, principals: 0 };
  const kinds = (['ips', 'domains', 'principals'] as const).filter((kind) => counts[kind] > 0);
  for (let left = MAX_ACTORS; left > 0 && kinds.some((kind) => taken[kind] < counts[kind]); ) {
    for (const kind of kinds) {
      if (left > 0 && taken[kind] < counts[kind]) {
        taken[kind] += 1;
        left -= 1;
      }
    }
  }
  return taken;
}

/**
 * The actors of `alerts` not checked yet, and the list of checked ones once they are: only each
 * kind's share (`actorShares`), the rest are checked when a later alert names them again. A
 * principal keeps the cloud account of the alert that named it: a bare user name means nothing
 * without it. `checked` holds plain names, as older runs carried them.
 */
export function newActors(
  progress: InvestigationProgress,
  alerts: readonly NormalizedAlert[],
  /** False in runs recorded before the shares: they remembered every actor as checked. */
  shared = true,
): { ips: string[]; domains: string[]; principals: PrincipalRef[]; checked: string[] } {
  const checked = new Set(progress.checkedActors);
  const ips = [...new Set(alerts.flatMap(({ actors }) => actors.ips))].filter((ip) => !checked.has(ip));
  const domains = [...new Set(alerts.flatMap(({ actors }) => actors.domains))].filter((domain) => !checked.has(domain));
  const principals = new Map<string, PrincipalRef>();
  for (const { actors, cloud } of alerts) {
    for (const name of actors.principals ?? []) {
      if (checked.has(name) || principals.has(name)) continue;
      principals.set(name, { name, ...(cloud?.provider ? { provider: cloud.provider } : {}), ...(cloud?.account ? { account: cloud.account } : {}) });
    }
  }
  const share = shared ? actorShares({ ips: ips.length, domains: domains.length, principals: principals.size }) : { ips: Infinity, domains: Infinity, principals: Infinity };
  const taken = [...ips.slice(0, share.ips), ...domains.slice(0, share.domains), ...[...principals.keys()].slice(0, share.principals)];
  return { ips, domains, principals: [...principals.values()], checked: [...checked, ...taken].slice(-REMEMBERED_ACTORS) };
}
