// The watch over an open exposure, days of it in seconds on the time-skipping test server: real
// probes of real loopback listeners that the test closes one by one, the real local tracker, and the
// workflow's own timers.
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Worker, WorkerOptions } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { localTrackerRoot } from '../../activities/tracker';
import { createLocalTracker } from '../../activities/tracker/local';
import type { NormalizedAlert } from '../../lib/alert';
import { configSchema, type Config } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { createMainWorker } from '../../workers/main-worker';
import { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { alertReceived, issueChanged, progressQuery, recheckNow, type InvestigationProgress } from '../../lib/investigation';
import { createIssueSignaller } from '../../intake/issue-signals';
import { VigilFailure } from '../../lib/search-attributes';
import { queryPatiently, timeSkippingServerPerTest } from '../helpers/time-skipping';
import { loopbackOnlyProbes } from '../helpers/vigil';

const timeSkipping = timeSkippingServerPerTest();

async function listener(): Promise<Server> {
  const server = createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}
const portOf = (server: Server) => (server.address() as AddressInfo).port;
const close = (server: Server) => new Promise((resolve) => server.close(resolve));

interface Watched {
  config: Config;
  /** Closes the listener and removes its port from the inventory: what a remediation does. */
  revoke(server: Server): Promise<void>;
  alert: NormalizedAlert;
  worker: Worker;
  running: Promise<void>;
  servers: Server[];
  comments(): Promise<string[]>;
  labels(): Promise<string[]>;
  state(): Promise<'open' | 'closed'>;
  progress(): Promise<InvestigationProgress>;
  workflowId: string;
  stop(): Promise<void>;
}

let sequence = 0;

/** An exposure alert whose static inventory declares two loopback ports, both listening. */
async function startWatched(watch: Record<string, unknown>, interceptors?: WorkerOptions['interceptors']): Promise<Watched> {
  const servers = [await listener(), await listener()];
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-watch-'));
  const inventory = path.join(dataDir, 'inventory.yaml');
  const declare = (open: Server[]) =>
    writeFile(
      inventory,
      JSON.stringify({
        resources: [{ id: 'vm-watched', addresses: ['127.0.0.1'], refs: ['sg-watched'], open: open.map((server) => ({ ports: portOf(server) })) }],
      }),
    );
  await declare(servers);
  sequence += 1;
  const config = configSchema.parse({
    dataDir,
    temporal: { taskQueue: `watch-${sequence}` },
    inventory: { static: { files: [inventory] } },
    probe: { ...loopbackOnlyProbes, connectTimeoutMs: 500, serviceTimeoutMs: 1000 },
    screenshots: { enabled: false },
    watch: { cleanChecks: 2, ...watch },
    // No related investigation to wait for: correlation is tested on its own.
    correlation: { settleMs: 0 },
  });
  const worker = await createMainWorker({
    config,
    connection: timeSkipping.env.nativeConnection,
    client: timeSkipping.env.client,
    logger: createLogger('watch-test', 'silent'),
    workflowBundle: { code: inject('workflowBundleCode') },
    interceptors,
  });
  const running = worker.run();
  timeSkipping.adopt(worker, running);
  const workflowId = `alert/generic/watched-${sequence}`;
  const alert: NormalizedAlert = {
    source: 'generic',
    kind: 'exposure',
    fingerprint: `watched-${sequence}`,
    title: 'Security group sg-watched open to the internet',
    severity: 'high',
    resources: [{ type: 'aws:ec2:security-group', id: 'sg-watched' }],
    network: { ips: [], cidrs: ['0.0.0.0/0'], ports: [], protocol: 'tcp' },
    actors: { ips: [], domains: [], principals: [], userAgents: [] },
    archive: { id: `2026/11/28/generic/${sequence}`, sha256: `delivery-${sequence}`, receivedAt: '2026-11-28T10:00:00Z' },
  };
  await timeSkipping.env.client.workflow.signalWithStart('investigateAlert', {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    signal: alertReceived,
    signalArgs: [alert],
  });
  const tracker = createLocalTracker({ root: localTrackerRoot(config) });
  const handle = timeSkipping.env.client.workflow.getHandle(workflowId);
  return {
    config,
    async revoke(server) {
      await declare(servers.filter((other) => other !== server && other.listening));
      await close(server);
    },
    alert,
    worker,
    running,
    servers,
    workflowId,
    comments: async () => ((await tracker.readIssue(1))?.comments ?? []).map((comment) => comment.body),
    labels: async () => (await tracker.getIssue(1)).labels,
    state: async () => (await tracker.getIssue(1)).state,
    progress: () => queryPatiently(timeSkipping.env.client, handle, progressQuery),
    async stop() {
      worker.shutdown();
      await running;
      await Promise.all(servers.map((server) => server.listening && close(server)));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits (in real time: time-skipping is locked while nothing awaits a result) for a condition. */
async function until<T>(what: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await what().catch(() => undefined);
    if (value !== undefined && accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const headings = (comments: string[]) => comments.map((body) => body.split('\n')[0]);

/** `count` re-checks reported: the workflow counts a check once its comment and labels are written. */
const checks = (watched: Watched, count: number) => until(watched.progress, (progress) => (progress.watch?.checks ?? 0) >= count);
const ended = async (watched: Watched) => (await timeSkipping.env.client.workflow.getHandle(watched.workflowId).result()).progress;

describe('watching an open exposure', () => {
  it('comments only on change, then marks it remediated after enough clean checks, closes the issue, and ends', async () => {
    const watched = await startWatched({ autoClose: true });
    try {
      await until(watched.comments, (comments) => comments.some((body) => body.startsWith('### Exposure checks')));
      expect(await watched.labels()).toContain('exposure:open');
      const reported = (await watched.comments()).length;

      // One port closes: the next check (4 h later for a high alert) says so, once.
      const closedPort = portOf(watched.servers[0]!);
      await watched.revoke(watched.servers[0]!);
      await timeSkipping.env.sleep('4h');
      await checks(watched, 1);
      expect((await watched.comments()).length).toBe(reported + 1);
      const change = (await watched.comments()).at(-1)!;
      expect(change).toMatch(/^### Re-check 1: something changed/);
      expect(change).toContain(`127.0.0.1:${closedPort}`);

      // Nothing changes: a check, and no comment.
      await timeSkipping.env.sleep('4h');
      await checks(watched, 2);
      expect((await watched.comments()).length).toBe(reported + 1);

      // The other closes: one change comment; then a clean check with no change → remediated.
      await watched.revoke(watched.servers[1]!);
      await timeSkipping.env.sleep('4h');
      await checks(watched, 3);
      await timeSkipping.env.sleep('4h');
      await checks(watched, 4);
      const progress = await ended(watched);
      expect(progress.watch).toMatchObject({ state: 'remediated', checks: 4, cleanStreak: 2 });
      expect(headings(await watched.comments()).slice(reported)).toEqual(['### Re-check 1: something changed', '### Re-check 3: something changed', '### Remediated']);
      expect(await watched.labels()).toContain('exposure:remediated');
      expect(await watched.labels()).not.toContain('exposure:open');
      expect(progress.issueState).toBe('closed');
      expect(await watched.state()).toBe('closed');
    } finally {
      await watched.stop();
    }
  });

  it('re-checks on time although a repeat arrived in between', async () => {
    const watched = await startWatched({});
    try {
      await until(watched.comments, (comments) => comments.some((body) => body.startsWith('### Exposure checks')));
      await timeSkipping.env.sleep('3h');
      const repeat = { ...watched.alert, archive: { ...watched.alert.archive, sha256: `${watched.alert.archive.sha256}-repeat` } };
      await timeSkipping.env.client.workflow.getHandle(watched.workflowId).signal(alertReceived, repeat);
      await until(watched.progress, (progress) => progress.occurrences === 2);
      // Due 4 h after the watch began (a high alert), not 4 h after the repeat.
      await timeSkipping.env.sleep('61m');
      await checks(watched, 1);
    } finally {
      await watched.stop();
    }
  });

  it('counts the next timed re-check from a re-check the source asked for, not from the one before', async () => {
    const watched = await startWatched({});
    const handle = timeSkipping.env.client.workflow.getHandle(watched.workflowId);
    try {
      await until(watched.progress, (progress) => progress.watch?.state === 'watching' && progress.nextCheckDue !== undefined);
      await timeSkipping.env.sleep('3h');
      await handle.signal(alertReceived, { ...watched.alert, resolution: 'SCC state INACTIVE', archive: { ...watched.alert.archive, sha256: 'resolved-early' } });
      await checks(watched, 1);
      // Still exposed (disputed): the next re-check is due a full interval (4 h, a high alert) after this one.
      const progress = await until(watched.progress, (current) => current.nextCheckDue !== undefined);
      expect(Date.parse(progress.nextCheckDue!) - Date.parse(progress.lastCheck!)).toBeGreaterThanOrEqual(4 * 3_600_000 - 60_000);
    } finally {
      await watched.stop();
    }
  });

  it('stops watching when a person closes the issue', async () => {
    const watched = await startWatched({});
    try {
      await until(watched.progress, (progress) => progress.watch?.state === 'watching');
      await timeSkipping.env.client.workflow.getHandle(watched.workflowId).signal(issueChanged, { state: 'closed', suppressed: false });
      const progress = await ended(watched);
      expect(progress.watch).toMatchObject({ state: 'stopped', checks: 0 });
    } finally {
      await watched.stop();
    }
  });

  it('continues as new every few checks, carrying its count, its last findings and its deliveries', async () => {
    const watched = await startWatched({ checksPerRun: 2 });
    try {
      const handle = timeSkipping.env.client.workflow.getHandle(watched.workflowId);
      await until(watched.progress, (progress) => progress.watch?.state === 'watching');
      const firstRun = (await handle.describe()).runId;
      for (let check = 1; check <= 3; check += 1) {
        await handle.signal(recheckNow);
        await checks(watched, check);
      }
      // A re-check asked for while the run was about to continue as new is made first: the new run
      // may begin after the third check.
      await until(async () => (await handle.describe()).runId, (runId) => runId !== firstRun);
      const progress = await watched.progress();
      expect(progress).toMatchObject({ occurrences: 1, watch: { state: 'watching', checks: 3 } });
      // Nothing changed in three checks across two runs: the carried findings were compared.
      expect(headings(await watched.comments()).filter((heading) => heading?.startsWith('### Re-check'))).toEqual([]);
    } finally {
      await watched.stop();
    }
  });

  it('ages out after watch.maxAge, saying so, while still exposed', async () => {
    const watched = await startWatched({ maxAge: '1d' });
    try {
      await until(watched.progress, (progress) => progress.watch?.state === 'watching');
      const progress = await ended(watched);
      expect(progress.watch).toMatchObject({ state: 'aged-out', checks: 6 });
      expect(headings(await watched.comments()).at(-1)).toBe('### No longer watched');
      expect(await watched.labels()).toContain('exposure:open');
    } finally {
      await watched.stop();
    }
  });

  it('reports a repeat that arrives while it says it aged out, before the run ends', async () => {
    // The repeat is signalled from inside the "no longer watched" comment's activity, so it is
    // waiting when the run would end (its checks for this run are used up).
    const subject: { watched?: Watched } = {};
    let repeated = false;
    const repeatDuringAgedOut: NonNullable<WorkerOptions['interceptors']> = {
      activity: [
        (context) => ({
          inbound: {
            async execute(input, next) {
              const { watched } = subject;
              if (context.info.activityType === 'commentWatchEnded' && !repeated && watched) {
                repeated = true;
                const repeat = { ...watched.alert, archive: { ...watched.alert.archive, sha256: `${watched.alert.archive.sha256}-repeat` } };
                await timeSkipping.env.client.workflow.getHandle(watched.workflowId).signal(alertReceived, repeat);
              }
              return next(input);
            },
          },
        }),
      ],
    };
    const watched = (subject.watched = await startWatched({ maxAge: '4h', checksPerRun: 1 }, repeatDuringAgedOut));
    try {
      await until(watched.progress, (progress) => progress.watch?.state === 'watching');
      const progress = await ended(watched);
      expect(repeated).toBe(true);
      expect(progress).toMatchObject({ occurrences: 2, watch: { state: 'aged-out', checks: 1 } });
      expect(headings(await watched.comments()).slice(-2)).toEqual(['### No longer watched', '### Seen 2 times']);
    } finally {
      await watched.stop();
    }
  });
});

describe('what the watch knows, and what people and sources tell it', () => {
  it('labels an exposure nothing answers on as unconfirmed while the inventory shows it, and reports the inventory\'s change', async () => {
    const watched = await startWatched({});
    try {
      await until(watched.comments, (comments) => comments.some((body) => body.startsWith('### Exposure checks')));
      expect(await watched.labels()).toContain('exposure:open');
      // The machine stops answering, but the rules still open its ports: not remediated, unconfirmed.
      await Promise.all(watched.servers.map(close));
      for (let check = 1; check <= 3; check += 1) {
        await timeSkipping.env.sleep('4h');
        await checks(watched, check);
      }
      expect((await watched.progress()).watch).toMatchObject({ state: 'watching', checks: 3 });
      expect(await watched.labels()).toContain('exposure:unconfirmed');
      expect(await watched.labels()).not.toContain('exposure:open');
      const reported = (await watched.comments()).length;

      // The rules are revoked in the inventory: a change on the issue, and then remediated.
      for (const server of watched.servers) await watched.revoke(server);
      await timeSkipping.env.sleep('4h');
      await checks(watched, 4);
      const change = (await watched.comments()).slice(reported);
      expect(headings(change)).toEqual(['### Re-check 4: something changed']);
      expect(change[0]).toContain('inventory/127.0.0.1/tcp/');
      const progress = await ended(watched);
      expect(progress.watch).toMatchObject({ state: 'remediated', checks: 5 });
      expect(await watched.labels()).toContain('exposure:remediated');
    } finally {
      await watched.stop();
    }
  });

  it('re-checks at once when the source says it is resolved: disputed while it answers, remediated once the re-check agrees', async () => {
    const watched = await startWatched({});
    const handle = timeSkipping.env.client.workflow.getHandle(watched.workflowId);
    const resolved = (n: number) => ({ ...watched.alert, resolution: 'SCC state INACTIVE', archive: { ...watched.alert.archive, sha256: `resolved-${n}` } });
    try {
      await until(watched.progress, (progress) => progress.watch?.state === 'watching');
      await handle.signal(alertReceived, resolved(1));
      await checks(watched, 1);
      // Said once the re-check is counted (and the body rewritten): waited for, not raced.
      await until(watched.comments, (comments) => headings(comments).at(-1) === '### Resolved at the source, but not here');
      expect((await watched.progress()).watch?.state).toBe('watching');

      for (const server of watched.servers) await watched.revoke(server);
      await handle.signal(alertReceived, resolved(2));
      const progress = await ended(watched);
      expect(progress.watch).toMatchObject({ state: 'remediated', checks: 2 });
      expect(progress.occurrences).toBe(1);
      expect(headings(await watched.comments()).at(-1)).toBe('### Resolved at the source');
      expect(await watched.labels()).toContain('exposure:remediated');
    } finally {
      await watched.stop();
    }
  });

  it('starts an ended investigation again when a person reopens its issue, and looks again', async () => {
    const watched = await startWatched({});
    const handle = timeSkipping.env.client.workflow.getHandle(watched.workflowId);
    try {
      await until(watched.progress, (progress) => progress.watch?.state === 'watching');
      await handle.signal(issueChanged, { state: 'closed', suppressed: false });
      expect((await ended(watched)).watch?.state).toBe('stopped');

      // Intake's own client, as intake has it: the test environment's would lock its clock around result().
      const intakeClient = new Client({ connection: timeSkipping.env.connection, namespace: timeSkipping.env.namespace ?? 'default' });
      const signal = createIssueSignaller(intakeClient, { taskQueue: watched.config.temporal.taskQueue, timeoutMs: 30_000 });
      expect(await signal(watched.workflowId, { state: 'closed', suppressed: true })).toBe('not running');
      expect(await signal(watched.workflowId, { state: 'open', suppressed: false })).toBe('resumed');
      await checks(watched, 1);
      expect(await watched.progress()).toMatchObject({ issueState: 'open', occurrences: 1, watch: { state: 'watching', checks: 1 } });
    } finally {
      await watched.stop();
    }
  });

  it('keeps an earlier investigation\'s comments when a later one of the same alert reports again', async () => {
    const watched = await startWatched({ enabled: false });
    const handle = timeSkipping.env.client.workflow.getHandle(watched.workflowId);
    try {
      // Nothing to watch: the investigation waits a while for repeats and ends.
      await ended(watched);
      const again = { ...watched.alert, archive: { ...watched.alert.archive, sha256: 'a-later-delivery' } };
      await timeSkipping.env.client.workflow.signalWithStart('investigateAlert', { workflowId: watched.workflowId, taskQueue: watched.config.temporal.taskQueue, signal: alertReceived, signalArgs: [again] });
      await until(() => queryPatiently(timeSkipping.env.client, handle, progressQuery), (progress) => progress.firstReportComplete === true);
      await until(watched.comments, (comments) => headings(comments).filter((heading) => heading === '### Exposure checks').length === 2);
      expect(headings(await watched.comments()).filter((heading) => heading === '### Affected resources')).toHaveLength(2);
    } finally {
      await watched.stop();
    }
  });

  it('reports nothing again when an occurrence already on the issue is delivered again after its investigation ended', async () => {
    const watched = await startWatched({ enabled: false });
    try {
      await ended(watched);
      const before = await watched.comments();
      // The sweeper or replay delivering the same body again: a fresh run, which finds it reported.
      await timeSkipping.env.client.workflow.signalWithStart('investigateAlert', { workflowId: watched.workflowId, taskQueue: watched.config.temporal.taskQueue, signal: alertReceived, signalArgs: [watched.alert] });
      await ended(watched);
      expect(await watched.comments()).toEqual(before);
    } finally {
      await watched.stop();
    }
  });

  it('says on the issue which step failed and why, labels it, and keeps watching', async () => {
    let failures = 0;
    const failFirstContext: NonNullable<WorkerOptions['interceptors']> = {
      activity: [
        (context) => ({
          inbound: {
            async execute(input, next) {
              if (context.info.activityType === 'collectContext' && failures === 0) {
                failures += 1;
                throw ApplicationFailure.nonRetryable('the EC2 API answered 500 InternalError', 'InternalError');
              }
              return next(input);
            },
          },
        }),
      ],
    };
    const watched = await startWatched({}, failFirstContext);
    try {
      const comments = await until(watched.comments, (bodies) => bodies.some((body) => body.startsWith('### `collectContext` failed')));
      expect(comments.find((body) => body.startsWith('### `collectContext` failed'))).toContain('the EC2 API answered 500 InternalError');
      await until(watched.labels, (labels) => labels.includes('exposure:unconfirmed'));
      expect(await watched.labels()).toContain('vigil:failed');
      expect((await timeSkipping.env.client.workflow.getHandle(watched.workflowId).describe()).typedSearchAttributes.get(VigilFailure)).toBe('collectContext');
      expect((await watched.progress()).watch?.state).toBe('watching');

      // The next re-check reads the inventory and probes: the exposure is open after all.
      await timeSkipping.env.sleep('4h');
      await checks(watched, 1);
      expect(await watched.labels()).toContain('exposure:open');
    } finally {
      await watched.stop();
    }
  });
});
