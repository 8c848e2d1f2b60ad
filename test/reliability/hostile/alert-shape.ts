// What a source adapter must hand on, checked field by field against lib/alert.ts: the problems of
// one alert, in words (none when it has the NormalizedAlert shape). Strict on purpose: an alert that
// passes here is plain JSON data a workflow, a search attribute and an issue can all take.
import { isIP } from 'node:net';
import { alertKinds, severities } from '../../../lib/alert';

const parsedKeys = new Set([
  'kind',
  'fingerprint',
  'title',
  'severity',
  'occurredAt',
  'description',
  'cloud',
  'resources',
  'network',
  'actors',
  'resolution',
]);
const normalizedKeys = new Set([...parsedKeys, 'source', 'archive', 'index', 'copies', 'truncated']);

/** JSON and nothing else: finite numbers, strings, lists and plain objects of those (what Temporal's converter keeps). */
function plainJsonProblem(value: unknown, where: string, depth = 0): string | undefined {
  if (depth > 64) return `${where}: nested more than 64 levels`;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${where}: ${value}`;
  if (Array.isArray(value)) {
    for (const [n, item] of value.entries()) {
      const problem = plainJsonProblem(item, `${where}[${n}]`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const problem = item === undefined ? undefined : plainJsonProblem(item, `${where}.${key}`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  return `${where}: a ${typeof value}, not JSON`;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;

const isText = (value: unknown) => typeof value === 'string' && value.length > 0;

/** `0.0.0.0/0`, `10.0.0.0/8`, `2001:db8::/32`: an address and a prefix its family allows. */
function isCidr(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const [address, prefix, ...rest] = value.split('/');
  const family = isIP(address ?? '');
  return rest.length === 0 && family !== 0 && /^\d{1,3}$/.test(prefix ?? '') && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Fields lib/alert.ts does not name (yet): tolerated as long as they are plain JSON, since the
 * alert's type grows while this suite keeps guard; a function, NaN or a cycle is never tolerated.
 */
function keysProblems(where: string, value: Record<string, unknown>, allowed: Set<string>): string[] {
  return Object.keys(value)
    .filter((key) => !allowed.has(key))
    .map((key) => plainJsonProblem(value[key], `${where}.${key}`))
    .filter((problem): problem is string => problem !== undefined);
}

function optionalText(problems: string[], where: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'string') problems.push(`${where}: not a string (${typeof value})`);
}

function textList(problems: string[], where: string, value: unknown, each: (item: string) => boolean = isText): void {
  if (!Array.isArray(value)) {
    problems.push(`${where}: not a list`);
    return;
  }
  value.forEach((item, n) => {
    if (typeof item !== 'string' || !each(item)) problems.push(`${where}[${n}]: ${JSON.stringify(item)?.slice(0, 80)} is not valid`);
  });
}

/** The problems of one alert as an adapter returns it (`ParsedAlert`), or with `normalized`, as intake passes it on. */
export function alertShapeProblems(alert: unknown, normalized?: { source: string }): string[] {
  const problems: string[] = [];
  if (!isPlainObject(alert)) return [`not a plain object: ${typeof alert}`];
  problems.push(...keysProblems('alert', alert, normalized ? normalizedKeys : parsedKeys));
  if (!alertKinds.includes(alert.kind as never)) problems.push(`kind: ${JSON.stringify(alert.kind)}`);
  if (!isText(alert.fingerprint)) problems.push('fingerprint: not a non-empty string');
  if (!isText(alert.title)) problems.push('title: not a non-empty string');
  if (!severities.includes(alert.severity as never)) problems.push(`severity: ${JSON.stringify(alert.severity)}`);
  optionalText(problems, 'occurredAt', alert.occurredAt);
  optionalText(problems, 'description', alert.description);
  optionalText(problems, 'resolution', alert.resolution);

  if (alert.cloud !== undefined) {
    const cloud = alert.cloud;
    if (!isPlainObject(cloud)) problems.push('cloud: not an object');
    else {
      problems.push(...keysProblems('cloud', cloud, new Set(['provider', 'account', 'region'])));
      if (!isText(cloud.provider)) problems.push('cloud.provider: not a non-empty string');
      optionalText(problems, 'cloud.account', cloud.account);
      optionalText(problems, 'cloud.region', cloud.region);
    }
  }

  if (!Array.isArray(alert.resources)) problems.push('resources: not a list');
  else {
    alert.resources.forEach((resource: unknown, n) => {
      if (!isPlainObject(resource)) return problems.push(`resources[${n}]: not an object`);
      problems.push(...keysProblems(`resources[${n}]`, resource, new Set(['type', 'id', 'name'])));
      if (!isText(resource.type)) problems.push(`resources[${n}].type: not a non-empty string`);
      if (!isText(resource.id)) problems.push(`resources[${n}].id: not a non-empty string`);
      optionalText(problems, `resources[${n}].name`, resource.name);
    });
  }

  const network = alert.network;
  if (!isPlainObject(network)) problems.push('network: not an object');
  else {
    problems.push(...keysProblems('network', network, new Set(['ips', 'cidrs', 'ports', 'protocol'])));
    textList(problems, 'network.ips', network.ips, (ip) => isIP(ip) !== 0);
    textList(problems, 'network.cidrs', network.cidrs, isCidr);
    optionalText(problems, 'network.protocol', network.protocol);
    if (!Array.isArray(network.ports)) problems.push('network.ports: not a list');
    else {
      network.ports.forEach((range: unknown, n) => {
        const ok =
          isPlainObject(range) &&
          Object.keys(range).every((key) => key === 'from' || key === 'to') &&
          Number.isInteger(range.from) &&
          Number.isInteger(range.to) &&
          (range.from as number) >= 0 &&
          (range.from as number) <= (range.to as number) &&
          (range.to as number) <= 65535;
        if (!ok) problems.push(`network.ports[${n}]: ${JSON.stringify(range)} is not a port range`);
      });
    }
  }

  const actors = alert.actors;
  if (!isPlainObject(actors)) problems.push('actors: not an object');
  else {
    problems.push(...keysProblems('actors', actors, new Set(['ips', 'domains', 'principals', 'userAgents'])));
    textList(problems, 'actors.ips', actors.ips, (ip) => isIP(ip) !== 0);
    textList(problems, 'actors.domains', actors.domains);
    textList(problems, 'actors.principals', actors.principals);
    textList(problems, 'actors.userAgents', actors.userAgents);
  }

  if (normalized) {
    if (alert.source !== normalized.source) problems.push(`source: ${JSON.stringify(alert.source)}, not ${JSON.stringify(normalized.source)}`);
    const archive = alert.archive;
    if (!isPlainObject(archive) || !isText(archive.id) || !isText(archive.sha256) || !isText(archive.receivedAt)) {
      problems.push('archive: not an archive reference');
    }
    if (alert.index !== undefined && !(Number.isInteger(alert.index) && (alert.index as number) >= 0)) problems.push(`index: ${String(alert.index)}`);
    if (alert.copies !== undefined && !(Number.isInteger(alert.copies) && (alert.copies as number) >= 1)) problems.push(`copies: ${String(alert.copies)}`);
    if (alert.truncated !== undefined) textList(problems, 'truncated', alert.truncated);
  }
  return problems;
}
