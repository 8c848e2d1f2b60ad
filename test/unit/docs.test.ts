// The docs restate code in tables (sources, rules, feeds, providers, checks, settings...). This test
// reads those tables back and compares them with the definitions, so a registry that gains or loses
// an entry, or a default that changes, fails here until the page says so. It also checks that every
// page in docs/ is reachable from the README and that every relative link and anchor resolves.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import MarkdownIt from 'markdown-it';
import { afterAll, describe, expect, it } from 'vitest';
import { inventoryDefinitions } from '../../activities/context';
import { feedDefinitions } from '../../activities/intel/feeds';
import { providerDefinitions } from '../../activities/intel/providers';
import { serviceChecks } from '../../activities/probe/checks';
import { wellKnownPorts } from '../../activities/probe/plan';
import { cloudTrailRules } from '../../intake/sources/cloudtrail';
import { createSourceAdapters, defaultMaxBodyBytes, sourceNames } from '../../intake/sources';
import { configSchema, loadConfig } from '../../lib/config';
import { vigilSearchAttributeKeys } from '../../lib/search-attributes';
import { prerequisites } from '../../scripts/prerequisites';

const root = path.resolve(import.meta.dirname, '../..');
const docsDir = path.join(root, 'docs');
const docPages = readdirSync(docsDir)
  .filter((name) => name.endsWith('.md'))
  .map((name) => `docs/${name}`);
const pages = ['README.md', ...docPages];

const md = new MarkdownIt();
type Tokens = ReturnType<typeof md.parse>;
const tokensOf = new Map(pages.map((page) => [page, md.parse(readFileSync(path.join(root, page), 'utf8'), {})]));
const tokens = (page: string): Tokens => tokensOf.get(page) ?? md.parse(readFileSync(path.join(root, page), 'utf8'), {});

// ---------------------------------------------------------------------------------------------
// Reading tables: each cell is its Markdown source (with `\|` already unescaped).

interface Table {
  page: string;
  line: number;
  header: string[];
  rows: string[][];
}

function tablesIn(page: string): Table[] {
  const tables: Table[] = [];
  let current: Table | undefined;
  let row: string[] | undefined;
  for (const token of tokens(page)) {
    if (token.type === 'table_open') current = { page, line: (token.map?.[0] ?? 0) + 1, header: [], rows: [] };
    else if (token.type === 'table_close' && current) {
      tables.push(current);
      current = undefined;
    } else if (token.type === 'tr_open') row = [];
    else if (token.type === 'tr_close' && current && row) {
      if (current.header.length === 0) current.header = row.map(plain);
      else current.rows.push(row);
      row = undefined;
    } else if (token.type === 'inline' && row) row.push(token.content.trim());
  }
  return tables;
}

/** The text of Markdown as a reader sees it: code spans without their backticks, no emphasis marks. */
function plain(source: string): string {
  return (md.parseInline(source, {})[0]?.children ?? [])
    .filter((child) => child.type === 'text' || child.type === 'code_inline')
    .map((child) => child.content)
    .join('')
    .trim();
}

/** The code spans of a cell, in order. */
function codeSpans(source: string): string[] {
  return (md.parseInline(source, {})[0]?.children ?? []).filter((child) => child.type === 'code_inline').map((child) => child.content);
}

function firstCode(source: string, where: string): string {
  const [first] = codeSpans(source);
  if (first === undefined) throw new Error(`${where}: expected a \`code\` name in ${JSON.stringify(source)}`);
  return first;
}

/** The one table of a page whose header starts with these columns. */
function tableOf(page: string, ...header: string[]): Table {
  const found = tablesIn(page).filter((table) => header.every((name, at) => table.header[at] === name));
  if (found.length !== 1) throw new Error(`${page}: expected one table with columns ${header.join(' | ')}, found ${found.length}`);
  return found[0]!;
}

