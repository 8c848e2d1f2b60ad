// Fuzzing every HTTP endpoint of a real running intake (startTestVigil: real HTTP, archive, Temporal,
// worker, local tracker; and a second one in GitHub mode for the webhook): fuzzed alert bodies on every
// source route and `auto` (JSON, gzip, content types, malformed, oversized), unknown sources, paths
// and methods, the local tracker's API, page and login, foreign Host names, huge headers, malformed
// HTTP. Every answer must be a 4xx, or a 2xx/3xx that means what it says: a 202 lists its alerts, and
// every one of them becomes an issue. Never a 5xx, never a hang; /healthz still answers afterwards,
// and no connection leaves loopback.
import { createHmac, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTO_SOURCE, sourceNames } from '../../intake/sources';
import { recordConnections, type ConnectionLog } from '../helpers/connections';
import { githubTrackerSettings, startFakeGitHub, type FakeGitHub } from '../helpers/github-server';
import { logIn, type PageSession } from '../helpers/tracker-page';
import { eventually, startTestVigil, type TestVigil } from '../helpers/vigil';
import { intakeOutcome } from './hostile/adapter-task';
import { healthy, send, sendRaw, type Answer, type HostileRequest } from './hostile/http';
import { anyOp, deepOp, expand, fixtureRecipe, fixturesOf, keyVocabulary, mutation, shapedJson, type Json, type Recipe } from './hostile/payloads';
import { recordTrial } from './tally';

const scale = Number(process.env.VIGIL_FUZZ_SCALE ?? 1);
const seed = process.env.VIGIL_FUZZ_SEED === undefined ? undefined : Number(process.env.VIGIL_FUZZ_SEED);
const runs = (base: number) => Math.max(1, Math.round(base * scale));
const fcOptions = (numRuns: number) => ({ numRuns: runs(numRuns), endOnFailure: true, ...(seed === undefined ? {} : { seed }) });

const KiB = 1024;
/** Small, so that a gzip bomb is cheap to refuse; the test vigil's body limit is 64 KiB (cloudtrail and prowler: 50 MiB). */
const MAX_INFLATED = 4 * 1024 * KiB;
const SMALL_LIMIT = 64 * KiB;
const routes = [...sourceNames, AUTO_SOURCE];
const bigRoutes = new Set(['cloudtrail', 'prowler', AUTO_SOURCE]);
const limitOf = (route: string) => (bigRoutes.has(route) ? 50 * 1024 * KiB : SMALL_LIMIT);

const fixtures = [...new Map(sourceNames.flatMap(fixturesOf).map((fixture) => [fixture.name, fixture])).values()];
const fixtureValues = new Map<string, Json>(fixtures.map((fixture) => [fixture.name, fixture.value]));
const keys = keyVocabulary(fixtures);

const githubToken = 'ghp_fuzztokenfuzztokenfuzztoken00000';
const webhookSecret = 'webhook-secret-for-fuzzing-0123';

let vigil: TestVigil;
let githubVigil: TestVigil;
let github: FakeGitHub;
let connections: ConnectionLog;
let session: PageSession;

beforeAll(async () => {
  connections = recordConnections();
  vigil = await startTestVigil({ intake: { maxInflatedBytes: MAX_INFLATED } });
  github = await startFakeGitHub({ tokens: [githubToken] });
  github.addRepo('acme', 'security', { branches: ['main', 'vigil-evidence'] });
  process.env.VIGIL_FUZZ_GITHUB_TOKEN = githubToken;
  process.env.VIGIL_FUZZ_WEBHOOK_SECRET = webhookSecret;
  githubVigil = await startTestVigil({ tracker: githubTrackerSettings(github.url, { token: 'VIGIL_FUZZ_GITHUB_TOKEN', webhookSecret: 'VIGIL_FUZZ_WEBHOOK_SECRET' }) });
  session = await logIn(vigil.url, vigil.trackerToken);
});

afterAll(async () => {
  await vigil?.stop();
  await githubVigil?.stop();
  await github?.close();
  connections?.stop();
});

// ---------------------------------------------------------------------------------------------
// Tallies: one row each.

interface Category {
  fault: string;
  check: string;
  tried: number;
  held: number;
  failures: string[];
}

