// Every activity the main worker registers, built from a small deps object so tests can swap a
// component for a real one of their own (another data folder, another tracker).
import type { LabelNames } from '../lib/config';
import { createReportActivities } from './tracker/report';
import type { Tracker } from './tracker/types';

export interface ActivityDeps {
  tracker: Tracker;
  labels: LabelNames;
}

export function createActivities({ tracker, labels }: ActivityDeps) {
  return { ...createReportActivities(tracker, labels) };
}

export type Activities = ReturnType<typeof createActivities>;
