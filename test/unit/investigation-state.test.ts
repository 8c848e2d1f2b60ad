// The investigation's bookkeeping without Temporal: deliveries counted once, and the watch's moves.
import { describe, expect, it } from 'vitest';
import type { NormalizedAlert } from '../../lib/alert';
import type { InvestigationProgress, WatchProgress } from '../../lib/investigation';
import { emptyContext, inventoryFindings, type PublicResource, type ResourceContext } from '../../lib/context';
import type { Finding } from '../../lib/finding';
import { afterRecheck, carriedProgress, exposureEvidence, exposureState, isNewDelivery, latestDelivery, provenPublic, recordDeliveries, resumes, startWatch, watchEnding } from '../../lib/investigation-state';

const delivery = (sha256: string, receivedAt: string) => ({ archive: { id: `rec/${sha256}`, sha256, receivedAt } }) as NormalizedAlert;
const fresh = (): InvestigationProgress => ({ occurrences: 0, reportedDeliveries: [], suppressed: false });
const T0 = '2026-11-30T10:00:00.000Z';
const T1 = '2026-11-30T11:00:00.000Z';

describe('deliveries', () => {
  it('a body already reported or already queued is not a new delivery; another alert of the same body is', () => {
    const progress = { ...fresh(), reportedDeliveries: ['a#0'] };
    expect(isNewDelivery(progress, [], delivery('a', T0))).toBe(false);
    expect(isNewDelivery(progress, [], { ...delivery('a', T0), index: 1 })).toBe(true);
    expect(isNewDelivery(progress, [delivery('b', T0)], delivery('b', T1))).toBe(false);
    expect(isNewDelivery(progress, [delivery('b', T0)], delivery('c', T0))).toBe(true);
  });

  it('counts occurrences, keeps the first sighting and the latest, whatever the order they arrive in', () => {
    const once = recordDeliveries(fresh(), [delivery('a', T1)]);
    expect(once).toMatchObject({ occurrences: 1, firstSeen: T1, lastSeen: T1, reportedDeliveries: ['a#0'] });
    const twice = recordDeliveries(once, [delivery('b', T0), delivery('c', '2026-11-30T12:00:00.000Z')]);
    expect(twice).toMatchObject({ occurrences: 3, firstSeen: T1, lastSeen: '2026-11-30T12:00:00.000Z', reportedDeliveries: ['a#0', 'b#0', 'c#0'] });
    expect(once.reportedDeliveries).toEqual(['a#0']);
  });

  it('counts the copies a body held, and not a resolution from the source', () => {
    const counted = recordDeliveries(fresh(), [{ ...delivery('a', T0), copies: 10_000 }, { ...delivery('b', T1), resolution: 'SCC state INACTIVE' }]);
    expect(counted).toMatchObject({ occurrences: 10_000, reportedDeliveries: ['a#0', 'b#0'] });
  });

  it('names the latest of a batch', () => {
    expect(latestDelivery([delivery('a', T1), delivery('b', T0)]).archive.sha256).toBe('a');
  });

  it('carries only the latest 200 delivery ids into the next run', () => {
    const ids = Array.from({ length: 250 }, (_, n) => `d${n}`);
    const carried = carriedProgress({ ...fresh(), occurrences: 250, reportedDeliveries: ids });
    expect(carried.reportedDeliveries).toEqual(ids.slice(50));
    expect(carried.occurrences).toBe(250);
  });
});

