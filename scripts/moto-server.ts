// A moto server (AWS API emulation, installed by `vigil setup`) on a free loopback port: the demo's
// AWS, and the tests'.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
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
  const child = spawn(locatePrerequisite('moto_server'), ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore', env });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 30_000;
  while (!(await isListening('127.0.0.1', port))) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error('moto_server did not listen within 30 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { endpoint: `http://127.0.0.1:${port}`, stop };
}
