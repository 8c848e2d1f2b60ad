// The GCP remediation executor's calls: the Compute Engine and Cloud Storage JSON APIs over
// google-auth-library's authorised fetch, with the response's own identity. Plain REST rather
// than @google-cloud/compute: its proto3 JSON leaves an empty list out of a patch (narrowing a
// firewall down to its source tags would change nothing), it is ~110 MB, and Storage has no such
// client of the same family. Failures are sorted here once: lasting ones (refused, not found,
// invalid) become the non-retryable `RemediationRefused`, the rest are thrown for Temporal's retries.
import { readFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { AuthClient } from 'google-auth-library';
import { z } from 'zod';
import type { ResponseSettings } from '../../lib/config';

const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
const COMPUTE_ROOT = 'https://compute.googleapis.com/';
const STORAGE_ROOT = 'https://storage.googleapis.com/';
/**
 * One call's limit, and how long an attempt waits for an operation (`globalOperations.wait` answers
 * within about two minutes, often sooner): read, patch, wait and read again stay within the
 * activity's five minutes, after which Temporal retries and the retry reads what happened.
 */
const CALL_TIMEOUT_MS = 30_000;
const OPERATION_BUDGET_MS = 150_000;
/** HTTP statuses no retry changes: invalid, unauthenticated, refused, not found. */
const LASTING = new Set([400, 401, 403, 404]);

/** Google's JSON error body (`{"error": {"code": 403, "message": …, "errors": [{"reason": …}]}}`), as far as it is there. */
const errorBodySchema = z.looseObject({
  error: z.looseObject({
    code: z.number().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    errors: z.array(z.looseObject({ reason: z.string().optional() })).optional(),
  }),
});

/** A Compute long-running operation, as far as the executor reads it. */
const operationSchema = z.looseObject({
  id: z.string().optional(),
  name: z.string(),
  status: z.enum(['PENDING', 'RUNNING', 'DONE']),
  error: z.looseObject({ errors: z.array(z.looseObject({ code: z.string().optional(), message: z.string().optional() })).optional() }).optional(),
  httpErrorStatusCode: z.number().optional(),
  httpErrorMessage: z.string().optional(),
});
type Operation = z.infer<typeof operationSchema>;

export interface GoogleAnswer<T> {
  data: T;
  /** What Google's own logs know the call by (an operation's name, a Storage upload id). */
  requestIds: string[];
}

export interface GoogleRest {
  /** `GET`, `PATCH` or `POST` on `<root><path>`; the answer read by `schema`. */
  call<T>(api: 'compute' | 'storage', method: string, path: string, schema: z.ZodType<T>, options?: { body?: unknown; query?: Record<string, string>; timeout?: number }): Promise<GoogleAnswer<T>>;
  /** Waits for a Compute global operation until DONE (bounded); its error is a failure. */
  finish(call: string, project: string, operation: Operation): Promise<Operation>;
}

/** The name of the method in the failures' words (`compute.firewalls.patch projects/p/global/firewalls/x`). */
const refused = (what: string, identity: string, detail: string) =>
  ApplicationFailure.nonRetryable(`${what} refused for ${identity}: ${detail}`, 'RemediationRefused');

/**
 * The response's credentials: a service-account key file signs its own JWTs (with the
 * cloud-platform scope, as Google's client libraries do: no token exchange), otherwise Application
 * Default Credentials. Loaded on the first call, so a worker starts without them (nor the library,
 * which a worker that never acts on GCP would otherwise hold in memory).
 */
async function authClient(settings: ResponseSettings['gcp']): Promise<{ client: AuthClient; identity: string }> {
  const { GoogleAuth, JWT } = await import('google-auth-library');
  if (settings.credentialsFile) {
    const key = JSON.parse(await readFile(settings.credentialsFile, 'utf8')) as { type?: string; client_email?: string };
    if (key.type !== 'service_account') throw refused('reading response.gcp.credentialsFile', 'Vigil', `expected a service-account key file, found type ${String(key.type)}`);
    const jwt = new JWT({ scopes: [CLOUD_PLATFORM] });
    jwt.fromJSON(key);
    jwt.useJWTAccessWithScope = true;
    return { client: jwt, identity: key.client_email ?? 'the service account of response.gcp.credentialsFile' };
  }
  try {
    const client = await new GoogleAuth({ scopes: [CLOUD_PLATFORM] }).getClient();
    const email = (client as { email?: unknown }).email;
    return { client, identity: typeof email === 'string' ? email : 'the Application Default Credentials' };
  } catch (error) {
    throw refused('loading Application Default Credentials', 'Vigil', error instanceof Error ? error.message : String(error));
  }
}

/** The status and Google's words of an HTTP failure, or undefined for a failure without an answer (a dropped connection). */
function httpFailure(error: unknown): { status: number; words: string } | undefined {
  const response = (error as { response?: { status?: unknown; data?: unknown } }).response;
  if (typeof response?.status !== 'number') return undefined;
  let data = response.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      // Not JSON: the status alone.
    }
  }
  const body = errorBodySchema.safeParse(data);
  const reason = body.data?.error.errors?.[0]?.reason ?? body.data?.error.status;
  return { status: response.status, words: [reason, body.data?.error.message].filter(Boolean).join(': ') || `HTTP ${response.status}` };
}

