// Built-in rules, as the sources that judge events by rules share them (CloudTrail records, GCP audit
// log entries): what a rule is, how one event is judged against a rule set, how the verdict reads in
// an alert's description, and how configuration switches rules off.
import { severities, type AlertKind, type PortRange, type ResourceRef, type Severity } from '../../lib/alert';

/** What a rule found in one event. */
export interface RuleMatch {
  title: string;
  resources: ResourceRef[];
  /** Only for `exposure` rules: the internet ranges, ports and protocol that were opened. */
  network?: { cidrs: string[]; ports: PortRange[]; protocol?: string };
  /**
   * The fingerprint, when the alert is about a thing rather than about this one event (a security
   * group, a firewall rule, a trail, a sink, an IAM binding), so that repeats collapse into one issue.
   */
  fingerprint?: string;
  /** Extra lines for the description (what exactly was opened, shared or changed). */
  details?: string[];
  /** The event ends what an earlier one started (an Insights episode's end): see `ParsedAlert.resolution`. */
  resolution?: string;
}

/**
 * A rule looks at one event and either passes or says what it found. Kind and severity are fixed
 * per rule so that the manual and the configuration can list them.
 */
export interface Rule<Event> {
  /** Stable id, used in configuration (`disabledRules`) and in alert descriptions. */
  id: string;
  description: string;
  kind: Exclude<AlertKind, 'unparsed'>;
  severity: Severity;
  match(event: Event): RuleMatch | undefined;
}

/** The rule an event is reported under, and the others that matched it too. */
export interface Verdict<Event> {
  rule: Rule<Event>;
  match: RuleMatch;
  /** Ids of the other rules that matched, named in the description. */
  alsoMatched: string[];
}

const severityRank = (rule: { severity: Severity }) => severities.indexOf(rule.severity);

/** The most severe matching rule (list order breaks ties), or undefined when none matches. */
export function judge<Event>(event: Event, rules: readonly Rule<Event>[]): Verdict<Event> | undefined {
  const matches = rules.flatMap((rule) => {
    const match = rule.match(event);
    return match ? [{ rule, match }] : [];
  });
  const best = matches.reduce<(typeof matches)[number] | undefined>(
    (current, candidate) => (current && severityRank(current.rule) >= severityRank(candidate.rule) ? current : candidate),
    undefined,
  );
  if (!best) return undefined;
  return { ...best, alsoMatched: matches.filter((entry) => entry !== best).map((entry) => entry.rule.id) };
}

/** `Rule: <id> (<description>)`: the line every rule-judged alert's description carries. */
export function ruleLine<Event>(verdict: Verdict<Event>): string {
  return `Rule: ${verdict.rule.id} (${verdict.rule.description})`;
}

/** `Also matched: <ids>`, or nothing when the rule matched alone. */
export function alsoMatchedLines<Event>(verdict: Verdict<Event>): string[] {
  return verdict.alsoMatched.length > 0 ? [`Also matched: ${verdict.alsoMatched.join(', ')}`] : [];
}

/**
 * The rules left on once `disabled` ids are switched off. An unknown id throws, naming the known
 * ones: a misspelt id would otherwise leave the rule on without anyone noticing.
 */
export function enabledRules<Event>(rules: readonly Rule<Event>[], disabled: readonly string[] | undefined, label: string): Rule<Event>[] {
  const off = new Set(disabled ?? []);
  const known = new Set(rules.map((rule) => rule.id));
  const unknown = [...off].filter((id) => !known.has(id));
  if (unknown.length > 0) throw new Error(`unknown ${label} rule id(s): ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  return rules.filter((rule) => !off.has(rule.id));
}
