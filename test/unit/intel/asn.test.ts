import { describe, expect, it } from 'vitest';
import { lookupAsn, splitCsvLine } from '../../../activities/intel/asn';

describe('lookupAsn', () => {
  it('knows well-known public addresses, IPv4, IPv6 and IPv4-mapped', async () => {
    expect(await lookupAsn('8.8.8.8')).toMatchObject({ asn: 15169, organisation: expect.stringMatching(/google/i), country: 'US' });
    expect(await lookupAsn('1.1.1.1')).toMatchObject({ asn: 13335, organisation: expect.stringMatching(/cloudflare/i) });
    expect(await lookupAsn('2001:4860:4860::8888')).toMatchObject({ asn: 15169, organisation: expect.stringMatching(/google/i) });
    expect(await lookupAsn('::ffff:8.8.4.4')).toMatchObject({ asn: 15169 });
  });

  it('answers undefined for private space and for non-addresses', async () => {
    expect(await lookupAsn('10.0.0.1')).toBeUndefined();
    expect(await lookupAsn('not an ip')).toBeUndefined();
  });

  it('splits quoted CSV fields', () => {
    expect(splitCsvLine('16777216,16777471,13335,"Cloudflare, Inc."')).toEqual(['16777216', '16777471', '13335', 'Cloudflare, Inc.']);
    expect(splitCsvLine('1,2,3,"The ""Quoted"" Co"')).toEqual(['1', '2', '3', 'The "Quoted" Co']);
  });
});
