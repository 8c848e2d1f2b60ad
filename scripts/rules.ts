// `vigil rules check` and `vigil rules test`: what a team's Sigma rules load as, and which of them
// match which records of real log files, without starting anything.
import { readFile } from 'node:fs/promises';
import { decodeBody, MalformedBodyError } from '../intake/body';
import { loadSigmaRules, type SigmaLogsource, type SigmaRuleSet, type SkippedRule } from '../intake/sigma';
import { cloudTrailRecords } from '../intake/sources/cloudtrail';
import { auditEntries } from '../intake/sources/gcp-audit/entry';
import type { Config } from '../lib/config';

/** The events of a log file Sigma rules read, as the sources read them, or undefined for any other file. */
function sigmaEvents(payload: unknown): { logsource: SigmaLogsource; events: Record<string, unknown>[] } | undefined {
  const records = cloudTrailRecords(payload);
  if (records) return { logsource: 'aws-cloudtrail', events: records };
  const entries = auditEntries(payload);
  return entries ? { logsource: 'gcp-audit', events: entries } : undefined;
}

/** Documents are numbered from 0, as in `--json` and docs/sigma.md; the first is not named. */
const skippedLine = ({ file, document, id, title, reason }: SkippedRule) =>
  `skipped ${file}${document ? ` (document ${document})` : ''}${id ? ` ${id}` : ''}${title ? ` ${JSON.stringify(title)}` : ''}: ${reason}`;

/** The configured rule paths when none are given. */
function chosenPaths(config: Config, paths: readonly string[]): readonly string[] {
  if (paths.length > 0) return paths;
  if (config.detections.sigma.length === 0) throw new Error('no rule paths given, and detections.sigma configures none');
  return config.detections.sigma;
}

/** Each rule loaded, or skipped with why. Exit 1 with `strict` when any was skipped. */
export function checkRules(config: Config, paths: readonly string[], { json = false, strict = false }): number {
  const { rules, skipped } = loadSigmaRules(chosenPaths(config, paths));
  if (json) {
    const loaded = rules.map(({ id, title, level, logsource, file }) => ({ id, title, level, logsource, file }));
    console.log(JSON.stringify({ loaded: rules.length, rules: loaded, skipped }, null, 2));
  } else {
    for (const rule of rules) console.log(`loaded ${rule.file}: ${rule.id} ${JSON.stringify(rule.title)} (${rule.logsource}, ${rule.level})`);
    for (const entry of skipped) console.log(skippedLine(entry));
    console.log(`${rules.length} rules loaded, ${skipped.length} skipped`);
  }
  return strict && skipped.length > 0 ? 1 : 0;
}

interface RuleMatchLine {
  ruleId: string;
  ruleTitle: string;
  level: string;
  file: string;
  /** The record's position among the file's records. */
  index: number;
}

async function matchesIn(ruleSet: SigmaRuleSet, file: string, maxInflatedBytes: number): Promise<RuleMatchLine[] | string> {
  let payload: unknown;
  try {
    payload = decodeBody(await readFile(file), maxInflatedBytes);
  } catch (err) {
    // One unreadable file (missing, a folder, not JSON) is reported, and the others are still tested.
    if (err instanceof MalformedBodyError || (err as NodeJS.ErrnoException).code !== undefined) return (err as Error).message;
    throw err;
  }
  const found = sigmaEvents(payload);
  if (!found) return 'neither CloudTrail records nor GCP audit log entries';
  const rules = ruleSet.rules.filter((rule) => rule.logsource === found.logsource);
  return found.events.flatMap((event, index) =>
    rules.filter((rule) => rule.matches(event)).map((rule) => ({ ruleId: rule.id, ruleTitle: rule.title, level: rule.level, file, index })),
  );
}

/** Which rules match which records of the files. Exit 2 when a file cannot be read or is not a log Sigma rules read. */
export async function testRules(config: Config, paths: readonly string[], files: readonly string[], { json = false }): Promise<number> {
  if (files.length === 0) throw new Error('give the log files after --, as in: vigil rules test rules/ -- trail.json');
  const ruleSet = loadSigmaRules(chosenPaths(config, paths));
  const matches: RuleMatchLine[] = [];
  let unreadable = 0;
  for (const file of files) {
    const found = await matchesIn(ruleSet, file, config.intake.maxInflatedBytes);
    if (typeof found === 'string') {
      console.error(`vigil: ${file}: ${found}`);
      unreadable += 1;
    } else {
      matches.push(...found);
    }
  }
  if (json) {
    const skipped = ruleSet.skipped.map(({ file, document, reason }) => ({ file, reason: document ? `document ${document}: ${reason}` : reason }));
    console.log(JSON.stringify({ loaded: ruleSet.rules.length, skipped, matches }, null, 2));
  } else {
    for (const entry of ruleSet.skipped) console.log(skippedLine(entry));
    for (const { file, index, level, ruleId, ruleTitle } of matches) console.log(`${file} record ${index}: ${level} ${ruleId} ${JSON.stringify(ruleTitle)}`);
    console.log(`${ruleSet.rules.length} rules loaded, ${ruleSet.skipped.length} skipped; ${matches.length} matches in ${files.length - unreadable} files`);
  }
  return unreadable > 0 ? 2 : 0;
}
