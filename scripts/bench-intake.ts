// Intake's throughput: deliveries per second through `vigil intake` against a bare signalWithStart
// loop of the same alerts on the same server (aim ≥ 0.9), and against the floor under any intake
// (scripts/bare-intake.ts: Node's http server, one file, the same dispatch). As production runs it
// (docker-compose.yml), intake is a process of its own, and so is the floor; the bare loop runs in
// the bench's process, whose other work meanwhile is sending the deliveries (the throwaway stack's
// worker and intake there are idle). No worker polls the part's task queue: what is measured is
// taking alerts in, not investigating them (the burst measures both at once), and a worker's
// investigations, started by whichever side went just before, would weigh on whichever went next.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import getPort from 'get-port';
import { createLocalArchive } from '../activities/archive/local';
import { createDispatcher } from '../intake/dispatch';
import { investigationWorkflowId } from '../lib/workflow-id';
import { answering, benchAlert, cpuTimes, inParallel, median, postAlert, round, spawnNode, spawnVigil, type VigilProcess } from './bench-common';
import type { BenchStack } from './bench';
import { buildCompiledCli } from './build-cli';

/** The orders the three sides take turns in: each goes just before and just after each other alike. */
const ORDERS = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];
/** Rounds of each side: every order twice. */
const ROUNDS = 2 * ORDERS.length;
/** Rounds of the archive record against the bare intake's one file. */
const RECORD_ROUNDS = 6;

interface Side {
  /** Delivers alert n of this side. */
  deliver(n: number): Promise<void>;
  /** The process doing this side's work apart from the bench's (none for the bare loop). */
  pid?: number;
  /** Deliveries per second, one per round. */
  rates: number[];
  cpu: { userMs: number; systemMs: number };
}

const side = (deliver: Side['deliver'], pid?: number): Side => ({ deliver, pid, rates: [], cpu: { userMs: 0, systemMs: 0 } });

export async function benchIntake(
  { deliveries, concurrency }: { deliveries: number; concurrency: number },
  { stack, config, rawConfig, dataDir }: BenchStack,
): Promise<Record<string, number>> {
  const taskQueue = `${config.temporal.taskQueue}-bench-intake`;
  const [intakePort, floorPort] = [await getPort(), await getPort()];
  const configFile = path.join(dataDir, 'bench-intake-config.json');
  const temporal = { ...(rawConfig.temporal as object), taskQueue };
  // Its metrics on a free port: the stack's intake in this process serves the default one.
  await writeFile(configFile, JSON.stringify({ ...rawConfig, temporal, intake: { port: intakePort }, metrics: { ports: { intake: 0 } } }));
  const floorDir = path.join(dataDir, 'bare-intake');
  await mkdir(floorDir, { recursive: true });
  // Intake runs what production runs: the compiled CLI.
  await buildCompiledCli();
  const processes: VigilProcess[] = [];
  const started = (child: VigilProcess) => (processes.push(child), child);
  try {
    const intake = started(spawnVigil(['intake'], configFile));
    await answering(intake, `http://127.0.0.1:${intakePort}/healthz`);
    const floorArgs = [String(floorPort), stack.token, config.temporal.address, config.temporal.namespace, taskQueue, floorDir];
    const floor = started(spawnNode(['--import', 'tsx', path.join(import.meta.dirname, 'bare-intake.ts'), ...floorArgs]));
    await answering(floor, `http://127.0.0.1:${floorPort}/`);
    const dispatch = createDispatcher(stack.client, { taskQueue, timeoutMs: 10_000 });
    const baseline = side(async (n) => void (await dispatch(benchAlert(`bench/base/${n}`), investigationWorkflowId('generic', `bench/base/${n}`))));
    const floorSide = side((n) => postAlert(`http://127.0.0.1:${floorPort}`, stack.token, benchAlert(`bench/floor/${n}`)), floor.child.pid);
    const intakeSide = side(
      (n) => postAlert(`http://127.0.0.1:${intakePort}`, stack.token, { id: `bench/intake/${n}`, title: `bench intake ${n}`, severity: 'low' }),
      intake.child.pid,
    );
    const sides = [baseline, floorSide, intakeSide];
    const perRound = Math.ceil(deliveries / ROUNDS);
    // Warm every path (connections, JIT) before timing it.
    for (const each of sides) await inParallel(perRound, concurrency, (n) => each.deliver(-1 - n));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const turn of ORDERS[round % ORDERS.length]!) {
        const current = sides[turn]!;
        const own = process.cpuUsage();
        const before = current.pid ? cpuTimes(current.pid) : undefined;
        current.rates.push(perRound / (await inParallel(perRound, concurrency, (n) => current.deliver(round * perRound + n))));
        // The bare loop's cost is the bench's process's; the others', their own process's (the sender's is neither).
        const spent = process.cpuUsage(own);
        const after = current.pid ? cpuTimes(current.pid) : undefined;
        current.cpu.userMs += before && after ? after.userMs - before.userMs : spent.user / 1000;
        current.cpu.systemMs += before && after ? after.systemMs - before.systemMs : spent.system / 1000;
      }
    }
    // Each ratio is the median of the rounds' own (the sides of one round ran moments apart), not
    // the ratio of the medians of the rates.
    const over = (a: Side, b: Side) => round(median(a.rates.map((rate, n) => rate / b.rates[n]!)));
    const perAlert = (ms: number) => round(ms / (ROUNDS * perRound));
    return {
      baselineSignalWithStartPerSecond: Math.round(median(baseline.rates)),
      intakeDeliveriesPerSecond: Math.round(median(intakeSide.rates)),
      intakeFloorDeliveriesPerSecond: Math.round(median(floorSide.rates)),
      intakeOverBaseline: over(intakeSide, baseline),
      intakeFloorOverBaseline: over(floorSide, baseline),
      intakeOverFloor: over(intakeSide, floorSide),
      baselineCpuMsPerAlert: perAlert(baseline.cpu.userMs + baseline.cpu.systemMs),
      intakeFloorCpuMsPerAlert: perAlert(floorSide.cpu.userMs + floorSide.cpu.systemMs),
      intakeFloorSystemCpuMsPerAlert: perAlert(floorSide.cpu.systemMs),
      intakeCpuMsPerAlert: perAlert(intakeSide.cpu.userMs + intakeSide.cpu.systemMs),
      intakeSystemCpuMsPerAlert: perAlert(intakeSide.cpu.systemMs),
    };
  } finally {
    for (const child of processes) await child.stop();
  }
}

