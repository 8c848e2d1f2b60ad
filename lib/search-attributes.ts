// The search attributes every investigation carries, so the Temporal UI can filter by them.
// Registering them on a server (setup, dev, tests) and setting them (intake) both read this list.
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributePair,
} from '@temporalio/common';
import ipaddr from 'ipaddr.js';
import murmurHash3 from 'murmurhash3js-revisited';
import { EVERY_RESOURCE, type Actors, type NormalizedAlert } from './alert';
import type { ResourceContext } from './context';

export const VigilSource = defineSearchAttributeKey('VigilSource', SearchAttributeType.KEYWORD);
export const VigilSeverity = defineSearchAttributeKey('VigilSeverity', SearchAttributeType.KEYWORD);
export const VigilKind = defineSearchAttributeKey('VigilKind', SearchAttributeType.KEYWORD);
export const VigilFingerprint = defineSearchAttributeKey('VigilFingerprint', SearchAttributeType.KEYWORD);
/** The worst actor verdict (`malicious`, `suspicious`, ...), set once the actors are checked. */
export const VigilVerdict = defineSearchAttributeKey('VigilVerdict', SearchAttributeType.KEYWORD);

/** The AWS account or GCP project the alert came from. */
export const VigilAccount = defineSearchAttributeKey('VigilAccount', SearchAttributeType.KEYWORD);
/**
 * The exposure as last checked: `open` (something answered), `unconfirmed` (nothing answered, but the
 * inventory shows it exposed or cannot tell), `none` (neither), `remediated` (the watch ended clean).
 */
export const VigilExposure = defineSearchAttributeKey('VigilExposure', SearchAttributeType.KEYWORD);
/** The last step that failed after its retries (`collectContext`, `checkExposures`, `checkActors`). */
export const VigilFailure = defineSearchAttributeKey('VigilFailure', SearchAttributeType.KEYWORD);

/**
 * What the investigation is about, as `<type>:<id>` (`aws:ec2:instance:i-0abc`, `gcp:compute:firewall:allow-ssh`),
 * so that investigations of one resource find each other (correlation).
 */
export const VigilResources = defineSearchAttributeKey('VigilResources', SearchAttributeType.KEYWORD_LIST);
/** Who acted: addresses and principals (`ip:203.0.113.7`, `principal:arn:aws:iam::1:user/x`), for an actor's history. */
export const VigilActors = defineSearchAttributeKey('VigilActors', SearchAttributeType.KEYWORD_LIST);

/** The issue's number, set once it is opened: what a related investigation links to without reading this one. */
export const VigilIssue = defineSearchAttributeKey('VigilIssue', SearchAttributeType.KEYWORD);
/**
 * `open` or `closed`, as the investigation last knew its issue, or `suppressed` while it is silenced
 * (whatever its state): only open ones take others' alerts.
 */
export const VigilIssueState = defineSearchAttributeKey('VigilIssueState', SearchAttributeType.KEYWORD);

/**
 * The alerts of other identities merged into this investigation, as `<source>/<fingerprint>`
 * (`mergedKeyword`): where their resolutions are sent, since they have no investigation of their own.
 */
export const VigilMerged = defineSearchAttributeKey('VigilMerged', SearchAttributeType.KEYWORD_LIST);

// SQL visibility takes at most 10 Keyword and 3 KeywordList custom attributes per namespace: this is all of them.
export const vigilSearchAttributeKeys = [VigilSource, VigilSeverity, VigilKind, VigilFingerprint, VigilVerdict, VigilAccount, VigilExposure, VigilFailure, VigilResources, VigilActors, VigilIssue, VigilIssueState, VigilMerged];

/** The memo key where dispatch keeps the issue's title, so that related investigations link by it. */
export const TITLE_MEMO = 'vigilTitle';

/**
 * Temporal refuses a search attribute value over 2 KB (the JSON of the whole list, measured in
 * bytes): a start is refused and an upsert fails the workflow task. Each list keeps what fits
 * within this, earlier values first, leaving room for the server's own encoding.
 */
const MAX_LIST_BYTES = 1800;
/** An id longer than this (a GCP path, an ARN) is kept as its start and a hash of the whole. */
const MAX_KEYWORD_CHARS = 200;
const KEPT_PREFIX_CHARS = 160;

