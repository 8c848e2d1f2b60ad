// Spamhaus DROP ("Don't Route Or Peer"): netblocks hijacked or leased to professional spam and
// cyber-crime operations. Published as JSON lines, one object per netblock, closed by a metadata
// line; the metadata line is required, so a truncated download is refused rather than half-read.
import { isCidrOrAddress } from '../cidr-set';
import { assertNotEmpty, contentLines, type FeedDefinition, FeedFormatError, quote } from './definition';

const cost =
  'free, no key, for protecting your own network under the Spamhaus DROP terms of use (check them before any commercial redistribution)';

export const spamhausDropV4: FeedDefinition = {
  name: 'spamhaus-drop',
  description: 'Spamhaus DROP list (IPv4)',
  defaultUrl: 'https://www.spamhaus.org/drop/drop_v4.json',
  verdict: 'malicious',
  cost,
  parse: (text) => parseSpamhausDrop(text, 'spamhaus-drop'),
};

export const spamhausDropV6: FeedDefinition = {
  name: 'spamhaus-drop-v6',
  description: 'Spamhaus DROP list (IPv6)',
  defaultUrl: 'https://www.spamhaus.org/drop/drop_v6.json',
  verdict: 'malicious',
  cost,
  parse: (text) => parseSpamhausDrop(text, 'spamhaus-drop-v6'),
};

export function parseSpamhausDrop(text: string, feed = 'spamhaus-drop'): string[] {
  assertNotEmpty(text, feed);
  const cidrs: string[] = [];
  let sawMetadata = false;
  for (const line of contentLines(text)) {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new FeedFormatError(`${feed}: not a JSON line: ${quote(line)}`);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new FeedFormatError(`${feed}: not a JSON object: ${quote(line)}`);
    }
    const fields = record as Record<string, unknown>;
    if (fields.type === 'metadata') {
      sawMetadata = true;
      continue;
    }
    if (typeof fields.cidr !== 'string' || !isCidrOrAddress(fields.cidr)) {
      throw new FeedFormatError(`${feed}: no valid "cidr" in ${quote(line)}`);
    }
    cidrs.push(fields.cidr);
  }
  if (!sawMetadata) throw new FeedFormatError(`${feed}: no metadata line (truncated download?)`);
  if (cidrs.length === 0) throw new FeedFormatError(`${feed}: no netblocks`);
  return cidrs;
}
