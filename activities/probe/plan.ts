// Which address × port pairs an investigation probes: the exposures the inventory confirmed, plus
// addresses configuration explicitly allows. Everything left out is listed with its reason, so the
// issue says what was not checked rather than staying silent about it.
import type { PortRange } from '../../lib/alert';
import type { ProbeSettings } from '../../lib/config';
import type { ResourceContext } from '../../lib/context';
import ipaddr from 'ipaddr.js';
import { inRanges, scopeVerdict, type ProbeScope } from './scope';
import { endpoint, type ProbeTarget, type SkippedTarget } from './types';

/** Probed inside a range too wide to probe port by port: remote access, databases, web, admin panels. */
export const wellKnownPorts = [
  21, 22, 23, 25, 80, 110, 111, 135, 139, 143, 443, 445, 465, 587, 993, 995, 1433, 1521, 2049, 2375, 2376, 3000, 3306, 3389, 5000, 5432,
  5601, 5900, 5984, 6379, 6443, 7001, 8000, 8008, 8080, 8081, 8443, 8888, 9000, 9042, 9090, 9200, 9300, 10250, 11211, 15672, 27017,
];

const portText = ({ from, to }: PortRange) => (from === to ? `${from}` : `${from}-${to}`);

function portsToProbe(range: PortRange, max: number): { ports: number[]; narrowed: boolean } {
  const size = range.to - range.from + 1;
  if (size <= max) return { ports: Array.from({ length: size }, (_, i) => range.from + i), narrowed: false };
  return { ports: wellKnownPorts.filter((port) => port >= range.from && port <= range.to), narrowed: true };
}

export interface ProbePlan {
  targets: ProbeTarget[];
  skipped: SkippedTarget[];
}

/**
 * The targets for one alert: the context's exposures (TCP only), and the alert's own addresses when
 * configuration allows them although no inventory confirms them. Nothing outside the scope is kept.
 */
export function planTargets(
  context: ResourceContext,
  alert: { addresses: readonly string[]; ports: readonly PortRange[]; answeredBefore?: readonly string[] },
  settings: Pick<ProbeSettings, 'maxPortsPerRange' | 'extraTargets'>,
  scope: ProbeScope,
): ProbePlan {
  const targets = new Map<string, ProbeTarget>();
  const skipped = new Map<string, SkippedTarget>();
  const skip = (target: string, reason: string) => skipped.set(`${target}\u0000${reason}`, { target, reason });
  const add = (target: ProbeTarget) => {
    const key = endpoint(target.address, target.port);
    if (targets.has(key)) return;
    // A name (a database's or load balancer's endpoint) is resolved and checked when it is probed.
    const verdict = ipaddr.isValid(target.address) ? scopeVerdict(target.address, scope) : ({ allowed: true } as const);
    if (verdict.allowed) targets.set(key, target);
    else skip(key, verdict.reason);
  };
  const addRange = (address: string, range: PortRange, origin: Pick<ProbeTarget, 'instance' | 'rule'>) => {
    const { ports, narrowed } = portsToProbe(range, settings.maxPortsPerRange);
    if (narrowed) {
      skip(`${address} tcp/${portText(range)}`, `${range.to - range.from + 1} ports: only the ${ports.length} well-known ones inside were probed`);
    }
    for (const port of ports) add({ address, port, ...origin });
  };

  for (const exposure of context.exposures) {
    if (exposure.protocol !== 'tcp' && exposure.protocol !== 'all') {
      skip(`${exposure.address} ${exposure.protocol}/${portText(exposure.ports)}`, 'only TCP services are probed');
      continue;
    }
    addRange(exposure.address, exposure.ports, { instance: exposure.instance, rule: exposure.rule });
  }

  // Public databases and load balancers: their endpoints, as the inventory read them.
  for (const resource of context.resources ?? []) {
    if (!resource.public) continue;
    for (const proof of resource.proofs) {
      if (proof.kind === 'endpoint') for (const port of proof.ports) add({ address: proof.host, port, instance: resource.id });
    }
  }

  const confirmed = new Set(context.instances.flatMap((instance) => [...instance.publicAddresses, ...instance.privateAddresses]));

  // What answered at the last look, on a machine the inventory still holds: asked again even when no
  // rule opens it any more, so that a revoked rule is shown closed by the machine, not by the inventory.
  for (const answered of alert.answeredBefore ?? []) {
    const [, address, port] = /^\[?([^\]]+)\]?:(\d+)$/.exec(answered) ?? [];
    if (address && confirmed.has(address)) add({ address, port: Number(port) });
  }
  for (const address of alert.addresses) {
    if (confirmed.has(address)) continue;
    if (!inRanges(address, settings.extraTargets)) {
      skip(address, 'named by the alert but not confirmed by any inventory (nor listed in probe.extraTargets)');
      continue;
    }
    for (const range of alert.ports) addRange(address, range, {});
  }
  return { targets: [...targets.values()], skipped: [...skipped.values()] };
}
