// Where a rule's field name points in an event. A name is a dotted path; at each step a key that
// itself contains dots is tried first (a flattened record: `{"userIdentity.arn": …}`), then the
// step alone. Arrays on the way are walked through: the field's values are every value found.
//
// GCP rules name Elastic's Filebeat fields (`gcp.audit.method_name`) or the pipeline's wrapped
// entry (`data.protoPayload.methodName`); both are mapped onto the Cloud Logging LogEntry here,
// and docs/sigma.md has the table.
import type { SigmaLogsource } from './index';
import { isRecord } from './unsupported';

/** The values a field holds in an event (arrays flattened), or undefined when it is not there. */
export type FieldAccessor = (event: Record<string, unknown>) => readonly unknown[] | undefined;

/** One step of a path: the keys it may be spelled as, in order of preference. */
type Step = readonly string[];

/**
 * For each step, the keys to try in order and the step each one leads to: the dotted keys spanning
 * it and later steps (longest first), then the step's own spellings.
 */
interface CompiledPath {
  keys: readonly (readonly string[])[];
  ends: readonly (readonly number[])[];
}

const own = (object: object, key: string) => Object.hasOwn(object, key);

function flattenInto(value: unknown, out: unknown[]): void {
  if (Array.isArray(value)) for (const item of value) flattenInto(item, out);
  else out.push(value);
}

// Indexed loops and one loop for plain descent: this runs for every field of every rule on every event.
function collect(node: unknown, path: CompiledPath, step: number, out: unknown[]): boolean {
  for (;;) {
    if (step === path.keys.length) {
      flattenInto(node, out);
      return true;
    }
    if (Array.isArray(node)) {
      let found = false;
      for (let i = 0; i < node.length; i++) found = collect(node[i], path, step, out) || found;
      return found;
    }
    if (typeof node !== 'object' || node === null) return false;
    const keys = path.keys[step] as readonly string[];
    let next = -1;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      if (own(node, key)) {
        node = (node as Record<string, unknown>)[key];
        next = (path.ends[step] as readonly number[])[i] as number;
        break;
      }
    }
    if (next < 0) return false;
    step = next;
  }
}

function compilePath(steps: readonly Step[]): CompiledPath {
  const candidates = steps.map((spellings, start) => {
    const dotted: [string, number][] = [];
    for (let end = steps.length; end > start + 1; end--) dotted.push([steps.slice(start, end).map((step) => step[0]).join('.'), end]);
    return [...dotted, ...spellings.map((spelling): [string, number] => [spelling, start + 1])];
  });
  return { keys: candidates.map((list) => list.map(([key]) => key)), ends: candidates.map((list) => list.map(([, end]) => end)) };
}

function accessorOf(steps: readonly Step[]): FieldAccessor {
  const path = compilePath(steps);
  return (event) => {
    const out: unknown[] = [];
    return collect(event, path, 0, out) ? out : undefined;
  };
}

const camelCase = (name: string) => name.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A GCP step as written, then camelCase (the LogEntry's JSON), then snake_case. */
const gcpStep = (name: string): Step => [...new Set([name, camelCase(name), snakeCase(name)])];

/** Filebeat names that are not the AuditLog's own names in snake_case. */
const gcpAuditRenamed: Record<string, string[]> = {
  type: ['@type'],
  'request.proto_name': ['request', '@type'],
  'response.proto_name': ['response', '@type'],
};

function gcpAccessor(name: string): FieldAccessor {
  if (name.startsWith('gcp.audit.')) {
    const rest = name.slice('gcp.audit.'.length);
    const path = Object.hasOwn(gcpAuditRenamed, rest) ? (gcpAuditRenamed[rest] as string[]) : rest.split('.');
    return accessorOf([['protoPayload'], ...path.map(gcpStep)]);
  }
  const whole = accessorOf(name.split('.').map(gcpStep));
  if (!name.startsWith('data.')) return whole;
  // A pipeline that wraps each entry in `data`: without that wrapper the entry itself is `data`.
  const unwrapped = gcpAccessor(name.slice('data.'.length));
  return (event) => (own(event, 'data') ? whole(event) : unwrapped(event));
}

export function fieldAccessor(name: string, logsource: SigmaLogsource): FieldAccessor {
  return logsource === 'gcp-audit' ? gcpAccessor(name) : accessorOf(name.split('.').map((step) => [step]));
}

/** Whether any scalar anywhere in the event (keys excluded) passes the test: Sigma's keyword search. */
export function someScalar(event: Record<string, unknown>, test: (value: unknown) => boolean): boolean {
  // A stack, not recursion: an event nested ten thousand deep must not overflow.
  const stack: unknown[] = [event];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) for (const item of value) stack.push(item);
    else if (isRecord(value)) for (const item of Object.values(value)) stack.push(item);
    else if (value !== null && value !== undefined && test(value)) return true;
  }
  return false;
}
