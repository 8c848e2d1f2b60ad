// The memcached check against a real memcached (Debian's, installed by `vigil setup`) on loopback:
// open to strangers, and started with an auth file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import getPort from 'get-port';
import { afterAll, describe, expect, it } from 'vitest';
import { memcachedCheck } from '../../../activities/probe/checks/memcached';
import { locatePrerequisite } from '../../../scripts/prerequisites';
import { checkContext, close, listen } from '../../helpers/loopback';
import { eventually } from '../../helpers/vigil';

const running: ChildProcess[] = [];
afterAll(() => running.forEach((server) => server.kill()));

/** A memcached on a free loopback port, once it accepts connections. */
async function memcached(args: string[] = []): Promise<number> {
  const port = await getPort({ host: '127.0.0.1' });
  // As root memcached insists on being told which user to run as.
  const server = spawn(locatePrerequisite('memcached'), ['-l', '127.0.0.1', '-p', String(port), '-U', '0', ...(process.getuid?.() === 0 ? ['-u', 'root'] : []), ...args], { stdio: 'ignore' });
  running.push(server);
  const accepts = () =>
    new Promise<true | undefined>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(true)).once('error', () => resolve(undefined));
      socket.once('connect', () => socket.destroy());
    });
  await eventually(accepts, 10_000);
  return port;
}

const at = (port: number) => ({ address: '127.0.0.1', port });

describe('memcached', () => {
  it('answers stats to a stranger: unauthenticated, with its version', async () => {
    const port = await memcached();
    const [finding] = await memcachedCheck.run(at(port), checkContext());
    expect(finding).toMatchObject({ key: `memcached/127.0.0.1:${port}`, check: 'memcached', status: 'unauthenticated', fields: { unauthenticated: true } });
    expect(finding!.fields.version).toMatch(/^1\.\d+\.\d+$/);
  });

  it('started with an auth file, refuses: authentication required', async () => {
    const authFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'vigil-memcached-')), 'auth');
    writeFileSync(authFile, 'vigil:not-a-real-secret\n');
    const port = await memcached(['-Y', authFile]);
    expect(await memcachedCheck.run(at(port), checkContext())).toEqual([
      { key: `memcached/127.0.0.1:${port}`, check: 'memcached', target: `127.0.0.1:${port}`, status: 'auth-required', fields: { unauthenticated: false, version: null }, detail: { reply: 'CLIENT_ERROR unauthenticated' } },
    ]);
  });

  it('something else on the port gives no finding', async () => {
    const server = net.createServer((socket) => socket.on('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    const port = await listen(server);
    try {
      expect(await memcachedCheck.run(at(port), checkContext())).toEqual([]);
    } finally {
      await close(server);
    }
  });

  it('claims its port when the port said nothing, and never a port that spoke first', () => {
    expect(memcachedCheck.matches({ address: '127.0.0.1', port: 11211 })).toBe(true);
    expect(memcachedCheck.matches({ address: '127.0.0.1', port: 11211, banner: 'SSH-2.0-OpenSSH_9.6' })).toBe(false);
    expect(memcachedCheck.matches({ address: '127.0.0.1', port: 6379 })).toBe(false);
  });
});