export function createGoogleRest(settings: ResponseSettings['gcp']): GoogleRest {
  const roots = { compute: settings.computeEndpoint ?? COMPUTE_ROOT, storage: settings.storageEndpoint ?? STORAGE_ROOT };
  const servicePaths = { compute: 'compute/v1/', storage: 'storage/v1/' };
  let auth: Promise<{ client: AuthClient; identity: string }> | undefined;

  const rest: GoogleRest = {
    async call(api, method, path, schema, options = {}) {
      auth ??= authClient(settings).catch((error: unknown) => {
        auth = undefined;
        throw error;
      });
      const { client, identity } = await auth;
      const what = `${servicePaths[api]}${path}`;
      const url = new URL(`${servicePaths[api]}${path}`, roots[api].endsWith('/') ? roots[api] : `${roots[api]}/`);
      for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
      let answer;
      try {
        answer = await client.request({ url: url.toString(), method, data: options.body, timeout: options.timeout ?? CALL_TIMEOUT_MS, responseType: 'json', retry: false });
      } catch (error) {
        const failure = httpFailure(error);
        if (failure && LASTING.has(failure.status)) throw refused(`${method} ${what}`, identity, `${failure.status} ${failure.words}`);
        // Transient (429, 5xx, a precondition another change broke, a dropped connection): a new
        // Error with Google's words only, never the failed request as its cause (its headers carry the credentials).
        // eslint-disable-next-line preserve-caught-error
        throw new Error(`${method} ${what} failed: ${failure ? `${failure.status} ${failure.words}` : error instanceof Error ? error.message : String(error)}`);
      }
      const parsed = schema.safeParse(answer.data);
      if (!parsed.success) throw new Error(`${method} ${what}: unexpected answer: ${z.prettifyError(parsed.error)}`);
      const uploadId = answer.headers.get('x-guploader-uploadid');
      return { data: parsed.data, requestIds: uploadId ? [uploadId] : [] };
    },

    async finish(call, project, operation) {
      let current = operation;
      const deadline = Date.now() + OPERATION_BUDGET_MS;
      while (current.status !== 'DONE') {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${call}: operation ${current.name} is still ${current.status} after ${OPERATION_BUDGET_MS / 1000} s`);
        const path = `projects/${encodeURIComponent(project)}/global/operations/${encodeURIComponent(current.name)}/wait`;
        current = (await rest.call('compute', 'POST', path, operationSchema, { timeout: left })).data;
      }
      const errors = current.error?.errors ?? [];
      if (errors.length === 0 && current.httpErrorStatusCode === undefined) return current;
      const words = errors.map((error) => [error.code, error.message].filter(Boolean).join(': ')).join('; ') || `${current.httpErrorStatusCode} ${current.httpErrorMessage ?? ''}`.trim();
      const status = current.httpErrorStatusCode;
      // An operation that failed with a client error fails the same way again; a server error may pass.
      if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
        throw ApplicationFailure.nonRetryable(`${call} failed (operation ${current.name}): ${words}`, 'RemediationRefused');
      }
      throw new Error(`${call} failed (operation ${current.name}): ${words}`);
    },
  };
  return rest;
}

export { operationSchema, type Operation };
