// How an alert is told on its issue: the title, the labels and the summary of one delivery.
import type { Detection, NormalizedAlert, PortRange } from '../alert';
import { attackTag } from '../attack';
import type { LabelNames } from '../config';
import { code, codeBlock, plainTitle } from '../markdown';

export function issueTitle(alert: NormalizedAlert): string {
  return `[${alert.severity}] ${plainTitle(alert.title)}`;
}

export function alertLabels(alert: NormalizedAlert, names: LabelNames): string[] {
  return [
    names.base,
    `${names.sourcePrefix}${alert.source}`,
    `${names.severityPrefix}${alert.severity}`,
    `${names.kindPrefix}${alert.kind}`,
    ...new Set((alert.detections ?? []).flatMap(({ tags = [] }) => tags.flatMap((tag) => attackTag(tag)?.name ?? []).map((name) => `${names.attackPrefix}${name}`))),
  ];
}

export const portText = ({ from, to }: PortRange) => (from === to ? String(from) : `${from}-${to}`);

const list = (values: readonly (string | number)[]) =>
  values.length === 0 ? '—' : values.map((value) => code(String(value))).join(', ');

/**
 * Each rule that found the alert, with its ATT&CK links, false positives and references. Rule texts
 * come from rule files a team did not necessarily write, so they are shown inert like the alert's;
 * only the ATT&CK links, built from ids the tag was checked to be, are links.
 */
function detectionLines({ engine, id, title, level, tags = [], falsepositives = [], references = [], file }: Detection): string[] {
  const attack = tags.flatMap((tag) => attackTag(tag) ?? []).map(({ name, url }) => (url ? `[${name}](${url})` : code(name)));
  return [
    `  - ${engine === 'sigma' ? 'Sigma rule' : 'Built-in rule'} ${code(title)} (${code(id)}, level ${code(level)})` +
      (attack.length > 0 ? ` · ATT&CK ${attack.join(', ')}` : '') +
      (file ? ` · from ${code(file)}` : ''),
    ...(falsepositives.length > 0 ? [`    - False positives: ${falsepositives.map((text) => code(text)).join('; ')}`] : []),
    ...(references.length > 0 ? [`    - References: ${references.map((text) => code(text)).join(', ')}`] : []),
  ];
}

export function alertSummary(alert: NormalizedAlert, { recurrence = false } = {}): string {
  const heading = alert.resolution ? 'Resolved at the source' : alert.kind === 'unparsed' ? 'Unparsed alert received' : 'Alert received';
  const lines = [
    `### ${recurrence ? `${heading} again: the issue was closed and is reopened` : heading}`,
    '',
    ...(alert.resolution ? [`- **The source says**: ${code(alert.resolution)}`] : []),
    `- **Title**: ${code(alert.title)}`,
    `- **Source**: ${code(alert.source)} · **Kind**: ${code(alert.kind)} · **Severity**: ${code(alert.severity)}`,
    `- **Fingerprint**: ${code(alert.fingerprint)}`,
    `- **Occurred**: ${alert.occurredAt ? code(alert.occurredAt) : 'unknown'} · **Received**: ${code(alert.archive.receivedAt)}`,
  ];
  if (alert.cloud) {
    const { provider, account, region } = alert.cloud;
    lines.push(`- **Cloud**: ${list([provider, account ?? 'unknown account', region ?? 'no region'])}`);
  }
  if (alert.resources.length > 0) {
    lines.push(`- **Resources**: ${alert.resources.map(({ type, id }) => `${code(type)} ${code(id)}`).join(', ')}`);
  }
  const { network, actors } = alert;
  if (network.ips.length + network.cidrs.length + network.ports.length > 0) {
    lines.push(
      `- **Network**: addresses ${list(network.ips)}; ranges ${list(network.cidrs)}; ports ${list(network.ports.map(portText))}` +
        (network.protocol ? `; protocol ${code(network.protocol)}` : ''),
    );
  }
  const actorFacts = [
    ['IPs', actors.ips],
    ['domains', actors.domains],
    ['principals', actors.principals],
    ['user agents', actors.userAgents],
  ] as const;
  const knownActors = actorFacts.filter(([, values]) => values.length > 0);
  if (knownActors.length > 0) {
    lines.push(`- **Actors**: ${knownActors.map(([name, values]) => `${name} ${list(values)}`).join('; ')}`);
  }
  if (alert.detections && alert.detections.length > 0) lines.push('- **Found by**:', ...alert.detections.flatMap(detectionLines));
  lines.push(`- **Archive record**: ${code(alert.archive.id)}`);
  if (alert.copies && alert.copies > 1) lines.push(`- **Copies in this delivery**: ${alert.copies}`);
  if (alert.truncated) lines.push(`- **Cut short here** (the archive record holds them whole): ${list(alert.truncated)}`);
  if (alert.description) lines.push('', codeBlock(alert.description));
  return lines.join('\n');
}

/** The repeats: how many, when, and everything they named together (worst severity, every port and actor). */
export function occurrencesComment({
  alert,
  latest,
  occurrences,
  firstSeen,
  lastSeen,
}: {
  alert: NormalizedAlert;
  latest: NormalizedAlert;
  occurrences: number;
  firstSeen: string;
  lastSeen: string;
}): string {
  return [
    `### Seen ${occurrences} times`,
    '',
    `Between ${code(firstSeen)} and ${code(lastSeen)}; the latest is ${code(latest.title)} (archive record ${code(latest.archive.id)}). Everything the deliveries named, together:`,
    '',
    alertSummary(alert).replace(/^### .*\n\n/, ''),
  ].join('\n');
}
