// Vigil compiled to JavaScript for bin/vigil.js to run (bin/compiled-cli.js checks it is current):
// one esbuild pass from scripts/vigil.ts, npm packages left to Node, each module loaded lazily kept
// a chunk of its own (a command loads only what it uses). Each build gets a folder named after its
// sources; the one before it stays, so that a process still running it can load its lazy chunks.
import { createHash } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { checkCompiledCli, compiledCliDir, compiledCliManifest } from '../bin/compiled-cli.js';
import { projectRoot } from './prerequisites';

const ENTRY = path.join(projectRoot, 'scripts', 'vigil.ts');

/**
 * A module's own location, where it asks for it (`import.meta.url`, `import.meta.dirname`), rather
 * than its chunk's: the files it finds beside itself (a worker thread's entry, the workflows) stay
 * where they are. Given relative to the chunk, so that a moved checkout keeps a working build.
 */
function ownLocation(outdir: string): Plugin {
  return {
    name: 'vigil-own-location',
    setup(builder) {
      builder.onLoad({ filter: /\.ts$/ }, async ({ path: file }) => {
        const source = await readFile(file, 'utf8');
        const relative = (to: string) => path.relative(outdir, to).split(path.sep).join('/');
        const contents = source
          .replaceAll('import.meta.dirname', `(import.meta.dirname + ${JSON.stringify(`/${relative(path.dirname(file))}`)})`)
          .replaceAll('import.meta.url', `new URL(${JSON.stringify(relative(file))}, import.meta.url).href`);
        return { contents, loader: 'ts' };
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

  const staging = path.join(dir, `.staging-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
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
    plugins: [ownLocation(staging)],
  });
  const inputs = Object.keys(result.metafile.inputs).map((input) => path.resolve(projectRoot, input)).sort();
  const hashes = Object.fromEntries(await Promise.all(inputs.map(async (file) => [path.relative(dir, file), sha256(await readFile(file))] as const)));
  const buildId = sha256(Buffer.from(JSON.stringify(hashes))).slice(0, 16);
  const previous = await readManifest(dir);
  const folder = path.join(dir, buildId);
  await rm(folder, { recursive: true, force: true });
  await rename(staging, folder);
  const manifest: Manifest = { build: buildId, entry: path.relative(dir, path.join(folder, 'vigil.js')), inputs: hashes };
  const manifestPath = path.join(dir, compiledCliManifest);
  await writeFile(`${manifestPath}.${process.pid}.tmp`, `${JSON.stringify(manifest, null, 1)}\n`);
  await rename(`${manifestPath}.${process.pid}.tmp`, manifestPath);
  // This build and the one before it stay; older ones and abandoned staging folders go.
  const kept = new Set([buildId, previous?.build]);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !kept.has(entry.name)) await rm(path.join(dir, entry.name), { recursive: true, force: true });
  }
  return { entry: path.join(dir, manifest.entry), built: true };
}

interface Manifest {
  /** The build's folder, named after its sources' hashes. */
  build: string;
  /** The entry module, relative to the manifest's folder. */
  entry: string;
  /** Every source compiled into the build, relative to the manifest's folder, and its SHA-256. */
  inputs: Record<string, string>;
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, compiledCliManifest), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}
