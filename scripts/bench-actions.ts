// What one investigation costs Temporal: billable actions as Temporal Cloud counts them, and history
// size, for an actor alert, an exposure alert and a day of watching, plus the worker's CPU and the
// Temporal server's CPU per investigation. Measured on the bench's running stack, over loopback only.
//
// The counting rule is Temporal Cloud's (https://docs.temporal.io/cloud/actions), read from each
// run's event history the way the Temporal UI estimates it:
//   - a run started (client start, signal-with-start, continue-as-new): 1; 3 when a Schedule started it
//     (the Schedule's own 2, then the start);
//   - a signal: 1, except the one a signal-with-start delivered with the start (event 2, right after
//     the start: "one total action occurs for any Signal-With-Start");
//   - an activity scheduled: 1, and each retry: the `attempt` of its started event minus 1;
//   - a timer started (a `condition` with a timeout is one): 1;
//   - a search-attribute upsert: 1, except one that sets only `TemporalChangeVersion` (what `patched()` adds);
//   - local-activity markers: 1 per workflow task however many, plus the retries the task's metering
//     metadata reports (at most 100); `patched()`'s own markers: 0;
//   - a child workflow initiated: 2; an update accepted, a Nexus operation scheduled or cancelled,
//     execution options updated, a reset: 1 each; the continue-as-new event itself: 0 (its new run's start counts).
// Not in any history: queries (none here: this module never queries) and activity heartbeats, which
// count when they reach the server: those are read from the dev server's own `action` counter
// (its Prometheus endpoint) over each measurement, and added.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time.js';
import proto, { type temporal } from '@temporalio/proto';
import guardDutyFinding from '../demo/alerts/10-guardduty-ssh-brute-force.json';
import type { Config } from '../lib/config';
import { recheckNow } from '../lib/investigation';
import { round, sleep } from './bench-common';
import type { Stack } from './stack';

const { EventType, WorkflowTaskFailedCause } = proto.temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The static inventory file the bench's config names: written here, read by the worker at each investigation. */
const benchInventoryFile = (dataDir: string) => path.join(dataDir, 'bench-inventory.json');

/** What the bench's config needs for an exposure to be confirmed: the static inventory. */
export const benchActionsConfig = (dataDir: string) => ({ inventory: { static: { files: [benchInventoryFile(dataDir)] } } });

/** Billable actions of one run, from its history: `total` is the sum of the named parts. */
export interface ActionCount {
  total: number;
  parts: Record<string, number>;
}

const upsertedKeys = (event: HistoryEvent) => Object.keys(event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});

