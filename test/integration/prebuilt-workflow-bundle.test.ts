// The workflow bundle `vigil build` makes (workers/workflow-bundle.ts): remade only when a file it was
// made from changed, never used once one did, and what a worker started without a bundle of its own
// loads to run a real workflow.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configSchema } from '../../lib/config';
import { createMainWorker } from '../../workers/main-worker';
import { buildWorkflowBundle, checkWorkflowBundle } from '../../workers/workflow-bundle';
import { claimNamespace, loopbackOnlyProbes } from '../helpers/vigil';

const projectRoot = path.resolve(import.meta.dirname, '..', '..');

describe('a prebuilt workflow bundle', () => {
  let dir: string;
  let workflows: string;
  let bundleDir: string;

  beforeAll(async () => {
    // Workflow sources of the test's own, which resolve @temporalio/workflow from the project's node_modules.
    dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bundle-'));
    await symlink(path.join(projectRoot, 'node_modules'), path.join(dir, 'node_modules'));
    workflows = path.join(dir, 'index.ts');
    bundleDir = path.join(dir, '.build');
    await writeFile(workflows, "import { greeting } from './greeting';\nexport async function greet(name: string): Promise<string> {\n  return greeting(name);\n}\n");
    await writeFile(path.join(dir, 'greeting.ts'), 'export const greeting = (name: string) => `hello ${name}`;\n');
    await writeFile(path.join(dir, 'unrelated.ts'), 'export const unrelated = 1;\n');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is made when missing, kept while its sources are unchanged, and remade once one changed', async () => {
    const location = { dir: bundleDir, workflowsPath: workflows };
    expect(await checkWorkflowBundle(location)).toEqual({ fresh: false, reason: expect.stringContaining('there is no workflow bundle') });

    const first = await buildWorkflowBundle(location);
    expect(first.built).toBe(true);
    expect(await checkWorkflowBundle(location)).toEqual({ fresh: true, codePath: first.codePath });
    expect(await readFile(first.codePath, 'utf8')).toContain('hello ${name}');

    // Nothing it was made from changed (a file it does not import did): kept as it is.
    await writeFile(path.join(dir, 'unrelated.ts'), 'export const unrelated = 2;\n');
    const madeAt = (await stat(first.codePath)).mtimeMs;
    expect(await buildWorkflowBundle(location)).toEqual({ codePath: first.codePath, built: false });
    expect((await stat(first.codePath)).mtimeMs).toBe(madeAt);

    // A file the workflows import changed: stale, with the file named, until it is remade.
    await writeFile(path.join(dir, 'greeting.ts'), 'export const greeting = (name: string) => `good morning ${name}`;\n');
    expect(await checkWorkflowBundle(location)).toEqual({ fresh: false, reason: `${path.join(dir, 'greeting.ts')} changed since the workflow bundle was made` });
    expect((await buildWorkflowBundle(location)).built).toBe(true);
    expect(await checkWorkflowBundle(location)).toEqual({ fresh: true, codePath: first.codePath });
    expect(await readFile(first.codePath, 'utf8')).toContain('good morning ${name}');

    // A manifest that is not one (a hand edit, a disk error): no bundle, until it is remade.
    await writeFile(path.join(bundleDir, 'workflow-bundle.json'), '{"entry": 1}\n');
    expect(await checkWorkflowBundle(location)).toMatchObject({ fresh: false, reason: expect.stringContaining('cannot be read') });
    expect((await buildWorkflowBundle(location)).built).toBe(true);

    // One it was made from is gone, or it is asked for other workflows: not this bundle.
    expect(await checkWorkflowBundle({ dir: bundleDir, workflowsPath: path.join(dir, 'unrelated.ts') })).toMatchObject({ fresh: false });
    await rm(path.join(dir, 'greeting.ts'));
    expect(await checkWorkflowBundle(location)).toMatchObject({ fresh: false, reason: expect.stringContaining('greeting.ts') });
  });
});

describe('a main worker started without a bundle of its own', () => {
  beforeAll(() => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // Installed already in this process.
    }
  });

  it('loads the one `vigil build` made and runs a real workflow on it', async () => {
    // As `vigil setup` makes it: in .build/, unless it is up to date there already.
    await buildWorkflowBundle();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-prebuilt-worker-'));
    const config = configSchema.parse({
      dataDir,
      temporal: { address: inject('temporalAddress'), namespace: await claimNamespace(), taskQueue: `prebuilt-${randomUUID()}` },
      probe: loopbackOnlyProbes,
      screenshots: { enabled: false },
    });
    const warnings: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        warnings.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
        done();
      },
    });
    const connection = await Connection.connect({ address: config.temporal.address });
    const workerConnection = await NativeConnection.connect({ address: config.temporal.address });
    try {
      const client = new Client({ connection, namespace: config.temporal.namespace });
      const worker = await createMainWorker({ config, connection: workerConnection, client, logger: pino({ level: 'warn' }, sink) });
      const summary = await worker.runUntil(
        client.workflow.execute('sweepArchive', { taskQueue: config.temporal.taskQueue, workflowId: `sweep-${randomUUID()}`, args: [{ lookbackDays: 1 }] }),
      );
      expect(summary).toMatchObject({ examined: 0, dispatched: 0 });
      expect(warnings.filter((message) => message.includes('bundling the workflows at start'))).toEqual([]);
    } finally {
      await workerConnection.close();
      await connection.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
