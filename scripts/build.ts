// `vigil build`, also run at the end of `vigil setup` and in the Dockerfile: the workflow bundle a
// worker loads at start (workers/workflow-bundle.ts) and Vigil compiled to JavaScript
// (scripts/build-cli.ts), each remade only when what it was made from changed.
import path from 'node:path';
import { buildWorkflowBundle } from '../workers/workflow-bundle';
import { buildCompiledCli } from './build-cli';
import { projectRoot } from './prerequisites';

/** With `quiet`, says something only when it built. */
export async function buildAll({ quiet = false } = {}): Promise<void> {
  const say = (file: string, built: boolean) => {
    const shown = path.relative(projectRoot, file);
    if (built) console.log(`built: ${shown}`);
    else if (!quiet) console.log(`up to date: ${shown}`);
  };
  const bundle = await buildWorkflowBundle();
  say(bundle.codePath, bundle.built);
  const cli = await buildCompiledCli();
  say(path.dirname(cli.entry), cli.built);
}
