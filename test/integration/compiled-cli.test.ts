// The compiled CLI `vigil build` makes (scripts/build-cli.ts, checked by bin/compiled-cli.js): a
// `vigil` that does what the sources do, its modules finding their files where the sources are; used
// only while every source is unchanged; remade only then, keeping the build before it.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCompiledCli } from '../../bin/compiled-cli.js';
import { buildCompiledCli } from '../../scripts/build-cli';
import { projectRoot } from '../../scripts/prerequisites';

const run = promisify(execFile);

describe('the compiled CLI', () => {
  let root: string;
  let dir: string;

  beforeAll(async () => {
    // A folder of the test's own, which resolves npm packages from the project's node_modules as .build/ does.
    root = await mkdtemp(path.join(os.tmpdir(), 'vigil-cli-'));
    await symlink(path.join(projectRoot, 'node_modules'), path.join(root, 'node_modules'));
    dir = path.join(root, 'cli');
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is made when missing, kept while current, and says what the sources say', async () => {
    expect(checkCompiledCli(dir)).toEqual({ fresh: false, reason: `there is no compiled CLI in ${dir}` });
    const first = await buildCompiledCli(dir);
    expect(first.built).toBe(true);
    expect(await buildCompiledCli(dir)).toEqual({ entry: first.entry, built: false });
    // Its own compiler's replacements as written: rewritten, a build it made (a compiled `vigil build`)
    // would name every location twice over.
    const folder = path.dirname(first.entry);
    const chunks = await Promise.all((await readdir(folder)).map((name) => readFile(path.join(folder, name), 'utf8')));
    expect(chunks.some((chunk) => chunk.includes('(import.meta.dirname + ${'))).toBe(true);

    // An alert file read through the decoder, and the prerequisites found in the checkout (doctor):
    // the same from the build as from the sources, though the build runs from another folder.
    const fixture = path.join(projectRoot, 'test/fixtures/guardduty/get-findings.sdk.json');
    const sources = ['--import', 'tsx', path.join(projectRoot, 'scripts/vigil.ts')];
    for (const args of [['alert', 'parse', fixture], ['doctor']]) {
      const [fromBuild, fromSources] = await Promise.all([
        run(process.execPath, [first.entry, ...args], { cwd: root }).catch((err: { stdout: string }) => err),
        run(process.execPath, [...sources, ...args], { cwd: root }).catch((err: { stdout: string }) => err),
      ]);
      expect(fromBuild.stdout, args.join(' ')).toBe(fromSources.stdout);
      expect(fromBuild.stdout.length).toBeGreaterThan(0);
    }

    // Built, it builds where the sources would (the checkout's .build/, which `vigil setup` made
    // current before the tests), its own compiler finding its sources as the sources' does.
    const { stdout } = await run(process.execPath, [first.entry, 'build'], { cwd: root });
    expect(stdout).toMatch(/^(up to date|built): \.build\/cli\/[0-9a-f]{16}$/m);
  });

  it('is stale once a source differs or an output is missing, naming it; a new build keeps one earlier build and removes older ones', async () => {
    const manifestPath = path.join(dir, 'manifest.json');
    const manifestText = await readFile(manifestPath, 'utf8');
    const built = JSON.parse(manifestText) as { build: string; outputs: string[] };

    // Whatever is wrong with the manifest, the sources run instead.
    await writeFile(manifestPath, 'null');
    expect(checkCompiledCli(dir)).toEqual({ fresh: false, reason: `there is no compiled CLI in ${dir}` });
    await writeFile(manifestPath, manifestText);

    // A chunk gone: stale, and the build made whole again.
    const chunk = path.join(dir, built.build, built.outputs.at(-1)!);
    await rm(chunk);
    expect(checkCompiledCli(dir)).toEqual({ fresh: false, reason: `${chunk} is missing` });
    expect((await buildCompiledCli(dir)).built).toBe(true);
    expect(checkCompiledCli(dir).fresh).toBe(true);

    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { build: string; inputs: Record<string, string> };
    // As an edit would: a source no longer has the hash the build was made from.
    const [input] = Object.keys(manifest.inputs);
    manifest.inputs[input!] = '0'.repeat(64);
    // And the build on record is an earlier one, with an even earlier one beside it.
    manifest.build = 'earlier';
    await writeFile(manifestPath, JSON.stringify(manifest));
    await mkdir(path.join(dir, 'earlier'));
    await mkdir(path.join(dir, 'even-earlier'));
    expect(checkCompiledCli(dir)).toEqual({ fresh: false, reason: `${path.resolve(dir, input!)} changed since the CLI was compiled` });

    const again = await buildCompiledCli(dir);
    expect(again.built).toBe(true);
    const now = checkCompiledCli(dir);
    if (!now.fresh) throw new Error(now.reason);
    expect(path.dirname(again.entry)).toBe(path.join(dir, now.build));
    expect((await readdir(dir)).sort()).toEqual([now.build, 'earlier', 'manifest.json'].sort());
  });
});