const utf8 = new TextEncoder();
// The package ships types for its x86 hash only; its x64 128-bit hash is the same library.
const { hash128 } = (murmurHash3 as unknown as { x64: { hash128(bytes: Uint8Array): string } }).x64;

/**
 * A long id as its first characters and a 128-bit hash of the whole: equal ids stay equal, so they
 * still match, and the value stays small. Not a cryptographic hash: whoever could craft a colliding
 * id could name the real one in an alert just as well. Runs in workflow code, hence no node:crypto.
 */
export function boundedKeyword(value: string): string {
  return value.length <= MAX_KEYWORD_CHARS ? value : `${value.slice(0, KEPT_PREFIX_CHARS)}~${hash128(utf8.encode(value))}`;
}

/** Distinct values, each bounded, as many as fit within Temporal's limit on one value (in order). */
function keywords(values: readonly string[]): string[] {
  const kept: string[] = [];
  let bytes = 2; // `[]`
  for (const value of new Set(values.map(boundedKeyword))) {
    const size = utf8.encode(JSON.stringify(value)).length + (kept.length > 0 ? 1 : 0);
    if (bytes + size > MAX_LIST_BYTES) break;
    kept.push(value);
    bytes += size;
  }
  return kept;
}

/** Both lists as one, within the bound (`a` first): what the workflow upserts when a repeat names more. */
export const mergeKeywords = (a: readonly string[], b: readonly string[]): string[] => keywords([...a, ...b]);

/** How an alert's identity is kept in `VigilMerged`. */
export const mergedKeyword = (alert: Pick<NormalizedAlert, 'source' | 'fingerprint'>): string => boundedKeyword(`${alert.source}/${alert.fingerprint}`);

/**
 * Resources whose names are unique only within one account and region (a database, a function, a
 * load balancer named by name): `h16-db` in two accounts is two databases. Ids that are unique
 * everywhere (`i-…`, `sg-…`, `snap-…`, a bucket's name, an ARN, a GCP full resource name) are not here.
 */
const PLACE_SCOPED_TYPES: ReadonlySet<string> = new Set([
  'aws:rds:db-instance',
  'aws:rds:db-cluster',
  'aws:rds:db-snapshot',
  'aws:rds:db-cluster-snapshot',
  'aws:redshift:cluster',
  'aws:opensearch:domain',
  'aws:elb:load-balancer',
  'aws:elbv2:load-balancer',
  'aws:lambda:function',
  'aws:apigateway:rest-api',
  'aws:apigateway:http-api',
]);

/** Where a resource is: its account and region, when known. */
interface Place {
  account?: string | undefined;
  region?: string | undefined;
}

/**
 * `<type>:<id>`, what correlation matches on; for a name unique only in its account and region,
 * `<type>:<account>/<region>/<name>`, or nothing when either is unknown: two alerts about
 * same-named resources elsewhere must not be taken for one.
 */
function resourceKeyword(type: string, id: string, { account, region }: Place): string | undefined {
  if (id === EVERY_RESOURCE) return undefined;
  if (!PLACE_SCOPED_TYPES.has(type) || id.startsWith('arn:')) return `${type}:${id}`;
  return account && region ? `${type}:${account}/${region}/${id}` : undefined;
}

/** The keyword of each resource an alert names, in the place the alert names. */
export const resourceKeywords = (alert: Pick<NormalizedAlert, 'resources' | 'cloud'>): string[] =>
  keywords(alert.resources.flatMap(({ type, id }) => resourceKeyword(type, id, { account: alert.cloud?.account, region: alert.cloud?.region }) ?? []));
/**
 * What the inventory resolved the alert to, in the alerts' vocabulary: each machine and each
 * resource beyond machines (bucket, database…) by its id and aliases, and each rule in front of a
 * machine by what alerts call it (an AWS security group by its id, a GCP firewall by its path and
 * numeric id). Two sources that name one thing differently (a firewall and the instance behind it,
 * a load balancer's name and its ARN) share these, so their investigations find each other.
 */
