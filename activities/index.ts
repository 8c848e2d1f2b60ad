// Every activity the main worker registers, built from a small deps object so tests can swap a
// component for a real one of their own (another data folder, another tracker).
import { createReportActivities } from './tracker/report';
import type { Tracker } from './tracker/types';

export interface ActivityDeps {
  tracker: Tracker;
}

export function createActivities({ tracker }: ActivityDeps) {
  return { ...createReportActivities(tracker) };
}

export type Activities = ReturnType<typeof createActivities>;
