// Extracts the part of Google's published REST descriptions (Discovery documents) of the Compute
// Engine and Cloud Storage JSON APIs that the GCP remediation executor (activities/response/gcp.ts)
// calls, so the local API server of the tests (test/helpers/google-rest-server.ts) validates every
// request and answer against Google's own schemas without the whole documents (compute.v1.json
// alone is about 5 MB). The documents come from google-api-python-client on PyPI, which ships them
// as its static discovery cache. Regenerate (see test/fixtures/google-rest/README.md):
//
//   pip download --no-deps google-api-python-client==<version> -d /tmp/gapi
//   python3 -m zipfile -e /tmp/gapi/google_api_python_client-<version>-py3-none-any.whl /tmp/gapi/x
//   npx tsx scripts/extract-google-discovery.ts /tmp/gapi/x
//
// Methods and schemas keep Google's text. Schema references (`$ref` by schema id) stay references,
// and every schema they reach (transitively) is copied, so the subset resolves on its own.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectRefs, isObject, type JsonObject } from './json-refs';

/** The methods the executor calls, by API (the Discovery document's `name`). Add one here when it needs it. */
export const executorMethods = {
  compute: ['compute.firewalls.get', 'compute.firewalls.patch', 'compute.globalOperations.get', 'compute.globalOperations.wait'],
  storage: ['storage.buckets.get', 'storage.buckets.patch'],
} as const;

/** `resources.<a>.resources.<b>.methods.<m>` of a document: every method, by its `id`, with where it sits. */
function methodsOf(resources: JsonObject, at: string[] = []): Map<string, { path: string[]; method: JsonObject }> {
  const found = new Map<string, { path: string[]; method: JsonObject }>();
  for (const [name, resource] of Object.entries(resources)) {
    if (!isObject(resource)) continue;
    for (const [methodName, method] of Object.entries(isObject(resource.methods) ? resource.methods : {})) {
      if (isObject(method)) found.set(String(method.id), { path: [...at, name, methodName], method });
    }
    if (isObject(resource.resources)) for (const [id, entry] of methodsOf(resource.resources, [...at, name])) found.set(id, entry);
  }
  return found;
}

export function extractSubset(document: JsonObject, methodIds: readonly string[]): JsonObject {
  const methods = methodsOf(document.resources as JsonObject);
  const resources: JsonObject = {};
  for (const id of methodIds) {
    const entry = methods.get(id);
    if (!entry) throw new Error(`method ${id} not found in ${String(document.id)}`);
    let node = resources;
    for (const [index, name] of entry.path.entries()) {
      const last = index === entry.path.length - 1;
      if (last) ((node.methods ??= {}) as JsonObject)[name] = entry.method;
      else node = ((((node.resources ??= {}) as JsonObject)[name] ??= {}) as JsonObject);
    }
  }
  const schemas = document.schemas as JsonObject;
  const kept = Object.fromEntries([...collectRefs([resources], (id) => {
    if (!isObject(schemas[id])) throw new Error(`unresolvable reference ${id}`);
    return schemas[id];
  })].sort().map((id) => [id, schemas[id]!]));
  const pick = (...keys: string[]) => Object.fromEntries(keys.filter((key) => key in document).map((key) => [key, document[key]!]));
  return { ...pick('kind', 'id', 'name', 'version', 'revision', 'title', 'rootUrl', 'servicePath', 'batchPath', 'protocol', 'parameters'), resources: resources.resources!, schemas: kept };
}

function main() {
  const unpacked = process.argv[2];
  if (!unpacked) {
    console.error('usage: npx tsx scripts/extract-google-discovery.ts <unpacked google-api-python-client wheel>');
    process.exit(1);
  }
  const distInfo = readdirSync(unpacked).find((name) => /^google_api_python_client-.*\.dist-info$/.test(name));
  const version = distInfo?.match(/^google_api_python_client-(.*)\.dist-info$/)?.[1];
  if (!version) throw new Error(`${unpacked} holds no google_api_python_client-<version>.dist-info`);
  const documents = path.join(unpacked, 'googleapiclient', 'discovery_cache', 'documents');
  const apis: JsonObject = {};
  for (const [api, ids] of Object.entries(executorMethods)) {
    const file = `${api}.v1.json`;
    apis[api] = extractSubset(JSON.parse(readFileSync(path.join(documents, file), 'utf8')) as JsonObject, ids);
  }
  const subset = {
    description:
      `Extracted by scripts/extract-google-discovery.ts from google-api-python-client==${version} (PyPI), ` +
      'googleapiclient/discovery_cache/documents/{compute,storage}.v1.json: the methods listed in the script and the schemas they reference.',
    source: { package: 'google-api-python-client', version, license: 'Apache-2.0' },
    apis,
  };
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const out = path.join(root, 'test/fixtures/google-rest/discovery-subset.json');
  const text = `${JSON.stringify(subset, null, 2)}\n`;
  writeFileSync(out, text);
  console.log(`wrote ${path.relative(root, out)}: ${Object.values(executorMethods).flat().length} methods, ${(text.length / 1024).toFixed(0)} KiB, from google-api-python-client ${version}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
