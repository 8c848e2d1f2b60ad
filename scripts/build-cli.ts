// Vigil compiled to JavaScript for bin/vigil.js to run (bin/compiled-cli.js checks it is current):
// one esbuild pass from scripts/vigil.ts, npm packages left to Node, each module loaded lazily kept
// a chunk of its own (a command loads only what it uses). Each build gets a folder named after its
// sources, and one earlier build stays beside it, for a process still running that one to load its
// lazy chunks from (a process older than that can no longer load the chunks it has not loaded yet).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { checkCompiledCli, compiledCliDir, compiledCliEntry, compiledCliManifest } from '../bin/compiled-cli.js';
import { projectRoot } from './prerequisites';

const ENTRY = path.join(projectRoot, 'scripts', 'vigil.ts');
/** What else decides the output: the compiler's settings and its version. */
const BUILD_INPUTS = [path.join(projectRoot, 'tsconfig.json'), path.join(projectRoot, 'node_modules', 'esbuild', 'package.json')];
const STAGING = '.staging-';
const OWN_SOURCE = path.join(projectRoot, 'scripts', 'build-cli.ts');

/** A path from a build's folder to a file, as an import specifier. */
const fromBuild = (outdir: string, file: string) => {
  const relative = path.relative(outdir, file).split(path.sep).join('/');
  return relative.startsWith('.') ? relative : `./${relative}`;
};

/**
 * Where a module finds things stays its source's, not its chunk's:
 * - `import.meta.url`, `.dirname` and `.filename` say the source's location (relative to the chunk,
 *   so that a moved checkout keeps a working build): the files a module finds beside itself (a
 *   worker thread's entry, the workflows, the checkout's root) stay where they are;
 * - plain JavaScript of the checkout (bin/compiled-cli.js) is imported from where it is, not copied;
 * - the test helpers the bench borrows are left out where the checkout has no test/ (the image), so
 *   that only the bench, which needs them, fails there, as it does from the sources.
 */
function sourceLocations(outdir: string): Plugin {
  const meta = /\bimport\.meta\.(url|dirname|filename)\b/g;
  return {
    name: 'vigil-source-locations',
    setup(builder) {
      builder.onLoad({ filter: /\.ts$/ }, async ({ path: file }) => {
        // This file's own replacements name import.meta: rewritten, the build made by a compiled
        // `vigil build` would say every location twice over.
        if (file === OWN_SOURCE) return undefined;
        const source = await readFile(file, 'utf8');
        const located = (to: string) => JSON.stringify(`/${fromBuild(outdir, to)}`);
        const contents = source.replace(meta, (_match, property: 'url' | 'dirname' | 'filename') => {
          if (property === 'url') return `new URL(${JSON.stringify(fromBuild(outdir, file))}, import.meta.url).href`;
          return `(import.meta.dirname + ${located(property === 'dirname' ? path.dirname(file) : file)})`;
        });
        return { contents, loader: 'ts' };
      });
      builder.onResolve({ filter: /^\.\.?\// }, ({ path: specifier, resolveDir }) => {
        const target = path.resolve(resolveDir, specifier);
        if (/\.m?js$/.test(specifier) && existsSync(target)) return { path: fromBuild(outdir, target), external: true };
        const testFolder = path.join(projectRoot, 'test');
        if (target.startsWith(`${testFolder}${path.sep}`) && !existsSync(testFolder)) return { path: fromBuild(outdir, target), external: true };
        return undefined;
      });
    },
  };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export interface CliBuildResult {
  /** The compiled `vigil` command's file. */
  entry: string;
  /** False when the build there was already current. */
  built: boolean;
}

/** Compiles the CLI unless the build there is current (idempotent: `vigil setup` runs it every time). */
export async function buildCompiledCli(dir = compiledCliDir): Promise<CliBuildResult> {
  const current = checkCompiledCli(dir);
  if (current.fresh) return { entry: fileURLToPath(current.entry), built: false };

  const staging = path.join(dir, `${STAGING}${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  try {
    const result = await build({
      absWorkingDir: projectRoot,
      entryPoints: [ENTRY],
      outdir: staging,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      metafile: true,
      logLevel: 'warning',
      // Relative to staging, which is where the build's own folder will be: one level below `dir`.
      plugins: [sourceLocations(staging)],
    });
    const inputs = [...Object.keys(result.metafile.inputs).map((input) => path.resolve(projectRoot, input)), ...BUILD_INPUTS].sort();
    const hashes = Object.fromEntries(await Promise.all(inputs.map(async (file) => [path.relative(dir, file), sha256(await readFile(file))] as const)));
    const buildId = sha256(Buffer.from(JSON.stringify(hashes))).slice(0, 16);
    const folder = path.join(dir, buildId);
    const earlier = await recordedBuild(dir);
    const outputs = Object.keys(result.metafile.outputs).map((output) => path.relative(staging, path.resolve(projectRoot, output)));
    try {
      await rename(staging, folder);
    } catch (err) {
      if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
      // The same sources built before (an edit undone) or meanwhile (another `vigil build`): the same
      // output, kept if it is whole, else replaced.
      if (!outputs.every((output) => existsSync(path.join(folder, output)))) {
        await rm(folder, { recursive: true, force: true });
        await rename(staging, folder);
      }
    }
    const manifestPath = path.join(dir, compiledCliManifest);
    await writeFile(`${manifestPath}.${process.pid}.tmp`, `${JSON.stringify({ build: buildId, outputs, inputs: hashes }, null, 1)}\n`);
    await rename(`${manifestPath}.${process.pid}.tmp`, manifestPath);
    await pruneBuilds(dir, new Set([buildId, earlier]));
    return { entry: path.join(folder, compiledCliEntry), built: true };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The build the manifest names, whole or not. */
async function recordedBuild(dir: string): Promise<string | undefined> {
  try {
    const { build: recorded } = JSON.parse(await readFile(path.join(dir, compiledCliManifest), 'utf8')) as { build?: unknown };
    return typeof recorded === 'string' ? recorded : undefined;
  } catch {
    return undefined;
  }
}

/** Removes every build but those kept, and staging folders whose build died (another one may be running). */
async function pruneBuilds(dir: string, kept: Set<string | undefined>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || kept.has(entry.name)) continue;
    if (entry.name.startsWith(STAGING) && isRunning(Number(entry.name.slice(STAGING.length)))) continue;
    await rm(path.join(dir, entry.name), { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
