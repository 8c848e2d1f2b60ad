// A Cloud Asset API on 127.0.0.1 for the GCP inventory's tests (no emulator exists): the REST
// surface of ListAssets, serving assets the test seeds, a few per page, their resource data
// (contentType RESOURCE) or their IAM policies (contentType IAM_POLICY). As the real API, it lists
// every asset below the parent (an organization's projects in nested folders: by `ancestors`), and
// takes a project by id or by number (`projects/my-project` is `projects/123` when a seeded project
// asset says so). The route, the request and
// every answer are checked against the API description that ships inside @google-cloud/asset
// (its protos.json, the one the real client encodes with), in proto3 JSON's rules and refusing
// unknown fields: a drift on either side lands in `problems`, which tests assert is empty.
import { createRequire } from 'node:module';
import path from 'node:path';
import Fastify, { type FastifyReply } from 'fastify';
import protobuf from 'protobufjs';

/** An asset as the API writes it (camelCase: `assetType`, `resource.data`…). */
export type ApiAsset = { name: string; assetType: string; ancestors?: string[] } & Record<string, unknown>;

export type ErrorStatus = 'PERMISSION_DENIED' | 'NOT_FOUND' | 'RESOURCE_EXHAUSTED' | 'INTERNAL' | 'UNAVAILABLE';
const HTTP_STATUS: Record<ErrorStatus | 'UNAUTHENTICATED' | 'INVALID_ARGUMENT', number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

export interface CloudAssetServerOptions {
  assets?: ApiAsset[];
  /** Largest page the server answers, whatever the client asks. */
  pageSize?: number;
  /** Access tokens accepted as `Authorization: Bearer …`; any request passes when unset. */
  tokens?: string[];
  /** Parents (`projects/x`, `folders/2`) answered with 403 PERMISSION_DENIED. */
  refuse?: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The request as the API description reads it: path variables and query parameters. */
  request: Record<string, unknown>;
  authorization?: string;
  status: number;
}

export interface CloudAssetServer {
  url: string;
  assets: ApiAsset[];
  requests: RecordedRequest[];
  /** Requests or answers that break the API description. */
  problems: string[];
  /**
   * Answers later requests for `parent` (by id or number) with this error: `times` of them, or every
   * one; given `contentType`, only listings of that content (a role with listResource but not listIamPolicy).
   */
  fail(parent: string, status: ErrorStatus, times?: number, contentType?: ContentType): void;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const protosFile = path.join(path.dirname(require.resolve('@google-cloud/asset')), '..', 'protos', 'protos.json');
const root = protobuf.Root.fromJSON(require(protosFile) as protobuf.INamespace).resolveAll();
const service = root.lookupService('google.cloud.asset.v1.AssetService');
const listAssets = service.methods.ListAssets!;
listAssets.resolve();

/** `/v1/{parent=*\/*}/assets` → a regular expression with one named group per variable. */
function routeOf(method: protobuf.Method): { verb: string; pattern: RegExp } {
  const options = (method.parsedOptions ?? []) as Record<string, Record<string, string> | undefined>[];
  const rule = options.map((option) => option['(google.api.http)']).find(Boolean) ?? {};
  const [verb, template] = Object.entries(rule).find(([key]) => ['get', 'post', 'put', 'patch', 'delete'].includes(key)) ?? [];
  if (!verb || !template) throw new Error(`${method.name} has no HTTP rule in ${protosFile}`);
  const source = template.replace(/\{(\w+)(?:=([^}]+))?\}/g, (_, name: string, segments: string | undefined) => {
    const parts = (segments ?? '*').split('/').map((segment) => (segment === '**' ? '.+' : segment === '*' ? '[^/]+' : segment));
    return `(?<${name}>${parts.join('/')})`;
  });
  return { verb: verb.toUpperCase(), pattern: new RegExp(`^${source}$`) };
}

