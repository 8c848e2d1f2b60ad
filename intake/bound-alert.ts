// Every alert handed to Temporal is small, whatever its body held: texts are cut, lists shortened,
// and what was cut is named on the alert. The archive keeps the body whole, and the issue says where.
// (A 3 MB GuardDuty title once exceeded Temporal's payload limit: answered 202, never investigated.)
import { createHash } from 'node:crypto';
import type { NormalizedAlert } from '../lib/alert';
import { MERGED_LIST_LIMIT } from '../lib/alert-merge';

const TITLE_CHARS = 500;
const DESCRIPTION_CHARS = 8_000;
/** Ids, names, addresses, user agents. */
const VALUE_CHARS = 1_000;
/** What Temporal takes as a whole (its payload limit is 2 MB; JSON escapes make characters bytes). */
const ALERT_BYTES = 256 * 1024;

/**
 * An identity that is also a search attribute (2 KB at most) and part of the workflow id: kept when
 * short printable ASCII, else replaced by its hash (still one identity, no longer a payload).
 */
function identity(value: string): string {
  return value.length <= 200 && /^[\x20-\x7e]*$/.test(value) ? value : `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

export function boundAlert(alert: NormalizedAlert): NormalizedAlert {
  const truncated = new Set(alert.truncated);
  const text = (field: string, value: string, limit: number) => {
    if (value.length <= limit) return value;
    truncated.add(field);
    return `${value.slice(0, limit)}… (cut at ${limit} of ${value.length} characters; the archive holds the whole alert)`;
  };
  const list = <T>(field: string, values: readonly T[], bound: (value: T) => T): T[] => {
    if (values.length > MERGED_LIST_LIMIT) truncated.add(field);
    return values.slice(0, MERGED_LIST_LIMIT).map(bound);
  };
  const values = (field: string, items: readonly string[]) => list(field, items, (value) => text(field, value, VALUE_CHARS));
  const { network, actors } = alert;
  const bounded: NormalizedAlert = {
    ...alert,
    fingerprint: identity(alert.fingerprint),
    title: text('title', alert.title, TITLE_CHARS),
    ...(alert.description === undefined ? {} : { description: text('description', alert.description, DESCRIPTION_CHARS) }),
    ...(alert.occurredAt === undefined ? {} : { occurredAt: text('occurredAt', alert.occurredAt, 40) }),
    ...(alert.resolution === undefined ? {} : { resolution: text('resolution', alert.resolution, VALUE_CHARS) }),
    resources: list('resources', alert.resources, (resource) => ({
      ...resource,
      type: text('resources', resource.type, VALUE_CHARS),
      id: text('resources', resource.id, VALUE_CHARS),
      ...(resource.name === undefined ? {} : { name: text('resources', resource.name, VALUE_CHARS) }),
    })),
    network: {
      ...network,
      ips: values('network.ips', network.ips),
      cidrs: values('network.cidrs', network.cidrs),
      ports: list('network.ports', network.ports, (range) => range),
      ...(network.protocol === undefined ? {} : { protocol: text('network.protocol', network.protocol, 40) }),
    },
    actors: {
      ips: values('actors.ips', actors.ips),
      domains: values('actors.domains', actors.domains),
      principals: values('actors.principals', actors.principals),
      userAgents: values('actors.userAgents', actors.userAgents),
    },
    // From rule files rather than the body, but a rule's texts are as long as its author made them.
    ...(alert.detections === undefined
      ? {}
      : {
          detections: list('detections', alert.detections, (detection) => ({
            ...detection,
            id: text('detections', detection.id, VALUE_CHARS),
            title: text('detections', detection.title, VALUE_CHARS),
            ...(detection.tags ? { tags: values('detections', detection.tags) } : {}),
            ...(detection.references ? { references: values('detections', detection.references) } : {}),
            ...(detection.falsepositives ? { falsepositives: values('detections', detection.falsepositives) } : {}),
            ...(detection.file === undefined ? {} : { file: text('detections', detection.file, VALUE_CHARS) }),
          })),
        }),
  };
  if (alert.cloud) {
    const { provider, account, region } = alert.cloud;
    bounded.cloud = {
      provider: text('cloud', provider, VALUE_CHARS),
      ...(account === undefined ? {} : { account: identity(account) }),
      ...(region === undefined ? {} : { region: text('cloud', region, VALUE_CHARS) }),
    };
  }
  // Characters that JSON escapes (control characters) or encodes in several bytes can still make a
  // bounded alert too big: then the description and the lists are cut harder.
  if (Buffer.byteLength(JSON.stringify(bounded)) > ALERT_BYTES) return boundAlert({ ...squeeze(bounded), truncated: [...truncated, 'all'] });
  return truncated.size > 0 ? { ...bounded, truncated: [...truncated] } : bounded;
}

const SQUEEZED = 10;

function squeeze(alert: NormalizedAlert): NormalizedAlert {
  const few = <T>(values: readonly T[]) => values.slice(0, SQUEEZED);
  const short = (value: string) => value.slice(0, 100);
  const { network, actors } = alert;
  return {
    ...alert,
    title: short(alert.title),
    ...(alert.description === undefined ? {} : { description: alert.description.slice(0, 1000) }),
    resources: few(alert.resources).map((resource) => ({ type: short(resource.type), id: short(resource.id) })),
    network: { ...network, ips: few(network.ips).map(short), cidrs: few(network.cidrs).map(short), ports: few(network.ports) },
    actors: { ips: few(actors.ips).map(short), domains: few(actors.domains).map(short), principals: few(actors.principals).map(short), userAgents: few(actors.userAgents).map(short) },
    ...(alert.detections === undefined
      ? {}
      : { detections: few(alert.detections).map(({ engine, id, title, level }) => ({ engine, id: short(id), title: short(title), level })) }),
  };
}
