// `vigil schedules apply`, `list` and `run`, against the run's Temporal server: applying twice gives one
// schedule of each kind, brought up to date with the configuration; re-scans follow the inventory.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { runVigil } from '../helpers/processes';
import { claimNamespace, eventually } from '../helpers/vigil';

async function run(args: string[], env: Record<string, string>) {
  const command = runVigil(args, env);
  return { code: await command.exited, output: command.output() };
}

describe('vigil schedules', () => {
  it('applies idempotently and lists each schedule once, with its next run', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-schedules-'));
    const configFile = path.join(dir, 'vigil.yaml');
    const env = {
      VIGIL_CONFIG: configFile,
      VIGIL_DATA_DIR: dir,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: await claimNamespace(),
    };
    await writeFile(configFile, 'temporal:\n  taskQueue: schedules-test\nsweeper:\n  every: 10m\n');
    expect((await run(['schedules', 'list'], env)).output).toContain('no schedules yet');

    const first = await run(['schedules', 'apply'], env);
    expect(first.code).toBe(0);
    expect(first.output).toContain('applied vigil-archive-sweeper (every 10m)');
    await writeFile(configFile, 'temporal:\n  taskQueue: schedules-test\nsweeper:\n  every: 15m\n');
    expect((await run(['schedules', 'apply'], env)).code).toBe(0);

    const listed = await run(['schedules', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    const schedules = JSON.parse(listed.output) as { id: string; workflowType: string; every: string; nextRun: string }[];
    expect(schedules.map(({ id, workflowType, every }) => ({ id, workflowType, every }))).toEqual([
      { id: 'vigil-archive-sweeper', workflowType: 'sweepArchive', every: '15m' },
      { id: 'vigil-feed-refresh', workflowType: 'refreshFeeds', every: '1h' },
    ]);
    for (const schedule of schedules) expect(Date.parse(schedule.nextRun)).toBeGreaterThan(Date.now());

    // An inventory: one re-scan schedule per scope, listed with its next run.
    const inventory = path.join(dir, 'inventory.yaml');
    await writeFile(inventory, 'resources: []\n');
    await writeFile(configFile, `temporal:\n  taskQueue: schedules-test\ninventory:\n  static:\n    files: [${JSON.stringify(inventory)}]\nrescan:\n  every: 6h\n`);
    const applied = await run(['schedules', 'apply'], env);
    expect(applied.code).toBe(0);
    expect(applied.output).toContain('applied vigil-rescan/static/static (every 6h)');
    // The server's list of schedules may lag a just-created one by a moment.
    const rescan = await eventually(async () => {
      const listed = JSON.parse((await run(['schedules', 'list', '--json'], env)).output) as { id: string; workflowType: string; nextRun: string }[];
      return listed.find((schedule) => schedule.id === 'vigil-rescan/static/static');
    }, 30_000);
    expect(rescan.workflowType).toBe('rescanInventory');
    expect(Date.parse(rescan.nextRun)).toBeGreaterThan(Date.now());
    // Run now, without waiting for its time (no worker here: the run is started, which is what counts).
    const ran = await run(['schedules', 'run', 'vigil-rescan/static/static'], env);
    expect(ran.code).toBe(0);
    await eventually(async () => {
      const listed = JSON.parse((await run(['schedules', 'list', '--json'], env)).output) as { id: string; lastRun?: string }[];
      return listed.find((schedule) => schedule.id === 'vigil-rescan/static/static')?.lastRun;
    }, 30_000);
    const unknown = await run(['schedules', 'run', 'vigil-rescan/static/nowhere'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain('no schedule vigil-rescan/static/nowhere');

    // Turned off in the configuration: the feed refresh schedule goes; without an inventory, so do re-scans.
    await writeFile(configFile, 'temporal:\n  taskQueue: schedules-test\nintel:\n  feedRefresh:\n    enabled: false\n');
    const trimmed = await run(['schedules', 'apply'], env);
    expect(trimmed.code).toBe(0);
    expect(trimmed.output).toContain('deleted vigil-rescan/static/static');
    const after = JSON.parse((await run(['schedules', 'list', '--json'], env)).output) as { id: string }[];
    expect(after.map((schedule) => schedule.id)).toEqual(['vigil-archive-sweeper']);
    // A dozen runs of the CLI, each a fresh Node process.
  }, 180_000);
});