/** `google.cloud.asset.v1.Asset`, without protobufjs's leading dot. */
const nameOf = (type: protobuf.ReflectionObject) => type.fullName.replace(/^\./, '');

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** proto3 JSON forms of the well-known types this API uses. */
const wellKnown: Record<string, (value: unknown) => boolean> = {
  '.google.protobuf.Struct': isObject,
  '.google.protobuf.Value': () => true,
  '.google.protobuf.ListValue': Array.isArray,
  '.google.protobuf.Timestamp': (value) => typeof value === 'string' && RFC3339.test(value),
  '.google.protobuf.Duration': (value) => typeof value === 'string' && /^-?\d+(\.\d{1,9})?s$/.test(value),
  '.google.protobuf.FieldMask': (value) => typeof value === 'string',
  '.google.protobuf.Any': (value) => isObject(value) && typeof value['@type'] === 'string',
  '.google.protobuf.Empty': (value) => isObject(value) && Object.keys(value).length === 0,
};

const isInteger = (value: unknown) => (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value));

function scalarProblem(type: string, value: unknown): string | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : 'expected a string';
    case 'bytes':
      return typeof value === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value) ? undefined : 'expected base64';
    case 'bool':
      return typeof value === 'boolean' ? undefined : 'expected a boolean';
    case 'double':
    case 'float':
      return typeof value === 'number' || ['NaN', 'Infinity', '-Infinity'].includes(value as string) ? undefined : 'expected a number';
    default:
      return isInteger(value) ? undefined : `expected an integer (${type})`;
  }
}

function checkValue(field: protobuf.Field, value: unknown, at: string, problems: string[]): void {
  const type = field.resolvedType;
  if (type instanceof protobuf.Type) {
    checkMessage(type, value, at, problems);
    return;
  }
  if (type instanceof protobuf.Enum) {
    const known = typeof value === 'string' ? value in type.values : Number.isInteger(value) && Object.values(type.values).includes(value as number);
    if (!known) problems.push(`${at}: ${JSON.stringify(value)} is not a value of ${nameOf(type)}`);
    return;
  }
  const problem = scalarProblem(field.type, value);
  if (problem) problems.push(`${at}: ${problem}, got ${JSON.stringify(value)}`);
}

/** Problems of `json` as proto3 JSON of `type`; unknown fields are problems too. */
function checkMessage(type: protobuf.Type, json: unknown, at: string, problems: string[] = []): string[] {
  const special = wellKnown[type.fullName];
  if (special) {
    if (!special(json)) problems.push(`${at}: not a valid ${nameOf(type)}`);
    return problems;
  }
  if (!isObject(json)) {
    problems.push(`${at}: expected an object (${nameOf(type)})`);
    return problems;
  }
  const oneofsSet = new Map<string, string>();
  for (const [key, value] of Object.entries(json)) {
    const field = type.fields[key];
    if (!field) {
      problems.push(`${at}.${key}: no such field in ${nameOf(type)}`);
      continue;
    }
    if (value === null) continue;
    if (field.partOf) {
      const other = oneofsSet.get(field.partOf.name);
      if (other) problems.push(`${at}: ${other} and ${key} are both set, one of ${field.partOf.name} only`);
      oneofsSet.set(field.partOf.name, key);
    }
    if (field.map) {
      if (!isObject(value)) problems.push(`${at}.${key}: expected a map`);
      else for (const [mapKey, item] of Object.entries(value)) checkValue(field, item, `${at}.${key}.${mapKey}`, problems);
    } else if (field.repeated) {
      if (!Array.isArray(value)) problems.push(`${at}.${key}: expected a list`);
      else value.forEach((item, index) => checkValue(field, item, `${at}.${key}[${index}]`, problems));
    } else checkValue(field, value, `${at}.${key}`, problems);
  }
  return problems;
}

