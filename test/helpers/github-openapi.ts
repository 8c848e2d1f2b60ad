// GitHub's OpenAPI description (the subset in test/fixtures/github/openapi-subset.json) turned into
// a router and validators for the fake GitHub server: which operation a request is, whether its
// parameters and body are valid, and whether an answer is one GitHub documents for it.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

export const openApiSubsetFile = new URL('../fixtures/github/openapi-subset.json', import.meta.url);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: JsonObject;
  'x-multi-segment'?: boolean;
}

export interface Operation {
  operationId: string;
  method: string;
  /** The path as the description writes it, e.g. `/repos/{owner}/{repo}/issues`. */
  route: string;
  /** Checks path and query parameters (strings coerced to the declared types, in place). */
  checkParameters(params: Record<string, unknown>, query: Record<string, unknown>): string[];
  /** Checks a JSON request body (undefined when none was sent). */
  checkBody(body: unknown): string[];
  /** Checks an answer: its status must be documented (or be one GitHub sends for any call). */
  checkResponse(status: number, body: unknown): string[];
}

export interface MatchedOperation {
  operation: Operation;
  params: Record<string, string>;
}

/** Answers GitHub can give to any call although few operations document them. */
const anyOperationStatuses = new Set([401, 403, 404, 429, 500, 502, 503]);

/**
 * OpenAPI 3.0 schema objects → JSON Schema for Ajv: `nullable` becomes a null alternative,
 * component references point into one registered document, and annotations Ajv does not know
 * (`example`, `x-*`, `discriminator`, whose `mapping` Ajv cannot use; `oneOf` already decides) go.
 */
function toJsonSchema(node: Json, documentId: string): Json {
  if (Array.isArray(node)) return node.map((item) => toJsonSchema(item, documentId));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'example' || key === 'discriminator' || key === 'externalDocs' || key.startsWith('x-') || key === 'nullable') continue;
    if (key === '$ref' && typeof value === 'string') {
      out.$ref = value.replace('#/components/schemas/', `${documentId}#/$defs/`);
    } else if (key === 'properties' && isObject(value)) {
      // Property names are data, not keywords: convert each property's schema, keep every name.
      out.properties = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, toJsonSchema(schema, documentId)]));
    } else {
      out[key] = toJsonSchema(value, documentId);
    }
  }
  if (node.nullable !== true) return out;
  if (typeof out.type === 'string' && !out.$ref) {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}

const describeErrors = (where: string, errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((error) => `${where}${error.instancePath || ''} ${error.message ?? 'is invalid'}${error.params && Object.keys(error.params).length ? ` ${JSON.stringify(error.params)}` : ''}`);

function createAjv(coerceTypes: boolean): Ajv {
  // Strict about schemas (an unknown keyword is an error in the conversion above), lenient about
  // type unions, which GitHub's description uses freely.
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, allowUnionTypes: true, coerceTypes });
  addFormats(ajv);
  return ajv;
}

export interface GitHubOpenApi {
  operations: Operation[];
  /** The operation a request is, or undefined when the subset has none for it. */
  match(method: string, pathname: string): MatchedOperation | undefined;
}

