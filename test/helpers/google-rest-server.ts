// The Compute Engine and Cloud Storage JSON APIs on 127.0.0.1 for the GCP remediation executor's
// tests (no emulator serves either): firewalls.get and .patch with their long-running operations
// (globalOperations.get and .wait), buckets.get and .patch, over state the test seeds. PATCH is
// JSON merge patch (objects merge, lists and values replace), as both APIs document; a firewall
// patch changes the firewall only when its operation is done; a bucket patch honours
// ifMetagenerationMatch. Errors, failed operations and dropped answers on demand. Every request
// (route, path and query parameters, body) and every answer is checked against Google's published
// Discovery documents (test/fixtures/google-rest/discovery-subset.json, extracted by
// scripts/extract-google-discovery.ts): unknown fields, wrong types and formats, output-only fields
// sent, required fields missing. A drift on either side lands in `problems`, which tests assert is
// empty. Requests must carry a self-signed JWT of the seeded service account, verified by its key.
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyReply } from 'fastify';
import { decodeProtectedHeader, jwtVerify } from 'jose';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  pattern?: string;
  enum?: string[];
  readOnly?: boolean;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
  annotations?: { required?: string[] };
}
interface Parameter extends Schema {
  location: 'path' | 'query';
  required?: boolean;
  repeated?: boolean;
}
interface Method {
  id: string;
  path: string;
  httpMethod: string;
  parameters?: Record<string, Parameter>;
  request?: Schema;
  response?: Schema;
}
interface Api {
  name: 'compute' | 'storage';
  servicePath: string;
  parameters: Record<string, Parameter>;
  schemas: Record<string, Schema>;
  resources: Record<string, { methods?: Record<string, Method> }>;
}

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/google-rest/discovery-subset.json');
const discovery = JSON.parse(readFileSync(fixture, 'utf8')) as { apis: Record<'compute' | 'storage', Api> };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Problems of `value` against a Discovery schema. `request`: the method id a request body is for
 * (output-only fields are refused, fields the API requires for that method are checked).
 */
function checkSchema(api: Api, schema: Schema, value: unknown, at: string, problems: string[], request?: string): void {
  if (schema.$ref) {
    const target = api.schemas[schema.$ref];
    if (!target) problems.push(`${at}: schema ${schema.$ref} is not in the description`);
    else checkSchema(api, target, value, at, problems, request);
    return;
  }
  switch (schema.type) {
    case 'object': {
      if (!isObject(value)) return void problems.push(`${at}: expected an object`);
      for (const [key, item] of Object.entries(value)) {
        const property = schema.properties?.[key] ?? schema.additionalProperties;
        if (!property) problems.push(`${at}.${key}: no such field`);
        else if (request && property.readOnly) problems.push(`${at}.${key}: output only, sent in a request`);
        else if (item !== null) checkSchema(api, property, item, `${at}.${key}`, problems, request);
      }
      for (const [key, property] of Object.entries(schema.properties ?? {})) {
        if (request && property.annotations?.required?.includes(request) && !(key in value)) problems.push(`${at}.${key}: required by ${request}`);
      }
      return;
    }
    case 'array':
      if (!Array.isArray(value)) return void problems.push(`${at}: expected a list`);
      value.forEach((item, index) => checkSchema(api, schema.items ?? {}, item, `${at}[${index}]`, problems, request));
      return;
    case 'string': {
      if (typeof value !== 'string') return void problems.push(`${at}: expected a string, got ${JSON.stringify(value)}`);
      const format = schema.format;
      if ((format === 'int64' || format === 'uint64') && !/^-?\d+$/.test(value)) problems.push(`${at}: expected a ${format} as a string, got ${JSON.stringify(value)}`);
      if (format === 'date-time' && !RFC3339.test(value)) problems.push(`${at}: expected an RFC 3339 time, got ${JSON.stringify(value)}`);
      if (format === 'byte' && !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) problems.push(`${at}: expected base64`);
      if (schema.enum && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
      if (schema.pattern && !new RegExp(`^(?:${schema.pattern})$`).test(value)) problems.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
      return;
    }
    case 'integer':
      if (!Number.isInteger(value)) problems.push(`${at}: expected an integer, got ${JSON.stringify(value)}`);
      return;
    case 'number':
      if (typeof value !== 'number') problems.push(`${at}: expected a number, got ${JSON.stringify(value)}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${at}: expected a boolean, got ${JSON.stringify(value)}`);
      return;
    case 'any':
    case undefined:
      return;
    default:
      problems.push(`${at}: unknown schema type ${schema.type}`);
  }
}

/** A query or path parameter's text against its description. */
function checkParameter(api: Api, name: string, parameter: Parameter, raw: string, problems: string[]): void {
  if (parameter.type === 'boolean' && raw !== 'true' && raw !== 'false') problems.push(`parameter ${name}: expected true or false, got ${raw}`);
  else if (parameter.type === 'integer' && !/^-?\d+$/.test(raw)) problems.push(`parameter ${name}: expected an integer, got ${raw}`);
  else if (parameter.type === 'string') checkSchema(api, { ...parameter, readOnly: false }, raw, `parameter ${name}`, problems);
}

interface Route {
  api: Api;
  method: Method;
  pattern: RegExp;
}

/** `projects/{project}/global/firewalls/{firewall}` under the API's service path → a regular expression. */
function routesOf(api: Api): Route[] {
  return Object.values(api.resources).flatMap((resource) =>
    Object.values(resource.methods ?? {}).map((method) => {
      const source = `/${api.servicePath}${method.path}`.replace(/[.]/g, '\\.').replace(/\{(\+?)(\w+)\}/g, (_, plus: string, name: string) => `(?<${name}>${plus ? '.+' : '[^/]+'})`);
      return { api, method, pattern: new RegExp(`^${source}$`) };
    }),
  );
}
const routes = [...routesOf(discovery.apis.compute), ...routesOf(discovery.apis.storage)];

/** RFC 7396: objects merge, null removes, everything else (lists included) replaces. */
function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/** A service-account key file as Google issues them, with a fresh RSA key; the public half verifies its JWTs. */
export interface ServiceAccountKey {
  file: string;
  email: string;
  keyId: string;
  publicKey: KeyObject;
}

export async function createServiceAccountKey(dir: string, email = 'vigil-remediation@vigil-test.iam.gserviceaccount.com'): Promise<ServiceAccountKey> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyId = randomBytes(20).toString('hex');
  const file = path.join(dir, 'response-gcp-key.json');
  const key = {
    type: 'service_account',
    project_id: email.split('@')[1]!.split('.')[0],
    private_key_id: keyId,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: email,
    client_id: '100000000000000000001',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
  };
  await writeFile(file, JSON.stringify(key, null, 2), { mode: 0o600 });
  return { file, email, keyId, publicKey };
}