/** Rows as objects keyed by header, for readable comparisons. */
function records(table: Table): Record<string, string>[] {
  return table.rows.map((cells) => Object.fromEntries(table.header.map((name, at) => [name, cells[at] ?? ''])));
}

const numbers = (text: string) => text.split(',').map((part) => Number(part.trim()));

// ---------------------------------------------------------------------------------------------
// Configuration defaults, as loadConfig gives them with no file and an empty environment.

const scratch = mkdtempSync(path.join(os.tmpdir(), 'vigil-docs-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function loadWith(config: object, env: NodeJS.ProcessEnv = {}) {
  const file = path.join(scratch, 'vigil.json');
  writeFileSync(file, JSON.stringify(config));
  return loadConfig({ file, env, cwd: scratch });
}

/** Nested settings as `a.b.c` → value; empty objects and arrays are values. */
function flatten(value: unknown, prefix = '', into: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
  } else into[prefix] = value;
  return into;
}

// `inventory.<provider>` is not in the configuration schema: each inventory provider validates its
// own settings, so those rows are checked against the inventory registry instead.
const checkedKey = (key: string) => key !== 'inventory' && !key.startsWith('inventory.');

/**
 * Every default, including those that only exist once a variant is chosen (an S3 archive, the
 * GitHub tracker, an entry of a per-name map), without the keys the variant itself sets.
 */
function configDefaults(): Map<string, unknown> {
  const variants: { config: object; given: string[] }[] = [
    { config: {}, given: [] },
    { config: { archive: { kind: 's3', bucket: 'docs-test' } }, given: ['archive.kind', 'archive.bucket'] },
    {
      config: { tracker: { kind: 'github', github: { owner: 'o', repo: 'r', auth: { token: 'docs-test-token-0123456789' } } } },
      given: ['tracker.kind', 'tracker.github.owner', 'tracker.github.repo', 'tracker.github.auth.token'],
    },
    {
      config: { intake: { sources: { '<source>': {} } }, intel: { feeds: { '<feed>': {} }, providers: { '<provider>': {} } } },
      given: ['intake.sources.<source>'],
    },
    // An optional object without defaults of its own: its other keys' defaults show only once it is set.
    { config: { intake: { mirror: { url: 'http://127.0.0.1:1', token: 'docs-test-token-0123456789' } } }, given: ['intake.mirror.url', 'intake.mirror.token'] },
  ];
  const defaults = new Map<string, unknown>();
  for (const { config, given } of variants) {
    const loaded = loadWith(config);
    const relative = { ...loaded, dataDir: path.relative(scratch, loaded.dataDir) };
    for (const [key, value] of Object.entries(flatten(relative))) {
      if (given.includes(key) || !checkedKey(key)) continue;
      if (defaults.has(key) && JSON.stringify(defaults.get(key)) !== JSON.stringify(value)) {
        throw new Error(`${key}: the variants disagree on its default (add it to the variant's given keys)`);
      }
      defaults.set(key, value);
    }
  }
  return defaults;
}

/** How the docs write a default inside a code span. */
function shown(value: unknown): string {
  if (value === '') return '""';
  if (Array.isArray(value)) return `[${value.map(shown).join(', ')}]`;
  if (value !== null && typeof value === 'object') return Object.keys(value).length === 0 ? '{}' : JSON.stringify(value);
  return String(value);
}

// The schema's structure, to check that a documented key without a default exists, and that every
// key is documented. `<name>` segments stand for the keys of a per-name map.
type SchemaNode = { _zod: { def: { type: string; [key: string]: unknown } } };
const defOf = (node: SchemaNode) => node._zod.def;
const wrappers = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional']);

function unwrap(node: SchemaNode): SchemaNode {
  let current = node;
  while (wrappers.has(defOf(current).type)) current = defOf(current).innerType as SchemaNode;
  return current;
}