export function contextResourceKeywords(context: Pick<ResourceContext, 'instances' | 'rules' | 'resources'>): string[] {
  const instances = context.instances.flatMap(({ type, id, aliases = [] }) => [id, ...aliases].map((name) => `${type}:${name}`));
  // Buckets, databases, load balancers…: by id and aliases (a load balancer's ARN and its name).
  const resources = (context.resources ?? []).flatMap(({ type, id, aliases = [], account, region }) =>
    [id, ...aliases].flatMap((name) => resourceKeyword(type, name, { account, region }) ?? []),
  );
  const rules = context.rules.flatMap(({ id, aliases = [] }) => {
    const group = /^(sg-[0-9a-f]+)\//.exec(id)?.[1];
    if (group) return [`aws:ec2:security-group:${group}`];
    if (/^projects\/[^/]+\/global\/firewalls\/[^/]+$/.test(id)) return [id, ...aliases].map((name) => `gcp:compute:firewall:${name}`);
    return [];
  });
  return keywords([...instances, ...resources, ...rules]);
}

/** The alert's own resource keywords and the inventory's, within the list's bound (the alert's first). */
export const investigationResourceKeywords = (alert: Pick<NormalizedAlert, 'resources' | 'cloud'>, context?: Pick<ResourceContext, 'instances' | 'rules' | 'resources'>): string[] =>
  keywords([...resourceKeywords(alert), ...(context ? contextResourceKeywords(context) : [])]);

/**
 * Addresses that name a different machine in every network (private, loopback, link-local, CGNAT,
 * multicast, unspecified): two investigations sharing `10.0.0.5` need not share anything. The
 * documentation ranges stay (ipaddr.js calls them reserved): tests and the demo use them as public.
 */
const LOCAL_RANGES = new Set(['unspecified', 'broadcast', 'multicast', 'linkLocal', 'loopback', 'carrierGradeNat', 'private', 'uniqueLocal']);
const isLocalAddress = (ip: string) => {
  if (!ipaddr.isValid(ip)) return false;
  const address = ipaddr.process(ip); // An IPv4-mapped IPv6 address as the IPv4 one.
  return LOCAL_RANGES.has(address.range());
};
/** The cloud acting on its own behalf (`ec2.amazonaws.com`, a Google service agent): in every account's alerts, about nothing in common. */
const isServicePrincipal = (principal: string) =>
  /\.amazonaws\.com$|^AWS Internal$|^AWSService\/|@gcp-sa-[\w-]+\.iam\.gserviceaccount\.com$|@cloudservices\.gserviceaccount\.com$/i.test(principal);

/**
 * `ip:<address>` and `principal:<name>` of each actor: what an actor's history is looked up by, and
 * investigations are related by. Local addresses and the cloud's own service principals are left
 * out: shared by unrelated investigations, they would link everything to everything.
 */
export const actorKeywords = (actors: Pick<Actors, 'ips' | 'principals'>): string[] =>
  keywords([
    ...actors.ips.filter((ip) => !isLocalAddress(ip)).map((ip) => `ip:${ip}`),
    ...actors.principals.filter((principal) => !isServicePrincipal(principal)).map((principal) => `principal:${principal}`),
  ]);

export function alertSearchAttributes(alert: NormalizedAlert): SearchAttributePair[] {
  const resources = resourceKeywords(alert);
  const actors = actorKeywords(alert.actors);
  return [
    { key: VigilSource, value: alert.source },
    { key: VigilSeverity, value: alert.severity },
    { key: VigilKind, value: alert.kind },
    { key: VigilFingerprint, value: alert.fingerprint },
    ...(alert.cloud?.account ? [{ key: VigilAccount, value: alert.cloud.account }] : []),
    ...(resources.length > 0 ? [{ key: VigilResources, value: resources }] : []),
    ...(actors.length > 0 ? [{ key: VigilActors, value: actors }] : []),
  ];
}

/**
 * A visibility query's string literal, or undefined for a value that cannot be one safely: values
 * come from alerts, and one holding a quote or a backslash is left out of the query (it is still
 * stored, so it only weakens matching) rather than escaped into it.
 */
export const literal = (value: string): string | undefined => (/['"\\\p{Cc}]/u.test(value) ? undefined : `'${value}'`);

/** `VigilResources IN (…) OR VigilActors IN (…)` over the values that can be queried; undefined when none can. */
export function relatedQuery({ resources, actors }: { resources: readonly string[]; actors: readonly string[] }): string | undefined {
  const clause = (key: string, values: readonly string[]) => {
    const literals = values.flatMap((value) => literal(value) ?? []);
    return literals.length > 0 ? [`${key} IN (${literals.join(', ')})`] : [];
  };
  const clauses = [...clause(VigilResources.name, resources), ...clause(VigilActors.name, actors)];
  return clauses.length > 0 ? `(${clauses.join(' OR ')})` : undefined;
}
