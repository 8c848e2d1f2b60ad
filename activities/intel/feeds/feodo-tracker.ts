// abuse.ch Feodo Tracker: botnet command-and-control servers (Dridex, Emotet, QakBot and kin).
// Reads the plain-text blocklist and, if the URL points at it, the JSON "recommended" list.
import { isIP } from 'node:net';
import { assertNotEmpty, contentLines, type FeedDefinition, FeedFormatError, quote } from './definition';

export const feodoTracker: FeedDefinition = {
  name: 'feodo-tracker',
  description: 'abuse.ch Feodo Tracker botnet C2 list',
  defaultUrl: 'https://feodotracker.abuse.ch/downloads/ipblocklist.txt',
  verdict: 'malicious',
  cost: 'free, no key; abuse.ch data under CC0 (commercial use allowed)',
  parse(text) {
    assertNotEmpty(text, 'feodo-tracker');
    return text.trimStart().startsWith('[') ? parseFeodoJson(text) : parseFeodoText(text);
  },
};

/**
 * `ipblocklist.txt`: a `#` header, then one address per line. The list can legitimately be empty
 * (Feodo Tracker has had quiet weeks), so an empty list is accepted only under its own header.
 */
export function parseFeodoText(text: string): string[] {
  const lines = contentLines(text);
  if (!lines[0]?.startsWith('#')) throw new FeedFormatError(`feodo-tracker: no "#" header, starts with ${quote(lines[0] ?? '')}`);
  const addresses: string[] = [];
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    if (isIP(line) === 0) throw new FeedFormatError(`feodo-tracker: not an address: ${quote(line)}`);
    addresses.push(line);
  }
  if (addresses.length === 0 && !/feodo tracker/i.test(text)) throw new FeedFormatError('feodo-tracker: no entries and no Feodo Tracker header');
  return addresses;
}

/** `ipblocklist_recommended.json`: an array of objects with an `ip_address` each. */
export function parseFeodoJson(text: string): string[] {
  let records: unknown;
  try {
    records = JSON.parse(text);
  } catch {
    throw new FeedFormatError('feodo-tracker: not valid JSON');
  }
  if (!Array.isArray(records)) throw new FeedFormatError('feodo-tracker: expected a JSON array');
  return records.map((record: unknown) => {
    const ip = (record as { ip_address?: unknown } | null)?.ip_address;
    if (typeof ip !== 'string' || isIP(ip) === 0) throw new FeedFormatError(`feodo-tracker: no valid ip_address in ${quote(JSON.stringify(record))}`);
    return ip;
  });
}
