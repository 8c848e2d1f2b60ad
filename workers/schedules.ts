// Vigil's Temporal Schedules, created or updated idempotently at worker start.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions, type ScheduleSummary } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { createInventoryProviders } from '../activities/context';
import type { InventoryProvider } from '../activities/context/types';
import type { FollowedScopes, RescanFollower } from '../activities/coverage';
import { rescanScopes, type ScopeRef } from '../activities/rescan';
import type { Config } from '../lib/config';

export const ARCHIVE_SWEEPER_SCHEDULE = 'vigil-archive-sweeper';
export const FEED_REFRESH_SCHEDULE = 'vigil-feed-refresh';
export const DISCOVERY_SCHEDULE = 'vigil-inventory-discovery';
const RESCAN_SCHEDULE_PREFIX = 'vigil-rescan/';

/** `vigil-rescan/<provider>/<scope>`, e.g. `vigil-rescan/aws/111122223333/eu-west-1`; blanks and control characters become `_`. */
export function rescanScheduleId({ provider, scope }: ScopeRef): string {
  return `${RESCAN_SCHEDULE_PREFIX}${provider}/${scope}`.replace(/[^\x21-\x7e]/g, '_');
}

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
    state: { note: 'Dispatches archived alerts that never reached Temporal (see docs/intake.md).' },
  };
}

function feedRefresh(config: Config): ScheduleOptions {
  return {
    scheduleId: FEED_REFRESH_SCHEDULE,
    spec: { intervals: [{ every: config.intel.feedRefresh.every }] },
    action: { type: 'startWorkflow', workflowType: 'refreshFeeds', args: [], taskQueue: config.temporal.taskQueue },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    state: { note: "Refreshes the local copies of the actor checks' blocklist feeds (see docs/actor-checks.md)." },
  };
}

function discovery(config: Config): ScheduleOptions {
  return {
    scheduleId: DISCOVERY_SCHEDULE,
    spec: { intervals: [{ every: config.discovery.every }] },
    action: { type: 'startWorkflow', workflowType: 'discoverInventory', args: [], taskQueue: config.temporal.taskQueue },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    state: { note: 'Discovers the accounts and projects the inventories cover, keeps an issue per coverage gap, and the re-scans in line (see docs/inventories.md).' },
  };
}

function rescan(config: Config, scope: ScopeRef): ScheduleOptions {
  return {
    scheduleId: rescanScheduleId(scope),
    spec: { intervals: [{ every: config.rescan.every }] },
    action: { type: 'startWorkflow', workflowType: 'rescanInventory', args: [scope], taskQueue: config.temporal.taskQueue },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    state: { note: `Looks for sensitive ports open to the internet in ${scope.provider} ${scope.scope} (see docs/watching-and-rescans.md).` },
  };
}

/** Providers that discover what they cover: their re-scans follow each discovery, not the configuration alone. */
const discovering = (inventory: readonly InventoryProvider[]) => inventory.filter((provider) => provider.discover).map((provider) => provider.name);

/** The schedules that also run once at worker start, so nothing waits for the first interval. */
function startupSchedules(config: Config, inventory: readonly InventoryProvider[]): ScheduleOptions[] {
  return [
    archiveSweeper(config),
    ...(config.intel.feedRefresh.enabled ? [feedRefresh(config)] : []),
    ...(discovering(inventory).length > 0 ? [discovery(config)] : []),
  ];
}

/**
 * Re-scans run on their interval only: at every worker start they would re-check (probe) every
 * known violation of every scope at once.
 */
function rescanSchedules(config: Config, inventory: readonly InventoryProvider[]): ScheduleOptions[] {
  if (!config.rescan.enabled) return [];
  return rescanScopes(inventory).map((scope) => rescan(config, scope));
}

async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  await client.schedule
    .getHandle(scheduleId)
    .delete()
    .catch((err: unknown) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    });
}

/** The re-scan schedules the server has (its list may lag a just-created one by a moment), of one provider or all. */
async function existingRescanSchedules(client: Client, provider?: string): Promise<ScheduleSummary[]> {
  const prefix = provider === undefined ? RESCAN_SCHEDULE_PREFIX : rescanScheduleId({ provider, scope: '' });
  const found: ScheduleSummary[] = [];
  for await (const summary of client.schedule.list()) if (summary.scheduleId.startsWith(prefix)) found.push(summary);
  return found;
}

const rescanScheduleIds = async (client: Client, provider?: string) => (await existingRescanSchedules(client, provider)).map((summary) => summary.scheduleId);