describe('the watch', () => {
  const watching = (overrides: Partial<WatchProgress> = {}): WatchProgress => ({ ...startWatch(T0), ...overrides });

  it('counts a check that could not tell, and neither ends nor restarts the streak with it', () => {
    expect(afterRecheck(watching({ cleanStreak: 2, checks: 4 }), { exposed: undefined, cleanChecks: 3, now: T1 })).toEqual({
      watch: { state: 'watching', since: T0, checks: 5, cleanStreak: 2 },
    });
  });

  it('calls an inventory that could not tell unknown, never clean, and a machine it shows exposed exposed', () => {
    const context = { consulted: ['aws'], instances: [], rules: [], exposures: [], problems: [{ provider: 'aws', scope: '1111', reason: 'access denied' }] };
    expect(exposureEvidence(false, context)).toBe('unknown');
    expect(exposureEvidence(false, { ...context, consulted: [] })).toBe('unknown');
    const found = { ...context, problems: [], instances: [{ provider: 'aws', type: 'aws:ec2:instance', id: 'i-1', publicAddresses: [], privateAddresses: [], dnsNames: [], tags: {} }] };
    expect(exposureEvidence(false, found)).toBe('clean');
    expect(exposureEvidence(false, { ...found, exposures: [{ instance: 'i-1', address: '203.0.113.10', protocol: 'tcp', ports: { from: 22, to: 22 }, rule: 'r' }] })).toBe('exposed');
    expect(exposureEvidence(true, found)).toBe('exposed');
    expect(exposureState(false, 'unknown')).toBe('unconfirmed');
    expect(exposureState(false, 'clean')).toBe('none');
  });

  it('resumes when a person reopens the issue or lifts the silence, not otherwise', () => {
    const closed = { ...fresh(), issueState: 'closed' as const };
    expect(resumes(closed, { state: 'open', suppressed: false })).toBe(true);
    expect(resumes({ ...fresh(), issueState: 'open', suppressed: true }, { state: 'open', suppressed: false })).toBe(true);
    expect(resumes(closed, { state: 'open', suppressed: true })).toBe(false);
    expect(resumes({ ...fresh(), issueState: 'open' }, { state: 'open', suppressed: false })).toBe(false);
  });

  it('stays watching while something answers, and counts the check', () => {
    expect(afterRecheck(watching({ cleanStreak: 1, checks: 4 }), { exposed: true, cleanChecks: 3, now: T1 })).toEqual({
      watch: { state: 'watching', since: T0, checks: 5, cleanStreak: 0 },
    });
  });

  it('is remediated after the configured number of clean checks in a row, not before', () => {
    const first = afterRecheck(watching(), { exposed: false, cleanChecks: 2, now: T1 });
    expect(first).toEqual({ watch: { state: 'watching', since: T0, checks: 1, cleanStreak: 1 } });
    const second = afterRecheck(first.watch, { exposed: false, cleanChecks: 2, now: T1 });
    expect(second).toEqual({ watch: { state: 'remediated', since: T0, checks: 2, cleanStreak: 2 }, change: 'remediated' });
  });

  it('starts over when something answers again after remediation, an end, or a clean start', () => {
    for (const state of ['remediated', 'stopped', 'aged-out', 'clean'] as const) {
      expect(afterRecheck(watching({ state, checks: 7, cleanStreak: 3 }), { exposed: true, cleanChecks: 3, now: T1 })).toEqual({
        watch: { state: 'watching', since: T1, checks: 8, cleanStreak: 0 },
        change: 'exposed',
      });
    }
  });

  it('a re-check asked for with no watch yet begins clean, and watches once something answers', () => {
    expect(afterRecheck(undefined, { exposed: false, cleanChecks: 3, now: T1 })).toEqual({ watch: { state: 'clean', since: T1, checks: 1, cleanStreak: 1 } });
    expect(afterRecheck(undefined, { exposed: true, cleanChecks: 3, now: T1 })).toEqual({ watch: { state: 'watching', since: T1, checks: 1, cleanStreak: 0 }, change: 'exposed' });
  });

  it('a clean watch is never remediated: nothing was ever exposed', () => {
    expect(afterRecheck(watching({ state: 'clean', cleanStreak: 9 }), { exposed: false, cleanChecks: 1, now: T1 }).change).toBeUndefined();
  });

  it('ends when the issue is closed or silenced, before it would age out', () => {
    const hourMs = 3600_000;
    const at = (hours: number) => Date.parse(T0) + hours * hourMs;
    const open = { closed: false, suppressed: false, maxAgeMs: 24 * hourMs };
    expect(watchEnding(watching(), { ...open, nowMs: at(23) })).toBeUndefined();
    expect(watchEnding(watching(), { ...open, nowMs: at(24) })).toBe('aged-out');
    expect(watchEnding(watching(), { ...open, closed: true, nowMs: at(24) })).toBe('stopped');
    expect(watchEnding(watching(), { ...open, suppressed: true, nowMs: at(1) })).toBe('stopped');
    expect(watchEnding(watching({ state: 'remediated' }), { ...open, closed: true, nowMs: at(48) })).toBeUndefined();
    expect(watchEnding(undefined, { ...open, closed: true, nowMs: at(48) })).toBeUndefined();
  });
});

