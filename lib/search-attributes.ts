// The search attributes every investigation carries, so the Temporal UI can filter by them.
// Registering them on a server (setup, dev, tests) and setting them (intake) both read this list.
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributePair,
} from '@temporalio/common';
import type { Actors, NormalizedAlert, ResourceRef } from './alert';
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
/** `open` or `closed`, as the investigation last knew its issue: only open ones take others' alerts. */
export const VigilIssueState = defineSearchAttributeKey('VigilIssueState', SearchAttributeType.KEYWORD);

export const vigilSearchAttributeKeys = [VigilSource, VigilSeverity, VigilKind, VigilFingerprint, VigilVerdict, VigilAccount, VigilExposure, VigilFailure, VigilResources, VigilActors, VigilIssue, VigilIssueState];

/** The memo key where dispatch keeps the issue's title, so that related investigations link by it. */
export const TITLE_MEMO = 'vigilTitle';

/** Values kept per list: an alert naming thousands of resources still fits Temporal's limits. */
const MAX_LIST_VALUES = 50;
/** Temporal caps a keyword's size; a longer id (a rare ARN) is cut, which only weakens its matching. */
const MAX_KEYWORD_CHARS = 500;
const keywords = (values: string[]) => [...new Set(values.map((value) => value.slice(0, MAX_KEYWORD_CHARS)))].slice(0, MAX_LIST_VALUES);

/** Both lists as one, within the bound (`a` first): what the workflow upserts when a repeat names more. */
export const mergeKeywords = (a: readonly string[], b: readonly string[]): string[] => keywords([...a, ...b]);

/** `<type>:<id>` of each resource: what correlation matches on. */
export const resourceKeywords = (resources: readonly ResourceRef[]): string[] => keywords(resources.map(({ type, id }) => `${type}:${id}`));
/**
 * What the inventory resolved the alert to, in the alerts' vocabulary: each machine by its id and
 * aliases, and each rule in front of it by what alerts call it (an AWS security group by its id, a
 * GCP firewall by its path and numeric id). Two sources that name one machine differently (a
 * firewall, the instance behind it) share these, so their investigations find each other.
 */
export function contextResourceKeywords(context: Pick<ResourceContext, 'instances' | 'rules'>): string[] {
  const instances = context.instances.flatMap(({ type, id, aliases = [] }) => [id, ...aliases].map((name) => `${type}:${name}`));
  const rules = context.rules.flatMap(({ id, aliases = [] }) => {
    const group = /^(sg-[0-9a-f]+)\//.exec(id)?.[1];
    if (group) return [`aws:ec2:security-group:${group}`];
    if (/^projects\/[^/]+\/global\/firewalls\/[^/]+$/.test(id)) return [id, ...aliases].map((name) => `gcp:compute:firewall:${name}`);
    return [];
  });
  return keywords([...instances, ...rules]);
}

/** The alert's own resource keywords and the inventory's, within the list's bound (the alert's first). */
export const investigationResourceKeywords = (alert: Pick<NormalizedAlert, 'resources'>, context?: Pick<ResourceContext, 'instances' | 'rules'>): string[] =>
  keywords([...resourceKeywords(alert.resources), ...(context ? contextResourceKeywords(context) : [])]);

/** `ip:<address>` and `principal:<name>` of each actor: what an actor's history is looked up by. */
export const actorKeywords = (actors: Pick<Actors, 'ips' | 'principals'>): string[] =>
  keywords([...actors.ips.map((ip) => `ip:${ip}`), ...actors.principals.map((principal) => `principal:${principal}`)]);

export function alertSearchAttributes(alert: NormalizedAlert): SearchAttributePair[] {
  const resources = resourceKeywords(alert.resources);
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
const literal = (value: string) => (/['"\\\p{Cc}]/u.test(value) ? undefined : `'${value}'`);

/** `VigilResources IN (…) OR VigilActors IN (…)` over the values that can be queried; undefined when none can. */
export function relatedQuery({ resources, actors }: { resources: readonly string[]; actors: readonly string[] }): string | undefined {
  const clause = (key: string, values: readonly string[]) => {
    const literals = values.flatMap((value) => literal(value) ?? []);
    return literals.length > 0 ? [`${key} IN (${literals.join(', ')})`] : [];
  };
  const clauses = [...clause(VigilResources.name, resources), ...clause(VigilActors.name, actors)];
  return clauses.length > 0 ? `(${clauses.join(' OR ')})` : undefined;
}