/** Query parameters read the way the API's HTTP rule maps them onto the request message. */
function requestFromQuery(type: protobuf.Type, pathVariables: Record<string, string>, query: URLSearchParams, problems: string[]): Record<string, unknown> {
  const request: Record<string, unknown> = { ...pathVariables };
  for (const [key, raw] of query) {
    if (key.startsWith('$')) {
      // System parameters the REST transport adds: JSON answers, enums as numbers, compact output.
      const known = (key === '$alt' && ['json', 'json;enum-encoding=int'].includes(raw)) || (key === '$prettyPrint' && ['0', '1', 'true', 'false'].includes(raw));
      if (!known) problems.push(`request: unknown system parameter ${key}=${raw}`);
      continue;
    }
    const field = type.fields[key];
    if (!field || key in pathVariables) {
      problems.push(`request: query parameter ${key} is not a field of ${nameOf(type)}${field ? ' outside the path' : ''}`);
      continue;
    }
    const isText = field.type === 'string' || field.type === 'bytes' || field.resolvedType instanceof protobuf.Type;
    const value = isText ? raw : /^-?\d+$/.test(raw) ? Number(raw) : raw === 'true' || raw === 'false' ? raw === 'true' : raw;
    if (field.repeated) request[key] = [...((request[key] as unknown[] | undefined) ?? []), value];
    else if (key in request) problems.push(`request: ${key} given more than once`);
    else request[key] = value;
  }
  return request;
}

const ancestorOf = (asset: ApiAsset, parents: readonly string[]) => parents.some((parent) => asset.name.includes(`/${parent}/`) || (asset.ancestors ?? []).includes(parent));

/** The content types served, as the request names them (by name, or by number in the REST transport's int enums). */
type ContentType = 'RESOURCE' | 'IAM_POLICY';
const CONTENT_TYPES: Record<string, ContentType> = { RESOURCE: 'RESOURCE', 1: 'RESOURCE', IAM_POLICY: 'IAM_POLICY', 2: 'IAM_POLICY' };

/** Cloud Resource Manager's Project, as a project asset's `resource.data` holds it. */
export const PROJECT_ASSET_TYPE = 'cloudresourcemanager.googleapis.com/Project';

/** `parent` and the other name of the same project (`projects/<id>` ⇄ `projects/<number>`), from the seeded project assets. */
function namesOf(parent: string, assets: readonly ApiAsset[]): string[] {
  for (const asset of assets) {
    if (asset.assetType !== PROJECT_ASSET_TYPE) continue;
    const data = (asset.resource as { data?: { projectId?: unknown; projectNumber?: unknown } } | undefined)?.data;
    const names = [`projects/${String(data?.projectId)}`, `projects/${String(data?.projectNumber)}`];
    if (names.includes(parent)) return names;
  }
  return [parent];
}

/** Cloud Asset exports (`asset_type`, `resource.discovery_name`) in the API's camelCase; `data` as is. */
export function assetFromExport(exported: Record<string, unknown>): ApiAsset {
  const camel = (record: Record<string, unknown>) => Object.fromEntries(Object.entries(record).map(([key, value]) => [key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()), value]));
  const asset = camel(exported);
  return { ...asset, ...(isObject(asset.resource) ? { resource: camel(asset.resource) } : {}) } as ApiAsset;
}

