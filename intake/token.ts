// The intake bearer token: configured, or generated once and kept (owner-only) in the data folder;
// and the local tracker's token, which is the intake token unless configured apart.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveSecret, type Config } from '../lib/config';
import { writeFileAtomic } from '../lib/files';

export async function resolveIntakeToken(
  config: Config,
  { generate = true } = {},
): Promise<{ token: string; generated: boolean; file?: string }> {
  if (config.intake.token) return { token: config.intake.token, generated: false };
  const file = path.join(config.dataDir, 'intake-token');
  const kept = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (kept) return { token: kept, generated: false, file };
  if (!generate) throw new Error(`no intake token: set VIGIL_INTAKE_TOKEN, or start Vigil once to generate ${file}`);
  const token = randomBytes(24).toString('base64url');
  await writeFileAtomic(file, `${token}\n`, 0o600);
  return { token, generated: true, file };
}

export function resolveTrackerToken(config: Config, intakeToken: string): string {
  const configured = config.tracker.local.token;
  return configured ? resolveSecret(configured, 'tracker.local.token') : intakeToken;
}
