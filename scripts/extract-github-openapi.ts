// Extracts the part of GitHub's OpenAPI description that the GitHub tracker uses, so the fake GitHub
// server of the tests validates against GitHub's own schemas without @octokit/openapi (~385 MB) being
// a dependency. Regenerate (see test/fixtures/github/SOURCES.md):
//
//   npm view @octokit/openapi version
//   npm i --no-save @octokit/openapi@<version>
//   npx tsx scripts/extract-github-openapi.ts
//   npm uninstall --no-save @octokit/openapi
//
// or with the package installed elsewhere, leaving the project's node_modules alone:
//
//   npm install --prefix /tmp/openapi @octokit/openapi@<version>
//   npx tsx scripts/extract-github-openapi.ts /tmp/openapi/node_modules/@octokit/openapi
//
// The operations keep GitHub's text; only media-type examples are dropped (they are most of the
// size and nothing validates against them). Component references stay `$ref`s, and every component
// they reach (transitively) is copied, so the subset resolves on its own.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectRefs, isObject, type Json, type JsonObject } from './json-refs';

/**
 * The operations `activities/tracker/github.ts` calls, and intake's look-up of a commenter's team
 * (`intake/response-commands.ts`). Add one here when the tracker needs it.
 */
export const trackerOperations = [
  'apps/create-installation-access-token',
  'repos/get',
  'issues/list-for-repo',
  'issues/create',
  'issues/get',
  'issues/update',
  'issues/list-comments',
  'issues/create-comment',
  'issues/update-comment',
  'issues/get-label',
  'issues/create-label',
  'issues/add-labels',
  'issues/remove-label',
  'repos/get-content',
  'repos/create-or-update-file-contents',
  'git/get-ref',
  'teams/get-membership-for-user-in-org',
] as const;

const specFile = 'generated/api.github.com.json';
const httpMethods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

function lookup(document: JsonObject, ref: string): Json {
  if (!ref.startsWith('#/')) throw new Error(`only local references are expected, found ${ref}`);
  let node: Json | undefined = document;
  for (const part of ref.slice(2).split('/')) {
    node = isObject(node) ? node[part.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined;
  }
  if (node === undefined) throw new Error(`unresolvable reference ${ref}`);
  return node;
}

/** A copy without media-type `examples` (and the component examples they point at). */
function withoutExamples(node: Json): Json {
  if (Array.isArray(node)) return node.map(withoutExamples);
  if (!isObject(node)) return node;
  return Object.fromEntries(Object.entries(node).filter(([key]) => key !== 'examples').map(([key, value]) => [key, withoutExamples(value)]));
}

export function extractSubset(spec: JsonObject, operationIds: readonly string[], source: { version: string; file: string }): JsonObject {
  const wanted = new Set(operationIds);
  const paths: JsonObject = {};
  for (const [route, item] of Object.entries(spec.paths as JsonObject)) {
    if (!isObject(item)) continue;
    for (const [method, operation] of Object.entries(item)) {
      if (!httpMethods.has(method) || !isObject(operation) || !wanted.has(operation.operationId as string)) continue;
      const kept = (paths[route] ??= {}) as JsonObject;
      // Path-level parameters apply to every operation of the path.
      if (item.parameters) kept.parameters = item.parameters;
      kept[method] = withoutExamples(operation);
      wanted.delete(operation.operationId as string);
    }
  }
  if (wanted.size) throw new Error(`operations not found in ${source.file}: ${[...wanted].join(', ')}`);

  const components: Record<string, JsonObject> = {};
  for (const ref of [...collectRefs([paths], (ref) => withoutExamples(lookup(spec, ref)))].sort()) {
    const [, , kind, name] = ref.split('/');
    if (!kind || !name) throw new Error(`unexpected reference ${ref}`);
    (components[kind] ??= {})[name] = withoutExamples(lookup(spec, ref));
  }
  const info = spec.info as JsonObject;
  return {
    openapi: spec.openapi!,
    info: {
      title: `${String(info.title)} — the subset used by Vigil's GitHub tracker`,
      description:
        `Extracted by scripts/extract-github-openapi.ts from @octokit/openapi@${source.version} ${source.file} ` +
        '(operations listed in the script, the components they reference, media-type examples dropped).',
      version: info.version!,
      license: { name: 'MIT', url: 'https://github.com/octokit/openapi/blob/main/LICENSE' },
    },
    servers: spec.servers!,
    paths,
    components,
  };
}

function main() {
  const require = createRequire(import.meta.url);
  // The package's folder when given (installed outside the project), else the project's own copy.
  let packageDir = process.argv[2] ? path.resolve(process.argv[2]) : '';
  try {
    packageDir ||= path.dirname(require.resolve('@octokit/openapi/package.json'));
  } catch {
    console.error('@octokit/openapi is not installed. Run: npm i --no-save @octokit/openapi@<version> (then remove it with npm uninstall --no-save @octokit/openapi), or name its folder');
    process.exit(1);
  }
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const spec = JSON.parse(readFileSync(path.join(packageDir, specFile), 'utf8')) as JsonObject;
  const subset = extractSubset(spec, trackerOperations, { version, file: specFile });
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const out = path.join(root, 'test/fixtures/github/openapi-subset.json');
  const text = `${JSON.stringify(subset, null, 2)}\n`;
  writeFileSync(out, text);
  const count = Object.values(subset.paths as JsonObject).flatMap((item) => Object.keys(item as JsonObject).filter((key) => httpMethods.has(key))).length;
  console.log(`wrote ${path.relative(root, out)}: ${count} operations, ${(text.length / 1024).toFixed(0)} KiB, from @octokit/openapi@${version}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
