// The floor under intake's throughput (scripts/bare-intake.ts): it answers only a delivery with the
// token, keeps the body in a file of its own, and starts the alert's investigation as intake would.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { answering, benchAlert, postAlert, spawnNode, type VigilProcess } from '../../scripts/bench-common';
import { claimNamespace } from '../helpers/vigil';

const token = randomUUID();
let dir: string;
let port: number;
let floor: VigilProcess;
let client: Client;
let taskQueue: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bare-intake-'));
  port = await getPort();
  const namespace = await claimNamespace();
  taskQueue = `bare-intake-${randomUUID()}`;
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }), namespace });
  const script = path.join(import.meta.dirname, '../../scripts/bare-intake.ts');
  floor = spawnNode(['--import', 'tsx', script, String(port), token, inject('temporalAddress'), namespace, taskQueue, dir]);
  await answering(floor, `http://127.0.0.1:${port}/`);
});

afterAll(async () => {
  await floor?.stop();
  await client?.connection.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the bare intake', () => {
  it('keeps the body and starts the investigation before it answers 202', async () => {
    await postAlert(`http://127.0.0.1:${port}`, token, benchAlert('floor/one'));
    const [file] = await readdir(dir);
    expect(JSON.parse(await readFile(path.join(dir, file!), 'utf8'))).toMatchObject({ fingerprint: 'floor/one' });
    const description = await client.workflow.getHandle('alert/generic/floor/one').describe();
    expect(description.taskQueue).toBe(taskQueue);
  });

  it('refuses a delivery without the token, and keeps nothing of it', async () => {
    const kept = (await readdir(dir)).length;
    await expect(postAlert(`http://127.0.0.1:${port}`, 'not-the-token', benchAlert('floor/two'))).rejects.toThrow('intake answered 401');
    expect(await readdir(dir)).toHaveLength(kept);
  });
});