/**
 * What intake keeps of each alert against what the bare intake keeps, alone, in this process: the
 * archive's record (body, metadata and index entry, each written whole; then settled as dispatched)
 * against one new file of the same body. CPU per alert, the kernel's included; the median of rounds
 * that alternate which goes first, in the bench's data folder (the file system intake's archive is on).
 */
export async function benchArchiveRecord({ deliveries, concurrency }: { deliveries: number; concurrency: number }, dataDir: string): Promise<Record<string, number>> {
  const archive = createLocalArchive(path.join(dataDir, 'bench-archive-record'));
  const bareDir = path.join(dataDir, 'bench-bare-write');
  await mkdir(bareDir, { recursive: true });
  const body = (n: number) => Buffer.from(JSON.stringify({ id: `bench/record/${n}`, title: `bench intake ${n}`, severity: 'low' }));
  const sides = {
    record: async (n: number) => {
      const { id } = await archive.put({ source: 'generic', body: body(n), contentType: 'application/json', headers: { 'content-type': 'application/json' } });
      await archive.markDispatched(id, [`bench/record/${n}`]);
    },
    bareWrite: (n: number) => writeFile(path.join(bareDir, `${randomUUID()}.json`), body(n)),
  };
  const perRound = Math.ceil(deliveries / RECORD_ROUNDS);
  const msPerAlert = { record: [] as number[], bareWrite: [] as number[] };
  for (let round = 0; round < RECORD_ROUNDS; round += 1) {
    // Each side first in every other round: neither always meets the other's writes still being flushed.
    for (const name of round % 2 === 0 ? (['record', 'bareWrite'] as const) : (['bareWrite', 'record'] as const)) {
      const before = process.cpuUsage();
      await inParallel(perRound, concurrency, (n) => sides[name](round * perRound + n));
      const spent = process.cpuUsage(before);
      msPerAlert[name].push((spent.user + spent.system) / 1000 / perRound);
    }
  }
  return { archiveRecordCpuMsPerAlert: round(median(msPerAlert.record)), bareWriteCpuMsPerAlert: round(median(msPerAlert.bareWrite)) };
}
