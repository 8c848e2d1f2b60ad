// The intake bearer token: configured, or generated once and kept (owner-only) in the data folder;
// and the local tracker's token, which is the intake token unless configured apart.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, resolveSecret, type Config } from '../lib/config';
import { writeFileAtomic } from '../lib/files';

export async function resolveIntakeToken(
  config: Config,
  { generate = true } = {},
): Promise<{ token: string; generated: boolean; file?: string }> {
  if (config.intake.token) return { token: resolveSecret(config.intake.token, 'intake.token'), generated: false };
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

/**
 * The local tracker's people with their tokens resolved. A token is whose it is: two people sharing
 * one (or one the tracker token) would sign one person's comments with another's name.
 */
export function resolveTrackerPeople(config: Config, trackerToken: string): { name: string; token: string }[] {
  const people = config.tracker.local.people.map(({ name, token }, index) => ({ name, token: resolveSecret(token, `tracker.local.people.${index}.token`) }));
  const problems = people.flatMap(({ name, token }, index) => {
    if (token === trackerToken) return [`tracker.local.people.${index}.token: ${name}'s token is the tracker token: give each person a token of their own`];
    const earlier = people.slice(0, index).find((other) => other.token === token);
    return earlier ? [`tracker.local.people.${index}.token: ${name}'s token is ${earlier.name}'s too: give each person a token of their own`] : [];
  });
  if (problems.length > 0) throw new ConfigError('tracker.local.people', problems);
  return people;
}
