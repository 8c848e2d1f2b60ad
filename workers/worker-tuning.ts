// The main worker's slots and pollers, from the `worker` settings (lib/config.ts says why these defaults).
import type { WorkerOptions } from '@temporalio/worker';
import type { WorkerSettings } from '../lib/config';

export function workerTuning(settings: WorkerSettings): Partial<WorkerOptions> {
  const pollers = { type: 'autoscaling', minimum: 2, maximum: settings.maxTaskPollers } as const;
  return {
    maxConcurrentWorkflowTaskExecutions: settings.maxConcurrentWorkflowTaskExecutions,
    maxConcurrentActivityTaskExecutions: settings.maxConcurrentActivityTaskExecutions,
    nonStickyToStickyPollRatio: settings.nonStickyToStickyPollRatio,
    workflowTaskPollerBehavior: pollers,
    activityTaskPollerBehavior: pollers,
  };
}
