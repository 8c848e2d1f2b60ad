// Starts and stops the Temporal dev server as a child process, with its state in a SQLite file.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SearchAttributeType } from '@temporalio/common';
import { vigilSearchAttributeKeys } from '../lib/search-attributes';
import { locatePrerequisite } from './prerequisites';

export interface DevServerOptions {
  host: string;
  port: number;
  /** Web UI port, or undefined for a headless server. */
  uiPort?: number;
  /** Folder for the SQLite state file and the server's log. */
  stateDir: string;
  /** Namespaces to create, each with Vigil's search attributes. */
  namespaces: string[];
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  logFile: string;
  stop(): Promise<void>;
}

/** Whether something accepts TCP connections at host:port. */
export function isListening(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const { host, port, uiPort, stateDir, namespaces } = options;
  mkdirSync(stateDir, { recursive: true });
  const logFile = path.join(stateDir, 'temporal.log');
  const log = openSync(logFile, 'a');
  const args = [
    'server',
    'start-dev',
    '--ip',
    host,
    '--port',
    String(port),
    '--db-filename',
    path.join(stateDir, 'temporal.db'),
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    ...namespaces.flatMap((namespace) => ['--namespace', namespace]),
    '--log-level',
    'warn',
    ...vigilSearchAttributeKeys.flatMap(({ name, type }) => ['--search-attribute', `${name}=${type === SearchAttributeType.KEYWORD_LIST ? 'KeywordList' : 'Keyword'}`]),
    ...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort)]),
  ];
  // In a process group of its own: the terminal's Ctrl-C reaches only Vigil, which stops the server
  // last, after intake has let its files in flight finish. Ended with this process whatever way it exits.
  const child = spawn(locatePrerequisite('temporal'), args, { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  const endWithUs = () => child.kill('SIGTERM');
  process.once('exit', endWithUs);
  child.once('exit', () => process.off('exit', endWithUs));

  const deadline = Date.now() + 60_000;
  while (!(await isListening(host, port))) {
    if (child.exitCode !== null) {
      throw new Error(`the Temporal dev server exited with code ${child.exitCode}; see ${logFile}`);
    }
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`the Temporal dev server did not listen on ${host}:${port} within 60 s; see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    address: `${host}:${port}`,
    uiUrl: uiPort === undefined ? undefined : `http://${host}:${uiPort}`,
    logFile,
    stop: () => stopChild(child),
  };
}
