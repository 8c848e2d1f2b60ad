// A search identifier of the detection section: a map is AND of its items, a list is OR of its
// elements (a list of maps is OR of ANDs), and a plain value or list of plain values is a keyword
// search.
import type { SigmaLogsource } from './index';
import { compileItem, type Matcher } from './item';
import { Unsupported, isRecord } from './unsupported';

const isPlain = (value: unknown) => value === null || ['string', 'number', 'boolean'].includes(typeof value);

export function compileSearch(name: string, definition: unknown, logsource: SigmaLogsource): Matcher {
  if (isRecord(definition)) {
    const items = Object.entries(definition).map(([key, value]) => compileItem(key, value, logsource));
    if (items.length === 0) throw new Unsupported(`search identifier '${name}' is empty`);
    if (items.length === 1) return items[0] as Matcher;
    return (event) => items.every((item) => item(event));
  }
  if (Array.isArray(definition)) {
    if (definition.length === 0) throw new Unsupported(`search identifier '${name}' is empty`);
    if (definition.every(isPlain)) return compileItem(undefined, definition, logsource);
    const alternatives = definition.map((element) => compileSearch(name, element, logsource));
    return (event) => alternatives.some((alternative) => alternative(event));
  }
  return compileItem(undefined, definition, logsource);
}