export async function startCloudAssetServer(options: CloudAssetServerOptions = {}): Promise<CloudAssetServer> {
  const route = routeOf(listAssets);
  const requestType = listAssets.resolvedRequestType!;
  const responseType = listAssets.resolvedResponseType!;
  const readTime = new Date().toISOString();
  const pageLimit = options.pageSize ?? 2;
  const faults = new Map<string, { status: ErrorStatus; times?: number; contentType?: ContentType }>((options.refuse ?? []).map((parent) => [parent, { status: 'PERMISSION_DENIED' }]));
  const requests: RecordedRequest[] = [];
  const problems: string[] = [];
  const assets = [...(options.assets ?? [])];

  const app = Fastify();
  const answerError = (reply: FastifyReply, status: keyof typeof HTTP_STATUS, message: string) =>
    reply.code(HTTP_STATUS[status]).send({ error: { code: HTTP_STATUS[status], message, status } });

  app.all('/*', async (request, reply) => {
    const url = new URL(request.url, 'http://127.0.0.1');
    const match = route.pattern.exec(url.pathname);
    const seen: RecordedRequest = { method: request.method, path: url.pathname, request: {}, authorization: request.headers.authorization, status: 0 };
    requests.push(seen);
    reply.raw.on('finish', () => (seen.status = reply.statusCode));
    if (request.method !== route.verb || !match?.groups) {
      problems.push(`${request.method} ${url.pathname}: not a route of ListAssets (${route.verb} ${route.pattern.source})`);
      return answerError(reply, 'NOT_FOUND', `${url.pathname} not found`);
    }
    const requestProblems: string[] = [];
    seen.request = requestFromQuery(requestType, match.groups, url.searchParams, requestProblems);
    checkMessage(requestType, seen.request, 'request', requestProblems);
    if (requestProblems.length > 0) {
      problems.push(...requestProblems);
      return answerError(reply, 'INVALID_ARGUMENT', requestProblems.join('; '));
    }
    if (options.tokens && !options.tokens.some((token) => request.headers.authorization === `Bearer ${token}`)) {
      return answerError(reply, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
    }
    const parent = String(seen.request.parent);
    const parents = namesOf(parent, assets);
    // As the API: RESOURCE lists each asset's data, IAM_POLICY the assets that have a policy, with it
    // alone. A seeded asset may hold both (`resource` and `iamPolicy`); each answer gets its part.
    const content = CONTENT_TYPES[String(seen.request.contentType)];
    if (!content) return answerError(reply, 'INVALID_ARGUMENT', `content type ${String(seen.request.contentType)} is not served here`);
    const faulted = parents.find((name) => faults.has(name) && [undefined, content].includes(faults.get(name)!.contentType));
    const fault = faulted === undefined ? undefined : faults.get(faulted);
    if (faulted !== undefined && fault) {
      if (fault.times !== undefined && --fault.times <= 0) faults.delete(faulted);
      const message = fault.status === 'PERMISSION_DENIED' ? `The caller does not have permission to list assets of ${parent}` : `${fault.status} for ${parent}`;
      return answerError(reply, fault.status, message);
    }

    const types = (seen.request.assetTypes as string[] | undefined) ?? [];
    const matching = assets
      .filter((asset) => ancestorOf(asset, parents) && (types.length === 0 || types.includes(asset.assetType)) && (content === 'RESOURCE' || asset.iamPolicy !== undefined))
      .map(({ iamPolicy, resource, ...envelope }) => ({ ...envelope, ...(content === 'RESOURCE' ? (resource === undefined ? {} : { resource }) : { iamPolicy }) }));
    const offset = seen.request.pageToken ? Number(Buffer.from(String(seen.request.pageToken), 'base64url').toString()) : 0;
    if (!Number.isInteger(offset) || offset < 0 || offset > matching.length) return answerError(reply, 'INVALID_ARGUMENT', 'invalid page token');
    const size = Math.min(Number(seen.request.pageSize) || pageLimit, pageLimit);
    const end = offset + size;
    const body = { readTime, assets: matching.slice(offset, end), ...(end < matching.length ? { nextPageToken: Buffer.from(String(end)).toString('base64url') } : {}) };
    const answerProblems = checkMessage(responseType, body, 'answer');
    if (answerProblems.length > 0) {
      problems.push(...answerProblems);
      return answerError(reply, 'INTERNAL', 'the test server built an answer the API description refuses');
    }
    return body;
  });

  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the Cloud Asset test server has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    assets,
    requests,
    problems,
    fail: (parent, status, times, contentType) => faults.set(parent, { status, ...(times === undefined ? {} : { times }), ...(contentType ? { contentType } : {}) }),
    close: () => app.close(),
  };
}