/** Creates each schedule, or brings an existing one up to date with the configuration. */
async function createOrUpdate(client: Client, schedules: readonly ScheduleOptions[]): Promise<void> {
  for (const options of schedules) {
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

const everyText = (every: unknown) => {
  const ms = Number(every);
  if (!Number.isFinite(ms)) return String(every);
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
};

export interface AppliedSchedules {
  /** Created or brought up to date, with their interval as configured. */
  applied: { id: string; every: string }[];
  /** Re-scans of scopes no longer configured. */
  deleted: string[];
}

/**
 * Creates each schedule, or brings an existing one up to date with the configuration; deletes the
 * ones the configuration no longer asks for (a turned-off feed refresh or discovery, the re-scan of a
 * scope that is gone), which must not go on running. The re-scans of a provider that discovers what
 * it covers are its discovery's to delete (`followScopes`): here they are only created for the scopes
 * its configuration names. Says what it did: the server's list of schedules may not show a
 * just-created one yet.
 */
export async function applySchedules(client: Client, config: Config): Promise<AppliedSchedules> {
  const inventory = await createInventoryProviders(config.inventory);
  if (!config.intel.feedRefresh.enabled) await deleteSchedule(client, FEED_REFRESH_SCHEDULE);
  if (discovering(inventory).length === 0) await deleteSchedule(client, DISCOVERY_SCHEDULE);
  const rescans = rescanSchedules(config, inventory);
  const wanted = new Set(rescans.map((options) => options.scheduleId));
  const followed = config.rescan.enabled ? discovering(inventory).map((provider) => rescanScheduleId({ provider, scope: '' })) : [];
  const deleted = (await rescanScheduleIds(client)).filter(
    (scheduleId) => !wanted.has(scheduleId) && !followed.some((prefix) => scheduleId.startsWith(prefix)),
  );
  for (const scheduleId of deleted) await deleteSchedule(client, scheduleId);
  const schedules = [...startupSchedules(config, inventory), ...rescans];
  await createOrUpdate(client, schedules);
  return { applied: schedules.map((options) => ({ id: options.scheduleId, every: everyText(options.spec.intervals?.[0]?.every) })), deleted };
}

/** Whether the server's schedule already is what the configuration asks (the arguments follow from its id). */
const isCurrent = (summary: ScheduleSummary, wanted: ScheduleOptions) =>
  summary.action?.workflowType === wanted.action.workflowType &&
  Number(summary.spec?.intervals?.[0]?.every) === msToNumber(wanted.spec.intervals![0]!.every);

/**
 * One provider's re-scan schedules in line with the scopes its discovery found: those missing
 * created, those that differ from the configuration updated, the others left untouched (850 scopes
 * cost one listing, not 850 updates). Those of scopes gone are deleted only when `prune` (the
 * discovery listed everything it covers). Nothing when re-scans are off.
 */
export async function followScopes(client: Client, config: Config, provider: string, scopes: readonly string[], { prune }: { prune: boolean }): Promise<FollowedScopes> {
  if (!config.rescan.enabled) return { created: [], deleted: [] };
  const schedules = scopes.map((scope) => rescan(config, { provider, scope }));
  const wanted = new Set(schedules.map((options) => options.scheduleId));
  const existing = new Map((await existingRescanSchedules(client, provider)).map((summary) => [summary.scheduleId, summary]));
  const deleted = prune ? [...existing.keys()].filter((scheduleId) => !wanted.has(scheduleId)) : [];
  for (const scheduleId of deleted) await deleteSchedule(client, scheduleId);
  const stale = schedules.filter((options) => {
    const summary = existing.get(options.scheduleId);
    return !summary || !isCurrent(summary, options);
  });
  await createOrUpdate(client, stale);
  return { created: [...wanted].filter((scheduleId) => !existing.has(scheduleId)), deleted };
}

/** The re-scans of the discovering providers, for the discovery's activities (activities/coverage). */
export function rescanFollower(client: Client, config: Config): RescanFollower {
  const prefixOf = (provider: string) => rescanScheduleId({ provider, scope: '' });
  return {
    follow: (provider, scopes, options) => followScopes(client, config, provider, scopes, options),
    // The scope is the schedule's argument; its id spells it, but with blanks replaced.
    known: async (provider) =>
      config.rescan.enabled ? (await rescanScheduleIds(client, provider)).map((scheduleId) => scheduleId.slice(prefixOf(provider).length)) : [],
  };
}

/** Runs every schedule once now (worker start): nothing waits for the first interval. */
export async function runSchedulesNow(client: Client, config: Config): Promise<void> {
  for (const { scheduleId } of startupSchedules(config, await createInventoryProviders(config.inventory))) {
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


/** Every schedule Vigil may have made, as the server has it, with its next run; re-scans by scope. */
export async function listSchedules(client: Client): Promise<ScheduleStatus[]> {
  const statuses: ScheduleStatus[] = [];
  const rescans = (await rescanScheduleIds(client)).sort();
  for (const id of [ARCHIVE_SWEEPER_SCHEDULE, FEED_REFRESH_SCHEDULE, DISCOVERY_SCHEDULE, ...rescans]) {
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
