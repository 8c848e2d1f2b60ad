// The TCP sweep over 1,000 loopback endpoints, a quarter of which never answer (their SYNs are
// dropped), against a bare `net.connect` loop with the same concurrency and connect timeout, and
// against `nmap -sT -T4 --max-retries 0` on the same endpoints, which must classify them alike.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { mapConcurrent } from '../lib/concurrency';
import { sweep } from '../activities/probe/tcp';
import { configSchema } from '../lib/config';
import { droppingPorts } from '../test/helpers/loopback';
import { median, round } from './bench-common';
import { benchPrerequisites } from './prerequisites';

const ENDPOINTS = 1000;
const ROUNDS = 5;

interface Target {
  address: string;
  port: number;
}

/**
 * Listeners in a process of their own, as a probed host's would be: their accepts and writes do not
 * share the event loop (nor slow down) what is measured. Half speak first (SSH, SMTP), half wait to be
 * asked (HTTP). They live until `stop`.
 */
async function listenerProcess(count: number): Promise<{ speaking: number[]; silent: number[]; stop: () => void }> {
  const script = `
const net = require('node:net');
const start = (onConnection) => new Promise((resolve) => {
  const server = net.createServer((socket) => {
    socket.on('error', () => {}); // the sweep hangs up as it likes, a reset included
    onConnection(socket);
  });
  server.listen(0, '127.0.0.1', () => resolve(server.address().port));
});
const group = (onConnection) => Promise.all(Array.from({ length: ${count} }, () => start(onConnection)));
Promise.all([group((socket) => socket.end('SSH-2.0-OpenSSH_9.6 bench\\r\\n')), group(() => {})]).then(([speaking, silent]) => {
  console.log(JSON.stringify({ speaking, silent }));
});
process.stdin.on('end', () => process.exit(0)).resume();
`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the listeners' process exited with ${code}`)));
  });
  return { ...(JSON.parse(line) as { speaking: number[]; silent: number[] }), stop: () => child.kill() };
}

/** Connect, then hang up at once; whatever happens (refused, dropped, timed out) ends the attempt. */
function bareConnect({ address, port }: Target, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    socket.once('connect', done);
    socket.once('error', done);
  });
}

type Classification = Map<string, string>;

const key = (address: string, port: number) => `${address}:${port}`;

/** The ports in nmap's `1-3,7` lists. */
function portList(text: string): number[] {
  return text.split(',').flatMap((part) => {
    const [first, last = first] = part.split('-').map(Number) as [number, number?];
    return Array.from({ length: last! - first + 1 }, (_, n) => first + n);
  });
}

/**
 * Each endpoint's state from nmap's XML (`-oX -`). No XML parser is among Vigil's dependencies, and
 * nmap writes one element per line: the few elements read here are matched as such. Ports in the
 * most common state are summed up in `extraports`, whose `extrareasons` list them.
 */
function nmapStates(xml: string): Classification {
  const states: Classification = new Map();
  for (const [, body] of xml.matchAll(/<host\b[^>]*>([\s\S]*?)<\/host>/g)) {
    const address = /<address addr="([^"]+)" addrtype="ipv[46]"/.exec(body!)?.[1];
    if (!address) throw new Error('nmap named no address for a host');
    for (const [, port, state] of body!.matchAll(/<port protocol="tcp" portid="(\d+)"><state state="([a-z|]+)"/g)) states.set(key(address, Number(port)), state!);
    for (const [, state, extras] of body!.matchAll(/<extraports state="([a-z|]+)" count="\d+">([\s\S]*?)<\/extraports>/g)) {
      for (const [, ports] of extras!.matchAll(/<extrareasons [^>]*ports="([^"]+)"/g)) {
        for (const port of portList(ports!)) states.set(key(address, port), state!);
      }
    }
  }
  return states;
}

/** Runs one nmap per address (its ports only, all at once) and gives its states and the seconds the processes took. */
async function nmapSweep(nmap: string, targets: readonly Target[]): Promise<{ states: Classification; seconds: number }> {
  const byAddress = new Map<string, number[]>();
  for (const { address, port } of targets) byAddress.set(address, [...(byAddress.get(address) ?? []), port]);
  const run = (address: string, ports: number[]) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(nmap, ['-sT', '-T4', '--max-retries', '0', '-n', '-Pn', '-oX', '-', '-p', ports.join(','), address], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`nmap exited with ${code}`))));
    });
  const started = performance.now();
  const outputs = await Promise.all([...byAddress].map(([address, ports]) => run(address, ports)));
  const seconds = (performance.now() - started) / 1000;
  return { states: new Map(outputs.flatMap((xml) => [...nmapStates(xml)])), seconds };
}

