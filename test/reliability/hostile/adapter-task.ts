// One hostile body through one source adapter, as intake would run it, on a thread of its own
// (adapter-thread.mjs): a hang there can be cut off, which it cannot on the test's own thread.
import path from 'node:path';
import { isGzip } from '../../../intake/body';
import { decodeAlerts } from '../../../intake/decode-alerts';
import { MAX_JSON_DEPTH, type JsonLimits } from '../../../intake/json-shape';
import { AUTO_SOURCE, createSourceAdapters } from '../../../intake/sources';
import { UnrecognizedPayloadError } from '../../../intake/sources/types';
import { alertShapeProblems } from './alert-shape';

export interface AdapterCase {
  source: string;
  text: string;
}

export type AdapterOutcome =
  | { outcome: 'alerts'; count: number }
  | { outcome: 'rejected'; message: string; messageLength: number }
  /** What must never happen: another exception, from detect, parse or intake's decoding; or alerts of the wrong shape. */
  | { outcome: 'broken'; where: string; problem: string };

const root = path.resolve(import.meta.dirname, '../../..');
const adapters = createSourceAdapters();
const MAX_INFLATED = 256 * 1024 * 1024;
/** Intake's bound on what parsing may build (intake/decoder.ts, for bodies decoded where they arrive). */
const JSON_LIMITS: JsonLimits = { maxDepth: MAX_JSON_DEPTH, maxContainers: Infinity };
const record = (source: string) => ({ id: `2026/01/01/${source}/${'0'.repeat(64)}`, sha256: '0'.repeat(64), receivedAt: '2026-01-01T00:00:00.000Z', source });

/** Deep recursion fills the first frames with Array.join and the like: keep every frame, to find whose it is. */
function withFullStacks<T>(work: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Infinity;
  try {
    return work();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The first frame of the project's own code in an error's stack: `name (relative/path.ts)`. */
function topFrame(stack: string | undefined): string | undefined {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const match = /^\s*at (?:(\S+) \()?(?:file:\/\/)?([^()]+?):\d+:\d+\)?$/.exec(line);
    if (!match || !match[2]!.startsWith(root) || match[2]!.includes('/node_modules/')) continue;
    const name = (match[1] ?? '<anonymous>').replace(/^Object\./, '');
    return `${name} (${match[2]!.slice(root.length + 1)})`;
  }
  return undefined;
}

function broken(where: string, err: unknown): AdapterOutcome {
  if (!(err instanceof Error)) return { outcome: 'broken', where, problem: String(err) };
  return { outcome: 'broken', where, problem: `${err.name}: ${err.message.slice(0, 500)} at ${topFrame(err.stack) ?? 'no frame of ours'}` };
}

function isJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/** Intake's own path: the body decoded and normalized for `source`; every alert must have the shape. */
function throughIntake(source: string, body: Buffer): AdapterOutcome | undefined {
  const where = `intake /v1/alerts/${source}`;
  let read;
  try {
    read = decodeAlerts(adapters, MAX_INFLATED, { record: record(source), body }, JSON_LIMITS);
  } catch (err) {
    return broken(where, err);
  }
  if ('rejected' in read) {
    // Valid JSON is refused only past the bound on its nesting (intake/json-shape.ts), before parsing.
    const refusable = body.length === 0 || isGzip(body) || !isJson(body) || /^refused before parsing/.test(read.rejected);
    return refusable ? undefined : { outcome: 'broken', where, problem: `rejected valid JSON: ${read.rejected}` };
  }
  for (const [n, alert] of read.alerts.entries()) {
    const problems = alertShapeProblems(alert, { source: source === AUTO_SOURCE ? alert.source : source });
    if (problems.length > 0) return { outcome: 'broken', where, problem: `alert ${n} (${alert.source}): ${problems.slice(0, 5).join('; ')}` };
  }
  return undefined;
}

/**
 * What intake's decoding makes of a body sent to `/v1/alerts/<route>` (gzip or not): undefined when
 * it gives well-shaped alerts or a clean rejection, else what broke. Tells a 5xx of a known bug apart.
 */
export function intakeOutcome(route: string, body: Buffer): AdapterOutcome | undefined {
  return withFullStacks(() => {
    try {
      return throughIntake(route, body);
    } catch (err) {
      return broken(`intake /v1/alerts/${route}`, err);
    }
  });
}

export const checkCase = (task: AdapterCase): AdapterOutcome => withFullStacks(() => check(task));

function check({ source, text }: AdapterCase): AdapterOutcome {
  const adapter = adapters.find((candidate) => candidate.name === source);
  if (!adapter) return { outcome: 'broken', where: 'setup', problem: `no adapter ${source}` };
  const payload: unknown = JSON.parse(text);

  try {
    const detected = adapter.detect(payload);
    if (typeof detected !== 'boolean') return { outcome: 'broken', where: 'detect', problem: `answered ${typeof detected}` };
  } catch (err) {
    return broken('detect', err);
  }

  let outcome: AdapterOutcome;
  try {
    const alerts = adapter.parse(payload);
    if (!Array.isArray(alerts)) return { outcome: 'broken', where: 'parse', problem: `answered ${typeof alerts}` };
    for (const [n, alert] of alerts.entries()) {
      const problems = alertShapeProblems(alert);
      if (problems.length > 0) return { outcome: 'broken', where: `parse: alert ${n}`, problem: problems.slice(0, 5).join('; ') };
    }
    outcome = { outcome: 'alerts', count: alerts.length };
  } catch (err) {
    if (!(err instanceof UnrecognizedPayloadError)) return broken('parse', err);
    if (typeof err.message !== 'string' || err.message.trim() === '') return { outcome: 'broken', where: 'parse', problem: 'rejected without a reason' };
    outcome = { outcome: 'rejected', message: err.message.slice(0, 300), messageLength: err.message.length };
  }

  const body = Buffer.from(text);
  for (const route of [source, AUTO_SOURCE]) {
    const problem = throughIntake(route, body);
    if (problem) return problem;
  }
  return outcome;
}
