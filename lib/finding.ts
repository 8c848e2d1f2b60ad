// A finding: the result of one check on one target (a probe, a screenshot, a reputation verdict),
// keyed so that two runs can be compared. Pure code: the watching workflow diffs findings too.

export type FieldValue = string | number | boolean | null;

export interface Finding {
  /** Stable identity, `<check>/<target>`: the same thing checked twice has the same key. */
  key: string;
  /** What was checked: `tcp`, `http`, `ssh`, `tor-exit`, ... */
  check: string;
  /** What it was checked on: `203.0.113.10:443`, an IP, a domain. */
  target: string;
  /** The verdict in a word: `open`, `closed`, `filtered`, `malicious`, `unknown`, ... */
  status: string;
  /** The few facts shown in the table. */
  fields: Record<string, FieldValue>;
  /** Fields that change from run to run without meaning anything (timings): ignored by diffs. */
  volatile?: string[];
  /**
   * Fields holding a 64-bit perceptual hash (16 hex digits): changed only when the pictures differ
   * in at least `PERCEPTUAL_CHANGE_BITS` bits, not when a re-render flips one.
   */
  perceptual?: string[];
  /** Everything else, shown in the collapsible block. */
  detail?: Record<string, unknown>;
}

export interface FieldChange {
  field: string;
  from: FieldValue | undefined;
  to: FieldValue | undefined;
}

export interface FindingsDiff {
  added: Finding[];
  removed: Finding[];
  changed: { before: Finding; after: Finding; changes: FieldChange[] }[];
}

/** Bits of 64 two perceptual hashes must differ in to show a different picture (a clock or a caret flips fewer). */
export const PERCEPTUAL_CHANGE_BITS = 8;

/** How many of the 64 bits two hashes differ in: 0 for the same picture, a few for a small change. */
export function hashDistance(a: string, b: string): number {
  let bits = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let count = 0;
  for (; bits > 0n; bits >>= 1n) count += Number(bits & 1n);
  return count;
}

const isHash = (value: FieldValue | undefined): value is string => typeof value === 'string' && /^[0-9a-f]{16}$/.test(value);

function samePicture(from: FieldValue | undefined, to: FieldValue | undefined): boolean {
  return isHash(from) && isHash(to) && hashDistance(from, to) < PERCEPTUAL_CHANGE_BITS;
}

function changesBetween(before: Finding, after: Finding): FieldChange[] {
  const ignored = new Set([...(before.volatile ?? []), ...(after.volatile ?? [])]);
  const perceptual = new Set([...(before.perceptual ?? []), ...(after.perceptual ?? [])]);
  const changes: FieldChange[] = [];
  if (before.status !== after.status) changes.push({ field: 'status', from: before.status, to: after.status });
  const fields = [...new Set([...Object.keys(before.fields), ...Object.keys(after.fields)])].sort();
  for (const field of fields) {
    if (ignored.has(field)) continue;
    const from = before.fields[field];
    const to = after.fields[field];
    if (from === to || (perceptual.has(field) && samePicture(from, to))) continue;
    changes.push({ field, from, to });
  }
  return changes;
}

/** What changed between two runs, on stable keys, ignoring volatile fields. */
export function diffFindings(before: readonly Finding[], after: readonly Finding[]): FindingsDiff {
  const beforeByKey = new Map(before.map((finding) => [finding.key, finding]));
  const afterByKey = new Map(after.map((finding) => [finding.key, finding]));
  const diff: FindingsDiff = {
    added: after.filter((finding) => !beforeByKey.has(finding.key)),
    removed: before.filter((finding) => !afterByKey.has(finding.key)),
    changed: [],
  };
  for (const finding of after) {
    const previous = beforeByKey.get(finding.key);
    if (!previous) continue;
    const changes = changesBetween(previous, finding);
    if (changes.length > 0) diff.changed.push({ before: previous, after: finding, changes });
  }
  return diff;
}

/** Findings without their detail: what a watch keeps between checks (diffs never read detail). */
export const compactFindings = (findings: readonly Finding[]): Finding[] => findings.map(({ detail: _detail, ...kept }) => kept);

export const isEmptyDiff = ({ added, removed, changed }: FindingsDiff) =>
  added.length === 0 && removed.length === 0 && changed.length === 0;
