// The search attributes every investigation carries, so the Temporal UI can filter by them.
// Registering them on a server (setup, dev, tests) and setting them (intake) both read this list.
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributePair,
} from '@temporalio/common';
import type { Actors, NormalizedAlert, ResourceRef } from './alert';

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

export const vigilSearchAttributeKeys = [VigilSource, VigilSeverity, VigilKind, VigilFingerprint, VigilVerdict, VigilAccount, VigilExposure, VigilFailure, VigilResources, VigilActors];

/** Values kept per list: an alert naming thousands of resources still fits Temporal's limits. */
const MAX_LIST_VALUES = 50;
/** Temporal caps a keyword's size; a longer id (a rare ARN) is cut, which only weakens its matching. */
const MAX_KEYWORD_CHARS = 500;
const keywords = (values: string[]) => [...new Set(values.map((value) => value.slice(0, MAX_KEYWORD_CHARS)))].slice(0, MAX_LIST_VALUES);

/** `<type>:<id>` of each resource: what correlation matches on. */
export const resourceKeywords = (resources: readonly ResourceRef[]): string[] => keywords(resources.map(({ type, id }) => `${type}:${id}`));
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
