// The providers Vigil knows, by name; the runner takes them with their settings.
import { abuseipdb } from './abuseipdb';
import type { ProviderDefinition } from './definition';
import { greynoise } from './greynoise';
import { otx } from './otx';
import { shodanInternetDb } from './shodan-internetdb';
import { virustotal } from './virustotal';

export type { LookupContext, ProviderDefinition } from './definition';
export { ProviderHttpError } from './http';

export const providerDefinitions: readonly ProviderDefinition[] = [abuseipdb, greynoise, shodanInternetDb, virustotal, otx];

export function providerDefinition(name: string): ProviderDefinition | undefined {
  return providerDefinitions.find((definition) => definition.name === name);
}
