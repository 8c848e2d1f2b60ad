// `vigil build`, also run at the end of `vigil setup` and in the Dockerfile: the workflow bundle a
// worker loads at start (workers/workflow-bundle.ts), remade only when what it was made from changed.
import path from 'node:path';
import { buildWorkflowBundle } from '../workers/workflow-bundle';
import { projectRoot } from './prerequisites';

/** With `quiet`, says something only when it built. */
export async function buildWorkflows({ quiet = false } = {}): Promise<void> {
  const { codePath, built } = await buildWorkflowBundle();
  const shown = path.relative(projectRoot, codePath);
  if (built) console.log(`built: ${shown}`);
  else if (!quiet) console.log(`up to date: ${shown}`);
}