/** The endpoints two classifications disagree on, a few of them, for the message that says so. */
function differences(vigil: Classification, nmap: Classification): string[] {
  return [...vigil].filter(([endpoint, state]) => nmap.get(endpoint) !== state).map(([endpoint, state]) => `${endpoint} Vigil ${state}, nmap ${nmap.get(endpoint) ?? 'nothing'}`);
}

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

export async function benchTcpSweep(): Promise<Record<string, number | string>> {
  const settings = { ...configSchema.parse({}).probe, connectTimeoutMs: 1000 };
  const quarter = ENDPOINTS / 4;
  const dropping = await droppingPorts(quarter);
  // Half the endpoints accept.
  const { speaking, silent, stop } = await listenerProcess(quarter);
  try {
    // Refused: 127.0.0.2 at ports held on 127.0.0.1, which nobody else can bind on every address
    // meanwhile (ports merely released could be taken by anything else on the machine).
    const groups = [dropping.ports, speaking, silent, silent];
    // Interleaved, so the endpoints that never answer are spread over the whole sweep.
    const targets: Target[] = Array.from({ length: ENDPOINTS }, (_, n) => ({
      address: n % 4 === 3 ? '127.0.0.2' : '127.0.0.1',
      port: groups[n % 4]![Math.floor(n / 4)]!,
    }));
    const signal = new AbortController().signal;
    const vigil = () => sweep(targets, settings, signal);
    const baseline = () => mapConcurrent(targets, settings.concurrency, (target) => bareConnect(target, settings.connectTimeoutMs));

    const check = await vigil();
    const states = check.findings.map((finding) => finding.status);
    const count = (state: string) => states.filter((each) => each === state).length;
    if (count('filtered') !== quarter || count('open') !== 2 * quarter || count('closed') !== quarter) {
      throw new Error(`the sweep saw ${count('open')} open, ${count('closed')} closed, ${count('filtered')} filtered endpoints; expected ${2 * quarter}, ${quarter}, ${quarter}`);
    }
    // The banner wait follows the host's round trips: every endpoint that speaks first must still be heard.
    const bannersMissed = check.findings.filter((finding, n) => n % 4 === 1 && finding.fields.banner === null).length;
    await baseline();
    const vigilStates: Classification = new Map(targets.map((target, n) => [key(target.address, target.port), states[n]!]));
    const nmapPrerequisite = benchPrerequisites.find((prerequisite) => prerequisite.name === 'nmap')!;
    const located = nmapPrerequisite.locate();
    const nmap = 'path' in located ? located.path : undefined;
    const skipped = 'problem' in located ? `skipped: ${located.problem}; to get it: ${nmapPrerequisite.fix}` : '';
    if (nmap) {
      const differing = differences(vigilStates, (await nmapSweep(nmap, targets)).states);
      if (differing.length > 0) throw new Error(`nmap and the sweep disagree on ${differing.length} endpoints: ${differing.slice(0, 5).join('; ')}`);
    } else {
      console.error(`The TCP sweep is not timed against nmap: ${skipped}`);
    }

    // Alternating rounds, the median of each side.
    const vigilSeconds: number[] = [];
    const baselineSeconds: number[] = [];
    const nmapSeconds: number[] = [];
    for (let n = 0; n < ROUNDS; n += 1) {
      baselineSeconds.push(await seconds(baseline));
      vigilSeconds.push(await seconds(vigil));
      if (nmap) nmapSeconds.push((await nmapSweep(nmap, targets)).seconds);
    }
    return {
      tcpSweepSeconds: round(median(vigilSeconds)),
      tcpBaselineSeconds: round(median(baselineSeconds)),
      tcpSweepOverBaseline: round(median(vigilSeconds) / median(baselineSeconds)),
      tcpSweepBannersMissed: bannersMissed,
      ...(nmap
        ? { nmapSeconds: round(median(nmapSeconds)), tcpSweepOverNmap: round(median(vigilSeconds) / median(nmapSeconds)) }
        : { tcpSweepOverNmap: skipped }),
    };
  } finally {
    dropping.stop();
    stop();
  }
}
