// Every activity the main worker registers, built from a small deps object so tests can swap a
// component for a real one of their own (another data folder, another tracker).
import type { LabelNames } from '../lib/config';
import { createIntelActivities, type IntelDeps } from './intel/activities';
import { createReportActivities } from './tracker/report';
import type { Tracker } from './tracker/types';

export interface ActivityDeps {
  tracker: Tracker;
  labels: LabelNames;
  intel: IntelDeps;
}

export function createActivities({ tracker, labels, intel }: ActivityDeps) {
  return { ...createReportActivities(tracker, labels), ...createIntelActivities(intel) };
}

export type Activities = ReturnType<typeof createActivities>;