/** The object shapes under a node: one for an object, several for a union of objects, none for a value. */
function shapesOf(node: SchemaNode): Record<string, SchemaNode>[] {
  const inner = unwrap(node);
  const def = defOf(inner);
  if (def.type === 'object') return [def.shape as Record<string, SchemaNode>];
  if (def.type === 'union') {
    const options = (def.options as SchemaNode[]).map(unwrap);
    if (options.every((option) => defOf(option).type === 'object')) return options.flatMap(shapesOf);
  }
  return [];
}

const isRecord = (node: SchemaNode) => defOf(unwrap(node)).type === 'record';

function schemaHas(node: SchemaNode, keys: string[]): boolean {
  if (keys.length === 0) return true;
  const [head, ...rest] = keys;
  if (isRecord(node)) return /^<[^>]+>$/.test(head!) && schemaHas(defOf(unwrap(node)).valueType as SchemaNode, rest);
  return shapesOf(node).some((shape) => head! in shape && schemaHas(shape[head!]!, rest));
}

function schemaLeaves(node: SchemaNode, prefix = ''): string[] {
  if (isRecord(node)) return schemaLeaves(defOf(unwrap(node)).valueType as SchemaNode, `${prefix}.<>`);
  const shapes = shapesOf(node);
  if (shapes.length === 0) return [prefix];
  return [...new Set(shapes.flatMap((shape) => Object.entries(shape).flatMap(([key, inner]) => schemaLeaves(inner, prefix ? `${prefix}.${key}` : key))))];
}

/** The defaults a schema gives once its object is configured: `default`s, inside `prefault`s and required objects. */
function schemaDefaults(node: SchemaNode, prefix: string, into: Record<string, unknown> = {}): Record<string, unknown> {
  const def = defOf(node);
  if (def.type === 'default') return flatten(def.defaultValue, prefix, into);
  if (def.type === 'prefault') return schemaDefaults(def.innerType as SchemaNode, prefix, into);
  if (def.type === 'object') {
    for (const [key, inner] of Object.entries(def.shape as Record<string, SchemaNode>)) schemaDefaults(inner, `${prefix}.${key}`, into);
  }
  return into;
}

const anyName = (key: string) => key.replace(/<[^>]+>/g, '<>');

/** Why a documented default (the cell's first code span, or `—` for none) is wrong, if it is. */
function defaultMismatch(key: string, defaultCell: string, defaults: Map<string, unknown>): string | undefined {
  const documented = plain(defaultCell) === '—' ? undefined : codeSpans(defaultCell)[0];
  const actual = defaults.has(key) ? shown(defaults.get(key)) : undefined;
  return documented === actual ? undefined : `${key} defaults to ${actual ?? '(nothing)'}, the docs say ${documented ?? '—'}`;
}

/** The settings reference: every `key | default | meaning` table of the docs. */
function settingsRows(): { key: string; defaultCell: string; where: string }[] {
  return docPages.flatMap((page) =>
    tablesIn(page)
      .filter((table) => table.header[0] === 'key' && table.header[1] === 'default')
      .flatMap((table) => table.rows.map((cells) => ({ key: firstCode(cells[0]!, `${page}:${table.line}`), defaultCell: cells[1]!, where: `${page}:${table.line}` }))),
  );
}

// ---------------------------------------------------------------------------------------------

