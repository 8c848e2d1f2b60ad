// The search attributes every investigation carries, so the Temporal UI can filter by them.
// Registering them on a server (setup, dev, tests) and setting them (intake) both read this list.
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributePair,
} from '@temporalio/common';
import type { NormalizedAlert } from './alert';

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

export function alertSearchAttributes(alert: NormalizedAlert): SearchAttributePair[] {
  return [
    { key: VigilSource, value: alert.source },
    { key: VigilSeverity, value: alert.severity },
    { key: VigilKind, value: alert.kind },
    { key: VigilFingerprint, value: alert.fingerprint },
    ...(alert.cloud?.account ? [{ key: VigilAccount, value: alert.cloud.account }] : []),
  ];
}
