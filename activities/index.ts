// Every activity the main worker registers, built from a small deps object so tests can swap a
// component for a real one of their own (another data folder, another tracker).
import type { Client } from '@temporalio/client';
import type { CorrelationSettings, LabelNames, ProbeSettings, ResponseSettings, WatchSettings } from '../lib/config';
import type { BlobStore } from './archive/records';
import { createContextActivities } from './context';
import { createCorrelationActivities } from './correlation';
import type { InventoryProvider } from './context/types';
import { createIntelActivities, type IntelDeps } from './intel/activities';
import { createExposureActivities } from './probe/exposures';
import type { ProbeScope } from './probe/scope';
import type { AcceptedRisks } from './response/accepted-risk';
import { createResponseActivities } from './response';
import type { RemediationExecutor } from './response/types';
import { createReportActivities } from './tracker/report';
import type { Tracker } from './tracker/types';
import { createWatchActivities } from './watch-policy';

export interface ActivityDeps {
  tracker: Tracker;
  labels: LabelNames;
  intel: IntelDeps;
  inventory: readonly InventoryProvider[];
  probe: { settings: ProbeSettings; scope: ProbeScope };
  /** Whether a browser worker takes screenshots of the web pages found. */
  screenshots: boolean;
  /** Where the browser worker stores screenshots. */
  artifacts: BlobStore;
  watch: WatchSettings;
  /** For correlation: visibility queries, and signals to related investigations. */
  client: Client;
  correlation: CorrelationSettings;
  /** Remediation: its settings, the executors (one per provider), where steps are audited and accepted risks kept. */
  response: { settings: ResponseSettings; executors: readonly RemediationExecutor[]; audit: BlobStore; accepted: AcceptedRisks };
}

export function createActivities({ tracker, labels, intel, inventory, probe, screenshots, artifacts, watch, client, correlation, response }: ActivityDeps) {
  return {
    ...createReportActivities({ tracker, labels, artifacts }),
    ...createIntelActivities(intel),
    ...createContextActivities(inventory),
    ...createExposureActivities(probe.settings, probe.scope, { screenshots }),
    ...createWatchActivities(watch, response.settings),
    ...createCorrelationActivities({ client, tracker, suppressLabel: labels.suppress, settleMs: correlation.settleMs }),
    ...createResponseActivities({ ...response, tracker, labels }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
