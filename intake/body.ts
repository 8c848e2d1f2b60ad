// A delivered body → JSON. CloudTrail log files come gzipped (as S3 stores them); they are
// recognised by their magic bytes, whatever the headers say, and inflated within a bound.
import { gunzipSync } from 'node:zlib';

export class MalformedBodyError extends Error {
  override name = 'MalformedBodyError';
}

const isGzip = (body: Buffer) => body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;

export function decodeBody(body: Buffer, maxInflatedBytes: number): unknown {
  let text = body;
  if (isGzip(body)) {
    try {
      text = gunzipSync(body, { maxOutputLength: maxInflatedBytes });
    } catch (err) {
      throw new MalformedBodyError(`gzip body could not be inflated within ${maxInflatedBytes} bytes: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text.toString('utf8'));
  } catch (err) {
    throw new MalformedBodyError(`malformed JSON: ${(err as Error).message}`);
  }
}
