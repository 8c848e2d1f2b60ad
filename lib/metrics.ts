// Every metric Vigil exports, in one place: names, help texts and labels. The places that count
// import the metric they need; workers/metrics.ts serves the registry (with the Temporal SDK's own
// metrics appended) at GET /metrics. Labels are fixed vocabularies (source and provider names,
// outcomes, operations): never alert text, an address, an issue number or a workflow id.
import { Counter, Gauge, Registry } from 'prom-client';

export const registry = new Registry();

const registers = [registry];

// Intake: bodies as they arrive on a source's route (or from a queue), and the alerts in them.

export const alertsReceived = new Counter({
  name: 'vigil_alerts_received_total',
  help: "Bodies POSTed to a source's intake route (/v1/alerts/<source>), whatever the answer.",
  labelNames: ['source'] as const,
  registers,
});

export const alertsArchived = new Counter({
  name: 'vigil_alerts_archived_total',
  help: 'Bodies written to the archive (HTTP intake, queues, re-scan findings), by the source they were delivered to.',
  labelNames: ['source'] as const,
  registers,
});

/** Why a body was refused or rejected: the values of the `reason` label. */
export type RejectionReason = 'unauthenticated' | 'too_large' | 'unsupported_media_type' | 'busy' | 'archive_unavailable' | 'malformed' | 'error';

export const alertsRejected = new Counter({
  name: 'vigil_alerts_rejected_total',
  help: 'Bodies refused before archiving (unauthenticated, too_large, unsupported_media_type, busy, archive_unavailable, error) or archived and rejected as malformed.',
  labelNames: ['source', 'reason'] as const,
  registers,
});

export const alertsDispatched = new Counter({
  name: 'vigil_alerts_dispatched_total',
  help: 'Alerts handed to Temporal, by delivered-to source, detected source and what the dispatch did (signalled, rechecked, merged, unwatched).',
  labelNames: ['source', 'alert_source', 'outcome'] as const,
  registers,
});

export const alertsUndispatched = new Counter({
  name: 'vigil_alerts_undispatched_total',
  help: 'Alerts Temporal did not take in time: their record stays undispatched and the sweeper retries it.',
  labelNames: ['source'] as const,
  registers,
});

export const alertsUnparsed = new Counter({
  name: 'vigil_alerts_unparsed_total',
  help: 'Alerts no adapter understood (kind unparsed): investigated all the same, worth a look at the sender.',
  labelNames: ['source'] as const,
  registers,
});

// The intake mirror (intake.mirror): alerts forwarded to a staging intake in the background.

export const mirrorForwarded = new Counter({
  name: 'vigil_mirror_forwarded_total',
  help: 'Alerts the intake mirror forwarded to the staging intake and it answered 2xx.',
  registers,
});

export const mirrorFailed = new Counter({
  name: 'vigil_mirror_failed_total',
  help: 'Mirrored alerts the staging intake answered otherwise, did not answer in time, or could not be reached with (not retried).',
  registers,
});

export const mirrorDropped = new Counter({
  name: 'vigil_mirror_dropped_total',
  help: "Alerts dropped from the intake mirror's full queue (the oldest first), never forwarded.",
  registers,
});

export const mirrorQueued = new Gauge({
  name: 'vigil_mirror_queued',
  help: "Alerts waiting in the intake mirror's queue to be forwarded to the staging intake.",
  registers,
});

// Investigations (counted by the worker's activities; workflows count nothing themselves).

export const investigationsStarted = new Counter({
  name: 'vigil_investigations_started_total',
  help: "Investigation runs that made their first report: issue 'created', 'reopened', 'existing' (open already) or 'already_reported' (a redelivery).",
  labelNames: ['kind', 'issue'] as const,
  registers,
});

export const investigationsWatching = new Gauge({
  name: 'vigil_investigations_watching',
  help: 'Running investigations whose exposure is open (VigilExposure = open), from Temporal visibility, refreshed at most every 30 s.',
  // Registered by the main worker, which can count them: elsewhere it would say 0.
  registers: [],
  async collect() {
    const count = await watchingCount?.();
    if (count !== undefined) this.set(count);
  },
});

