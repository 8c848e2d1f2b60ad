// Payload → normalized alerts. Whatever no adapter understands still becomes an alert (`unparsed`),
// so an authenticated delivery always ends up on an issue.
import { emptyActors, emptyNetwork, type ArchiveRef, type NormalizedAlert, type ParsedAlert } from '../lib/alert';
import { AUTO_SOURCE } from './sources';
import type { SourceAdapter } from './sources/types';

function unparsed(source: string, archive: ArchiveRef, reason: string): ParsedAlert {
  return {
    kind: 'unparsed',
    fingerprint: `unparsed:${archive.sha256}`,
    title: `Unparsed alert from ${source}`,
    severity: 'medium',
    description: reason,
    resources: [],
    network: emptyNetwork(),
    actors: emptyActors(),
  };
}

function pickAdapter(adapters: readonly SourceAdapter[], source: string, payload: unknown): SourceAdapter | string {
  if (source !== AUTO_SOURCE) {
    return adapters.find((adapter) => adapter.name === source) ?? `unknown source ${JSON.stringify(source)}`;
  }
  const detected = adapters.find((adapter) => adapter.detect(payload));
  const known = adapters.map((adapter) => adapter.name).join(', ');
  return detected ?? `no known source recognises this payload (known: ${known})`;
}

export function normalizePayload(
  adapters: readonly SourceAdapter[],
  source: string,
  payload: unknown,
  archive: ArchiveRef,
): NormalizedAlert[] {
  const adapter = pickAdapter(adapters, source, payload);
  if (typeof adapter === 'string') return [{ ...unparsed(source, archive, adapter), source, archive }];
  let parsed: ParsedAlert[];
  try {
    parsed = adapter.parse(payload);
  } catch (err) {
    parsed = [unparsed(adapter.name, archive, (err as Error).message)];
  }
  return parsed.map((alert) => ({ ...alert, source: adapter.name, archive }));
}
