// The investigation's memory of its related investigations and actor verdicts, as pure functions
// the workflow calls (tested without Temporal): what the issue's body lists.
import type { ActorReport } from './intel';
import type { InvestigationProgress, RelatedInvestigation } from './investigation';

/** Related investigations remembered (and carried into the next run). */
const REMEMBERED_RELATED = 50;
/** Actor verdicts remembered for the body. */
const REMEMBERED_VERDICTS = 50;
/** Shared keywords remembered per related investigation. */
const SHARED_KEPT = 10;

/**
 * `found` added to the related investigations (each once, the keywords it shares united). True
 * when that changed anything: a relation told twice (a redelivery, both sides seeing each other)
 * changes nothing, so the body is not rewritten.
 */
export function linkRelated(progress: InvestigationProgress, found: readonly RelatedInvestigation[]): boolean {
  const related = [...(progress.related ?? [])];
  let changed = false;
  for (const entry of found) {
    const index = related.findIndex((known) => known.workflowId === entry.workflowId);
    const known = related[index];
    if (!known) {
      if (related.length >= REMEMBERED_RELATED) continue;
      related.push({ ...entry, shared: entry.shared.slice(0, SHARED_KEPT) });
      changed = true;
      continue;
    }
    const shared = [...new Set([...known.shared, ...entry.shared])].slice(0, SHARED_KEPT);
    if (shared.length !== known.shared.length || known.issue.number !== entry.issue.number) {
      related[index] = { ...known, issue: entry.issue, shared };
      changed = true;
    }
  }
  if (changed) progress.related = related;
  return changed;
}

/** Each reported actor's verdict, the latest per actor, for the body. */
export function recordVerdicts(progress: InvestigationProgress, reports: readonly Pick<ActorReport, 'target' | 'verdict' | 'notChecked'>[]): void {
  const verdicts = new Map((progress.actorVerdicts ?? []).map((entry) => [entry.actor, entry.verdict]));
  // An actor past the check's share has no verdict yet: a later check gives it one.
  for (const { target, verdict, notChecked } of reports) if (!notChecked) verdicts.set(target.value, verdict);
  progress.actorVerdicts = [...verdicts].map(([actor, verdict]) => ({ actor, verdict })).slice(-REMEMBERED_VERDICTS);
}
