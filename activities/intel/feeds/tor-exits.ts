// Tor exit nodes, from the Tor Project's own lists. Both of its formats are read, so the URL can
// point at either: the bulk list (one address per line) or `exit-addresses` (relay descriptors
// with `ExitAddress <ip> <date> <time>` lines).
import { isIP } from 'node:net';
import { assertNotEmpty, contentLines, type FeedDefinition, FeedFormatError, quote } from './definition';

export const torExits: FeedDefinition = {
  name: 'tor-exits',
  description: 'Tor exit node list',
  defaultUrl: 'https://check.torproject.org/torbulkexitlist',
  // Tor is used for privacy as well as for attacks: a listing is worth a look, not a conviction.
  verdict: 'suspicious',
  cost: 'free, no key; published by the Tor Project (public data, no licence restrictions stated)',
  parse(text) {
    assertNotEmpty(text, 'tor-exits');
    return /^\s*ExitNode\s/.test(text) ? parseTorExitAddresses(text) : parseTorBulkExitList(text);
  },
};

/** `https://check.torproject.org/torbulkexitlist`: one address per line, nothing else. */
export function parseTorBulkExitList(text: string): string[] {
  const lines = contentLines(text);
  for (const line of lines) {
    if (isIP(line) === 0) throw new FeedFormatError(`tor-exits: not an address in the bulk exit list: ${quote(line)}`);
  }
  if (lines.length === 0) throw new FeedFormatError('tor-exits: the bulk exit list is empty');
  return lines;
}

const exitAddressKeywords = new Set(['ExitNode', 'Published', 'LastStatus', 'ExitAddress']);

/** `https://check.torproject.org/exit-addresses`: `ExitNode` blocks, each with `ExitAddress` lines. */
export function parseTorExitAddresses(text: string): string[] {
  const addresses: string[] = [];
  for (const line of contentLines(text)) {
    const [keyword = '', value = ''] = line.split(/\s+/);
    if (!exitAddressKeywords.has(keyword)) throw new FeedFormatError(`tor-exits: unexpected line in exit-addresses: ${quote(line)}`);
    if (keyword !== 'ExitAddress') continue;
    if (isIP(value) === 0) throw new FeedFormatError(`tor-exits: not an address in ${quote(line)}`);
    addresses.push(value);
  }
  if (addresses.length === 0) throw new FeedFormatError('tor-exits: no ExitAddress lines in exit-addresses');
  return addresses;
}
