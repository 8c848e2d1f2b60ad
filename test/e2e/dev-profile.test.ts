// `vigil dev --profile staging` on a Temporal server already running: the staging namespace is
// registered there, and staging keeps its state in a data folder of its own.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import getPort from 'get-port';
import { expect, inject, it } from 'vitest';
import { runVigil } from '../helpers/processes';
import { claimNamespace, eventually } from '../helpers/vigil';

it('runs the staging profile in its own namespace and data folder', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-dev-profile-'));
  const configFile = path.join(dataDir, 'vigil.yaml');
  const namespace = await claimNamespace();
  const stagingPort = await getPort();
  const token = 'staging-token-0123456789abcdef';
  // No feed refresh (it would download the public blocklists), no metrics endpoint (a fixed port).
  await writeFile(
    configFile,
    [
      `dataDir: ${dataDir}`,
      `temporal: { address: '${inject('temporalAddress')}', namespace: ${namespace} }`,
      `intake: { port: ${await getPort()} }`,
      'intel: { feedRefresh: { enabled: false } }',
      'screenshots: { enabled: false }',
      'metrics: { enabled: false }',
      'profiles:',
      `  staging: { intake: { port: ${stagingPort}, token: ${token} } }`,
    ].join('\n'),
  );
  const dev = runVigil(['dev', '--profile', 'staging'], { VIGIL_CONFIG: configFile, VIGIL_DATA_DIR: '', VIGIL_INTAKE_TOKEN: '', TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '' });
  try {
    await dev.waitFor(/Press Ctrl-C to stop/, 120_000);
    expect(dev.output()).toContain(`POST http://127.0.0.1:${stagingPort}/v1/alerts/<source>`);

    const response = await fetch(`http://127.0.0.1:${stagingPort}/v1/alerts/generic`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'staged', title: 'staged alert', severity: 'low' }),
    });
    expect(response.status).toBe(202);
    const { alerts } = (await response.json()) as { alerts: { workflowId: string; dispatched: boolean }[] };
    expect(alerts).toMatchObject([{ workflowId: 'alert/generic/staged', dispatched: true }]);

    // The investigation is in the staging namespace, and its archive in the staging data folder.
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const staging = new Client({ connection, namespace: `${namespace}-staging` });
      await eventually(async () => ((await staging.workflow.getHandle('alert/generic/staged').describe().catch(() => undefined)) ? true : undefined));
      const production = new Client({ connection, namespace });
      await expect(production.workflow.getHandle('alert/generic/staged').describe()).rejects.toThrow(/not found/i);
    } finally {
      await connection.close();
    }
    expect(existsSync(path.join(dataDir, 'profiles', 'staging', 'archive'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'archive'))).toBe(false);
  } finally {
    dev.child.kill('SIGINT');
    await dev.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
