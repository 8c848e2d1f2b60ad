// Workflow code is bundled the way the worker bundles it, so a forbidden import fails CI here.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowsPath } from '../../workers/main-worker';

const logger = new DefaultLogger('ERROR');

describe('workflow bundle', () => {
  it('bundles every workflow', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath, logger });
    expect(code).toContain('investigateAlert');
  });

  it('fails on workflow code that imports a Node built-in', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bad-workflow-'));
    const file = path.join(dir, 'index.ts');
    await writeFile(file, "import { readFileSync } from 'node:fs';\nexport async function bad() { return readFileSync('/etc/hostname', 'utf8'); }\n");
    const reported: string[] = [];
    const collecting = new DefaultLogger('ERROR', ({ message, meta }) => reported.push(`${message} ${JSON.stringify(meta)}`));
    await expect(bundleWorkflowCode({ workflowsPath: file, logger: collecting })).rejects.toThrow(/Webpack finished with errors/);
    expect(reported.join('\n')).toMatch(/node:fs/);
  });
});
