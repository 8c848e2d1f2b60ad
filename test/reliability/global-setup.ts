// The reliability suite's setup: the same Temporal and workflow bundle as the main suite, plus the
// tally every test adds to, printed as docs/reliability.md's table when the run ends.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import setupTemporal from '../global-setup';
import type { Trial } from './tally';

declare module 'vitest' {
  export interface ProvidedContext {
    reliabilityTallyFile: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-reliability-'));
  const tallyFile = path.join(dir, 'tally.jsonl');
  project.provide('reliabilityTallyFile', tallyFile);
  const teardownTemporal = await setupTemporal(project);
  return async () => {
    await teardownTemporal();
    printTable(tallyFile);
    await rm(dir, { recursive: true, force: true });
  };
}

function printTable(file: string) {
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return; // No test recorded anything (a filtered run).
  }
  const trials = lines.map((line) => JSON.parse(line) as Trial);
  const rows = trials.map(({ fault, tried, held, check }) => `| ${fault} | ${tried} | ${held} | ${check} |`);
  console.log(['', '| fault or hostile input | tried | held | what held means |', '|---|---:|---:|---|', ...rows, ''].join('\n'));
}