describe('docs tables match the code', () => {
  it('sources: names, order, descriptions and body limits match the registry', () => {
    const intakeDefault = loadWith({}).intake.maxBodyBytes;
    const documented = records(tableOf('docs/sources.md', 'source', 'description', 'body limit')).map((row) => ({
      name: firstCode(row.source!, 'sources'),
      description: row.description,
      bodyLimit: Number(/^(\d+) MiB$/.exec(row['body limit']!)?.[1]) * 1024 * 1024,
    }));
    const registry = createSourceAdapters().map((adapter) => ({
      name: adapter.name,
      description: adapter.description,
      bodyLimit: defaultMaxBodyBytes(adapter.name) ?? intakeDefault,
    }));
    expect(documented).toEqual(registry);
  });

  it('sources: the table of what each accepts covers every source', () => {
    const documented = records(tableOf('docs/sources.md', 'source', 'accepts')).map((row) => firstCode(row.source!, 'sources'));
    expect(documented).toEqual(sourceNames);
  });

  it("CloudTrail's rules: ids, order, kinds, severities and descriptions match the rule set", () => {
    const documented = records(tableOf('docs/sources.md', 'rule id', 'kind', 'severity')).map((row) => ({
      id: firstCode(row['rule id']!, 'rules'),
      kind: row.kind,
      severity: row.severity,
      description: row.matches,
    }));
    expect(documented).toEqual(cloudTrailRules.map(({ id, kind, severity, description }) => ({ id, kind, severity, description })));
  });

  it('blocklist feeds: names, default addresses, verdicts and costs match the definitions', () => {
    const documented = records(tableOf('docs/actor-checks.md', 'feed', 'default address')).map((row) => ({
      name: firstCode(row.feed!, 'feeds'),
      url: row['default address'],
      verdict: row['a listing means'],
      cost: row.cost,
    }));
    const definitions = feedDefinitions.map((feed) => ({ name: feed.name, url: feed.defaultUrl, verdict: feed.verdict, cost: feed.cost }));
    expect(sortByName(documented)).toEqual(sortByName(definitions));
  });

  it('providers: names, keys, targets, limits, cache and costs match the definitions', () => {
    const documented = records(tableOf('docs/actor-checks.md', 'provider', 'key', 'looks up')).map((row) => ({
      name: firstCode(row.provider!, 'providers'),
      key: row.key,
      targets: row['looks up']!.split(',').map((target) => target.trim()),
      perMinute: Number(row['per minute']),
      perDay: Number(row['per day']),
      ttlHours: Number(/^(\d+) h$/.exec(row.cache!)?.[1]),
      cost: row.cost,
    }));
    const definitions = providerDefinitions.map((provider) => ({
      name: provider.name,
      key: provider.key,
      targets: [...provider.targets],
      perMinute: provider.defaultRatePerMinute,
      perDay: provider.defaultDailyQuota,
      ttlHours: provider.defaultTtlMs / 3_600_000,
      cost: provider.cost,
    }));
    expect(sortByName(documented)).toEqual(sortByName(definitions));
    const verdictTable = records(tableOf('docs/actor-checks.md', 'provider', 'key header', 'verdicts')).map((row) => firstCode(row.provider!, 'providers'));
    expect(verdictTable.sort()).toEqual(providerDefinitions.map((provider) => provider.name).sort());
  });

  it('service checks: names, order and the ports each one claims match the registry', () => {
    const documented = records(tableOf('docs/exposure-checks.md', 'check', 'ports')).map((row) => ({
      name: firstCode(row.check!, 'checks'),
      ports: numbers(row.ports!),
    }));
    const registry = serviceChecks.map((check) => ({
      name: check.name,
      ports: Array.from({ length: 65535 }, (_, at) => at + 1).filter((port) => check.matches({ address: '192.0.2.1', port })),
    }));
    expect(documented).toEqual(registry);
  });

  it('the well-known ports of wide ranges match the probe plan', () => {
    const [row] = records(tableOf('docs/exposure-checks.md', 'port list', 'ports')).filter((entry) => entry['port list'] === 'well-known');
    expect(numbers(row!.ports!)).toEqual([...wellKnownPorts]);
  });

  it('prerequisites: names and the packages setup installs match scripts/prerequisites.ts', () => {
    const documented = records(tableOf('docs/operations.md', 'prerequisite', 'used for')).map((row) => ({
      name: firstCode(row.prerequisite!, 'prerequisites'),
      installs: codeSpans(row['installed by vigil setup']!),
    }));
    expect(documented.map((row) => row.name).sort()).toEqual(prerequisites.map((prerequisite) => prerequisite.name).sort());
    for (const prerequisite of prerequisites) {
      const row = documented.find((entry) => entry.name === prerequisite.name)!;
      const installs = 'pip' in prerequisite.install ? prerequisite.install.pip : prerequisite.install.apt;
      expect(row.installs, prerequisite.name).toContain(installs);
    }
  });

  it('search attributes: names and types match lib/search-attributes.ts', () => {
    const documented = records(tableOf('docs/operations.md', 'attribute', 'type')).map((row) => ({
      name: firstCode(row.attribute!, 'search attributes'),
      type: row.type!.toUpperCase(),
    }));
    expect(documented).toEqual(vigilSearchAttributeKeys.map((key) => ({ name: key.name, type: key.type })));
  });

  it('environment overrides: each documented variable sets its key, and every override is documented', () => {
    const documented = records(tableOf('docs/operations.md', 'variable', 'key')).map((row) => ({
      variable: firstCode(row.variable!, 'environment'),
      key: firstCode(row.key!, 'environment'),
    }));
    const defaults = configDefaults();
    for (const { variable, key } of documented) {
      const sample = typeof defaults.get(key) === 'number' ? '4321' : key === 'temporal.address' ? 'docs-test.invalid:4321' : 'docs-test-value-0123456789';
      const loaded = flatten(loadWith({}, { [variable]: sample }));
      const expected = key === 'dataDir' ? path.resolve(scratch, sample) : typeof defaults.get(key) === 'number' ? Number(sample) : sample;
      expect(loaded[key], `${variable} → ${key}`).toEqual(expected);
    }
    // The overrides are a private table of lib/config.ts: read its names from the source.
    const source = readFileSync(path.join(root, 'lib/config.ts'), 'utf8');
    const block = /const envOverrides\b[^=]*=\s*\{([\s\S]*?)\n\};/.exec(source);
    expect(block, 'the envOverrides table of lib/config.ts (update this test if it moved)').not.toBeNull();
    const inCode = [...block![1]!.matchAll(/^\s*([A-Z][A-Z0-9_]*)\s*:/gm)].map((match) => match[1]);
    expect(documented.map((row) => row.variable).sort()).toEqual(inCode.sort());
  });

  it('settings reference: every key exists, every default is right, and every setting is documented', () => {
    const rows = settingsRows();
    const defaults = configDefaults();
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const { key, defaultCell, where } of rows.filter((row) => checkedKey(row.key))) {
      if (seen.has(key)) problems.push(`${where}: ${key} is documented twice`);
      seen.add(key);
      if (!schemaHas(configSchema as unknown as SchemaNode, key.split('.'))) problems.push(`${where}: ${key} is not a setting`);
      const mismatch = defaultMismatch(key, defaultCell, defaults);
      if (mismatch) problems.push(`${where}: ${mismatch}`);
    }
    for (const key of defaults.keys()) if (!seen.has(key)) problems.push(`${key} (default ${shown(defaults.get(key))}) is not documented`);
    const documentedKeys = new Set([...seen].map(anyName));
    for (const leaf of schemaLeaves(configSchema as unknown as SchemaNode).filter(checkedKey)) {
      if (!documentedKeys.has(anyName(leaf))) problems.push(`${leaf} is a setting that is not documented`);
    }
    expect(problems).toEqual([]);
  });

  it('inventory settings: the providers, their keys and defaults match the inventory registry', () => {
    const known = inventoryDefinitions.map((definition) => definition.name);
    const providerTable = records(tableOf('docs/inventories.md', 'provider', 'reads')).map((row) => firstCode(row.provider!, 'inventories'));
    expect(providerTable.sort()).toEqual([...known].sort());

    const rows = settingsRows().filter((row) => !checkedKey(row.key));
    const problems: string[] = [];
    for (const definition of inventoryDefinitions) {
      const schema = definition.settings as unknown as SchemaNode;
      const prefix = `inventory.${definition.name}`;
      // Read from the schema, not from parsing: a provider may require settings that have no default.
      const defaults = new Map(Object.entries(schemaDefaults(schema, prefix)));
      const mine = rows.filter((row) => row.key.startsWith(`${prefix}.`));
      for (const { key, defaultCell, where } of mine) {
        if (!schemaHas(schema, key.slice(prefix.length + 1).split('.'))) problems.push(`${where}: ${key} is not a setting`);
        const mismatch = defaultMismatch(key, defaultCell, defaults);
        if (mismatch) problems.push(`${where}: ${mismatch}`);
      }
      const documented = new Set(mine.map((row) => anyName(row.key)));
      for (const key of defaults.keys()) if (!documented.has(key)) problems.push(`${key} (default ${shown(defaults.get(key))}) is not documented`);
      for (const leaf of schemaLeaves(schema, prefix)) if (!documented.has(anyName(leaf))) problems.push(`${leaf} is a setting that is not documented`);
    }
    for (const { key, where } of rows) {
      if (!known.some((name) => key.startsWith(`inventory.${name}.`))) problems.push(`${where}: ${key} belongs to no inventory provider`);
    }
    expect(problems).toEqual([]);
  });

  it("the README's settings table agrees with the defaults of the keys its overrides set", () => {
    const envKeys = new Map(
      records(tableOf('docs/operations.md', 'variable', 'key')).map((row) => [firstCode(row.variable!, 'environment'), firstCode(row.key!, 'environment')]),
    );
    const defaults = configDefaults();
    for (const row of records(tableOf('README.md', 'setting', 'default', 'override'))) {
      for (const variable of codeSpans(row.override!)) {
        const key = envKeys.get(variable);
        expect(key, `README: ${variable} is not a documented override`).toBeDefined();
        if (!defaults.has(key!)) continue;
        expect(codeSpans(row.default!).join(' '), `README: default of ${key}`).toContain(shown(defaults.get(key!)));
      }
    }
  });
});

