// A real moto server (AWS API emulation) on loopback, for tests that drive the AWS SDK over HTTP.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import getPort from 'get-port';
import { locatePrerequisite } from '../../scripts/prerequisites';
import { isListening } from '../../scripts/temporal-dev-server';

export interface Moto {
  endpoint: string;
  /** Credentials moto accepts (any will do; these keep the SDK from looking elsewhere). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  const port = await getPort();
  const child = spawn(locatePrerequisite('moto_server'), ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (!(await isListening('127.0.0.1', port))) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('moto_server did not listen within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
