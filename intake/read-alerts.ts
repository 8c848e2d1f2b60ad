// The task of a decoding thread (intake/decoder.ts): inflating, parsing and normalizing a large body
// takes seconds and hundreds of MiB, which must not hold up intake's event loop. Normalizing here
// too means only the alerts travel back, never the parsed payload.
import { workerData } from 'node:worker_threads';
import type { SourceSettings } from '../lib/config';
import { compileSigmaRuleFiles, type SigmaRuleFile } from './sigma';
import { decodeAlerts, type ReadOutcome, type ReadTask } from './decode-alerts';
import type { JsonLimits } from './json-shape';
import { createSourceAdapters } from './sources';

/** What every decoding thread is started with. */
export interface ThreadSettings {
  /** The module intake/decoding-thread.mjs loads: this one, or a test's that wraps it. */
  taskModule: string;
  sources: Record<string, SourceSettings>;
  /** The Sigma rule files intake read at start (detections.sigma) that gave rules, and the ids of those rules. */
  sigma: { files: SigmaRuleFile[]; ids: string[] };
  maxInflatedBytes: number;
  /** Bounds on what parsing a body may build, checked before it is parsed. */
  jsonLimits?: JsonLimits;
}

// Adapters are functions, which cannot cross threads: each thread builds its own from the settings.
const { sources, sigma, maxInflatedBytes, jsonLimits } = workerData as ThreadSettings;
// Only the rules the process loaded: one nested deep enough to overflow the main thread's smaller
// stack may compile here, and would otherwise alert on large bodies while reported as skipped.
const loaded = new Set(sigma.ids);
const adapters = createSourceAdapters(sources, compileSigmaRuleFiles(sigma.files).rules.filter((rule) => loaded.has(rule.id)));

export default function readAlerts(task: ReadTask): ReadOutcome {
  return decodeAlerts(adapters, maxInflatedBytes, task, jsonLimits);
}
