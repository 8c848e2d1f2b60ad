// The TCP sweep and the probe activity as a whole, against real loopback sockets: open (with and
// without a banner), closed, filtered (SYNs dropped by a full accept queue), and out-of-scope
// targets that must never be contacted.
import { createServer } from 'node:http';
import net from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProbeActivities } from '../../activities/probe';
import { httpCheck } from '../../activities/probe/checks/http';
import { sweep } from '../../activities/probe/tcp';
import type { ProbeReport } from '../../activities/probe/types';
import { close, closedPort, countingListener, droppingPorts, listen, loopbackScope, probeSettings } from '../helpers/loopback';

const signal = new AbortController().signal;
const servers: net.Server[] = [];
let silentPort: number;
let bannerPort: number;
let refusedPort: number;
let dropping: Awaited<ReturnType<typeof droppingPorts>>;

beforeAll(async () => {
  const silent = net.createServer(() => {});
  const banner = net.createServer((socket) => socket.end('SSH-2.0-OpenSSH_9.6p1 Debian\r\n\x00\x01binary'));
  servers.push(silent, banner);
  silentPort = await listen(silent);
  bannerPort = await listen(banner);
  refusedPort = await closedPort();
  dropping = await droppingPorts(1);
});

afterAll(async () => {
  dropping.stop();
  await Promise.all(servers.map(close));
});

describe('TCP sweep', () => {
  it('tells open, closed and filtered apart, and keeps what a service says first', async () => {
    const filteredPort = dropping.ports[0]!;
    const targets = [silentPort, bannerPort, refusedPort, filteredPort].map((port) => ({ address: '127.0.0.1', port }));
    const { findings, open } = await sweep(targets, probeSettings({ connectTimeoutMs: 300 }), signal);

    expect(findings.map((f) => [f.key, f.status])).toEqual([
      [`tcp/127.0.0.1:${silentPort}`, 'open'],
      [`tcp/127.0.0.1:${bannerPort}`, 'open'],
      [`tcp/127.0.0.1:${refusedPort}`, 'closed'],
      [`tcp/127.0.0.1:${filteredPort}`, 'filtered'],
    ]);
    expect(findings[0]!.fields.banner).toBeNull();
    expect(findings[1]!.fields.banner).toBe('SSH-2.0-OpenSSH_9.6p1 Debian....binary');
    expect(findings[3]!.detail).toEqual({ error: 'timeout' });
    expect(findings.every((f) => f.volatile?.includes('connectMs') && typeof f.fields.connectMs === 'number')).toBe(true);
    expect(open).toEqual([
      { address: '127.0.0.1', port: silentPort },
      { address: '127.0.0.1', port: bannerPort, banner: 'SSH-2.0-OpenSSH_9.6p1 Debian....binary' },
    ]);
  });

  it('bounds connect attempts by the configured concurrency', async () => {
    const silent = await droppingPorts(4);
    const started = performance.now();
    // 4 silent targets, 2 at a time, each given at least the 300 ms connect timeout (the host never
    // answers, so the initial wait is that ceiling): two rounds.
    const { findings } = await sweep(
      silent.ports.map((port) => ({ address: '127.0.0.1', port })),
      probeSettings({ connectTimeoutMs: 300, concurrency: 2 }),
      signal,
    ).finally(silent.stop);
    const elapsed = performance.now() - started;
    expect(findings.map((f) => f.status)).toEqual(['filtered', 'filtered', 'filtered', 'filtered']);
    expect(elapsed).toBeGreaterThanOrEqual(580);
  });
});

