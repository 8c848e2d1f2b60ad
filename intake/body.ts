// A delivered body → JSON. CloudTrail log files come gzipped (as S3 stores them); they are
// recognised by their magic bytes, whatever the headers say, and inflated within a bound. Deliveries
// decode on a decoding thread (intake/read-alerts.ts), all but small plain JSON (intake/decoder.ts).
import { gunzipSync } from 'node:zlib';
import { jsonShapeProblem, type JsonLimits } from './json-shape';

export class MalformedBodyError extends Error {
  override name = 'MalformedBodyError';
}

export const isGzip = (body: Buffer) => body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;

/**
 * How many bytes decoding a body works through: a gzip's inflated size as its trailer states it,
 * capped by the bound; any other body's own size. A false trailer (or one past 4 GiB, which wraps)
 * only skews that body's admission: inflating it still stops at the bound.
 */
export function decodedSize(body: Buffer, maxInflatedBytes: number): number {
  if (!isGzip(body) || body.length < 18) return body.length;
  return Math.max(body.length, Math.min(body.readUInt32LE(body.length - 4), maxInflatedBytes));
}

/** `limits` bound what parsing may build (intake's decoding); without them, only JSON.parse judges. */
export function decodeBody(body: Buffer, maxInflatedBytes: number, limits?: JsonLimits): unknown {
  let text = body;
  if (isGzip(body)) {
    try {
      text = gunzipSync(body, { maxOutputLength: maxInflatedBytes });
    } catch (err) {
      throw new MalformedBodyError(`gzip body could not be inflated within ${maxInflatedBytes} bytes: ${(err as Error).message}`);
    }
  }
  const problem = limits && jsonShapeProblem(text, limits);
  if (problem) throw new MalformedBodyError(`refused before parsing: ${problem}`);
  try {
    return JSON.parse(text.toString('utf8'));
  } catch (err) {
    throw new MalformedBodyError(`malformed JSON: ${parseProblem(text, text !== body, err as Error)}`);
  }
}

/**
 * What JSON.parse found, without the excerpt of the body V8 quotes in its message: the reason goes to
 * logs, the archive's metadata and the answer. An alert is an object or an array, so text that opens
 * with neither is not taken for broken JSON.
 */
function parseProblem(text: Buffer, inflated: boolean, err: Error): string {
  if (!/^\s*(?:[[{]|$)/.test(text.toString('latin1', 0, 64))) return inflated ? 'a gzip whose content is not JSON text' : 'neither gzip nor JSON text';
  return err.message.replace(/(?:, )?".*" is not valid JSON$/s, '') || 'not valid JSON';
}
