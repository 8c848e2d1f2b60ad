// The TCP sweep's adaptive waits never turn an answering port into a "filtered" one: over random mixes
// of real loopback endpoints (accepting, speaking first, refusing, dropping SYNs), orders, concurrency
// and connect timeouts, every endpoint is classified as what it is.
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweep } from '../../activities/probe/tcp';
import { close, droppingPorts, listen, probeSettings } from '../helpers/loopback';

type Kind = 'accepting' | 'speaking' | 'refusing' | 'dropping';
const expected: Record<Kind, string> = { accepting: 'open', speaking: 'open', refusing: 'closed', dropping: 'filtered' };
const POOL = 6;

const servers: net.Server[] = [];
const endpoints = {} as Record<Kind, { address: string; port: number }[]>;
let dropping: Awaited<ReturnType<typeof droppingPorts>>;

async function listeners(onConnection: (socket: net.Socket) => void): Promise<number[]> {
  const started = Array.from({ length: POOL }, () => net.createServer((socket) => onConnection(socket.on('error', () => {}))));
  servers.push(...started);
  return Promise.all(started.map((server) => listen(server)));
}

beforeAll(async () => {
  const accepting = await listeners(() => {});
  const speaking = await listeners((socket) => socket.end('220 mail.example ESMTP\r\n'));
  dropping = await droppingPorts(POOL);
  endpoints.accepting = accepting.map((port) => ({ address: '127.0.0.1', port }));
  endpoints.speaking = speaking.map((port) => ({ address: '127.0.0.1', port }));
  // Ports held on 127.0.0.1 only: 127.0.0.2 answers them with a RST, and nothing else can take them.
  endpoints.refusing = accepting.map((port) => ({ address: '127.0.0.2', port }));
  endpoints.dropping = dropping.ports.map((port) => ({ address: '127.0.0.1', port }));
});

afterAll(async () => {
  dropping.stop();
  await Promise.all(servers.map(close));
});

const kind = fc.constantFrom<Kind>('accepting', 'speaking', 'refusing', 'dropping');
const target = fc.record({ kind, slot: fc.nat({ max: POOL - 1 }) });

describe('TCP sweep classification', () => {
  it('says filtered only for the ports that drop SYNs, and open or closed for every other', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(target, { minLength: 1, maxLength: 16 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 100, max: 1000 }),
        async (picked, concurrency, connectTimeoutMs) => {
          const targets = picked.map(({ kind: each, slot }) => endpoints[each][slot]!);
          const { findings, open } = await sweep(targets, probeSettings({ concurrency, connectTimeoutMs }), new AbortController().signal);
          expect(findings.map((finding) => finding.status)).toEqual(picked.map(({ kind: each }) => expected[each]));
          expect(open).toHaveLength(picked.filter(({ kind: each }) => expected[each] === 'open').length);
        },
      ),
      { numRuns: 30 },
    );
  });
});
