// Probe-scope escapes in a network namespace this test creates (`unshare --net --mount`, as root):
// inside it only loopback exists, so the private, metadata, CGNAT, unique-local and public-looking
// addresses the scenario adds to `lo` are its own test hosts, with listeners counting every
// connection. The scenario (hostile/probe-scenario.ts) points Vigil's probe (checkExposures, the TCP
// sweep, names from a hosts file it mounts, IPv4-mapped IPv6, decimal/octal/hex spellings, HTTP
// redirects and favicons) and its screenshots (Debian's Chromium) at them: fenced to 127.0.0.0/8, no
// listener may see a connection and every attempt must be recorded with a reason; with 127.0.0.0/8
// allowed and no fence, the range rules alone must refuse all but the public-looking host, whose
// listeners prove that the counting works.
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { recordTrial } from './tally';

const root = path.resolve(import.meta.dirname, '../..');
const scenario = path.join(import.meta.dirname, 'hostile/probe-scenario.ts');
/** Generous: two phases of probes and of Chromium pages on a shared machine. An outcome is asserted, never a duration. */
const BOUND_MS = 600_000;

interface Attempt {
  phase: string;
  path: string;
  target: string;
  recorded?: string;
  contacted?: string;
}

interface Phase {
  counts: Record<string, number>;
  reachedPublic: boolean;
  capturedOwnPage: boolean;
  capturedPublic?: boolean;
}

interface ScenarioResult {
  hosts: boolean;
  publicListeners: string[];
  phases: { fenced: Phase; unfenced: Phase };
  attempts: Attempt[];
}

function runScenario(): Promise<{ result?: ScenarioResult; output: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn('unshare', ['--net', '--mount', '--', process.execPath, '--import', 'tsx', scenario], {
      cwd: root,
      // The scenario refuses to run unless its network namespace differs from this one.
      env: { ...process.env, VIGIL_PARENT_NETNS: readlinkSync('/proc/self/ns/net') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = output.split('\n').find((text) => text.startsWith('SCENARIO-RESULT '));
      resolve({ result: line ? (JSON.parse(line.slice('SCENARIO-RESULT '.length)) as ScenarioResult) : undefined, output, code });
    });
  });
}

/** Targets that are the public-looking host (allowed once the fence is gone). */
const isPublic = (target: string) => /93\.184\.216\.34|public\.test|2606:2800:220:1::5/.test(target);

it('lets no probe or browser connection out of 127.0.0.0/8, and records every refused target with its reason', async () => {
  const { result, output, code } = await runScenario();
  expect(result, `the scenario exited ${code} without a result:\n${output.slice(-4000)}`).toBeDefined();
  const { phases, attempts, publicListeners } = result!;
  expect(result!.hosts).toBe(true);

  for (const [phase, { counts }] of Object.entries(phases)) {
    const allowed = phase === 'unfenced' ? new Set(publicListeners) : new Set<string>();
    const reached = Object.entries(counts).filter(([name, count]) => count > 0 && !allowed.has(name));
    const listeners = Object.keys(counts).filter((name) => !allowed.has(name)).length;
    const attempted = attempts.filter((attempt) => attempt.phase === phase && !(phase === 'unfenced' && isPublic(attempt.target)));
    const unrecorded = attempted.filter((attempt) => !attempt.recorded || attempt.contacted);
    recordTrial({
      fault:
        phase === 'fenced'
          ? 'probe-scope escapes, scope fenced to 127.0.0.0/8, in a network namespace: plan, TCP sweep, hosts-file names, mapped/decimal/octal/hex spellings, redirects, favicons, Chromium pages and sub-resources, WebRTC'
          : 'the same escapes with 127.0.0.0/8 allowed and no fence: private, metadata, CGNAT, unique-local, mapped, documentation and loopback ranges refused by the range rules alone',
      tried: attempted.length,
      held: attempted.length - unrecorded.length,
      check: `recorded as skipped/stopped/blocked with a reason; ${listeners} forbidden listeners (TCP and UDP) saw ${reached.length === 0 ? 'no' : 'a'} connection`,
    });
    expect(reached, `${phase}: forbidden listeners that were reached`).toEqual([]);
    expect(unrecorded, `${phase}: attempts not recorded with a reason, or contacted`).toEqual([]);
    expect(attempted.length).toBeGreaterThan(100);
    expect(phases[phase as keyof typeof phases].capturedOwnPage, `${phase}: Chromium captured the allowed page`).toBe(true);
  }
  // The controls: without the fence the public-looking host is probed and photographed, and its listeners count it.
  expect(phases.unfenced.reachedPublic).toBe(true);
  expect(phases.unfenced.capturedPublic).toBe(true);
  expect(publicListeners.some((name) => phases.unfenced.counts[name]! > 0)).toBe(true);
  expect(publicListeners.every((name) => phases.fenced.counts[name] === 0)).toBe(true);
}, BOUND_MS + 60_000);
