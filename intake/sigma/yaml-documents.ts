// A rule file is one or more YAML documents. Sigma 1.0 also had collections: an `action: global`
// document merged into each following one, `action: reset` dropping it, and `action: repeat`
// repeating the previous rule with some keys changed. They are deprecated but still found in
// older rule sets, and cheap to honour, so they are merged here the way pySigma does.
import { parseAllDocuments, visit, type Document } from 'yaml';
import { isRecord, quote } from './unsupported';

export type RuleDocument = { document: number; body: Record<string, unknown> } | { document: number; problem: string };

/** `src` merged into `dest`: maps key by key, anything else replaced by `src`'s value. */
function merge(dest: Record<string, unknown>, src: Record<string, unknown>): Record<string, unknown> {
  const out = { ...dest };
  for (const [key, value] of Object.entries(src)) {
    const current = out[key];
    out[key] = isRecord(value) && isRecord(current) ? merge(current, value) : isRecord(value) ? merge({}, value) : value;
  }
  return out;
}

const firstLine = (message: string) => (message.split('\n')[0] ?? message).replace(/:$/, '');

/**
 * Plain scalars that are text to pySigma (PyYAML reads YAML 1.1) but numbers to YAML 1.2 stay text:
 * an AWS account id with a leading zero (`012345678901`), a 19-digit GCP id beyond a double's
 * precision, `1e3` (a YAML 1.1 float needs a dot). Sigma compares numbers by their text, so a rounded
 * number would match the wrong id. Other numbers (`1.0`, `.5`, `0x1F`) stay numbers, as in pySigma,
 * for the comparison modifiers.
 */
function isTextToPySigma(source: string, value: number): boolean {
  if (/^[-+]?\d+$/.test(source)) return String(value) !== source.replace(/^\+/, '');
  return /^[-+]?\d+[eE][-+]?\d+$/.test(source);
}

function keepNumbersAsWritten(doc: Document): void {
  visit(doc, {
    Scalar(_key, node) {
      if (node.type === 'PLAIN' && typeof node.value === 'number' && node.source !== undefined && isTextToPySigma(node.source, node.value)) node.value = node.source;
    },
  });
}

function parsed(text: string): { document: number; value?: unknown; problem?: string }[] {
  return Array.from(parseAllDocuments(text), (doc, document) => {
    const [error] = doc.errors;
    if (error) return { document, problem: `YAML does not parse: ${firstLine(error.message)}` };
    try {
      keepNumbersAsWritten(doc);
      return { document, value: doc.toJS() as unknown };
    } catch (problem) {
      return { document, problem: `YAML does not parse: ${firstLine((problem as Error).message)}` };
    }
  });
}

/** The rule documents of a file, collections resolved; empty documents (a trailing `---`) are no rules. */
export function ruleDocuments(text: string): RuleDocument[] {
  const rules: RuleDocument[] = [];
  let global: Record<string, unknown> = {};
  let previous: Record<string, unknown> = {};
  for (const { document, value, problem } of parsed(text)) {
    if (problem !== undefined) rules.push({ document, problem });
    else if (value === null || value === undefined) continue;
    else if (!isRecord(value)) rules.push({ document, problem: 'the document is not a YAML mapping' });
    else if (!Object.hasOwn(value, 'action')) {
      // As in pySigma, correlation rules and filters take nothing from a global document, and
      // where the rule and the global document set the same key, the global document wins.
      const standalone = Object.hasOwn(value, 'correlation') || Object.hasOwn(value, 'filter');
      const body = standalone ? value : merge(value, global);
      rules.push({ document, body });
      if (!standalone) previous = body;
    } else {
      const { action, ...rest } = value;
      if (action === 'global') global = previous = rest;
      else if (action === 'reset') global = {};
      else if (action === 'repeat') {
        previous = merge(previous, rest);
        rules.push({ document, body: previous });
      } else rules.push({ document, problem: `unknown collection action ${quote(action)} (Sigma 1.0 had global, reset and repeat)` });
    }
  }
  return rules;
}
