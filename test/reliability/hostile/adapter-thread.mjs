// A thread that runs hostile bodies through the source adapters (adapter-task.ts), one at a time,
// so that the test can cut off one that never finishes. TypeScript is loaded through tsx, as
// intake's decoding threads do (intake/decoding-thread.mjs).
import { parentPort } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const { checkCase } = await tsImport('./adapter-task.ts', import.meta.url);
parentPort.on('message', ({ id, task }) => parentPort.postMessage({ id, result: checkCase(task) }));
parentPort.postMessage({ ready: true });