function sortByName<T extends { name: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------------------------------------
// Links.

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(page: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  const list = tokens(page);
  list.forEach((token, at) => {
    if (token.type !== 'heading_open') return;
    const text = plain(list[at + 1]!.content);
    const base = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = counts.get(base) ?? 0;
    counts.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  });
  return anchors;
}

function linksOf(page: string): string[] {
  return tokens(page)
    .filter((token) => token.type === 'inline')
    .flatMap((token) => token.children ?? [])
    .filter((child) => child.type === 'link_open')
    .map((child) => String(child.attrGet('href') ?? ''));
}

const isExternal = (href: string) => /^[a-z][a-z0-9+.-]*:/i.test(href);

/** A relative link as a page of the repository (`docs/x.md`) and its anchor. */
function resolveLink(page: string, href: string): { target: string; anchor?: string } {
  const [file, anchor] = href.split('#', 2) as [string, string | undefined];
  const target = file === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), decodeURIComponent(file)));
  return { target, ...(anchor ? { anchor: decodeURIComponent(anchor) } : {}) };
}

describe('docs links', () => {
  it('every page in docs/ is linked from the README', () => {
    const linked = new Set(linksOf('README.md').filter((href) => !isExternal(href)).map((href) => resolveLink('README.md', href).target));
    expect(docPages.filter((page) => !linked.has(page))).toEqual([]);
  });

  it('every page in docs/ links back to the README', () => {
    const without = docPages.filter((page) => !linksOf(page).some((href) => !isExternal(href) && resolveLink(page, href).target === 'README.md'));
    expect(without).toEqual([]);
  });

  it('every relative link resolves to a file, and every anchor to a heading', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const href of linksOf(page).filter((link) => !isExternal(link))) {
        const { target, anchor } = resolveLink(page, href);
        if (!existsSync(path.join(root, target))) broken.push(`${page}: ${href} (no file ${target})`);
        else if (anchor && target.endsWith('.md') && !anchorsOf(target).has(anchor)) broken.push(`${page}: ${href} (no heading #${anchor} in ${target})`);
      }
    }
    expect(broken).toEqual([]);
  });
});