export function loadGitHubOpenApi(file: URL | string = openApiSubsetFile): GitHubOpenApi {
  const spec = JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
  const components = spec.components as Record<string, JsonObject>;
  const documentId = 'github-openapi';
  const ajv = createAjv(false);
  const coercing = createAjv(true);
  const document = { $id: documentId, $defs: toJsonSchema(components.schemas!, documentId) } as JsonObject;
  ajv.addSchema(document);
  coercing.addSchema(document);

  const resolve = <T>(node: Json | undefined): T => {
    let current = node;
    while (isObject(current) && typeof current.$ref === 'string') {
      const [, , kind, name] = current.$ref.split('/');
      current = components[kind!]?.[name!];
    }
    return current as T;
  };

  const operations: Array<Operation & { pattern: RegExp; names: string[]; literalSegments: number }> = [];
  for (const [route, item] of Object.entries(spec.paths as JsonObject)) {
    if (!isObject(item)) continue;
    for (const [method, raw] of Object.entries(item)) {
      if (!isObject(raw) || typeof raw.operationId !== 'string') continue;
      const parameters = [...((item.parameters as Json[]) ?? []), ...((raw.parameters as Json[]) ?? [])].map((p) => resolve<Parameter>(p));
      const byName = new Map(parameters.map((p) => [p.name, p]));
      const names: string[] = [];
      const pattern = new RegExp(
        `^${route
          .split('/')
          .map((segment) => {
            const name = /^\{(.+)\}$/.exec(segment)?.[1];
            if (!name) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            names.push(name);
            return byName.get(name)?.['x-multi-segment'] ? '(.+)' : '([^/]+)';
          })
          .join('/')}$`,
      );
      const objectSchema = (where: Parameter['in'], strictKeys: boolean) => {
        const own = parameters.filter((p) => p.in === where);
        return {
          type: 'object',
          properties: Object.fromEntries(own.map((p) => [p.name, toJsonSchema(p.schema, documentId)])),
          required: own.filter((p) => p.required).map((p) => p.name),
          // GitHub ignores unknown query parameters; here one is an error, so a misspelt
          // parameter fails the test instead of silently doing nothing.
          additionalProperties: !strictKeys,
        };
      };
      const validatePath = coercing.compile(objectSchema('path', true));
      const validateQuery = coercing.compile(objectSchema('query', true));

      const requestBody = resolve<JsonObject | undefined>(raw.requestBody);
      const bodySchema = isObject(requestBody?.content) ? (requestBody.content['application/json'] as JsonObject | undefined)?.schema : undefined;
      let validateBody: ValidateFunction | undefined;
      if (bodySchema !== undefined) {
        const converted = toJsonSchema(bodySchema, documentId) as JsonObject;
        // Unknown body keys are refused for the same reason as unknown query parameters.
        if (converted.type === 'object' && isObject(converted.properties) && converted.additionalProperties === undefined) {
          converted.additionalProperties = false;
        }
        validateBody = ajv.compile(converted);
      }
      const bodyRequired = requestBody?.required === true;

      const responses = new Map<number, ValidateFunction | null>();
      for (const [status, response] of Object.entries(raw.responses as JsonObject)) {
        const resolved = resolve<JsonObject>(response);
        const content = isObject(resolved.content) ? resolved.content : undefined;
        const schema = content && isObject(content['application/json']) ? content['application/json'].schema : undefined;
        responses.set(Number(status), schema === undefined ? null : ajv.compile(toJsonSchema(schema, documentId) as JsonObject));
      }
      const basicError = ajv.getSchema(`${documentId}#/$defs/basic-error`)!;
      const operationId = raw.operationId;

      operations.push({
        operationId,
        method: method.toUpperCase(),
        route,
        pattern,
        names,
        literalSegments: route.split('/').filter((segment) => segment && !segment.startsWith('{')).length,
        checkParameters(params, query) {
          const problems: string[] = [];
          if (!validatePath(params)) problems.push(...describeErrors('path', validatePath.errors));
          if (!validateQuery(query)) problems.push(...describeErrors('query', validateQuery.errors));
          return problems;
        },
        checkBody(body) {
          if (body === undefined) return bodyRequired ? ['body is required'] : [];
          if (!validateBody) return ['this operation takes no body'];
          return validateBody(body) ? [] : describeErrors('body', validateBody.errors);
        },
        checkResponse(status, body) {
          const documented = responses.get(status);
          if (documented === undefined && !anyOperationStatuses.has(status)) {
            return [`${status} is not a documented answer of ${operationId}`];
          }
          const validate = documented === undefined ? basicError : documented;
          if (validate === null) return body === undefined ? [] : [`a ${status} answer of ${operationId} has no body`];
          return validate(body) ? [] : describeErrors(`${status} answer`, validate.errors);
        },
      });
    }
  }
  // Most literal segments first, so `/issues/comments/{id}` is never read as an issue number.
  operations.sort((a, b) => b.literalSegments - a.literalSegments);

  return {
    operations,
    match(method, pathname) {
      for (const operation of operations) {
        if (operation.method !== method) continue;
        const found = operation.pattern.exec(pathname);
        if (!found) continue;
        const params: Record<string, string> = {};
        operation.names.forEach((name, index) => {
          params[name] = decodeURIComponent(found[index + 1]!);
        });
        return { operation, params };
      }
      return undefined;
    },
  };
}
