// Building one-off Sigma rules for the tests: written as objects, turned into YAML with the `yaml`
// package (so quoting is never the thing under test), compiled through the public API.
import path from 'node:path';
import { stringify } from 'yaml';
import { compileSigmaRules, type SigmaRule, type SkippedRule } from '../../../intake/sigma';

export const AWS = { product: 'aws', service: 'cloudtrail' };
export const GCP = { product: 'gcp', service: 'gcp.audit' };

export const fixtures = path.join(import.meta.dirname, '../../fixtures');

/** A YAML rule document with a title and the AWS log source unless the body says otherwise. */
export const ruleYaml = (body: Record<string, unknown>): string => stringify({ title: 'test rule', logsource: AWS, ...body });

/** The one rule the detection compiles to; fails with the skip reason if it was skipped. */
export function rule(detection: Record<string, unknown>, logsource: object = AWS): SigmaRule {
  const { rules, skipped } = compileSigmaRules(ruleYaml({ logsource, detection }), 'test.yml');
  if (rules.length !== 1 || skipped.length > 0) throw new Error(`not compiled: ${skipped.map((entry) => entry.reason).join('; ')}`);
  return rules[0] as SigmaRule;
}

/** `rule({ selection, condition: 'selection' })`. */
export const selection = (search: unknown, logsource: object = AWS): SigmaRule => rule({ selection: search, condition: 'selection' }, logsource);

/** The one skipped entry a rule file's text (or a rule body) gives. */
export function skippedFrom(source: string | Record<string, unknown>): SkippedRule {
  const { rules, skipped } = compileSigmaRules(typeof source === 'string' ? source : ruleYaml(source), 'test.yml');
  if (rules.length !== 0 || skipped.length !== 1) throw new Error(`expected one skipped rule, got ${rules.length} rules and ${JSON.stringify(skipped)}`);
  return skipped[0] as SkippedRule;
}

/** The reason a detection is skipped for. */
export const skipReason = (detection: Record<string, unknown>, logsource: object = AWS): string => skippedFrom({ logsource, detection }).reason;
