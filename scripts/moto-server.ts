// A moto server (AWS API emulation, installed by `vigil setup`) on a free loopback port: the demo's
// AWS, and the tests'.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import getPort from 'get-port';
import { locatePrerequisite } from './prerequisites';
import { isListening } from './temporal-dev-server';

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

/** `accountId`: the account moto's resources belong to (its default is 123456789012), set for that process alone. */
export async function startMotoServer({ accountId }: { accountId?: string } = {}): Promise<MotoServer> {
  const port = await getPort({ host: '127.0.0.1' });
  const env = accountId ? { ...process.env, MOTO_ACCOUNT_ID: accountId } : process.env;
  // What it says goes to a file (a pipe would hold this process open), read back when it fails to start.
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-moto-'));
  const log = path.join(logDir, 'moto.log');
  const logFd = openSync(log, 'w');
  const child = spawn(locatePrerequisite('moto_server'), ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', logFd], env });
  closeSync(logFd);
  const said = () => {
    const text = readFileSync(log, 'utf8').trim().slice(-2000);
    return text ? `; it said:\n${text}` : '';
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(logDir, { recursive: true, force: true });
  };
  // Its first start imports much of boto: on a busy two-core machine that has taken over 30 s.
  const deadline = Date.now() + 90_000;
  while (!(await isListening('127.0.0.1', port))) {
    if (child.exitCode !== null) {
      const reason = `moto_server exited with code ${child.exitCode}${said()}`;
      await stop();
      throw new Error(reason);
    }
    if (Date.now() > deadline) {
      const reason = `moto_server did not listen within 90 s${said()}`;
      await stop();
      throw new Error(reason);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { endpoint: `http://127.0.0.1:${port}`, stop };
}
