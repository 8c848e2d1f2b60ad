// Sigma rules at the size a team runs them: 100 CloudTrail rules (SigmaHQ's own, and variants of
// them up to a hundred) over 10,000 real CloudTrail records, against a JSON round trip of the same
// records in the same run (every field read and written once: the least any look at them costs).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { compileSigmaRules, loadSigmaRules, type SigmaRule } from '../intake/sigma';
import { median, round, seconds } from './bench-common';
import { projectRoot } from './prerequisites';

const RULES = 100;
const RECORDS = 10_000;
const ROUNDS = 5;

const fixtures = path.join(projectRoot, 'test', 'fixtures');
const cloudTrailRules = path.join(fixtures, 'sigma', 'sigmahq-cloud', 'aws', 'cloudtrail');

/** SigmaHQ's CloudTrail rules, then each again under another id (and file) until there are RULES. */
function rules(): SigmaRule[] {
  const loaded = loadSigmaRules([cloudTrailRules]).rules;
  const files = [...new Set(loaded.map((rule) => rule.file))];
  const all = [...loaded];
  for (let copy = 1; all.length < RULES; copy += 1) {
    for (const file of files) {
      if (all.length >= RULES) break;
      // The variant matches what the original matches: only its id differs, so it counts as another rule.
      const text = readFileSync(file, 'utf8').replace(/^id: .*$/m, `id: bench-copy-${copy}-${all.length}`);
      all.push(...compileSigmaRules(text, `${file}#copy${copy}`).rules);
    }
  }
  return all.slice(0, RULES);
}

/** Every record of the CloudTrail fixtures (log files, arrays, single events), repeated up to RECORDS. */
function records(): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  const folder = path.join(fixtures, 'cloudtrail');
  for (const name of readdirSync(folder).filter((file) => file.endsWith('.json'))) {
    const payload = JSON.parse(readFileSync(path.join(folder, name), 'utf8')) as unknown;
    const list = Array.isArray(payload) ? payload : (payload as { Records?: unknown[]; detail?: unknown }).Records ?? [(payload as { detail?: unknown }).detail ?? payload];
    found.push(...list.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null));
  }
  return Array.from({ length: RECORDS }, (_, n) => found[n % found.length]!);
}

export function benchSigma(): Record<string, number | string> {
  const ruleSet = rules();
  const events = records();
  let matches = 0;
  const match = () => {
    matches = 0;
    for (const event of events) for (const rule of ruleSet) if (rule.matches(event)) matches += 1;
  };
  const baseline = () => JSON.parse(JSON.stringify(events)) as unknown;
  match();
  if (ruleSet.length !== RULES || matches === 0) throw new Error(`the Sigma bench compiled ${ruleSet.length} rules and found ${matches} matches`);
  baseline();

  const matching: number[] = [];
  const roundTrips: number[] = [];
  for (let n = 0; n < ROUNDS; n += 1) {
    roundTrips.push(seconds(baseline));
    matching.push(seconds(match));
  }
  return {
    sigmaMeasured: `${ruleSet.length} Sigma rules (SigmaHQ's CloudTrail rules and copies) over ${events.length} CloudTrail records: ${matches} matches`,
    sigmaSeconds: round(median(matching), 3),
    sigmaBaselineSeconds: round(median(roundTrips), 3),
    sigmaOverBaseline: round(median(matching) / median(roundTrips)),
  };
}
