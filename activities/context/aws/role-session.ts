// An assumed role's credentials, kept while its session lasts: the role is assumed once, and again
// when its session nears its end, not once per call. Shared by the inventory's read-only role and
// the response's remediation role.
import type { Credentials } from './inventory';
import { RoleAssumptionFailed } from './errors';

export type CredentialsProvider = Extract<Credentials, (...args: never[]) => unknown>;

// An assumed role's session is renewed this long before it ends (it lasts an hour).
const SESSION_RENEWAL_MS = 5 * 60_000;

/** `assume` asks STS for the role; a refusal is not kept, so the next call asks again. */
export function renewingRoleSession(roleArn: string, assume: CredentialsProvider): CredentialsProvider {
  let session: ReturnType<CredentialsProvider> | undefined;
  return async (properties) => {
    session ??= assume(properties);
    try {
      const identity = await session;
      if (identity.expiration && identity.expiration.getTime() - Date.now() < SESSION_RENEWAL_MS) session = undefined;
      return identity;
    } catch (err) {
      session = undefined;
      throw new RoleAssumptionFailed(roleArn, err);
    }
  };
}