const category = (fault: string, check: string): Category => ({ fault, check, tried: 0, held: 0, failures: [] });

/**
 * Every alert a 202 accepted (workflow id → fingerprint): each must end as an issue. The local tracker
 * keys issues by fingerprint, so the same fingerprint from two routes (an unparsed body sent to both)
 * shares the first one's issue.
 */
const accepted = new Map<string, string>();

const shown = (answer: Answer) =>
  answer.kind === 'answer' ? `${answer.status} ${answer.body.toString('utf8').slice(0, 200)}` : answer.kind === 'hang' ? `no answer within ${answer.boundMs} ms` : `closed: ${answer.error}`;

/** Counts one case; `problem` says why it did not hold (undefined: it held). */
function tally(row: Category, label: string, problem: string | undefined): void {
  row.tried++;
  if (problem === undefined) row.held++;
  else if (row.failures.length < 20) row.failures.push(`${label}: ${problem}`);
}

function finish(row: Category): void {
  recordTrial({ fault: row.fault, tried: row.tried, held: row.held, check: row.check });
  expect(row.failures).toEqual([]);
  expect(row.held).toBe(row.tried);
}

/** Neither a 5xx nor a hang (nor a connection dropped without an answer, unless `closedIsFine`). */
function notBroken(answer: Answer, closedIsFine = false): string | undefined {
  if (answer.kind === 'hang') return shown(answer);
  if (answer.kind === 'closed') return closedIsFine ? undefined : shown(answer);
  return answer.status >= 500 ? shown(answer) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Alert routes.

type Encoding = 'json' | 'gzip' | 'gzip-labelled-json';

const contentTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/vnd.vigil+json',
  'application/gzip',
  'application/x-gzip',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  '*/*',
  'application/json, text/plain',
  'json',
  '',
];

/** The statuses a content type may get: JSON and gzip are taken, the rest refused; odd spellings either way. */
function statusesFor(contentType: string): number[] {
  if (/^application\/(json|[\w.+-]+\+json|gzip|x-gzip)(; ?charset=utf-8)?$/.test(contentType)) return [202];
  if (/^(text\/plain|application\/x-www-form-urlencoded|multipart\/form-data|application\/xml)\b/.test(contentType)) return [415];
  return [202, 415];
}

function bodyOf(text: string, encoding: Encoding): Buffer {
  return encoding === 'json' ? Buffer.from(text) : gzipSync(text);
}

const postAlert = (route: string, body: Buffer, contentType: string | undefined, url = vigil.url, token = vigil.token) =>
  send(url, {
    method: 'POST',
    path: `/v1/alerts/${route}`,
    headers: { authorization: `Bearer ${token}`, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
    body,
  });

/** What an answer of an alert route must be: `expected` statuses, and a 202 that lists dispatched alerts. */
function alertAnswerProblem(route: string, body: Buffer, answer: Answer, expected: number[]): string | undefined {
  if (answer.kind !== 'answer') return shown(answer);
  if (answer.status >= 500) {
    const outcome = intakeOutcome(route, body);
    return `${shown(answer)}${outcome?.outcome === 'broken' ? ` (${outcome.where}: ${outcome.problem})` : ''}`;
  }
  // Valid JSON nested past intake's bound (intake/json-shape.ts) is refused before parsing: 400.
  const pastTheBound = answer.status === 400 && expected.includes(202) && /"refused before parsing: JSON nested deeper/.test(answer.body.toString('utf8'));
  if (!expected.includes(answer.status) && !pastTheBound) return `expected ${expected.join(' or ')}, got ${shown(answer)}`;
  if (answer.status !== 202) return undefined;
  const { alerts } = JSON.parse(answer.body.toString('utf8')) as { alerts: { workflowId: string; fingerprint: string; dispatched: boolean; unwatched?: true }[] };
  const lost = alerts.filter((alert) => !alert.dispatched);
  if (lost.length > 0) return `202 with ${lost.length} alert(s) not dispatched: ${lost.map((alert) => alert.workflowId).join(', ')}`;
  // A resolution from the source for a finding no investigation runs for has nothing to tell (intake/dispatch.ts).
  for (const alert of alerts) if (!alert.unwatched) accepted.set(alert.workflowId, alert.fingerprint);
  return undefined;
}

/** A fuzzed payload for `route`: its own fixtures mutated (any fixture for auto), or shaped or arbitrary JSON. */
function payloadFor(route: string): fc.Arbitrary<Recipe> {
  const own = route === AUTO_SOURCE ? fixtures : fixtures.filter((fixture) => fixturesOf(route).some((mine) => mine.name === fixture.name));
  const limits = { hugeBytes: 48 * KiB, depth: 2000 };
  return fc.oneof(
    { arbitrary: fixtureRecipe(own, fc.array(mutation(anyOp(keys, limits)), { minLength: 0, maxLength: 4 })), weight: 6 },
    { arbitrary: fixtureRecipe(own, fc.array(mutation(deepOp(keys, 25_000)), { minLength: 1, maxLength: 1 })), weight: 1 },
    { arbitrary: shapedJson(keys).map((value): Recipe => ({ kind: 'json', value })), weight: 2 },
    { arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value): Recipe => ({ kind: 'json', value: value as Json })), weight: 1 },
  );
}