describe('a resource watched from public to private and back', () => {
  const bucket = (open: boolean): PublicResource => ({
    provider: 'gcp',
    class: 'storage',
    type: 'gcp:storage:bucket',
    id: 'exports',
    public: open,
    reasons: [open ? 'IAM grants roles/storage.objectViewer to allUsers' : 'no IAM binding or ACL grants allUsers or allAuthenticatedUsers'],
    facts: {},
    proofs: [],
    tags: {},
  });
  const image: PublicResource = { ...bucket(true), class: 'snapshot', type: 'gcp:compute:image', id: 'golden', reasons: ['IAM grants roles/compute.imageUser to allUsers'] };
  const read = (resources: PublicResource[], problems: ResourceContext['problems'] = []): ResourceContext => ({ ...emptyContext(), consulted: ['gcp'], resources, problems });
  const proof = (status: string): Finding => ({ key: 'bucket/https://storage.googleapis.com/exports', check: 'bucket', target: 'https://storage.googleapis.com/exports', status, fields: {} });
  /** What the workflow's examine() makes of one look: its label and its evidence. */
  const look = (context: ResourceContext, proofs: Finding[] = []) => {
    const answered = provenPublic([...inventoryFindings(context), ...proofs], context);
    const evidence = exposureEvidence(answered, context);
    return { state: exposureState(answered, evidence), evidence };
  };

  it('is open while an outsider gets in, none once private, and open again when it turns public again', () => {
    expect(look(read([bucket(true)]), [proof('public')])).toEqual({ state: 'open', evidence: 'exposed' });
    // Listed without credentials, though no object could be read: an outsider got in.
    expect(look(read([bucket(true)]), [proof('listable')])).toEqual({ state: 'open', evidence: 'exposed' });
    // Public by its policy but refused to an outsider (a VPC Service Controls perimeter, say): exposed, not proven.
    expect(look(read([bucket(true)]), [proof('refused')])).toEqual({ state: 'unconfirmed', evidence: 'exposed' });
    // The inventory's own `public` finding is no proof.
    expect(look(read([bucket(true)]))).toEqual({ state: 'unconfirmed', evidence: 'exposed' });
    expect(look(read([bucket(false)]))).toEqual({ state: 'none', evidence: 'clean' });
    expect(look(read([bucket(true)]), [proof('public')])).toEqual({ state: 'open', evidence: 'exposed' });

    let watch = startWatch(T0);
    for (const [open, proofs] of [[true, [proof('public')]], [false, []], [false, []]] as const) {
      const { evidence } = look(read([bucket(open)]), [...proofs]);
      watch = afterRecheck(watch, { exposed: evidence === 'unknown' ? undefined : evidence === 'exposed', cleanChecks: 2, now: T1 }).watch;
    }
    expect(watch.state).toBe('remediated');
    expect(afterRecheck(watch, { exposed: look(read([bucket(true)]), [proof('public')]).evidence === 'exposed', cleanChecks: 2, now: T1 }).change).toBe('exposed');
  });

  it('never reads a look with a problem, or without the resource, as clean', () => {
    expect(look(read([bucket(false)], [{ provider: 'gcp', scope: 'projects/p', reason: 'IAM policies: access denied (PERMISSION_DENIED)' }]))).toEqual({ state: 'unconfirmed', evidence: 'unknown' });
    expect(look(read([]))).toEqual({ state: 'unconfirmed', evidence: 'unknown' });
    expect(look({ ...read([bucket(false)]), consulted: [] })).toEqual({ state: 'unconfirmed', evidence: 'unknown' });
  });

  it('takes a public snapshot or image, its sharing read again, as the exposure answering', () => {
    expect(look(read([image]))).toEqual({ state: 'open', evidence: 'exposed' });
    expect(look(read([{ ...image, public: false }]))).toEqual({ state: 'none', evidence: 'clean' });
  });
});
