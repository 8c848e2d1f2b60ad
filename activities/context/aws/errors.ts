// How the AWS inventory tells a lasting refusal (said as a problem or a coverage gap) from a
// transient failure (thrown, so that Temporal retries).

/** Refusals that retrying will not change. */
const refusals = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthFailure',
  'InvalidClientTokenId',
  'OptInRequired',
  'RegionDisabledException',
  'AWSOrganizationsNotInUseException',
]);

/**
 * The refusal's name (`AccessDenied`), or `HTTP 403` for a 403 whose body the SDK could not read (moto
 * answers JSON APIs such as Organizations in XML when it refuses); undefined when not a refusal.
 */
export function refusalName(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  if (refusals.has(err.name)) return err.name;
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403 ? 'HTTP 403' : undefined;
}
export const isRefusal = (err: unknown) => refusalName(err) !== undefined;

/** Organizations' answers for a unit or root that is not there (deleted, or a typo in `ous`): retrying will not change them. */
const missing = new Set(['ParentNotFoundException', 'TargetNotFoundException']);

/** The name of a lasting failure to list an organisation's units (a refusal, or a unit not found); undefined when transient. */
export const lastingListingFailure = (err: unknown): string | undefined =>
  refusalName(err) ?? (err instanceof Error && missing.has(err.name) ? err.name : undefined);

/** Marks a failure of the role assumption, so that a refusal names the role rather than EC2. */
export class RoleAssumptionFailed extends Error {
  constructor(
    readonly roleArn: string,
    override readonly cause: unknown,
  ) {
    super(`cannot assume ${roleArn}`);
  }
}

/**
 * Why a read was refused, in words fit for an issue title (`cannot assume role arn:… (AccessDenied)`,
 * `access denied (UnauthorizedOperation)`); anything else is thrown again, as transient.
 */
export function refusalReason(err: unknown): string {
  if (err instanceof RoleAssumptionFailed) {
    const name = refusalName(err.cause);
    if (name) return `cannot assume role ${err.roleArn} (${name})`;
    throw err.cause;
  }
  const name = refusalName(err);
  if (name) return `access denied (${name})`;
  throw err;
}

/** Node's and the SDK's ways of saying that nothing answered at the endpoint. */
const unreachable = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError']);

/** The AWS API a call went to, and the setting that points at it. */
export interface AwsEndpoint {
  /** `Organizations`, `EC2 and STS`. */
  service: string;
  /** The key that sets it (`inventory.aws.organization.endpoint`). */
  setting: string;
  /** Its value; AWS's own endpoint when unset. */
  url?: string;
}

/**
 * Why a call had no answer (no refusal), naming what to check: the endpoint setting when nothing
 * answered there, where the SDK looks for credentials when it found none; otherwise the SDK's words.
 */
export function noAnswerReason(err: unknown, { service, setting, url }: AwsEndpoint): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  if (unreachable.has(err.name) || (typeof code === 'string' && unreachable.has(code))) {
    return `cannot reach the ${service} endpoint ${url ? `${setting} (${url})` : `(AWS's own: ${setting} is unset)`}: ${err.message}`;
  }
  if (err.name === 'CredentialsProviderError') {
    return 'no credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where the SDK finds a role (instance profile, container, web identity)';
  }
  return `${err.name}: ${err.message}`;
}

/** A failure's short name for a row's state: the network's code (`ECONNREFUSED`) rather than the bare `Error` it comes in. */
export function failureName(err: unknown): string {
  if (!(err instanceof Error)) return 'Error';
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && unreachable.has(code) ? code : err.name;
}
