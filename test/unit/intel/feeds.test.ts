import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { feodoTracker } from '../../../activities/intel/feeds/feodo-tracker';
import { fireholLevel1 } from '../../../activities/intel/feeds/firehol-level1';
import { feedDefinitions, feedsByName, FeedFormatError } from '../../../activities/intel/feeds/index';
import { spamhausDropV4, spamhausDropV6 } from '../../../activities/intel/feeds/spamhaus-drop';
import { torExits } from '../../../activities/intel/feeds/tor-exits';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, '../../fixtures/intel', name), 'utf8');

describe('feed parsers', () => {
  it('reads the Tor bulk exit list, including the demo address 198.51.100.23', () => {
    expect(torExits.parse(fixture('tor-bulk-exit-list.txt'))).toEqual(['198.51.100.23', '203.0.113.7', '192.0.2.45', '2001:db8::23']);
  });

  it('reads the Tor exit-addresses format', () => {
    expect(torExits.parse(fixture('tor-exit-addresses.txt'))).toEqual(['198.51.100.23', '203.0.113.7', '2001:db8::23']);
  });

  it('reads Spamhaus DROP JSON lines, v4 and v6, skipping the metadata line', () => {
    expect(spamhausDropV4.parse(fixture('spamhaus-drop-v4.json'))).toEqual(['192.0.2.0/25', '203.0.113.128/26']);
    expect(spamhausDropV6.parse(fixture('spamhaus-drop-v6.json'))).toEqual(['2001:db8:bad::/48']);
  });

  it('refuses a Spamhaus download cut before its metadata line', () => {
    const truncated = fixture('spamhaus-drop-v4.json').split('\n').slice(0, 2).join('\n');
    expect(() => spamhausDropV4.parse(truncated)).toThrow(/metadata/);
  });

  it('reads the FireHOL level1 netset, CIDRs and single addresses', () => {
    expect(fireholLevel1.parse(fixture('firehol-level1.netset'))).toEqual(['0.0.0.0/8', '10.0.0.0/8', '192.0.2.128/25', '198.51.100.64/26', '198.51.100.99', '203.0.113.0/24']);
  });

  it('reads the Feodo Tracker text list and its JSON recommended list', () => {
    expect(feodoTracker.parse(fixture('feodo-ipblocklist.txt'))).toEqual(['192.0.2.66', '203.0.113.200']);
    expect(feodoTracker.parse(fixture('feodo-ipblocklist-recommended.json'))).toEqual(['192.0.2.66', '203.0.113.200']);
  });

  it('accepts an empty Feodo list only under its own header', () => {
    const header = fixture('feodo-ipblocklist.txt').split('\n').filter((line) => line.startsWith('#')).join('\n');
    expect(feodoTracker.parse(header)).toEqual([]);
    expect(() => feodoTracker.parse('# something else\n')).toThrow(FeedFormatError);
  });

  it.each(feedDefinitions.map((feed) => [feed.name, feed] as const))('%s refuses an HTML error page, an empty body and junk', (_name, feed) => {
    expect(() => feed.parse(fixture('not-a-feed.html'))).toThrow(FeedFormatError);
    expect(() => feed.parse('')).toThrow(FeedFormatError);
    expect(() => feed.parse('  \n\n')).toThrow(FeedFormatError);
    expect(() => feed.parse('{"error":"rate limited"}')).toThrow(FeedFormatError);
  });

  it('refuses a list with one bad line rather than skipping it', () => {
    expect(() => torExits.parse('198.51.100.23\n198.51.100.300\n')).toThrow(/198\.51\.100\.300/);
    expect(() => fireholLevel1.parse('# x\n192.0.2.0/24\n192.0.2.0/33\n')).toThrow(FeedFormatError);
  });

  it('registers every feed once, with a real https URL, a verdict and a cost line', () => {
    expect(feedDefinitions.map((feed) => feed.name)).toEqual(['tor-exits', 'spamhaus-drop', 'spamhaus-drop-v6', 'firehol-level1', 'feodo-tracker']);
    expect(feedsByName.size).toBe(feedDefinitions.length);
    for (const feed of feedDefinitions) {
      expect(feed.defaultUrl).toMatch(/^https:\/\//);
      expect(feed.cost.length).toBeGreaterThan(10);
      expect(['malicious', 'suspicious']).toContain(feed.verdict);
    }
    expect(feedsByName.get('tor-exits')!.verdict).toBe('suspicious');
  });
});
