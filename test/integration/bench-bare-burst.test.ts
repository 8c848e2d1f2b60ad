// The burst's floor (scripts/bare-sdk-burst.mjs through benchBareBurst): a bare SDK process on the
// test server signalWithStarts its workflows, each writes its comment file, and the figures cover
// every alert, the server's CPU included.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { benchBareBurst } from '../../scripts/bench-burst';
import { claimNamespace } from '../helpers/vigil';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bare-burst-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('benchBareBurst', () => {
  it("times every alert's comment file and says the CPU spent on it", async () => {
    const figures = await benchBareBurst({
      address: inject('temporalAddress'),
      namespace: await claimNamespace(),
      taskQueue: `bare-burst-${randomUUID()}`,
      dir,
      alerts: 20,
      concurrency: 5,
      // Any process's CPU is read the same way: this one's stands in for the server's.
      serverPid: process.pid,
    });
    expect(await readdir(path.join(dir, 'comments'))).toHaveLength(20);
    expect(figures.burstBaselineFirstCommentP50Ms).toBeLessThanOrEqual(figures.burstBaselineFirstCommentP95Ms);
    expect(figures).toMatchObject({ burstBaselineSdkCpuMsPerAlert: expect.any(Number), burstBaselineServerCpuMsPerAlert: expect.any(Number) });
  });
});
