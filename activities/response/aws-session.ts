// The AWS remediation executor's identity and its failures: the narrow remediation role assumed in
// the resource's account (or the worker's own credentials when `response.aws.useOwnCredentials`),
// the endpoint and retries every client shares, and how a refusal becomes the non-retryable
// `RemediationRefused` the investigation reports while anything else is thrown for Temporal's retries.
import { ApplicationFailure } from '@temporalio/common';
import { resolveSecret, type ResponseSettings } from '../../lib/config';
import { refusalName, RoleAssumptionFailed } from '../context/aws/errors';
import { renewingRoleSession } from '../context/aws/role-session';
import type { Credentials } from '../context/aws/inventory';
import { partitionOf } from '../context/aws/resources/reading';

export type AwsResponseSettings = ResponseSettings['aws'];

export interface AwsExecutorOptions {
  /** The worker's own credentials, used directly or to assume the role; the SDK's default chain when unset. */
  credentials?: Credentials;
}

/** What every SDK client of one account and region is made with. */
export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: Credentials;
  maxAttempts: number;
}

export interface AwsSessions {
  configFor(account: string, region: string): AwsClientConfig;
  /** Who acts in the account, for a refusal's message: the role's ARN, or the worker itself. */
  identityIn(account: string, region: string): string;
}

/** What CloudTrail shows as the session of every change the remediation makes. */
export const REMEDIATION_SESSION = 'vigil-remediation';

export function createAwsSessions(settings: AwsResponseSettings, options: AwsExecutorOptions = {}): AwsSessions {
  const externalId = settings.externalId ? resolveSecret(settings.externalId, 'response.aws.externalId') : undefined;
  const endpoint = settings.endpoint ? { endpoint: settings.endpoint } : {};
  const roleArnIn = (account: string, region: string) => `arn:${partitionOf(region)}:iam::${account}:role/${settings.roleName}`;
  // One provider per role: assumed once, and again when its session nears its end, not once per call.
  const roles = new Map<string, Credentials>();

  function roleCredentials(roleArn: string, region: string): Credentials {
    const known = roles.get(roleArn);
    if (known) return known;
    const credentials = renewingRoleSession(roleArn, async (properties) => {
      const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
      return fromTemporaryCredentials({
        params: { RoleArn: roleArn, RoleSessionName: REMEDIATION_SESSION, ...(externalId ? { ExternalId: externalId } : {}) },
        ...(options.credentials ? { masterCredentials: options.credentials } : {}),
        clientConfig: { region, ...endpoint, maxAttempts: settings.maxAttempts },
      })(properties);
    });
    roles.set(roleArn, credentials);
    return credentials;
  }

  return {
    configFor(account, region) {
      const credentials = settings.useOwnCredentials ? options.credentials : roleCredentials(roleArnIn(account, region), region);
      return { region, ...endpoint, maxAttempts: settings.maxAttempts, ...(credentials ? { credentials } : {}) };
    },
    identityIn: (account, region) => (settings.useOwnCredentials ? "the worker's own credentials" : `role ${roleArnIn(account, region)}`),
  };
}

/** Errors that say the change cannot be made as planned, however often it is tried. */
const lasting = new Set([
  'InvalidGroup.NotFound',
  'InvalidGroupId.Malformed',
  'InvalidPermission.Malformed',
  'RulesPerSecurityGroupLimitExceeded',
  'NoSuchBucket',
]);

const errorName = (err: unknown) => (err instanceof Error ? err.name : '');
export const isNamed = (err: unknown, ...names: string[]) => names.includes(errorName(err));

/** The service's words, kept short: some refusals carry a long encoded authorization message. */
const shortly = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}…` : text);

export function refused(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'RemediationRefused');
}

/**
 * `work`, its refusals turned into `RemediationRefused` saying what was refused (`call`, on `target`)
 * and for whom; anything else thrown as is, for Temporal to retry.
 */
export async function refusing<T>(sessions: AwsSessions, where: { account: string; region: string }, call: string, target: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const place = `in account ${where.account} (${where.region})`;
    if (err instanceof RoleAssumptionFailed) {
      const name = refusalName(err.cause);
      if (name) throw refused(`${call} on ${target} ${place}: cannot assume role ${err.roleArn} (${name})`);
      throw err.cause;
    }
    const name = refusalName(err) ?? (lasting.has(errorName(err)) ? errorName(err) : undefined);
    if (name) throw refused(`${call} on ${target} ${place} refused for ${sessions.identityIn(where.account, where.region)}: ${name}: ${shortly((err as Error).message)}`);
    throw err;
  }
}

/** An ISO time for the record. */
export const now = () => new Date().toISOString();

/** The request id AWS gave a call, for its own audit log (CloudTrail). */
export const requestIdOf = (output: { $metadata?: { requestId?: string } }): string[] => (output.$metadata?.requestId ? [output.$metadata.requestId] : []);
