// The workflow code bundled once at build time (`vigil build`, which `vigil setup` and the Dockerfile
// run), so that a worker reads a file at start instead of running webpack and swc in its own process:
// their compilation was most of an idle worker's memory. Next to the bundle, a manifest lists every
// file webpack read (workflows/, the lib/ files they import, the SDK's own workflow code and the
// package.json files that resolved them) with its SHA-256: the bundle is used only while all of them
// are unchanged, and rebuilt (by the build) or passed over (by a worker) once one differs.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, type WorkerOptions } from '@temporalio/worker';
import { z } from 'zod';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** `.build/` of the checkout (or of the image: the Dockerfile builds it there). */
export const defaultBundleDir = path.resolve(import.meta.dirname, '..', '.build');

const CODE_FILE = 'workflow-bundle.js';
const MANIFEST_FILE = 'workflow-bundle.json';

const manifestSchema = z.object({
  /** The workflows entry the bundle was made from, relative to the bundle's folder. */
  entry: z.string(),
  /** Every file webpack read, relative to the bundle's folder (a moved checkout keeps its bundle), and its SHA-256. */
  inputs: z.record(z.string(), z.string()),
});
type Manifest = z.infer<typeof manifestSchema>;

export interface BundleLocation {
  /** Where the bundle and its manifest are (default `.build/`). */
  dir?: string;
  /** The workflows module the bundle must have been made from. */
  workflowsPath?: string;
}

export type BundleCheck = { fresh: true; codePath: string } | { fresh: false; reason: string };

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

/** Whether the bundle in `dir` was made from `workflowsPath` and every file it was made from is unchanged. */
export async function checkWorkflowBundle({ dir = defaultBundleDir, workflowsPath: entry = workflowsPath }: BundleLocation = {}): Promise<BundleCheck> {
  const codePath = path.join(dir, CODE_FILE);
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), 'utf8')));
  } catch {
    return { fresh: false, reason: `there is no workflow bundle in ${dir} (or its manifest cannot be read)` };
  }
  if (path.resolve(dir, manifest.entry) !== entry) return { fresh: false, reason: `the workflow bundle in ${dir} was made from ${manifest.entry}` };
  if (!existsSync(codePath)) return { fresh: false, reason: `${codePath} is missing` };
  const changed = await Promise.all(
    Object.entries(manifest.inputs).map(async ([input, hash]) => {
      const file = path.resolve(dir, input);
      return (await sha256(file).catch(() => undefined)) === hash ? undefined : file;
    }),
  );
  const first = changed.find((file) => file !== undefined);
  if (first) return { fresh: false, reason: `${first} changed since the workflow bundle was made` };
  return { fresh: true, codePath };
}

export interface BuildResult {
  codePath: string;
  /** False when the bundle there was already up to date. */
  built: boolean;
}

/** Makes the bundle in `dir` unless the one there is up to date (idempotent: `vigil setup` runs it every time). */
export async function buildWorkflowBundle({ dir = defaultBundleDir, workflowsPath: entry = workflowsPath }: BundleLocation = {}): Promise<BuildResult> {
  const check = await checkWorkflowBundle({ dir, workflowsPath: entry });
  if (check.fresh) return { codePath: check.codePath, built: false };

  const inputs: string[] = [];
  const { code } = await bundleWorkflowCode({
    workflowsPath: entry,
    logger: new DefaultLogger('WARN'),
    webpackConfigHook: (config) => ({
      ...config,
      plugins: [
        ...(config.plugins ?? []),
        {
          apply: (compiler) =>
            compiler.hooks.done.tap('vigil-bundle-inputs', ({ compilation }) => {
              inputs.push(...compilation.fileDependencies);
            }),
        },
      ],
    }),
  });
  // The generated entry point lives in webpack's in-memory volume: only files on disk are inputs.
  const onDisk = [...new Set(inputs)].filter((file) => { try { return statSync(file).isFile(); } catch { return false; } }).sort();
  const manifest: Manifest = {
    entry: path.relative(dir, entry),
    inputs: Object.fromEntries(await Promise.all(onDisk.map(async (file) => [path.relative(dir, file), await sha256(file)] as const))),
  };

  await mkdir(dir, { recursive: true });
  const codePath = path.join(dir, CODE_FILE);
  const manifestPath = path.join(dir, MANIFEST_FILE);
  // The manifest goes first and comes back last, so that an interrupted build leaves no bundle that looks fresh.
  await rm(manifestPath, { force: true });
  await writeAtomically(codePath, code);
  await writeAtomically(manifestPath, `${JSON.stringify(manifest, null, 1)}\n`);
  return { codePath, built: true };
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}

/** For Worker.create: the prebuilt bundle when fresh, else the workflows bundled at start (and `onStale` told why). */
export async function workflowCodeOptions(
  onStale: (reason: string) => void,
  location: BundleLocation = {},
): Promise<Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>> {
  const check = await checkWorkflowBundle(location);
  if (check.fresh) return { workflowBundle: { codePath: check.codePath } };
  onStale(check.reason);
  return { workflowsPath: location.workflowsPath ?? workflowsPath };
}
