// Vigil's Temporal Schedules, created or updated idempotently at worker start.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../lib/config';

export const ARCHIVE_SWEEPER_SCHEDULE = 'vigil-archive-sweeper';
export const FEED_REFRESH_SCHEDULE = 'vigil-feed-refresh';

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

function feedRefresh(config: Config): ScheduleOptions {
  return {
    scheduleId: FEED_REFRESH_SCHEDULE,
    spec: { intervals: [{ every: config.intel.feedRefresh.every }] },
    action: { type: 'startWorkflow', workflowType: 'refreshFeeds', args: [], taskQueue: config.temporal.taskQueue },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    state: { note: "Refreshes the local copies of the actor checks' blocklist feeds (see README)." },
  };
}

/** The schedules the configuration asks for. */
function schedulesFor(config: Config): ScheduleOptions[] {
  return [archiveSweeper(config), ...(config.intel.feedRefresh.enabled ? [feedRefresh(config)] : [])];
}

/** Creates each schedule, or brings an existing one up to date with the configuration. */
export async function applySchedules(client: Client, config: Config): Promise<void> {
  if (!config.intel.feedRefresh.enabled) {
    // Turned off in the configuration: a schedule left from before must not go on fetching.
    await client.schedule
      .getHandle(FEED_REFRESH_SCHEDULE)
      .delete()
      .catch((err: unknown) => {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      });
  }
  for (const options of schedulesFor(config)) {
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

/** Runs every schedule once now (worker start): nothing waits for the first interval. */
export async function runSchedulesNow(client: Client, config: Config): Promise<void> {
  for (const { scheduleId } of schedulesFor(config)) {
    await client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
  }
}

export interface ScheduleStatus {
  id: string;
  workflowType: string;
  every: string;
  paused: boolean;
  nextRun?: string;
  lastRun?: string;
}

const everyText = (every: unknown) => {
  const ms = Number(every);
  if (!Number.isFinite(ms)) return String(every);
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
};

/** Every schedule Vigil may have made, as the server has it, with its next run. */
export async function listSchedules(client: Client): Promise<ScheduleStatus[]> {
  const statuses: ScheduleStatus[] = [];
  for (const id of [ARCHIVE_SWEEPER_SCHEDULE, FEED_REFRESH_SCHEDULE]) {
    try {
      const { action, spec, state, info } = await client.schedule.getHandle(id).describe();
      statuses.push({
        id,
        workflowType: action.workflowType,
        every: everyText(spec.intervals?.[0]?.every),
        paused: state.paused,
        nextRun: info.nextActionTimes[0]?.toISOString(),
        lastRun: info.recentActions.at(-1)?.takenAt.toISOString(),
      });
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return statuses;
}
