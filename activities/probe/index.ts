// The exposure-check activity: every target scope-checked (the refused ones listed with their
// reason, never contacted), a TCP sweep, then the matching service checks on the open ports.
import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import type { ProbeSettings } from '../../lib/config';
import type { Finding } from '../../lib/finding';
import { checksFor, serviceChecks } from './checks';
import { webPageOf } from './checks/http';
import { mapConcurrent } from '../../lib/concurrency';
import { probeFindings, probeSkipped } from '../../lib/metrics';
import { OutOfScopeError, resolveInScope, type ProbeScope } from './scope';
import { sweep } from './tcp';
import { endpoint, type CheckContext, type OpenPort, type ProbeReport, type ProbeTarget, type ServiceCheck, type SkippedTarget } from './types';

const HEARTBEAT_EVERY_MS = 1000;

/** The running activity's context, or undefined when called as a plain function (tests, CLI). */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

interface Located extends ProbeTarget {
  /** The checked IP connected to (the target's address, or what its name resolved to). */
  ip: string;
}

async function locate(targets: readonly ProbeTarget[], scope: ProbeScope): Promise<{ located: Located[]; skipped: SkippedTarget[] }> {
  const located: Located[] = [];
  const skipped: SkippedTarget[] = [];
  const seen = new Set<string>();
  for (const target of targets) {
    const name = endpoint(target.address, target.port);
    if (seen.has(name)) continue;
    seen.add(name);
    if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
      skipped.push({ target: name, reason: 'not a TCP port number' });
      continue;
    }
    try {
      located.push({ ...target, ip: await resolveInScope(target.address, scope) });
    } catch (err) {
      if (!(err instanceof OutOfScopeError)) throw err;
      skipped.push({ target: name, reason: err.reason });
    }
  }
  return { located, skipped };
}

/** A check that failed on a port it matched: not clean, unknown. */
function failedCheck(check: ServiceCheck, open: OpenPort, err: unknown): Finding {
  const target = endpoint(open.address, open.port);
  return { key: `${check.name}/${target}`, check: check.name, target, status: 'unknown', fields: { error: (err as Error).message ?? String(err) } };
}

/**
 * `work`, heartbeating `details` (read at each beat, so the caller may update them) every second
 * while it runs in an activity: the probe activities' heartbeat timeout is a minute.
 */
export async function heartbeating<T>(details: object, work: () => Promise<T>): Promise<T> {
  const activity = activityContext();
  const beat = activity ? setInterval(() => activity.heartbeat(details), HEARTBEAT_EVERY_MS) : undefined;
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}

export function createProbeActivities(settings: ProbeSettings, scope: ProbeScope, checks: readonly ServiceCheck[] = serviceChecks) {
  return {
    async probeTargets({ targets }: { targets: ProbeTarget[] }): Promise<ProbeReport> {
      if (!settings.enabled) {
        probeSkipped.inc(targets.length);
        return { findings: [], skipped: targets.map((t) => ({ target: endpoint(t.address, t.port), reason: 'probing is off (probe.enabled: false)' })), webPages: [] };
      }
      const activity = activityContext();
      const signal = activity?.cancellationSignal ?? new AbortController().signal;
      // Every connection and request in flight listens for cancellation.
      setMaxListeners(0, signal);
      const progress = { phase: 'scope', done: 0 };
      return heartbeating(progress, async () => {
        const { located, skipped } = await locate(targets, scope);
        progress.phase = 'tcp';
        const swept = await sweep(
          located.map(({ ip, port }) => ({ address: ip, port })),
          settings,
          signal,
        );
        progress.phase = 'services';
        const context: CheckContext = { scope, settings, signal };
        const names = new Map(located.filter((target) => target.address !== target.ip).map((target) => [endpoint(target.ip, target.port), target.address]));
        const opened = swept.open.map((open) => {
          const host = names.get(endpoint(open.address, open.port));
          return host ? { ...open, host } : open;
        });
        const runs = opened.flatMap((open) => checksFor(open, checks).map((check) => ({ open, check })));
        const serviceFindings = await mapConcurrent(runs, settings.concurrency, async ({ open, check }) => {
          try {
            return await check.run(open, context);
          } catch (err) {
            signal.throwIfAborted();
            return [failedCheck(check, open, err)];
          } finally {
            progress.done++;
          }
        });
        const origin = new Map(located.map((target) => [endpoint(target.ip, target.port), target]));
        const findings = [...swept.findings, ...serviceFindings.flat()].map((finding) => {
          const { instance, rule } = origin.get(finding.target) ?? {};
          return instance || rule ? { ...finding, detail: { ...finding.detail, ...(instance ? { instance } : {}), ...(rule ? { rule } : {}) } } : finding;
        });
        const webPages = [...new Set(findings.map(webPageOf).filter((page) => page !== undefined))];
        for (const { check, status } of findings) probeFindings.inc({ check, status });
        probeSkipped.inc(skipped.length);
        return { findings, skipped, webPages };
      });
    },
  };
}

export type ProbeActivities = ReturnType<typeof createProbeActivities>;