describe('fuzzed alert deliveries on every source route and auto', () => {
  it('answer 202 with alerts that are all dispatched, or a clear 4xx; never a 5xx or a hang', async () => {
    const row = category(
      'fuzzed alert bodies on every source route and `auto`: mutated fixtures, shaped and arbitrary JSON, gzip, content types',
      '202 listing dispatched alerts (each later an issue) for JSON, 413/415 where due; never 5xx, never a hang',
    );
    try {
      for (const route of routes) {
        await fc.assert(
          fc.asyncProperty(
            payloadFor(route),
            fc.constantFrom<Encoding>('json', 'json', 'json', 'gzip', 'gzip-labelled-json'),
            fc.oneof({ arbitrary: fc.constant('application/json'), weight: 4 }, { arbitrary: fc.constantFrom(...contentTypes), weight: 1 }),
            async (recipe, encoding, chosenType) => {
              const text = expand(recipe, fixtureValues);
              const body = bodyOf(text, encoding);
              const contentType = encoding === 'gzip' && chosenType === 'application/json' ? 'application/gzip' : chosenType;
              const answer = await postAlert(route, body, contentType === '' ? undefined : contentType);
              // JSON (or a gzip of it) within the limit, sent as JSON or gzip, always gets its alerts.
              const expected = body.length > limitOf(route) ? [413, 415] : statusesFor(contentType);
              const problem = alertAnswerProblem(route, body, answer, expected);
              tally(row, `${route} ${encoding} ${JSON.stringify(contentType)} ${JSON.stringify(recipe).slice(0, 300)}`, problem);
              return problem === undefined;
            },
          ),
          fcOptions(route === AUTO_SOURCE ? 50 : 25),
        );
      }
    } finally {
      finish(row);
    }
  });

  it('refuse malformed, oversized and bomb bodies with 400 or 413, and archive nothing they could start', async () => {
    const row = category(
      'malformed alert bodies on every route: broken JSON, a BOM, random bytes, empty, truncated or nested gzip, gzip bombs, oversized; JSON with objects where text is read',
      '400 (malformed), 413 (over the limit), 202 for JSON; never 5xx, never a hang',
    );
    const bomb = gzipSync(Buffer.alloc(2 * MAX_INFLATED));
    const malformed: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['open brace', Buffer.from('{')],
      ['cut array', Buffer.from('[1, 2,')],
      ['bare word', Buffer.from('nul')],
      ['BOM', Buffer.from('\ufeff{"title":"t","severity":"low"}')],
      ['UTF-16', Buffer.from('{"title":"t","severity":"low"}', 'utf16le')],
      ['NaN', Buffer.from('{"severity": NaN}')],
      ['trailing comma', Buffer.from('{"a": 1,}')],
      ['two documents', Buffer.from('{} {}')],
      ['JSON lines', Buffer.from('{"a":1}\n{"a":2}\n')],
      ['truncated gzip', gzipSync('{"title":"t","severity":"low"}').subarray(0, 15)],
      ['gzip of text', gzipSync('not json at all')],
      ['gzip of gzip', gzipSync(gzipSync('{}'))],
      ['gzip magic only', Buffer.from([0x1f, 0x8b])],
      ['gzip bomb', bomb],
      ['lying gzip trailer', Buffer.concat([gzipSync('{}').subarray(0, -4), Buffer.from([0xff, 0xff, 0xff, 0xff])])],
    ];
    try {
      for (const route of routes) {
        for (const [name, body] of malformed) {
          const answer = await postAlert(route, body, 'application/json');
          tally(row, `${route} ${name}`, alertAnswerProblem(route, body, answer, [400]));
        }
        const oversized = Buffer.from(JSON.stringify({ title: 'x'.repeat(SMALL_LIMIT), severity: 'low' }));
        if (!bigRoutes.has(route)) tally(row, `${route} oversized`, alertAnswerProblem(route, oversized, await postAlert(route, oversized, 'application/json'), [413]));
      }
      // Valid JSON that once made an adapter's detect() throw, so that `auto` answered 500 (fixed in
      // securityhub.ts, prowler.ts and gcp-audit.ts): each must now be 202.
      const cannotBeText = { toString: 1 };
      const prowler = fixtures.find((fixture) => fixture.name.endsWith('prowler/example_output_aws.ocsf.json'))!.value as Record<string, Json>[];
      const hostileJson: [string, Json][] = [
        ['Security Hub event, detail-type an object', { source: 'aws.securityhub', 'detail-type': cannotBeText, detail: { findings: [] } }],
        ['Prowler finding, class_uid an object', [{ ...prowler[0]!, class_uid: cannotBeText }]],
        ['Prowler finding, severity_id and status_id objects', [{ ...prowler[0]!, severity_id: cannotBeText, status_id: cannotBeText, time: cannotBeText }]],
        [
          'audit log entry, status.code an object',
          { protoPayload: { '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', methodName: 'v1.compute.firewalls.insert', status: { code: cannotBeText }, request: { alloweds: [{ IPProtocol: 'tcp' }] } } },
        ],
      ];
      for (const route of [AUTO_SOURCE, 'securityhub', 'prowler', 'gcp-audit']) {
        for (const [name, value] of hostileJson) {
          const body = Buffer.from(JSON.stringify(value));
          tally(row, `${route} ${name}`, alertAnswerProblem(route, body, await postAlert(route, body, 'application/json'), [202]));
        }
      }
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...routes), fc.uint8Array({ minLength: 1, maxLength: 4096 }), async (route, bytes) => {
          const body = Buffer.from(bytes);
          let json = true;
          try {
            JSON.parse(body.toString('utf8'));
          } catch {
            json = false;
          }
          const problem = alertAnswerProblem(route, body, await postAlert(route, body, 'application/json'), json ? [202] : [400]);
          tally(row, `${route} random bytes ${body.toString('hex').slice(0, 64)}`, problem);
          return problem === undefined;
        }),
        fcOptions(40),
      );
    } finally {
      finish(row);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Everything else intake serves.

const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH', 'PURGE', 'LINK', 'MKCOL'];
const knownPaths = [
  '/',
  '/healthz',
  '/v1/alerts/generic',
  '/v1/alerts/auto',
  '/v1/alerts/',
  '/v1/issues',
  '/v1/issues/1',
  '/v1/issues/1/close',
  '/v1/issues/1/reopen',
  '/v1/issues/1/labels',
  '/v1/issues/1/evidence/shot.png',
  '/v1/issues/1/evidence/..%2F..%2F..%2Fintake-token',
  '/v1/issues/99999999999999999999/evidence/x',
  '/issues',
  '/issues/1/actions',
  '/issues/-1/actions',
  '/login',
  '/logout',
  '/v1/github/webhook',
  '/v1/issues?state=open&label=vigil&label=%00',
  '/healthz?token=secret',
  '//healthz',
  '/healthz/',
  '/./healthz',
  '/../../etc/passwd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/v1/alerts/%2e%2e',
  '/v1/alerts/generic%00',
  `/v1/alerts/${'a'.repeat(4000)}`,
  '/*',
  '*',
];

/** A path as a hostile client writes it: any characters, percent-encoded where HTTP needs it. */
const fuzzedPath = fc.oneof(
  fc.webPath(),
  fc.string({ unit: 'grapheme', maxLength: 200 }).map((text) => `/${encodeURI(text).replace(/[?#]/g, encodeURIComponent)}`),
  fc.tuple(fc.constantFrom('/v1/alerts/', '/v1/issues/', '/issues/', '/v1/issues/1/evidence/'), fc.string({ maxLength: 100 })).map(([prefix, text]) => `${prefix}${encodeURIComponent(text)}`),
);

describe('fuzzed requests to every other endpoint', () => {
  it('answer with a 4xx (or the page redirect) and never a 5xx or a hang', async () => {
    const row = category(
      'fuzzed requests to other endpoints: methods × paths, unknown paths and sources, the tracker API, page and login, Host names, headers, malformed HTTP',
      'a 4xx (or 2xx/3xx where credentials allow); never 5xx, never a hang',
    );
    const credentials: Record<string, Record<string, string>> = {
      none: {},
      intake: { authorization: `Bearer ${vigil.token}` },
      tracker: { authorization: `Bearer ${vigil.trackerToken}` },
      session: { cookie: session.cookie },
      wrong: { authorization: 'Bearer wrong', cookie: 'vigil_session=forged.123' },
    };
    const check = async (label: string, request: HostileRequest, closedIsFine = false) => {
      const answer = await send(vigil.url, request);
      tally(row, label, notBroken(answer, closedIsFine));
      return answer;
    };
    try {
      for (const method of methods) {
        for (const path of knownPaths) {
          for (const [who, headers] of Object.entries(credentials)) {
            // No content with GET, HEAD or TRACE (RFC 9110): Node's client drops such a TRACE's answer.
            const body = ['GET', 'HEAD', 'TRACE'].includes(method) ? undefined : '{}';
            await check(`${method} ${path.slice(0, 80)} as ${who}`, { method, path, headers: { ...headers, 'content-type': 'application/json' }, body });
          }
        }
      }

      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...methods), fuzzedPath, fc.constantFrom(...Object.keys(credentials)), async (method, path, who) => {
          const answer = await send(vigil.url, { method, path, headers: credentials[who] });
          const problem = notBroken(answer);
          tally(row, `${method} ${path.slice(0, 120)} as ${who}`, problem);
          return problem === undefined;
        }),
        fcOptions(300),
      );

      // Unknown sources: refused for credentials first, then 404.
      await fc.assert(
        fc.asyncProperty(fc.string({ minLength: 1, maxLength: 64 }), fc.boolean(), async (name, withToken) => {
          if (routes.includes(name)) return true;
          const answer = await send(vigil.url, {
            method: 'POST',
            path: `/v1/alerts/${encodeURIComponent(name)}`,
            headers: { 'content-type': 'application/json', ...(withToken ? credentials.intake : {}) },
            body: '{"title":"t","severity":"low"}',
          });
          const expected = withToken ? [404] : [401, 404];
          const problem = answer.kind === 'answer' && expected.includes(answer.status) ? undefined : `expected ${expected.join('/')}, got ${shown(answer)}`;
          tally(row, `unknown source ${JSON.stringify(name)} ${withToken ? 'with' : 'without'} the token`, problem);
          return problem === undefined;
        }),
        fcOptions(60),
      );

      // The tracker API with its token: fuzzed filters, numbers, evidence names and label bodies.
      await fc.assert(
        fc.asyncProperty(
          fc.webQueryParameters(),
          fc.oneof(fc.nat({ max: 30 }).map(String), fc.string({ maxLength: 30 }), fc.constant('99999999999')),
          fc.string({ maxLength: 80 }),
          fc.oneof(shapedJson(['add', 'remove', 'close', 'reopen', 'labels']), fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>),
          async (query, number, evidence, labels) => {
            const id = encodeURIComponent(number);
            const answers = [
              await send(vigil.url, { path: `/v1/issues?${query}`, headers: credentials.tracker }),
              await send(vigil.url, { path: `/v1/issues/${id}`, headers: credentials.tracker }),
              await send(vigil.url, { path: `/v1/issues/${id}/evidence/${encodeURIComponent(evidence)}`, headers: credentials.tracker }),
              await send(vigil.url, {
                method: 'POST',
                path: `/v1/issues/${id}/labels`,
                headers: { ...credentials.tracker, 'content-type': 'application/json' },
                body: JSON.stringify(labels),
              }),
            ];
            const problem = answers.map((answer) => notBroken(answer)).find(Boolean);
            tally(row, `tracker API ${query.slice(0, 60)} #${number} ${JSON.stringify(labels).slice(0, 100)}`, problem);
            return problem === undefined;
          },
        ),
        fcOptions(60),
      );

      // The page's login and forms: fuzzed form bodies, with and without the session and its CSRF token.
      const formField = fc.dictionary(fc.constantFrom('token', 'csrf', 'action', 'x', '__proto__', 'constructor'), fc.string({ maxLength: 200 }), { maxKeys: 4 });
      await fc.assert(
        fc.asyncProperty(
          formField,
          fc.constantFrom('/login', '/logout', '/issues/1/actions', '/issues/2/actions', '/issues/x/actions'),
          fc.constantFrom('none', 'session', 'session+csrf', 'wrong'),
          fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data'),
          async (fields, path, who, contentType) => {
            const form = who === 'session+csrf' ? { ...fields, csrf: session.csrf } : fields;
            const headers = { 'content-type': contentType, ...(who.startsWith('session') ? credentials.session : who === 'wrong' ? credentials.wrong : {}) };
            const answer = await send(vigil.url, { method: 'POST', path, headers, body: new URLSearchParams(form).toString() });
            let problem = notBroken(answer);
            // Without the session and its CSRF token, no form acts: a redirect here would be a press let through.
            if (!problem && answer.kind === 'answer' && path !== '/login' && who !== 'session+csrf' && answer.status < 400) {
              problem = `a form post without the session's CSRF token got ${shown(answer)}`;
            }
            // 401, 415, or 429 once this address has sent ten wrong tokens (then every token is refused a while).
            if (!problem && answer.kind === 'answer' && path === '/login' && ![401, 415, 429].includes(answer.status)) {
              problem = `a login with a fuzzed token got ${shown(answer)}`;
            }
            tally(row, `POST ${path} as ${who} (${contentType}) ${JSON.stringify(fields).slice(0, 120)}`, problem);
            return problem === undefined;
          },
        ),
        fcOptions(120),
      );

      // Host names that are not the tracker's: 421 (or 400 where HTTP itself refuses the header).
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((ip) => `[${ip}]`), fc.string({ maxLength: 60 })), fc.constantFrom('/issues', '/v1/issues', '/login'), async (host, path) => {
          // Ours are let through; an empty one Node's client replaces with ours (sent raw below).
          if (/^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i.test(host) || host.trim() === '') return true;
          const answer = await send(vigil.url, { path, headers: { ...credentials.tracker, host } }).catch((err: Error) => ({ kind: 'closed' as const, error: err.message }));
          const problem =
            answer.kind === 'answer' && (answer.status === 421 || answer.status === 400) ? undefined : `expected 421, got ${shown(answer as Answer)}`;
          tally(row, `Host ${JSON.stringify(host)} ${path}`, problem);
          return problem === undefined;
        }),
        fcOptions(60),
      );

      // Huge and odd headers: Node refuses past 16 KiB (431); the rest must not break a route.
      const huge = 'h'.repeat(20 * KiB);
      const manyHeaders = Object.fromEntries(Array.from({ length: 300 }, (_, n) => [`x-fuzz-${n}`, 'v'.repeat(60)]));
      const oddHeaders: [string, Record<string, string | string[]>][] = [
        ['huge header', { 'x-huge': huge }],
        ['huge cookie', { cookie: `vigil_session=${huge}` }],
        ['huge authorization', { authorization: `Bearer ${huge}` }],
        ['many headers', manyHeaders],
        ['two authorizations', { authorization: [`Bearer ${vigil.token}`, 'Bearer other'] }],
        ['two cookies', { cookie: [session.cookie, 'vigil_session=x'] }],
        ['two content types', { 'content-type': ['application/json', 'text/plain'] }],
        ['bearer without token', { authorization: 'Bearer' }],
        ['basic auth', { authorization: `Basic ${Buffer.from(`x:${vigil.token}`).toString('base64')}` }],
        ['odd cookie', { cookie: 'vigil_session=s%3A; a=b; =; ;;' }],
        ['x-forwarded-for and proto', { 'x-forwarded-for': '10.0.0.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }],
        ['content-encoding gzip', { 'content-encoding': 'gzip', 'content-type': 'application/json' }],
        ['expect 100-continue', { expect: '100-continue', 'content-type': 'application/json' }],
        ['transfer-encoding', { 'transfer-encoding': 'gzip, chunked', 'content-type': 'application/json' }],
      ];
      for (const [name, headers] of oddHeaders) {
        for (const path of ['/healthz', '/v1/alerts/generic', '/v1/issues', '/issues', '/login']) {
          for (const method of ['GET', 'POST']) {
            const withAuth = name.includes('authorization') || name.includes('cookie') ? headers : { ...credentials.intake, ...headers };
            await check(`${method} ${path} with ${name}`, { method, path, headers: withAuth, body: method === 'POST' ? '{"title":"t","severity":"low"}' : undefined });
          }
        }
      }

      // Malformed HTTP, raw: Node's parser refuses it (400, 431) or, for CONNECT, closes.
      const raw: [string, string, boolean][] = [
        ['garbage', 'GARBAGE\r\n\r\n', false],
        ['no Host on 1.1', 'GET /issues HTTP/1.1\r\nConnection: close\r\n\r\n', false],
        ['empty Host', 'GET /issues HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n', false],
        ['two Hosts', 'GET /v1/issues HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n', false],
        ['HTTP/1.0 without Host', 'GET /issues HTTP/1.0\r\n\r\n', false],
        ['HTTP/0.9 style', 'GET /healthz\r\n\r\n', false],
        ['HTTP/3.0', 'GET /healthz HTTP/3.0\r\nHost: 127.0.0.1\r\n\r\n', false],
        ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', false],
        ['unknown method', 'FROB /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', false],
        ['CONNECT', 'CONNECT 10.0.0.5:80 HTTP/1.1\r\nHost: 10.0.0.5:80\r\n\r\n', true],
        ['NUL in header', 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX: a\u0000b\r\nConnection: close\r\n\r\n', false],
        ['header without colon', 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nnocolon\r\nConnection: close\r\n\r\n', false],
        ['space before colon', 'GET /healthz HTTP/1.1\r\nHost : 127.0.0.1\r\nConnection: close\r\n\r\n', false],
        ['obs-fold', 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX: a\r\n b\r\nConnection: close\r\n\r\n', false],
        ['bare LF', 'GET /healthz HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n', false],
        ['long request line', `GET /${'a'.repeat(20 * KiB)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, false],
        ['smuggling CL+TE', 'POST /v1/alerts/generic HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n', false],
        ['two content lengths', 'POST /v1/alerts/generic HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}', false],
        ['bad chunk size', `POST /v1/alerts/generic HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${vigil.token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, false],
        ['chunked oversize', `POST /v1/alerts/generic HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${vigil.token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${(100 * KiB).toString(16)}\r\n${'x'.repeat(100 * KiB)}\r\n0\r\n\r\n`, false],
        ['absolute URI', 'GET http://10.0.0.5/healthz HTTP/1.1\r\nHost: 10.0.0.5\r\nConnection: close\r\n\r\n', false],
        ['upgrade', 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', true],
      ];
      for (const [name, bytes, closedIsFine] of raw) tally(row, `raw: ${name}`, notBroken(await sendRaw(vigil.url, bytes), closedIsFine));
    } finally {
      finish(row);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// GitHub's webhook.

const sign = (body: Buffer | string, secret = webhookSecret) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe("fuzzed deliveries to GitHub's issues webhook", () => {
  it('refuse what is not signed with the secret (400/401), and never answer 5xx or hang', async () => {
    const unsigned = category(
      'fuzzed GitHub webhook deliveries without the secret: missing headers, forged and malformed signatures, any event and body',
      '400 (not a delivery) or 401 (bad signature); never 5xx, never a hang',
    );
    const signed = category(
      'validly signed GitHub webhook deliveries with fuzzed events and bodies',
      '2xx or 4xx; never 5xx, never a hang',
    );
    try {
      const signature = fc.oneof(
        fc.constant(undefined),
        fc.string({ maxLength: 80 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => `sha256=${Buffer.from(bytes).toString('hex')}`),
        fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => `sha1=${Buffer.from(bytes).toString('hex')}`),
        fc.constant(sign('{}', 'not-the-secret')),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(shapedJson(['action', 'issue', 'body', 'state', 'labels', 'name', 'repository', 'number']), fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>),
          signature,
          fc.option(fc.constantFrom('issues', 'ping', 'push', '', 'x'.repeat(300)), { nil: undefined }),
          fc.option(fc.uuid(), { nil: undefined }),
          fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'),
          async (payload, hubSignature, event, delivery, contentType) => {
            const body = JSON.stringify(payload);
            const headers: Record<string, string> = { 'content-type': contentType };
            if (hubSignature !== undefined) headers['x-hub-signature-256'] = hubSignature;
            if (event !== undefined) headers['x-github-event'] = event;
            if (delivery !== undefined) headers['x-github-delivery'] = delivery;
            const answer = await send(githubVigil.url, { method: 'POST', path: '/v1/github/webhook', headers, body });
            const problem =
              answer.kind === 'answer' && [400, 401, 415].includes(answer.status) ? undefined : `expected 400/401/415, got ${shown(answer)}`;
            tally(unsigned, `${event} ${hubSignature?.slice(0, 30)} ${body.slice(0, 100)}`, problem);
            return problem === undefined;
          },
        ),
        fcOptions(150),
      );

      // An empty body with the three headers: not a delivery, whatever the signature.
      const empty = await send(githubVigil.url, {
        method: 'POST',
        path: '/v1/github/webhook',
        headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      });
      tally(unsigned, 'empty body with the three headers', empty.kind === 'answer' && empty.status === 400 ? undefined : shown(empty));

      // Signed with the secret: GitHub itself, or whoever holds the secret.
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            shapedJson(['action', 'issue', 'body', 'state', 'labels', 'name', 'repository', 'number']).map((value) => JSON.stringify(value)),
            fc.record({ action: fc.constantFrom('closed', 'reopened', 'labeled', 'unlabeled'), issue: shapedJson(['body', 'state', 'labels', 'name', 'number']) }).map((value) => JSON.stringify(value)),
            fc.string({ maxLength: 200 }),
          ),
          fc.constantFrom('issues', 'ping', 'push', 'x'),
          async (body, event) => {
            const answer = await send(githubVigil.url, {
              method: 'POST',
              path: '/v1/github/webhook',
              headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': randomUUID(), 'x-hub-signature-256': sign(body) },
              body,
            });
            const problem = notBroken(answer);
            tally(signed, `${event} ${body.slice(0, 120)}`, problem);
            return problem === undefined;
          },
        ),
        fcOptions(100),
      );
    } finally {
      finish(unsigned);
      finish(signed);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('after the fuzzing', () => {
  it('still answers /healthz, turned every accepted alert into an issue, and touched nothing beyond loopback', async () => {
    const row = category('intake after the fuzzing', '/healthz answers, every alert a 202 accepted is an issue, no connection left loopback');
    try {
      tally(row, '/healthz of the local-tracker intake', (await healthy(vigil.url)) ? undefined : 'no answer');
      tally(row, '/healthz of the GitHub-mode intake', (await healthy(githubVigil.url)) ? undefined : 'no answer');
      expect(accepted.size).toBeGreaterThan(0);
      // Generous: hundreds of investigations on a shared machine; the outcome is what is asserted.
      const withoutIssue = async () => {
        const issues = await vigil.tracker.listIssues();
        const issued = new Set([...issues.map((issue) => issue.workflowId), ...issues.map((issue) => issue.fingerprint)]);
        return [...accepted].filter(([workflowId, fingerprint]) => !issued.has(workflowId) && !issued.has(fingerprint)).map(([workflowId]) => workflowId);
      };
      const missing = await eventually(async () => ((await withoutIssue()).length === 0 ? [] : undefined), 600_000).catch(withoutIssue);
      tally(row, `${accepted.size} accepted alerts became issues`, missing.length === 0 ? undefined : `${missing.length} without an issue: ${missing.slice(0, 5).join(', ')}`);
      const outside = connections.outsideLoopback();
      tally(row, 'connections outside loopback', outside.length === 0 ? undefined : outside.slice(0, 5).join(', '));
    } finally {
      finish(row);
    }
  }, 900_000);
});
