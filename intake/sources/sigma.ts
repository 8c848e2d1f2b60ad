// Sigma rules in the sources that judge events by rules (CloudTrail records, GCP audit log entries):
// which of a team's rules match an event, and what they add to its alert. A built-in rule and Sigma
// rules that match one event make one alert that carries every reason.
import path from 'node:path';
import { severities, worseSeverity, type Detection, type Severity } from '../../lib/alert';
import type { SigmaLogsource, SigmaRule } from '../sigma';
import { judge, type Rule, type Verdict } from './rules';

/** Why an event is an alert: the built-in rule it is reported under, and the Sigma rules that matched. */
export interface Judgement<Event> {
  verdict?: Verdict<Event>;
  /** The most severe first, then by id: the first names the alerts only Sigma rules find, whatever order the files load in. */
  sigma: SigmaRule[];
}

const levelRank = (rule: SigmaRule) => severities.indexOf(rule.level);

/** The event judged by the built-in rules and the Sigma rules of its log source; undefined when none matched. */
export function judgeEvent<Event extends Record<string, unknown>>(
  event: Event,
  builtIn: readonly Rule<Event>[],
  sigmaRules: readonly SigmaRule[],
  logsource: SigmaLogsource,
): Judgement<Event> | undefined {
  const verdict = judge(event, builtIn);
  const sigma = sigmaRules
    .filter((rule) => rule.logsource === logsource && rule.matches(event))
    .sort((a, b) => levelRank(b) - levelRank(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (!verdict && sigma.length === 0) return undefined;
  return { ...(verdict ? { verdict } : {}), sigma };
}

/** The worst of the built-in rule's severity and the Sigma rules' levels. */
export function judgedSeverity(judgement: Judgement<unknown>, otherwise: Severity): Severity {
  const first = judgement.verdict?.rule.severity ?? judgement.sigma[0]?.level ?? otherwise;
  return judgement.sigma.reduce<Severity>((worst, rule) => worseSeverity(worst, rule.level), first);
}

function sigmaDetection({ id, title, level, tags, references, falsepositives, file }: SigmaRule): Detection {
  return {
    engine: 'sigma',
    id,
    title,
    level,
    ...(tags.length > 0 ? { tags } : {}),
    ...(references.length > 0 ? { references } : {}),
    ...(falsepositives.length > 0 ? { falsepositives } : {}),
    // The file's name, not where the server keeps it.
    file: path.basename(file),
  };
}

/** Every rule that found the event, for the issue (built-in first: it says what was opened or changed). */
export function judgedDetections({ verdict, sigma }: Judgement<unknown>): Detection[] {
  const builtIn: Detection[] = verdict ? [{ engine: 'built-in', id: verdict.rule.id, title: verdict.rule.description, level: verdict.rule.severity }] : [];
  return [...builtIn, ...sigma.map(sigmaDetection)];
}

/** The description's lines for the Sigma rules that matched: what each says it detects. */
export function sigmaLines({ sigma }: Judgement<unknown>): string[] {
  return sigma.map((rule) => `Sigma rule: ${rule.title} (${rule.id}, level ${rule.level})${rule.description ? `: ${rule.description.trim()}` : ''}`);
}

/**
 * The identity of an alert only Sigma rules found: per rule (the most severe) and per thing the event
 * is about, so that the rule's repeats about that thing make one issue.
 */
export function sigmaFingerprint(rule: SigmaRule, thing: string): string {
  return `sigma:${rule.id}:${thing}`;
}
