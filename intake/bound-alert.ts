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
/** Longer fingerprints are replaced by their hash: still one identity, no longer a payload. */
const FINGERPRINT_CHARS = 1_000;

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
    fingerprint:
      alert.fingerprint.length <= FINGERPRINT_CHARS ? alert.fingerprint : `sha256:${createHash('sha256').update(alert.fingerprint).digest('hex')}`,
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
  };
  if (alert.cloud) {
    const { provider, account, region } = alert.cloud;
    bounded.cloud = {
      provider: text('cloud', provider, VALUE_CHARS),
      ...(account === undefined ? {} : { account: text('cloud', account, VALUE_CHARS) }),
      ...(region === undefined ? {} : { region: text('cloud', region, VALUE_CHARS) }),
    };
  }
  return truncated.size > 0 ? { ...bounded, truncated: [...truncated] } : bounded;
}
