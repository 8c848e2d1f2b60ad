// Who holds an IP address: autonomous system number, organisation and country, from data shipped
// inside npm packages, so the lookup needs no network and no account.
//
// Data credit (CC BY 4.0, attribution required — keep this in the README):
// - @ip-location-db/asn by sapics (https://github.com/sapics/ip-location-db): built from
//   RouteViews (routeviews.org), the five RIRs' delegation data (NRO, nro.net) and the
//   IP to ASN Lite database by DB-IP (https://db-ip.com).
// - @ip-location-db/asn-country: the five RIRs' delegation data by the NRO (nro.net). The country is
//   where the block is registered, not where the host physically is.
//
// The CSVs (`start,end,...` numeric inclusive ranges, sorted, non-overlapping) are read lazily on
// the first lookup (about a second and ~100 MB of memory) into typed arrays for IPv4 and BigInt
// arrays for IPv6, and searched by binary search.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { lastAtOrBelow, parseAddress } from './cidr-set';

export interface AsnInfo {
  asn: number;
  organisation: string;
  /** ISO 3166-1 alpha-2 country of registration, when known. */
  country?: string;
}

interface RangeTable<T extends number | bigint, V> {
  starts: ArrayLike<T>;
  ends: ArrayLike<T>;
  values: V[];
}

interface AsnDatabase {
  asn4: RangeTable<number, { asn: number; organisation: string }>;
  asn6: RangeTable<bigint, { asn: number; organisation: string }>;
  country4: RangeTable<number, string>;
  country6: RangeTable<bigint, string>;
}

let database: Promise<AsnDatabase> | undefined;

/** ASN, organisation and country for an IP, or undefined for a non-address or unrouted space. */
export async function lookupAsn(ip: string): Promise<AsnInfo | undefined> {
  const address = parseAddress(ip);
  if (!address) return undefined;
  database ??= loadDatabase().catch((error: unknown) => {
    database = undefined; // let a later call try again rather than caching the failure forever
    throw error;
  });
  const data = await database;
  const holder = address.version === 4 ? find(data.asn4, address.value) : find(data.asn6, address.value);
  if (!holder) return undefined;
  const country = address.version === 4 ? find(data.country4, address.value) : find(data.country6, address.value);
  return { ...holder, ...(country ? { country } : {}) };
}

function find<T extends number | bigint, V>(table: RangeTable<T, V>, value: T): V | undefined {
  const index = lastAtOrBelow(table.starts, value);
  return index >= 0 && table.ends[index]! >= value ? table.values[index] : undefined;
}

async function loadDatabase(): Promise<AsnDatabase> {
  const require = createRequire(import.meta.url);
  // The packages have no entry point, only data files; their package.json locates the folder.
  const asnDir = path.dirname(require.resolve('@ip-location-db/asn/package.json'));
  const countryDir = path.dirname(require.resolve('@ip-location-db/asn-country/package.json'));
  const organisations = new Map<string, string>(); // one string per organisation, not per range
  const holder = (fields: string[]) => {
    const name = fields[3] ?? '';
    const organisation = organisations.get(name) ?? (organisations.set(name, name), name);
    return { asn: Number(fields[2]), organisation };
  };
  const countryOf = (fields: string[]) => fields[2] ?? '';
  const [asn4, asn6, country4, country6] = await Promise.all([
    readTable(path.join(asnDir, 'asn-ipv4-num.csv'), 4, holder),
    readTable(path.join(asnDir, 'asn-ipv6-num.csv'), 6, holder),
    readTable(path.join(countryDir, 'asn-country-ipv4-num.csv'), 4, countryOf),
    readTable(path.join(countryDir, 'asn-country-ipv6-num.csv'), 6, countryOf),
  ]);
  return { asn4, asn6, country4, country6 } as AsnDatabase;
}

async function readTable<V>(file: string, version: 4 | 6, value: (fields: string[]) => V): Promise<RangeTable<number | bigint, V>> {
  const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
  const starts = version === 4 ? new Float64Array(lines.length) : new Array<bigint>(lines.length);
  const ends = version === 4 ? new Float64Array(lines.length) : new Array<bigint>(lines.length);
  const values = new Array<V>(lines.length);
  lines.forEach((line, index) => {
    const fields = splitCsvLine(line);
    starts[index] = version === 4 ? Number(fields[0]) : BigInt(fields[0] ?? '');
    ends[index] = version === 4 ? Number(fields[1]) : BigInt(fields[1] ?? '');
    values[index] = value(fields);
  });
  return { starts, ends, values };
}

/** One CSV line: fields may be quoted (`"Cloudflare, Inc."`), with `""` for a quote inside. */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') {
        field += '"';
        index++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"') {
      quoted = true;
    } else if (char === ',') {
      fields.push(field);
      field = '';
    } else {
      field += char;
    }
  }
  fields.push(field);
  return fields;
}
