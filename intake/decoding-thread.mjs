// Entry of a decoding thread (intake/decoder.ts). Vigil runs TypeScript through tsx, which a new
// thread does not inherit (bin/vigil.js registers it for the main thread only, and vitest transforms
// modules its own way), so the thread loads its task module through tsx itself.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const { default: task } = await tsImport(workerData.taskModule, import.meta.url);

/** Says on `started` that the body has its thread (its deadline runs from now), then decodes it. */
export default function decodeOnThread({ started, ...work }) {
  started?.postMessage('started');
  started?.close();
  return task(work);
}
