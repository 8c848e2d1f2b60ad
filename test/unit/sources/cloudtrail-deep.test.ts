// A CloudTrail record nested deep (review of issue 13): its identity, when it has no eventID, is the
// hash of its canonical JSON, which once was written by recursion. A record nested 50,000 deep then
// overflowed the stack and the whole delivery became one unparsed alert saying "Maximum call stack
// size exceeded", its other records' alerts lost.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloudTrailSource } from '../../../intake/sources/cloudtrail';

const fixtureDir = path.join(import.meta.dirname, '../../fixtures/cloudtrail');
const fixture = (name: string): any => JSON.parse(readFileSync(path.join(fixtureDir, name), 'utf8'));

/** A record without eventID (so hashed) carrying `extra` in additionalEventData. */
function recordWith(extra: unknown) {
  const record = fixture('vigil-sg-ingress-private.json');
  delete record.eventID;
  record.additionalEventData = extra;
  return record;
}

/** `[[[…[leaf]…]]]` with `{"k": …}` every other level, `depth` levels, built as JSON.parse would. */
const nested = (depth: number, leaf: string) => JSON.parse(`${'[{"k":'.repeat(depth / 2)}"${leaf}"${'}]'.repeat(depth / 2)}`);

/** The canonical JSON as the recursive writer wrote it: the fingerprints of records already seen must not change. */
function recursiveCanonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(recursiveCanonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${recursiveCanonicalJson(record[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

describe('cloudtrail: a record nested deep', () => {
  it('keeps the fingerprint the recursive writer gave a record', () => {
    const record = recordWith({ list: [1, 'two', null, true, { b: [], a: {} }], 'key "quoted"': 'é\n' });
    const hash = createHash('sha256').update(recursiveCanonicalJson(record)).digest('hex');
    expect(cloudTrailSource.parse(record)).toEqual([expect.objectContaining({ fingerprint: `cloudtrail:record:sha256:${hash}` })]);
  });

  it('is hashed whatever its depth, not turned into an unparsed alert, and its neighbours keep their alerts', () => {
    const deep = recordWith(nested(50_000, 'bottom'));
    const [alert] = cloudTrailSource.parse(deep);
    expect(alert).toMatchObject({ kind: 'actor', fingerprint: expect.stringMatching(/^cloudtrail:record:sha256:[0-9a-f]{64}$/) });

    // Told apart by what lies at the bottom; the same record with its keys in another order is the same.
    expect(cloudTrailSource.parse(recordWith(nested(50_000, 'other bottom')))[0]!.fingerprint).not.toBe(alert!.fingerprint);
    const reordered = Object.fromEntries(Object.entries(deep).reverse());
    expect(cloudTrailSource.parse(reordered)[0]!.fingerprint).toBe(alert!.fingerprint);

    // In a log file, a failed console login without eventID, nested deep, is one alert more: the
    // security group opened beside it is still reported.
    const [login] = fixture('vigil-console-logins.json').Records;
    delete login.eventID;
    login.additionalEventData = nested(50_000, 'bottom');
    const fromFile = cloudTrailSource.parse({ Records: [login, fixture('vigil-sg-ingress-flat.json')] });
    expect(fromFile.map((found) => [found.kind, found.fingerprint.replace(/[0-9a-f]{64}$/, '<hash>')])).toEqual([
      ['actor', 'cloudtrail:record:sha256:<hash>'],
      ['exposure', expect.stringContaining('sg-')],
    ]);
  });
});
