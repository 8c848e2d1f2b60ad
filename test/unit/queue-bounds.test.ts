// Which rejections a setting fixes (intake/queues/s3-sqs.ts `boundCrossed`): the queue leaves their
// messages for the redrive policy instead of deleting them. Read from the reasons the real decoder
// gives, so that a change of their wording fails here rather than losing a file in production.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeBody, MalformedBodyError } from '../../intake/body';
import { createDecoder } from '../../intake/decoder';
import { jsonLimitsFor } from '../../intake/json-shape';
import { boundCrossed } from '../../intake/queues/s3-sqs';

const record = { id: '2026/12/01/cloudtrail/0', sha256: '0', receivedAt: '2026-12-01T00:00:00.000Z', source: 'cloudtrail' };

/** Why decodeBody refuses the body. */
function refusal(body: Buffer, maxInflatedBytes: number, limits?: Parameters<typeof decodeBody>[2]): string {
  try {
    decodeBody(body, maxInflatedBytes, limits);
  } catch (err) {
    if (err instanceof MalformedBodyError) return err.message;
    throw err;
  }
  throw new Error('the body was decoded');
}

/** Why a decoding thread running away (test/helpers/runaway-decode-task.ts) was ended. */
async function threadRefusal(runaway: 'memory' | 'time', limits: { heapMb?: number; timeoutMs?: number }): Promise<string> {
  const decoder = createDecoder({
    sources: {},
    maxInflatedBytes: 1 << 20,
    threads: 1,
    maxDecodingBytes: 1 << 24,
    taskModule: new URL('../helpers/runaway-decode-task.ts', import.meta.url),
    inlineBytes: 0,
    ...limits,
  });
  const outcome = await decoder.readAlerts(record, Buffer.from(JSON.stringify({ runaway })));
  if (!('rejected' in outcome)) throw new Error('the body was decoded');
  return outcome.rejected;
}

describe('rejections a setting fixes', () => {
  it('names the setting of each bound the decoder applies', async () => {
    expect(boundCrossed(refusal(gzipSync(Buffer.alloc(4096, 'a')), 1024))).toBe('intake.maxInflatedBytes');
    const manyObjects = Buffer.from(JSON.stringify({ Records: Array.from({ length: 300 }, () => ({})) }));
    expect(boundCrossed(refusal(manyObjects, 1 << 20, { ...jsonLimitsFor(64), maxContainers: 100 }))).toBe('intake.decodeHeapMb');
    expect(boundCrossed(await threadRefusal('memory', { heapMb: 64 }))).toBe('intake.decodeHeapMb');
    expect(boundCrossed(await threadRefusal('time', { timeoutMs: 100 }))).toBe('intake.decodeTimeoutMs');
  });

  it('names none for a file no setting lets through', () => {
    expect(boundCrossed(refusal(Buffer.concat([gzipSync('{}').subarray(0, 10), Buffer.from('not deflate data')]), 1 << 20))).toBeUndefined();
    expect(boundCrossed(refusal(Buffer.from('not json'), 1 << 20))).toBeUndefined();
    expect(boundCrossed(refusal(gzipSync('{"Records": ['), 1 << 20))).toBeUndefined();
    // Nesting is bounded by a constant, not a setting.
    expect(boundCrossed(refusal(Buffer.from('['.repeat(10_001) + ']'.repeat(10_001)), 1 << 20, jsonLimitsFor(64)))).toBeUndefined();
  });
});