describe('probeTargets', () => {
  it('skips out-of-scope targets with their reason and never connects to them', async () => {
    const forbidden = await countingListener('127.0.0.2');
    const page = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<title>hi</title>'));
    const pagePort = await listen(page);
    // The random ports are not the well-known web ports: this run treats every open port as web.
    const anyPortHttp = { ...httpCheck, matches: () => true };
    const { probeTargets } = createProbeActivities(probeSettings(), loopbackScope, [anyPortHttp]);
    let report: ProbeReport;
    try {
      report = await probeTargets({
        targets: [
          { address: '127.0.0.2', port: forbidden.port, instance: 'i-forbidden' },
          { address: '169.254.169.254', port: 80 },
          { address: '127.0.0.1', port: pagePort, instance: 'i-0abc', rule: 'sg-1/tcp/8080' },
          { address: '127.0.0.1', port: pagePort },
          { address: '127.0.0.1', port: 70000 },
        ],
      });
    } finally {
      await close(page);
      await close(forbidden.server);
    }
    expect(forbidden.seen.connections).toBe(0);
    expect(report.skipped).toEqual([
      { target: `127.0.0.2:${forbidden.port}`, reason: 'a loopback address, not allowed by probe.allowRanges' },
      { target: '169.254.169.254:80', reason: 'a link-local address (cloud metadata lives here), not allowed by probe.allowRanges' },
      { target: '127.0.0.1:70000', reason: 'not a TCP port number' },
    ]);
    expect(report.findings.map((f) => [f.key, f.status])).toEqual([
      [`tcp/127.0.0.1:${pagePort}`, 'open'],
      [`http/127.0.0.1:${pagePort}`, 'answered'],
    ]);
    expect(report.findings.every((f) => f.detail?.instance === 'i-0abc' && f.detail.rule === 'sg-1/tcp/8080')).toBe(true);
    expect(report.webPages).toEqual([`http://127.0.0.1:${pagePort}/`]);
  });

  it('names the reserved range when no fence is set', async () => {
    const { probeTargets } = createProbeActivities(probeSettings(), { allowRanges: [], onlyRanges: [] });
    const report = await probeTargets({ targets: [{ address: '169.254.169.254', port: 80 }, { address: '10.0.0.5', port: 22 }] });
    expect(report).toEqual({
      findings: [],
      skipped: [
        { target: '169.254.169.254:80', reason: 'a link-local address (cloud metadata lives here), not allowed by probe.allowRanges' },
        { target: '10.0.0.5:22', reason: 'a private address, not allowed by probe.allowRanges' },
      ],
      webPages: [],
    });
  });

  it('reports a check that fails on its port as unknown, not clean', async () => {
    const { probeTargets } = createProbeActivities(probeSettings({ serviceTimeoutMs: 300 }), loopbackScope, [{ ...httpCheck, matches: () => true }]);
    const report = await probeTargets({ targets: [{ address: '127.0.0.1', port: silentPort }] });
    expect(report.findings.map((f) => [f.key, f.status])).toEqual([
      [`tcp/127.0.0.1:${silentPort}`, 'open'],
      [`http/127.0.0.1:${silentPort}`, 'unknown'],
    ]);
    expect(report.findings[1]!.fields.error).toMatch(/timed out after 300 ms/);
    expect(report.webPages).toEqual([]);
  });
});

describe('cancellation', () => {
  it('stops a sweep when the activity is cancelled', async () => {
    const silent = await droppingPorts(3);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled by the workflow')), 100);
    const run = sweep(
      silent.ports.map((port) => ({ address: '127.0.0.1', port })),
      probeSettings({ connectTimeoutMs: 5000 }),
      controller.signal,
    ).finally(silent.stop);
    // A sweep that ignored the signal would end with the ports filtered, not with the cancellation.
    await expect(run).rejects.toThrow('cancelled by the workflow');
  });

  it('heartbeats inside an activity and ends with its cancellation', async () => {
    const silent = await droppingPorts(3);
    const environment = new MockActivityEnvironment();
    const heartbeats: unknown[] = [];
    environment.on('heartbeat', (details: unknown) => heartbeats.push(details));
    const { probeTargets } = createProbeActivities(probeSettings({ connectTimeoutMs: 10_000 }), loopbackScope);
    setTimeout(() => environment.cancel(), 1500);
    const run = environment.run(probeTargets, { targets: silent.ports.map((port) => ({ address: '127.0.0.1', port })) }).finally(silent.stop);
    await expect(run).rejects.toMatchObject({ name: 'CancelledFailure' });
    expect(heartbeats).toContainEqual({ phase: 'tcp', done: 0 });
  });
});
