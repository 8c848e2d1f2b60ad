// The TCP sweep over 1,000 loopback endpoints, a quarter of which never answer (their SYNs are
// dropped), against a bare `net.connect` loop with the same concurrency and connect timeout.
import net from 'node:net';
import { mapConcurrent } from '../lib/concurrency';
import { sweep } from '../activities/probe/tcp';
import { configSchema } from '../lib/config';
import { close, droppingPorts, listen } from '../test/helpers/loopback';
import { median, round } from './bench-common';

const ENDPOINTS = 1000;
const ROUNDS = 3;

interface Target {
  address: string;
  port: number;
}

async function listeners(count: number, onConnection: (socket: net.Socket) => void): Promise<{ servers: net.Server[]; ports: number[] }> {
  const servers = Array.from({ length: count }, () =>
    net.createServer((socket) => {
      // The sweep hangs up as it likes (a reset included): nothing to report here.
      socket.on('error', () => {});
      onConnection(socket);
    }),
  );
  return { servers, ports: await Promise.all(servers.map((server) => listen(server))) };
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

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

export async function benchTcpSweep(): Promise<Record<string, number>> {
  const settings = { ...configSchema.parse({}).probe, connectTimeoutMs: 1000 };
  const quarter = ENDPOINTS / 4;
  const dropping = await droppingPorts(quarter);
  // Half the endpoints accept: half of those speak first (SSH, SMTP), half wait to be asked (HTTP).
  const speaking = await listeners(quarter, (socket) => socket.end('SSH-2.0-OpenSSH_9.6 bench\r\n'));
  const silent = await listeners(quarter, () => {});
  try {
    // Refused: 127.0.0.2 at ports held on 127.0.0.1, which nobody else can bind on every address
    // meanwhile (ports merely released could be taken by anything else on the machine).
    const groups = [dropping.ports, speaking.ports, silent.ports, silent.ports];
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
    await baseline();

    // Alternating rounds, the median of each side.
    const vigilSeconds: number[] = [];
    const baselineSeconds: number[] = [];
    for (let n = 0; n < ROUNDS; n += 1) {
      baselineSeconds.push(await seconds(baseline));
      vigilSeconds.push(await seconds(vigil));
    }
    return {
      tcpSweepSeconds: round(median(vigilSeconds)),
      tcpBaselineSeconds: round(median(baselineSeconds)),
      tcpSweepOverBaseline: round(median(vigilSeconds) / median(baselineSeconds)),
    };
  } finally {
    dropping.stop();
    await Promise.all([...speaking.servers, ...silent.servers].map(close));
  }
}
