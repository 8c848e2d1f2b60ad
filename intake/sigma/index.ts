// Sigma rules (https://github.com/SigmaHQ/sigma-specification) over CloudTrail records and GCP
// audit log entries. Rules are compiled once into closures; docs/sigma.md says what each construct
// means here and why a rule can be skipped.

export type SigmaLevel = 'informational' | 'low' | 'medium' | 'high' | 'critical';

/** The log sources Vigil reads. */
export type SigmaLogsource = 'aws-cloudtrail' | 'gcp-audit';

export interface SigmaRule {
  /** The rule's `id`, or `sha256:<hash of the rule>` when it has none (stable wherever the file lies). */
  id: string;
  title: string;
  description?: string;
  /** The rule's `level`; `medium` when it states none. */
  level: SigmaLevel;
  status?: string;
  author?: string;
  /** As written, e.g. 'attack.t1562.001', 'attack.defense-evasion'. */
  tags: string[];
  references: string[];
  falsepositives: string[];
  logsource: SigmaLogsource;
  /** The file as it was found (the path given, joined with the relative path inside a folder). */
  file: string;
  /** 0-based YAML document index in the file. */
  document: number;
  /** Whether the event (a CloudTrail record, or a GCP LogEntry with protoPayload) matches. Never throws. */
  matches(event: Record<string, unknown>): boolean;
}

export interface SkippedRule {
  file: string;
  document?: number;
  id?: string;
  title?: string;
  reason: string;
}

export interface SigmaRuleSet {
  rules: SigmaRule[];
  skipped: SkippedRule[];
}

/**
 * A rule file's text as read: decoding threads are given the texts rather than the paths, so every
 * thread compiles the rules the process loaded at start, whatever the files hold since.
 */
export interface SigmaRuleFile {
  file: string;
  text: string;
}

export { compileSigmaRuleFiles, loadSigmaRules, readSigmaRuleFiles } from './load';
export { compileSigmaRules } from './compile';