/** Temporal Cloud's billable actions in one run's history (the rule at the top of this file). */
export function countBillableActions(events: HistoryEvent[]): ActionCount {
  const parts: Record<string, number> = {};
  const add = (part: string, n: number) => {
    if (n > 0) parts[part] = (parts[part] ?? 0) + n;
  };
  const markerTasks = new Set<string>();
  events.forEach((event, index) => {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const scheduled = event.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields?.TemporalScheduledById !== undefined;
        add(scheduled ? 'scheduledStart' : 'start', scheduled ? 3 : 1);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        if (!(index === 1 && events[0]?.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)) add('signal', 1);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        add('activity', 1);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        add('activityRetry', (event.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED:
        add('timer', 1);
        break;
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const keys = upsertedKeys(event);
        if (!(keys.length === 1 && keys[0] === 'TemporalChangeVersion')) add('searchAttributes', 1);
        break;
      }
      case EventType.EVENT_TYPE_MARKER_RECORDED: {
        const { markerName, workflowTaskCompletedEventId } = event.markerRecordedEventAttributes ?? {};
        const task = String(workflowTaskCompletedEventId ?? '');
        if (markerName === 'core_patch' || markerName === 'Version' || markerTasks.has(task)) break;
        markerTasks.add(task);
        add('localActivities', 1);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        add('localActivityRetry', Math.min(event.workflowTaskCompletedEventAttributes?.meteringMetadata?.nonfirstLocalActivityExecutionAttempts ?? 0, 100));
        break;
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        add('childWorkflow', 2);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        add('update', 1);
        break;
      case EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED:
      case EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED:
        add('nexus', 1);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
        add('optionsUpdated', 1);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        if (event.workflowTaskFailedEventAttributes?.cause === WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW) add('reset', 1);
        break;
      default:
    }
  });
  return { total: Object.values(parts).reduce((sum, n) => sum + n, 0), parts };
}

/** One investigation as measured: its actions (every run, by part), history length and size (as the server reports them). */
interface Measured {
  actions: ActionCount;
  events: number;
  bytes: number;
}

/** Workflow tasks scheduled and not yet answered, from the history. */
function workflowTasksOutstanding(events: HistoryEvent[]): number {
  let outstanding = 0;
  for (const { eventType } of events) {
    if (eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) outstanding += 1;
    if (eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED || eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED || eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) outstanding -= 1;
  }
  return outstanding;
}

/**
 * Waits until the run has ended, or waits on nothing but its timer and signals: no activity pending,
 * no workflow task outstanding (an activity's completion and the next workflow task are written
 * together, as are a task's completion and the activities it schedules, so nothing falls between).
 * Read from describe and the history, not a query: a query is itself a billable action.
 */
async function idle(handle: WorkflowHandle, timeoutMs = 120_000): Promise<HistoryEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const description = await handle.describe();
    const events = (await handle.fetchHistory()).events ?? [];
    const waiting = events.some((event) => event.eventType === EventType.EVENT_TYPE_TIMER_STARTED);
    if (description.status.name !== 'RUNNING') return events;
    if (waiting && (description.raw.pendingActivities ?? []).length === 0 && workflowTasksOutstanding(events) === 0) return events;
    if (Date.now() > deadline) throw new Error(`${handle.workflowId} was still busy after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Every run of the investigation (a continue-as-new chain), counted and sized together. */
async function measureRuns(client: Client, workflowId: string): Promise<Measured> {
  const measured: Measured = { actions: { total: 0, parts: {} }, events: 0, bytes: 0 };
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const handle = client.workflow.getHandle(workflowId, run.runId);
    const history = (await handle.fetchHistory()).events ?? [];
    const { total, parts } = countBillableActions(history);
    measured.actions.total += total;
    for (const [part, n] of Object.entries(parts)) measured.actions.parts[part] = (measured.actions.parts[part] ?? 0) + n;
    const info = (await handle.describe()).raw.workflowExecutionInfo;
    measured.events += Number(info?.historyLength ?? history.length);
    measured.bytes += Number(info?.historySizeBytes ?? 0);
  }
  return measured;
}

/**
 * The dev server's Prometheus endpoint (on a free port it picks): found among the ports the server
 * process listens on, the process found by the gRPC port on its command line.
 */
function devServerMetricsPorts(grpcPort: number): { pid: number; ports: number[] } | undefined {
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const portAt = argv.indexOf('--port');
    if (!argv.includes('start-dev') || argv[portAt + 1] !== String(grpcPort)) continue;
    const sockets = new Set<string>();
    for (const fd of readdirSync(`/proc/${entry}/fd`)) {
      const target = (() => {
        try {
          return readlinkSync(`/proc/${entry}/fd/${fd}`);
        } catch {
          return '';
        }
      })();
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) sockets.add(inode);
    }
    const listening = ['tcp', 'tcp6'].flatMap((table) =>
      readFileSync(`/proc/${entry}/net/${table}`, 'utf8')
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/))
        // local address, state 0A (LISTEN), inode: one of the server's own sockets
        .filter((fields) => fields[3] === '0A' && sockets.has(fields[9] ?? ''))
        .map((fields) => parseInt(fields[1]!.split(':')[1]!, 16)),
    );
    return { pid: Number(entry), ports: [...new Set(listening)].filter((port) => port !== grpcPort) };
  }
  return undefined;
}

interface DevServer {
  pid: number;
  /**
   * Activity heartbeats that reached the server so far (its `action` counter's heartbeat calls), or
   * undefined without metrics. Read after the server's metrics have been flushed (every second).
   */
  heartbeats(): Promise<number | undefined>;
}

async function findDevServer(address: string, namespace: string): Promise<DevServer | undefined> {
  const found = devServerMetricsPorts(Number(address.split(':')[1]));
  if (!found) return undefined;
  const read = async (port: number) => {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    return response?.ok ? response.text() : undefined;
  };
  let metricsPort: number | undefined;
  for (const port of found.ports) {
    if ((await read(port))?.includes('# TYPE action ')) metricsPort = port;
  }
  return {
    pid: found.pid,
    async heartbeats() {
      if (metricsPort === undefined) return undefined;
      await sleep(2000);
      const text = await read(metricsPort);
      return text
        ?.split('\n')
        .filter((line) => line.startsWith('action{') && /action_type="grpc_RecordActivityTaskHeartbeat(ById)?"/.test(line) && line.includes(`namespace="${namespace}"`))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    },
  };
}

/** What `after` counted beyond `before`, part by part (the same investigation measured twice). */
function partsAfter(after: ActionCount, before: ActionCount): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after.parts)
      .map(([part, n]) => [part, n - (before.parts[part] ?? 0)] as const)
      .filter(([, n]) => n !== 0),
  );
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A full garbage collection, so that heap figures compare what is live (the flag set for this process at run time). */
function collectGarbage(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export interface ActionsBenchOptions {
  /** Investigations of each kind in the batch that measures CPU and memory. */
  batch?: number;
}

/**
 * Sends one actor alert (a GuardDuty finding) and one exposure alert (a security group the static
 * inventory maps to a loopback listener), measures each to its first report and its wait, then one
 * re-check; then a batch of each for CPU and memory. The stack's config must include
 * `benchActionsConfig(dataDir)`.
 */
export async function benchTemporalActions(stack: Stack, config: Config, { batch = 20 }: ActionsBenchOptions = {}): Promise<Record<string, number | string>> {
  const inventoryFile = (config.inventory.static as { files?: string[] } | undefined)?.files?.[0];
  if (!inventoryFile) throw new Error('the bench config has no static inventory: merge benchActionsConfig(dataDir) into it');
  const listener: Server = createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const port = (listener.address() as AddressInfo).port;
  const run = Date.now().toString(36);
  // One machine per exposure alert: investigations of one resource would be merged into one.
  const machines = batch + 1;
  await writeFile(
    inventoryFile,
    JSON.stringify({
      resources: Array.from({ length: machines }, (_, n) => ({ id: `vm-bench-${run}-${n}`, addresses: ['127.0.0.1'], refs: [`sg-bench-${run}-${n}`], open: [{ ports: port }] })),
    }),
  );
  const server = await findDevServer(stack.temporalAddress, config.temporal.namespace);
  const post = async (source: string, body: object) => {
    const response = await fetch(`${stack.intakeUrl}/v1/alerts/${source}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 202) throw new Error(`intake answered ${response.status}: ${await response.text()}`);
  };
  // A GuardDuty finding id of this run: 32 hex-like characters, distinct for every n.
  const actorId = (n: number) => `${run}f${n.toString(16).padStart(4, '0')}`.padEnd(32, '0');
  /** The GuardDuty finding as finding `n`; another `time` makes it another delivery of the same finding (a repeat). */
  const actor = (n: number, time = guardDutyFinding.time) => post('guardduty', { ...guardDutyFinding, time, detail: { ...guardDutyFinding.detail, id: actorId(n) } });
  const exposureId = (n: number) => `bench/exposure/${run}/${n}`;
  const exposure = (n: number) =>
    post('generic', {
      id: exposureId(n),
      title: `Security group sg-bench-${run}-${n} allows a port from 0.0.0.0/0`,
      severity: 'high',
      kind: 'exposure',
      resources: [{ type: 'aws:ec2:security-group', id: `sg-bench-${run}-${n}` }],
      network: { cidrs: ['0.0.0.0/0'], ports: [port], protocol: 'tcp' },
    });
  const handleOf = (workflowId: string) => stack.client.workflow.getHandle(workflowId);
  const actorWorkflow = (n: number) => `alert/guardduty/${actorId(n)}`;
  const exposureWorkflow = (n: number) => `alert/generic/${exposureId(n)}`;

  /** One alert alone: sent, waited for, counted, with the heartbeats that reached the server meanwhile. */
  const alone = async (send: () => Promise<void>, workflowId: string): Promise<Measured & { heartbeats?: number }> => {
    const before = await server?.heartbeats();
    await send();
    await idle(handleOf(workflowId));
    const after = await server?.heartbeats();
    return { ...(await measureRuns(stack.client, workflowId)), ...(before !== undefined && after !== undefined ? { heartbeats: after - before } : {}) };
  };
  const withHeartbeats = ({ actions, heartbeats = 0 }: { actions: ActionCount; heartbeats?: number }) => actions.total + heartbeats;
  const partsText = ({ actions, heartbeats }: { actions: ActionCount; heartbeats?: number }) =>
    Object.entries({ ...actions.parts, ...(heartbeats ? { heartbeats } : {}) })
      .map(([part, n]) => `${part} ${n}`)
      .join(', ');

  try {
    const actorAlert = await alone(() => actor(0), actorWorkflow(0));
    const exposureAlert = await alone(() => exposure(0), exposureWorkflow(0));
    // A repeat of the actor alert while its investigation waits: its signal, the occurrences comment, the new wait.
    const repeated = await alone(() => actor(0, new Date().toISOString()), actorWorkflow(0));
    const repeat = { actions: { total: repeated.actions.total - actorAlert.actions.total, parts: partsAfter(repeated.actions, actorAlert.actions) }, ...(repeated.heartbeats !== undefined ? { heartbeats: repeated.heartbeats } : {}) };

    // One re-check, as the watch's timer makes it: asked for with a signal (its action taken off),
    // which wakes the same loop the timer does (the timer cancelled, a new one started).
    const recheckAlone = await alone(() => handleOf(exposureWorkflow(0)).signal(recheckNow), exposureWorkflow(0));
    const recheckParts = partsAfter(recheckAlone.actions, exposureAlert.actions);
    recheckParts.signal = (recheckParts.signal ?? 0) - 1;
    if (recheckParts.signal === 0) delete recheckParts.signal;
    const recheck = { actions: { total: recheckAlone.actions.total - exposureAlert.actions.total - 1, parts: recheckParts }, ...(recheckAlone.heartbeats !== undefined ? { heartbeats: recheckAlone.heartbeats } : {}) };
    const checksPerDay = (severity: 'high' | 'critical') => (24 * 60 * 60_000) / msToNumber(config.watch.every[severity]);
    // A run continues as new every `checksPerRun` re-checks: its start and its watch-policy local
    // activity are the new run's own (its first timer is the wait a re-check counts).
    const continuedPerCheck = 2 / config.watch.checksPerRun;
    const watchDay = (severity: 'high' | 'critical') => round(checksPerDay(severity) * (withHeartbeats(recheck) + continuedPerCheck), 1);

    // A batch of each kind at once: CPU of this process (worker and intake) and of the server, and
    // the heap the investigations leave (cached workflows).
    const gc = collectGarbage();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const cpuBefore = process.cpuUsage();
    const serverCpuBefore = server ? cpuSecondsOf(server.pid) : undefined;
    const numbers = Array.from({ length: batch }, (_, n) => n + 1);
    await Promise.all(numbers.flatMap((n) => [actor(n), exposure(n)]));
    for (const n of numbers) {
      await idle(handleOf(actorWorkflow(n)));
      await idle(handleOf(exposureWorkflow(n)));
    }
    const cpu = process.cpuUsage(cpuBefore);
    const serverCpu = server && serverCpuBefore !== undefined ? cpuSecondsOf(server.pid) - serverCpuBefore : undefined;
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const investigations = 2 * batch;

    // A re-check of each exposure of the batch at once: what the watch costs between alerts.
    const recheckCpuBefore = process.cpuUsage();
    const recheckServerCpuBefore = server ? cpuSecondsOf(server.pid) : undefined;
    await Promise.all(numbers.map((n) => handleOf(exposureWorkflow(n)).signal(recheckNow)));
    for (const n of numbers) await idle(handleOf(exposureWorkflow(n)));
    const recheckCpu = process.cpuUsage(recheckCpuBefore);
    const recheckServerCpu = server && recheckServerCpuBefore !== undefined ? cpuSecondsOf(server.pid) - recheckServerCpuBefore : undefined;

    return {
      actionsActorAlert: withHeartbeats(actorAlert),
      actionsExposureAlert: withHeartbeats(exposureAlert),
      actionsPerRepeat: withHeartbeats(repeat),
      actionsPerRecheck: withHeartbeats(recheck),
      actionsWatchDay: watchDay('high'),
      actionsWatchDayCritical: watchDay('critical'),
      actionsActorAlertParts: partsText(actorAlert),
      actionsExposureAlertParts: partsText(exposureAlert),
      actionsPerRepeatParts: partsText(repeat),
      actionsPerRecheckParts: partsText(recheck),
      historyEventsActorAlert: actorAlert.events,
      historyBytesActorAlert: actorAlert.bytes,
      historyEventsExposureAlert: exposureAlert.events,
      historyBytesExposureAlert: exposureAlert.bytes,
      historyEventsPerRecheck: recheckAlone.events - exposureAlert.events,
      historyBytesPerRecheck: recheckAlone.bytes - exposureAlert.bytes,
      workerCpuMsPerInvestigation: round((cpu.user + cpu.system) / 1000 / investigations, 1),
      ...(serverCpu !== undefined ? { temporalCpuMsPerInvestigation: round((serverCpu * 1000) / investigations, 1) } : {}),
      workerCpuMsPerRecheck: round((recheckCpu.user + recheckCpu.system) / 1000 / batch, 1),
      ...(recheckServerCpu !== undefined ? { temporalCpuMsPerRecheck: round((recheckServerCpu * 1000) / batch, 1) } : {}),
      workerHeapKiBPerInvestigation: Math.round((heapAfter - heapBefore) / 1024 / investigations),
      actionsMeasured: `a GuardDuty actor alert and a high exposure alert (one loopback port, static inventory), each to its wait; a repeat of the actor alert; one re-check; a watching day is ${checksPerDay('high')} re-checks (high; critical ${checksPerDay('critical')}) and a continue-as-new every ${config.watch.checksPerRun}; heartbeats ${server ? "from the dev server's action counter" : 'not counted (no server metrics)'}; CPU and heap over ${batch} alerts of each kind at once, then a re-check of each of their exposures`,
    };
  } finally {
    listener.close();
  }
}