export type SeedFirewall = { project: string; name: string } & JsonObject;
export type SeedBucket = { name: string } & JsonObject;

export interface RecordedRequest {
  method: string;
  /** The Discovery method id (`compute.firewalls.patch`), when the route is one. */
  id?: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
  /** The JWT's subject, when it verified. */
  caller?: string;
  status: number;
}

export interface GoogleRestServerOptions {
  serviceAccount: Pick<ServiceAccountKey, 'email' | 'keyId' | 'publicKey'>;
  firewalls?: SeedFirewall[];
  buckets?: SeedBucket[];
  /** How many operation reads (get or wait) a patch's operation stays RUNNING for; 1 when unset. */
  operationPolls?: number;
}

export interface GoogleRestServer {
  /** The root both executors' endpoints take (`http://127.0.0.1:<port>/`). */
  url: string;
  requests: RecordedRequest[];
  /** Requests or answers that break the Discovery documents. */
  problems: string[];
  firewall(project: string, name: string): JsonObject;
  bucket(name: string): JsonObject;
  /** Answers the next `times` calls of `methodId` (every one when unset) with this HTTP error. */
  fail(methodId: string, status: number, reason: string, times?: number): void;
  /** The next firewall patch's operation ends in this error, the firewall unchanged. */
  failOperation(code: string, message: string, httpStatus: number): void;
  /** The next call of `methodId` is carried out in full, then its connection is dropped without an answer. */
  dropAnswer(methodId: string): void;
  close(): Promise<void>;
}

interface PendingOperation {
  operation: JsonObject;
  polls: number;
  complete: () => void;
}

