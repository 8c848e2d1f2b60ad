// `vigil schedules apply` and `list`, against the run's Temporal server: applying twice gives one
// schedule of each kind, brought up to date with the configuration.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { runVigil } from '../helpers/processes';
import { claimNamespace } from '../helpers/vigil';

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

    // Turned off in the configuration: the feed refresh schedule goes.
    await writeFile(configFile, 'temporal:\n  taskQueue: schedules-test\nintel:\n  feedRefresh:\n    enabled: false\n');
    expect((await run(['schedules', 'apply'], env)).code).toBe(0);
    const after = JSON.parse((await run(['schedules', 'list', '--json'], env)).output) as { id: string }[];
    expect(after.map((schedule) => schedule.id)).toEqual(['vigil-archive-sweeper']);
  });
});
