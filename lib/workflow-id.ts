import { createHash } from 'node:crypto';

/** `alert/<source>/<fingerprint>`; a fingerprint too long or odd for an id is replaced by its hash. */
export function investigationWorkflowId(source: string, fingerprint: string): string {
  const usable = fingerprint.length <= 200 && /^[\x21-\x7e]+$/.test(fingerprint);
  return `alert/${source}/${usable ? fingerprint : `sha256:${createHash('sha256').update(fingerprint).digest('hex')}`}`;
}