export async function startGoogleRestServer(options: GoogleRestServerOptions): Promise<GoogleRestServer> {
  const requests: RecordedRequest[] = [];
  const problems: string[] = [];
  const firewalls = new Map<string, JsonObject>();
  const buckets = new Map<string, JsonObject>();
  const operations = new Map<string, PendingOperation>();
  const faults = new Map<string, { status: number; reason: string; times?: number }>();
  const drops = new Set<string>();
  let operationFault: { code: string; message: string; httpStatus: number } | undefined;
  let nextId = 1000n;
  const newId = () => String(++nextId * 7919n + 4000000000000000000n);
  const now = () => new Date().toISOString();

  const app = Fastify();
  // Known once listening; the routes are registered before.
  let url = '';
  let computeBase = '';

  function seed(): void {
    for (const { project, name, ...rest } of options.firewalls ?? []) {
      firewalls.set(`${project}/${name}`, {
        kind: 'compute#firewall',
        id: newId(),
        creationTimestamp: now(),
        name,
        description: '',
        network: `${computeBase}projects/${project}/global/networks/default`,
        priority: 1000,
        direction: 'INGRESS',
        disabled: false,
        logConfig: { enable: false },
        ...rest,
        selfLink: `${computeBase}projects/${project}/global/firewalls/${name}`,
      });
    }
    for (const { name, ...rest } of options.buckets ?? []) {
      buckets.set(name, {
        kind: 'storage#bucket',
        selfLink: `${url}storage/v1/b/${name}`,
        id: name,
        name,
        projectNumber: '123456789012',
        generation: '1733011200000000',
        metageneration: '1',
        location: 'US',
        storageClass: 'STANDARD',
        etag: 'CAE=',
        timeCreated: now(),
        updated: now(),
        locationType: 'multi-region',
        rpo: 'DEFAULT',
        iamConfiguration: { bucketPolicyOnly: { enabled: true }, uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: 'inherited' },
        ...rest,
      });
    }
  }

  /** Google's JSON error, as both APIs write it. */
  const answerError = (reply: FastifyReply, status: number, reason: string, message: string) =>
    reply.code(status).send({ error: { code: status, message, errors: [{ message, domain: 'global', reason }] } });

  /** An operation read: one step closer to DONE (the server decides, as `wait` may answer before it is done). */
  const advance = (pending: PendingOperation) => {
    if (pending.operation.status !== 'DONE' && --pending.polls <= 0) pending.complete();
    return pending.operation;
  };

  async function handle(route: Route, params: Record<string, string>, query: Record<string, string>, body: unknown, reply: FastifyReply, caller: string): Promise<unknown> {
    const id = route.method.id;
    if (id === 'compute.firewalls.get' || id === 'compute.firewalls.patch') {
      const key = `${params.project}/${params.firewall}`;
      const firewall = firewalls.get(key);
      if (!firewall) return answerError(reply, 404, 'notFound', `The resource 'projects/${params.project}/global/firewalls/${params.firewall}' was not found`);
      if (id === 'compute.firewalls.get') return firewall;
      const patch = body as JsonObject;
      if (patch.name !== params.firewall) return answerError(reply, 400, 'invalid', `Invalid value for field 'resource.name': '${String(patch.name)}'.`);
      const operationName = `operation-${Date.now()}-${randomUUID().slice(0, 13)}`;
      const operation: JsonObject = {
        kind: 'compute#operation',
        id: newId(),
        name: operationName,
        operationType: 'patch',
        targetLink: firewall.selfLink!,
        targetId: firewall.id!,
        status: 'RUNNING',
        user: caller,
        progress: 0,
        insertTime: now(),
        startTime: now(),
        selfLink: `${computeBase}projects/${params.project}/global/operations/${operationName}`,
      };
      const fault = operationFault;
      operationFault = undefined;
      const pending: PendingOperation = {
        operation,
        polls: options.operationPolls ?? 1,
        complete: () => {
          if (fault) Object.assign(operation, { error: { errors: [{ code: fault.code, message: fault.message }] }, httpErrorStatusCode: fault.httpStatus, httpErrorMessage: fault.code });
          else firewalls.set(key, mergePatch(firewall, patch) as JsonObject);
          Object.assign(operation, { status: 'DONE', progress: 100, endTime: now() });
        },
      };
      operations.set(`${params.project}/${operationName}`, pending);
      // A caller that loses the answer never reads the operation: it finishes on its own.
      if (drops.has(id)) pending.complete();
      return { ...operation };
    }
    if (id === 'compute.globalOperations.get' || id === 'compute.globalOperations.wait') {
      const pending = operations.get(`${params.project}/${params.operation}`);
      if (!pending) return answerError(reply, 404, 'notFound', `The resource 'projects/${params.project}/global/operations/${params.operation}' was not found`);
      return { ...advance(pending) };
    }
    // Storage: every answer carries an upload id, as Google's front end writes it.
    reply.header('x-guploader-uploadid', `ABPtcPp${randomBytes(24).toString('base64url')}`);
    const bucket = buckets.get(params.bucket!);
    if (!bucket) return answerError(reply, 404, 'notFound', 'The specified bucket does not exist.');
    if (query.ifMetagenerationMatch !== undefined && query.ifMetagenerationMatch !== bucket.metageneration) {
      return answerError(reply, 412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
    }
    if (id === 'storage.buckets.get') return bucket;
    const value = ((body as JsonObject).iamConfiguration as JsonObject | undefined)?.publicAccessPrevention;
    if (value !== undefined && value !== 'enforced' && value !== 'inherited') return answerError(reply, 400, 'invalid', `Invalid argument: publicAccessPrevention ${String(value)}`);
    const patched = mergePatch(bucket, body as JsonObject) as JsonObject;
    Object.assign(patched, { metageneration: String(Number(bucket.metageneration) + 1), updated: now() });
    buckets.set(params.bucket!, patched);
    return patched;
  }

  app.all('/*', async (request, reply) => {
    const requestUrl = new URL(request.url, url);
    const query = Object.fromEntries(requestUrl.searchParams);
    const seen: RecordedRequest = { method: request.method, path: requestUrl.pathname, query, ...(request.body === undefined ? {} : { body: request.body }), status: 0 };
    requests.push(seen);
    reply.raw.on('finish', () => (seen.status = reply.statusCode));
    const found = routes.map((route) => ({ route, match: route.pattern.exec(requestUrl.pathname) })).find(({ route, match }) => match && route.method.httpMethod === request.method);
    if (!found?.match) {
      problems.push(`${request.method} ${requestUrl.pathname}: not a route of the described methods`);
      return answerError(reply, 404, 'notFound', 'Not Found');
    }
    const { route, match } = found;
    const { api, method } = route;
    seen.id = method.id;

    const requestProblems: string[] = [];
    const params = Object.fromEntries(Object.entries(match.groups ?? {}).map(([name, value]) => [name, decodeURIComponent(value)]));
    for (const [name, value] of Object.entries(params)) {
      const parameter = method.parameters?.[name];
      if (parameter?.location !== 'path') requestProblems.push(`path parameter ${name} is not described`);
      else checkParameter(api, name, parameter, value, requestProblems);
    }
    for (const [name, value] of Object.entries(query)) {
      const parameter = method.parameters?.[name] ?? api.parameters[name];
      if (!parameter || parameter.location !== 'query') requestProblems.push(`query parameter ${name} is not a parameter of ${method.id}`);
      else checkParameter(api, name, parameter, value, requestProblems);
    }
    for (const [name, parameter] of Object.entries(method.parameters ?? {})) {
      if (parameter.required && params[name] === undefined && query[name] === undefined) requestProblems.push(`parameter ${name} is required by ${method.id}`);
    }
    if (method.request) {
      if (request.headers['content-type']?.split(';')[0] !== 'application/json') requestProblems.push(`${method.id}: the body is not application/json`);
      checkSchema(api, method.request, request.body, 'request', requestProblems, method.id);
    } else if (request.body !== undefined && request.body !== null && !(isObject(request.body) && Object.keys(request.body).length === 0)) {
      requestProblems.push(`${method.id} takes no body`);
    }
    if (requestProblems.length > 0) {
      problems.push(...requestProblems.map((problem) => `${method.id}: ${problem}`));
      return answerError(reply, 400, 'invalid', requestProblems.join('; '));
    }

    // A self-signed JWT of the service account, with a scope the method accepts.
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    let caller: string | undefined;
    if (token) {
      try {
        const { kid } = decodeProtectedHeader(token);
        const { payload } = await jwtVerify(token, options.serviceAccount.publicKey, { issuer: options.serviceAccount.email, subject: options.serviceAccount.email });
        const scopes = String(payload.scope ?? '').split(' ');
        if (kid === options.serviceAccount.keyId && scopes.includes('https://www.googleapis.com/auth/cloud-platform')) caller = options.serviceAccount.email;
      } catch {
        // Not a token of the service account: unauthenticated below.
      }
    }
    if (!caller) return answerError(reply, 401, 'authError', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    seen.caller = caller;

    const fault = faults.get(method.id);
    if (fault) {
      if (fault.times !== undefined && --fault.times <= 0) faults.delete(method.id);
      return answerError(reply, fault.status, fault.reason, `${fault.reason} (${method.id}, by the test)`);
    }

    const answer = await handle(route, params, query, request.body, reply, caller);
    if (reply.sent) return reply;
    if (reply.statusCode < 300 && method.response) {
      const answerProblems: string[] = [];
      checkSchema(api, method.response, answer, 'answer', answerProblems);
      if (answerProblems.length > 0) {
        problems.push(...answerProblems.map((problem) => `${method.id}: ${problem}`));
        return answerError(reply, 500, 'backendError', 'the test server built an answer the API description refuses');
      }
    }
    if (drops.delete(method.id)) {
      // Carried out; the answer never arrives.
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    return answer;
  });

  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the Google REST test server has no port');
  url = `http://127.0.0.1:${address.port}/`;
  computeBase = `${url}compute/v1/`;
  seed();

  return {
    url,
    requests,
    problems,
    firewall: (project, name) => structuredClone(firewalls.get(`${project}/${name}`)!),
    bucket: (name) => structuredClone(buckets.get(name)!),
    fail: (methodId, status, reason, times) => faults.set(methodId, { status, reason, ...(times === undefined ? {} : { times }) }),
    failOperation: (code, message, httpStatus) => (operationFault = { code, message, httpStatus }),
    dropAnswer: (methodId) => drops.add(methodId),
    close: () => app.close(),
  };
}
