// Findings of service checks: one per check and endpoint, keyed `<check>/<endpoint>`.
import type { FieldValue, Finding } from '../../../lib/finding';
import { endpoint } from '../types';

export function probeFinding(
  check: string,
  { address, port }: { address: string; port: number },
  status: string,
  fields: Record<string, FieldValue>,
  detail?: Record<string, unknown>,
): Finding {
  const target = endpoint(address, port);
  return { key: `${check}/${target}`, check, target, status, fields, ...(detail ? { detail } : {}) };
}

/** The `status` of a service that may or may not let strangers in. */
export const accessStatus = (unauthenticated: boolean | null) =>
  unauthenticated === null ? 'answered' : unauthenticated ? 'unauthenticated' : 'auth-required';
