// Determinism: today's workflow code replays the recorded histories in test/histories: the demo's
// investigations, one with a repeat, a person closing and reopening its issue, re-checks and a
// continue-as-new (both runs), plus the sweeper, a re-scan and the feeds refresh. A change that would break
// investigations already running somewhere fails here; it needs `patched()` instead.
// Record them again with `vigil demo --once --save-histories test/histories` when a change is meant
// to be incompatible (and nothing runs the old code any more).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

const dir = path.resolve(import.meta.dirname, '../histories');
const files = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();

describe('recorded workflow histories', () => {
  it('are there to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(17);
  });

  it.each(files)('%s replays without nondeterminism', async (name) => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // Installed already in this process.
    }
    const history = JSON.parse(await readFile(path.join(dir, name), 'utf8'));
    await expect(Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundleCode') } }, history, name)).resolves.toBeUndefined();
  });
});
