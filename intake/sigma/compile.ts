// One rule document into a SigmaRule whose `matches` is a tree of closures built once: the
// detection's values parsed, lower-cased and turned into tests here, so matching an event only
// walks the event. Anything Vigil cannot evaluate faithfully skips the rule with the reason.
import { createHash } from 'node:crypto';
import { compileCondition, parseCondition } from './condition';
import { compileSearch } from './detection';
import type { SigmaLevel, SigmaRule, SigmaRuleSet, SkippedRule } from './index';
import type { Matcher } from './item';
import { logsourceOf } from './logsource';
import { Unsupported, isRecord, quote } from './unsupported';
import { ruleDocuments } from './yaml-documents';

const levels: readonly SigmaLevel[] = ['informational', 'low', 'medium', 'high', 'critical'];

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const texts = (value: unknown): string[] => (typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((item) => typeof item === 'string') : []);
const idOf = (value: unknown): string | undefined => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);

function levelOf(value: unknown): SigmaLevel {
  if (value === undefined || value === null) return 'medium';
  // pySigma reads `High` as high too.
  const level = levels.find((name) => typeof value === 'string' && name === value.toLowerCase());
  if (!level) throw new Unsupported(`level ${quote(value)} is not one of ${levels.join(', ')}`);
  return level;
}

function conditionsOf(detection: Record<string, unknown>): string[] {
  const { condition } = detection;
  if (condition === undefined || condition === null) throw new Unsupported('the detection has no condition');
  const conditions = Array.isArray(condition) ? condition : [condition];
  if (conditions.length === 0 || !conditions.every((item) => typeof item === 'string')) {
    throw new Unsupported(`condition ${quote(condition)} is not a string or a list of strings`);
  }
  return conditions;
}

function detectionMatcher(detection: Record<string, unknown>, logsource: SigmaRule['logsource']): Matcher {
  if (Object.hasOwn(detection, 'timeframe')) {
    throw new Unsupported("the detection has a 'timeframe', the window of a Sigma 1.0 aggregation; Vigil matches single events");
  }
  const conditions = conditionsOf(detection);
  const searches = new Map<string, Matcher>();
  for (const [name, definition] of Object.entries(detection)) {
    if (name !== 'condition') searches.set(name, compileSearch(name, definition, logsource));
  }
  // A list of conditions is OR: each one was a query of its own.
  const matchers = conditions.map((condition) => compileCondition(parseCondition(condition), searches));
  if (matchers.length === 1) return matchers[0] as Matcher;
  return (event) => matchers.some((matcher) => matcher(event));
}

/**
 * A rule without an id is named by what it says, not where it lies: its id is part of the fingerprint
 * of the alerts only it finds, which must not change when the rules folder moves (editing the rule
 * does change it: give rules an id).
 */
function contentId(body: Record<string, unknown>): string {
  let content: string;
  try {
    content = JSON.stringify(body);
  } catch {
    throw new Unsupported('the rule has no id, and a YAML alias makes its content refer to itself, so nothing names it');
  }
  return `sha256:${createHash('sha256').update(content).digest('hex').slice(0, 32)}`;
}

function compileDocument(body: Record<string, unknown>, file: string, document: number): SigmaRule {
  if (Object.hasOwn(body, 'correlation')) {
    const type = isRecord(body.correlation) ? ` (${String(body.correlation.type)})` : '';
    throw new Unsupported(`a correlation rule${type}: it counts or orders several events, and Vigil matches single events`);
  }
  if (isRecord(body.filter)) throw new Unsupported('a Sigma filter, which tunes other rules in a conversion pipeline; Vigil does not apply filters');
  const title = text(body.title);
  if (!title) throw new Unsupported('the rule has no title');
  const logsource = logsourceOf(body.logsource);
  if (!isRecord(body.detection)) throw new Unsupported('the rule has no detection');
  const level = levelOf(body.level);
  const matcher = detectionMatcher(body.detection, logsource);
  return {
    id: idOf(body.id) ?? contentId(body),
    title,
    ...(text(body.description) !== undefined ? { description: text(body.description) } : {}),
    level,
    ...(text(body.status) !== undefined ? { status: text(body.status) } : {}),
    ...(text(body.author) !== undefined ? { author: text(body.author) } : {}),
    tags: texts(body.tags),
    references: texts(body.references),
    falsepositives: texts(body.falsepositives),
    logsource,
    file,
    document,
    matches: (event) => {
      if (!isRecord(event)) return false;
      try {
        return matcher(event);
      } catch {
        return false;
      }
    },
  };
}

/** Later rules with an id already loaded are skipped: an id names one rule. */
export function withoutDuplicateIds(set: SigmaRuleSet): SigmaRuleSet {
  const firstFile = new Map<string, string>();
  const rules: SigmaRule[] = [];
  const skipped: SkippedRule[] = [...set.skipped];
  for (const rule of set.rules) {
    const first = firstFile.get(rule.id);
    if (first === undefined) {
      firstFile.set(rule.id, rule.file);
      rules.push(rule);
    } else skipped.push({ file: rule.file, document: rule.document, id: rule.id, title: rule.title, reason: `duplicate id, first in ${first}` });
  }
  return { rules, skipped };
}

/** The rules of one file's text; `file` names it in the rules and skips. */
export function compileSigmaRules(source: string, file: string): SigmaRuleSet {
  const rules: SigmaRule[] = [];
  const skipped: SkippedRule[] = [];
  for (const entry of ruleDocuments(source)) {
    const { document } = entry;
    if ('problem' in entry) {
      skipped.push({ file, document, reason: entry.problem });
      continue;
    }
    try {
      rules.push(compileDocument(entry.body, file, document));
    } catch (error) {
      // A condition nested thousands deep overflows the parser's stack: that rule is skipped, not the load.
      const overflow = error instanceof RangeError && /call stack/i.test(error.message);
      const reason = error instanceof Unsupported ? error.message : overflow ? `the rule is nested too deeply to compile (${error.message})` : undefined;
      if (reason === undefined) throw error;
      const id = idOf(entry.body.id);
      const title = text(entry.body.title);
      skipped.push({ file, document, ...(id !== undefined ? { id } : {}), ...(title !== undefined ? { title } : {}), reason });
    }
  }
  if (rules.length === 0 && skipped.length === 0) skipped.push({ file, reason: 'the file holds no rule' });
  return withoutDuplicateIds({ rules, skipped });
}
