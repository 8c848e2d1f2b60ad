// What each reliability test tried and what held, counted as it runs and printed as one table when
// the suite ends (see docs/reliability.md): a fault that held 0 of 0 times proves nothing, so the
// counts are part of the result.
import { appendFileSync } from 'node:fs';
import { inject } from 'vitest';

export interface Trial {
  /** The fault or hostile input, as the table's first column says it. */
  fault: string;
  /** How many times it was tried (alerts sent, cases generated, kills, requests). */
  tried: number;
  /** How many of those ended as they must (then `held === tried`, or the test fails). */
  held: number;
  /** What "held" means for this row: `accepted alerts = issues`, `4xx or unparsed, never 5xx`. */
  check: string;
}

export function recordTrial(trial: Trial): void {
  appendFileSync(inject('reliabilityTallyFile'), `${JSON.stringify(trial)}\n`);
}
