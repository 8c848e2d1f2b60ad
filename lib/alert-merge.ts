// Alerts about one thing, merged into one picture: the copies of a finding within one body, and
// the deliveries an issue has seen. Every port, address, actor and resource any of them named is
// kept (within bounds, so the picture stays small enough to carry), and the worst severity wins.
import { worseSeverity, type Detection, type NormalizedAlert, type PortRange } from './alert';

/** Entries kept per list: the picture travels through Temporal with every re-check. */
export const MERGED_LIST_LIMIT = 100;

const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])].slice(0, MERGED_LIST_LIMIT);

function unionPorts(a: readonly PortRange[], b: readonly PortRange[]): PortRange[] {
  const byText = new Map([...a, ...b].map((range) => [`${range.from}-${range.to}`, range]));
  return [...byText.values()].sort((x, y) => x.from - y.from || x.to - y.to).slice(0, MERGED_LIST_LIMIT);
}

/** Every rule that found either, once each. */
function unionDetections(a: readonly Detection[] = [], b: readonly Detection[] = []): Detection[] {
  const byRule = new Map<string, Detection>();
  for (const detection of [...a, ...b]) {
    const key = `${detection.engine}\u0000${detection.id}`;
    if (!byRule.has(key)) byRule.set(key, detection);
  }
  return [...byRule.values()].slice(0, MERGED_LIST_LIMIT);
}

/** `into` with what `other` adds: same identity, title and archive reference; facts united. */
export function mergeAlerts(into: NormalizedAlert, other: NormalizedAlert): NormalizedAlert {
  const resources = new Map([...into.resources, ...other.resources].map((resource) => [`${resource.type}\u0000${resource.id}`, resource]));
  const protocol = into.network.protocol === other.network.protocol ? into.network.protocol : into.network.protocol && other.network.protocol ? 'all' : (into.network.protocol ?? other.network.protocol);
  return {
    ...into,
    severity: worseSeverity(into.severity, other.severity),
    resources: [...resources.values()].slice(0, MERGED_LIST_LIMIT),
    network: {
      ips: union(into.network.ips, other.network.ips),
      cidrs: union(into.network.cidrs, other.network.cidrs),
      ports: unionPorts(into.network.ports, other.network.ports),
      ...(protocol ? { protocol } : {}),
    },
    actors: {
      ips: union(into.actors.ips, other.actors.ips),
      domains: union(into.actors.domains, other.actors.domains),
      principals: union(into.actors.principals, other.actors.principals),
      userAgents: union(into.actors.userAgents, other.actors.userAgents),
    },
    ...(into.detections || other.detections ? { detections: unionDetections(into.detections, other.detections) } : {}),
  };
}

/**
 * One alert per fingerprint of a body, in the order they first appear: the copies merge into the
 * first, which counts them (a scan report repeating one finding 10,000 times is one signal). A
 * resolution is never a copy of a sighting (an Insights episode's start and end in one log file
 * stay two alerts), and the sightings come first, so the resolution finds their investigation.
 */
export function collapseCopies(alerts: readonly NormalizedAlert[]): NormalizedAlert[] {
  const collapsed = new Map<string, NormalizedAlert>();
  alerts.forEach((alert, index) => {
    const key = `${alert.resolution === undefined ? 'sighting' : 'resolution'}\u0000${alert.fingerprint}`;
    const first = collapsed.get(key);
    collapsed.set(key, first ? { ...mergeAlerts(first, alert), copies: (first.copies ?? 1) + 1 } : { ...alert, index });
  });
  const all = [...collapsed.values()];
  return [...all.filter((alert) => alert.resolution === undefined), ...all.filter((alert) => alert.resolution !== undefined)];
}
