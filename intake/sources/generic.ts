// The generic source: Vigil's own documented JSON alert (docs/sources.md), for tools that have no
// adapter of their own and for hand-written alerts.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { alertKinds, severities, type ParsedAlert } from '../../lib/alert';
import { UnrecognizedPayloadError, type SourceAdapter } from './types';
import { parsePortSpec } from '../../lib/ports';

const ip = z.union([z.ipv4(), z.ipv6()]);
const text = (max: number) => z.string().trim().min(1).max(max);
/** `22` or `"8000-8100"`. */
const portSchema = z.union([
  z.int().min(0).max(65535).transform((port) => ({ from: port, to: port })),
  z.string().transform((spec, context) => {
    const range = parsePortSpec(spec);
    if (!range) context.addIssue({ code: 'custom', message: 'expected a port (0-65535) or a range like "8000-8100"' });
    return range ?? { from: 0, to: 0 };
  }),
]);

const genericAlertSchema = z.strictObject({
  id: text(512).optional(),
  title: text(512),
  severity: z.enum(severities),
  kind: z.enum(alertKinds).exclude(['unparsed']).optional(),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
  description: z.string().max(20_000).optional(),
  cloud: z
    .strictObject({ provider: text(64), account: text(128).optional(), region: text(64).optional() })
    .optional(),
  resources: z.array(z.strictObject({ type: text(128), id: text(1024), name: text(512).optional() })).max(1000).default([]),
  network: z
    .strictObject({
      ips: z.array(ip).max(1000).default([]),
      cidrs: z.array(z.union([z.cidrv4(), z.cidrv6()])).max(1000).default([]),
      ports: z.array(portSchema).max(1000).default([]),
      protocol: z.enum(['tcp', 'udp', 'icmp', 'all']).optional(),
    })
    .prefault({}),
  actors: z
    .strictObject({
      ips: z.array(ip).max(1000).default([]),
      domains: z.array(text(253)).max(1000).default([]),
      principals: z.array(text(512)).max(1000).default([]),
      userAgents: z.array(text(1024)).max(1000).default([]),
    })
    .prefault({}),
});

export type GenericAlert = z.input<typeof genericAlertSchema>;

/** Without an `id`, the identity is what the alert is about, so a resent alert collapses. */
function contentFingerprint(alert: z.output<typeof genericAlertSchema>): string {
  const identity = JSON.stringify([alert.title, alert.cloud ?? null, alert.resources, alert.network]);
  return `sha256:${createHash('sha256').update(identity).digest('hex')}`;
}

export const genericSource: SourceAdapter = {
  name: 'generic',
  description: "Vigil's documented generic JSON alert",

  detect: (payload) => genericAlertSchema.safeParse(payload).success,

  parse(payload): ParsedAlert[] {
    const result = genericAlertSchema.safeParse(payload);
    if (!result.success) {
      throw new UnrecognizedPayloadError(
        `not a generic alert: ${z.prettifyError(result.error).replaceAll('\n', '; ')}`,
      );
    }
    const alert = result.data;
    const kind =
      alert.kind ??
      (alert.network.ports.length > 0 || alert.network.cidrs.length > 0
        ? 'exposure'
        : alert.actors.ips.length > 0 || alert.actors.domains.length > 0
          ? 'actor'
          : 'resource');
    return [
      {
        kind,
        fingerprint: alert.id ?? contentFingerprint(alert),
        title: alert.title,
        severity: alert.severity,
        occurredAt: alert.occurredAt,
        description: alert.description,
        cloud: alert.cloud,
        resources: alert.resources,
        network: alert.network,
        actors: alert.actors,
      },
    ];
  },
};
