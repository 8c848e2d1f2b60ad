// `vigil alert parse` (a dry run of detection and normalization) and `vigil alert send`.
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { decodeBody, MalformedBodyError } from '../intake/body';
import { parsePayload } from '../intake/normalize';
import { loadSigmaRules } from '../intake/sigma';
import { AUTO_SOURCE, createSourceAdapters } from '../intake/sources';
import { resolveIntakeToken } from '../intake/token';
import type { Config } from '../lib/config';

/** Prints the normalized alerts as a JSON array; nothing is archived or started. Exit 2: not understood. */
export async function parseAlertFile(config: Config, file: string, source = AUTO_SOURCE): Promise<number> {
  const body = await readFile(file);
  let payload: unknown;
  try {
    payload = decodeBody(body, config.intake.maxInflatedBytes);
  } catch (err) {
    if (!(err instanceof MalformedBodyError)) throw err;
    console.error(`vigil: ${file}: ${err.message}`);
    return 2;
  }
  const tally = { unmatched: 0 };
  const sigma = loadSigmaRules(config.detections.sigma);
  if (sigma.skipped.length > 0) console.error(`vigil: ${sigma.skipped.length} of the Sigma rules were skipped; \`vigil rules check\` says why`);
  const adapters = createSourceAdapters(config.intake.sources, sigma.rules);
  const outcome = parsePayload(adapters, source, payload, tally);
  if ('problem' in outcome) {
    console.error(`vigil: ${file} is not understood as ${outcome.source}: ${outcome.problem}`);
    return 2;
  }
  const sha256 = createHash('sha256').update(body).digest('hex');
  const alerts = outcome.alerts.map((alert) => ({ ...alert, source: outcome.source, archive: { dryRun: true, sha256 } }));
  console.log(JSON.stringify(alerts, null, 2));
  if (tally.unmatched > 0) {
    console.error(`vigil: events of ${file} that matched no rule: ${tally.unmatched} (intake archives and counts them as \`unmatched\`, without an issue)`);
  }
  return 0;
}

/** Posts a file to intake with the configured token, as a sender would. Exit 1 unless accepted. */
export async function sendAlertFile(config: Config, file: string, source = AUTO_SOURCE, url?: string): Promise<number> {
  const body = await readFile(file);
  const { token } = await resolveIntakeToken(config, { generate: false });
  const base = url ?? `http://${config.intake.host === '0.0.0.0' ? '127.0.0.1' : config.intake.host}:${config.intake.port}`;
  const gzipped = body[0] === 0x1f && body[1] === 0x8b;
  const response = await fetch(`${base.replace(/\/$/, '')}/v1/alerts/${encodeURIComponent(source)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': gzipped ? 'application/gzip' : 'application/json' },
    body,
  });
  const answer = await response.text();
  (response.status === 202 ? console.log : console.error)(`${response.status} ${answer}`);
  return response.status === 202 ? 0 : 1;
}
