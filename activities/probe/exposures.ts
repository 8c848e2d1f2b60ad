// The exposure-check activity: from the alert and its resource context to what really answers.
import type { NormalizedAlert } from '../../lib/alert';
import type { ProbeSettings } from '../../lib/config';
import type { ResourceContext } from '../../lib/context';
import { activityContext, createProbeActivities, heartbeating } from '.';
import { planTargets } from './plan';
import { plannedProofs, runProofs } from './proofs';
import type { ProbeScope } from './scope';
import type { ProbeReport } from './types';

export function createExposureActivities(settings: ProbeSettings, scope: ProbeScope, { screenshots }: { screenshots: boolean }) {
  const { probeTargets } = createProbeActivities(settings, scope);
  return {
    /**
     * Probes the exposures the inventory confirmed (and addresses configuration allows), within the
     * scope, and the endpoints that answered at the last look on machines the inventory still holds;
     * `webPages` is empty when screenshots are off, so no browser work is asked for.
     */
    async checkExposures({ alert, context, answeredBefore = [] }: { alert: NormalizedAlert; context: ResourceContext; answeredBefore?: string[] }): Promise<ProbeReport> {
      const plan = planTargets(context, { addresses: alert.network.ips, ports: alert.network.ports, answeredBefore }, settings, scope);
      // With probing off, every planned target comes back skipped, saying so.
      const report = await probeTargets({ targets: plan.targets });
      // Buckets and URLs asked for without credentials (databases and load balancers are swept above);
      // with probing off, each is listed as skipped, like the targets.
      if (!settings.enabled) {
        const unasked = plannedProofs(context).map(({ target }) => ({ target, reason: 'probing is off (probe.enabled: false)' }));
        return { ...report, skipped: [...plan.skipped, ...report.skipped, ...unasked], webPages: [] };
      }
      // Proofs wait on DNS and HTTP answers for a while: the activity keeps heartbeating meanwhile.
      const signal = activityContext()?.cancellationSignal ?? new AbortController().signal;
      const proofs = await heartbeating({ phase: 'proofs' }, () => runProofs(context, { scope, settings, signal }));
      return { ...report, findings: [...report.findings, ...proofs], skipped: [...plan.skipped, ...report.skipped], webPages: screenshots ? report.webPages : [] };
    },
  };
}
