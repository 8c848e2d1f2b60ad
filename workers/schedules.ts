// Vigil's Temporal Schedules, created or updated idempotently at worker start.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../lib/config';

export const ARCHIVE_SWEEPER_SCHEDULE = 'vigil-archive-sweeper';

function archiveSweeper(config: Config): ScheduleOptions {
  return {
    scheduleId: ARCHIVE_SWEEPER_SCHEDULE,
    spec: { intervals: [{ every: config.sweeper.every }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'sweepArchive',
      args: [{ lookbackDays: config.sweeper.lookbackDays }],
      taskQueue: config.temporal.taskQueue,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    state: { note: 'Dispatches archived alerts that never reached Temporal (see README).' },
  };
}

/** Creates each schedule, or brings an existing one up to date with the configuration. */
export async function applySchedules(client: Client, config: Config): Promise<void> {
  for (const options of [archiveSweeper(config)]) {
    try {
      await client.schedule.create(options);
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(options.scheduleId).update((previous) => ({
        ...previous,
        spec: options.spec,
        action: options.action,
        policies: options.policies,
      }));
    }
  }
}

/** Runs the sweeper now (worker start), on top of its schedule. */
export async function sweepNow(client: Client): Promise<void> {
  await client.schedule.getHandle(ARCHIVE_SWEEPER_SCHEDULE).trigger(ScheduleOverlapPolicy.SKIP);
}
