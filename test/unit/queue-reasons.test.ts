// The reason a file (or a body) is rejected for not being JSON goes to logs, the archive's metadata
// and the sender's answer: it says what the bytes are, and quotes none of them (intake/body.ts).
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeBody, MalformedBodyError } from '../../intake/body';

function refusal(body: Buffer): string {
  try {
    decodeBody(body, 1 << 20);
  } catch (err) {
    if (err instanceof MalformedBodyError) return err.message;
    throw err;
  }
  throw new Error('the body was decoded');
}

describe('why a body is not JSON', () => {
  it('says text is neither gzip nor JSON, without quoting it', () => {
    const reason = refusal(Buffer.from('this is not gzip\nAKIAEXAMPLESECRET\n'));
    expect(reason).toBe('malformed JSON: neither gzip nor JSON text');
  });

  it('says a gzip holds no JSON text, without quoting what it inflates to', () => {
    expect(refusal(gzipSync('user=admin password=hunter2'))).toBe('malformed JSON: a gzip whose content is not JSON text');
  });

  it("keeps JSON.parse's finding for broken JSON, without V8's excerpt of the body", () => {
    // V8 quotes short bodies whole: `Unexpected token 's', "{"token": s3cr3t}" is not valid JSON`.
    expect(refusal(Buffer.from('{"token": s3cr3t}'))).toBe("malformed JSON: Unexpected token 's'");
    expect(refusal(Buffer.from('{"title": "unterminated'))).toMatch(/^malformed JSON: Unterminated string/);
  });
});
