// JSON documents and their `$ref`s, for the scripts that extract the part of a published API
// description the tests validate against (scripts/extract-github-openapi.ts, extract-google-discovery.ts).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Every `$ref` reached from `roots`, following each into what `resolve` gives for it (which throws
 * for a reference it cannot resolve), so that the subset copied resolves on its own.
 */
export function collectRefs(roots: Json[], resolve: (ref: string) => Json): Set<string> {
  const found = new Set<string>();
  const visit = (node: Json) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        if (found.has(value)) continue;
        const target = resolve(value);
        found.add(value);
        visit(target);
      } else visit(value);
    }
  };
  roots.forEach(visit);
  return found;
}
