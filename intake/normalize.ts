// Payload → normalized alerts. Whatever no adapter understands still becomes an alert (`unparsed`),
// so an authenticated delivery always ends up on an issue.
import { emptyActors, emptyNetwork, type ArchiveRef, type NormalizedAlert, type ParsedAlert } from '../lib/alert';
import { collapseCopies } from '../lib/alert-merge';
import { boundAlert } from './bound-alert';
import { AUTO_SOURCE } from './sources';
import type { ParseTally, SourceAdapter } from './sources/types';

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

/** An adapter whose detection throws on a hostile payload does not recognise it; the next may. */
function detects(adapter: SourceAdapter, payload: unknown): boolean {
  try {
    return adapter.detect(payload);
  } catch {
    return false;
  }
}

export type ParseOutcome = { source: string; alerts: ParsedAlert[] } | { source: string; problem: string };

/** The adapter's alerts, or why none understood the payload (for `vigil alert parse`, and unparsed alerts). */
export function parsePayload(adapters: readonly SourceAdapter[], source: string, payload: unknown, tally?: ParseTally): ParseOutcome {
  let adapter: SourceAdapter | undefined;
  if (source === AUTO_SOURCE) {
    adapter = adapters.find((candidate) => detects(candidate, payload));
    if (!adapter) {
      const expected = adapters.map((candidate) => `${candidate.name} (${candidate.description})`).join('; ');
      return { source, problem: `no known source recognises this payload; expected one of: ${expected}` };
    }
  } else {
    adapter = adapters.find((candidate) => candidate.name === source);
    if (!adapter) return { source, problem: `unknown source ${JSON.stringify(source)}` };
  }
  try {
    return { source: adapter.name, alerts: adapter.parse(payload, tally) };
  } catch (err) {
    // The whole body becomes one unparsed alert: none of its events was counted as seen.
    if (tally) tally.unmatched = 0;
    return { source: adapter.name, problem: (err as Error).message };
  }
}

/**
 * The alerts of a payload as workflows receive them: each bounded in size, the copies of one
 * finding within the payload collapsed into one that counts them.
 */
export function normalizePayload(
  adapters: readonly SourceAdapter[],
  source: string,
  payload: unknown,
  archive: ArchiveRef,
  tally?: ParseTally,
): NormalizedAlert[] {
  const outcome = parsePayload(adapters, source, payload, tally);
  const alerts = 'problem' in outcome ? [unparsed(outcome.source, archive, outcome.problem)] : outcome.alerts;
  // Small enough for Temporal whatever the body held, and one alert per fingerprint of the body.
  return collapseCopies(alerts.map((alert) => boundAlert({ ...alert, source: outcome.source, archive })));
}