let watchingCount: (() => Promise<number | undefined>) | undefined;

/** Where the watching gauge reads its value: set by the main worker, which has a Temporal client. */
export function countWatchingWith(count: () => Promise<number | undefined>): void {
  watchingCount = count;
  if (!registry.getSingleMetric('vigil_investigations_watching')) registry.registerMetric(investigationsWatching);
}

export const exposuresRemediated = new Counter({
  name: 'vigil_exposures_remediated_total',
  help: 'Exposures found closed by a re-check (the issue labelled remediated).',
  registers,
});

export const remediations = new Counter({
  name: 'vigil_remediations_total',
  help: 'Remediations carried out or undone on approval, by action kind and outcome (changed, already, dry-run, failed).',
  labelNames: ['operation', 'action', 'outcome'] as const,
  registers,
});

// Checks: probes, screenshots and actor intel.

export const probeFindings = new Counter({
  name: 'vigil_probe_findings_total',
  help: "Results of the network probes, by check (tcp, http, ssh, …) and the check's status (open, closed, answered, …).",
  labelNames: ['check', 'status'] as const,
  registers,
});

export const probeSkipped = new Counter({
  name: 'vigil_probe_skipped_total',
  help: 'Endpoints not probed: outside the probe scope (probe.allowRanges), unresolvable, or probing off.',
  registers,
});

export const screenshots = new Counter({
  name: 'vigil_screenshots_total',
  help: 'Screenshots of web pages, by result (captured, blocked, failed).',
  labelNames: ['result'] as const,
  registers,
});

/** What an intel lookup came to: the values of the `result` label. */
export type IntelResult = 'listed' | 'not-listed' | 'misconfigured' | 'quota' | 'rate-limited' | 'failed';

export const intelLookups = new Counter({
  name: 'vigil_intel_lookups_total',
  help: 'Actor reputation lookups, by provider and result (listed, not-listed, misconfigured, quota, rate-limited, failed); cached answers included.',
  labelNames: ['provider', 'result'] as const,
  registers,
});

// Dependencies: the tracker, the archive, the sweeper.

export const trackerCalls = new Counter({
  name: 'vigil_tracker_calls_total',
  help: 'Calls to the issue tracker, by tracker kind and operation.',
  labelNames: ['tracker', 'operation'] as const,
  registers,
});

export const trackerErrors = new Counter({
  name: 'vigil_tracker_errors_total',
  help: 'Tracker calls that failed (the activity retries), by tracker kind and operation.',
  labelNames: ['tracker', 'operation'] as const,
  registers,
});

export const archiveFailures = new Counter({
  name: 'vigil_archive_failures_total',
  help: 'Archive operations that failed (a write refused, a store that does not answer), by operation.',
  labelNames: ['operation'] as const,
  registers,
});

export const sweeperRedeliveries = new Counter({
  name: 'vigil_sweeper_redeliveries_total',
  help: 'Undispatched archive records the sweeper delivered again, by result (dispatched, undispatched, rejected, failed).',
  labelNames: ['result'] as const,
  registers,
});

/**
 * The object with each method's promise counted: `onCall` at every call, `onError` when the promise
 * it returns rejects. Methods that return no promise (an async iterator) are passed through counted
 * as calls only. The tracker and the archive are wrapped so, in their registries.
 */
export function countingCalls<T extends object>(target: T, { onCall, onError }: { onCall?: (operation: string) => void; onError: (operation: string) => void }): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        onCall?.(property);
        let result: unknown;
        try {
          result = (value as (...params: unknown[]) => unknown).apply(object, args);
        } catch (err) {
          onError(property);
          throw err;
        }
        if (result instanceof Promise) {
          return result.catch((err: unknown) => {
            onError(property);
            throw err;
          });
        }
        return result;
      };
    },
  });
}
