// FireHOL level1: an aggregate of attack, malware and abuse lists chosen to have no false
// positives. It also lists the bogons (private and reserved space), which is why actor IPs are
// checked against ./bogons first.
import { isCidrOrAddress } from '../cidr-set';
import { assertNotEmpty, contentLines, type FeedDefinition, FeedFormatError, quote } from './definition';

export const fireholLevel1: FeedDefinition = {
  name: 'firehol-level1',
  description: 'FireHOL level1 blocklist',
  defaultUrl: 'https://raw.githubusercontent.com/firehol/blocklist-ipsets/master/firehol_level1.netset',
  verdict: 'malicious',
  cost: 'free, no key; an aggregate whose licence is that of each source list (see the FireHOL site)',
  parse: parseNetset,
};

/** A FireHOL `.netset`: `#` comments, then one CIDR or address per line. */
export function parseNetset(text: string): string[] {
  assertNotEmpty(text, 'firehol-level1');
  const entries: string[] = [];
  for (const line of contentLines(text)) {
    if (line.startsWith('#')) continue;
    if (!isCidrOrAddress(line)) throw new FeedFormatError(`firehol-level1: not a CIDR or address: ${quote(line)}`);
    entries.push(line);
  }
  if (entries.length === 0) throw new FeedFormatError('firehol-level1: no entries');
  return entries;
}
