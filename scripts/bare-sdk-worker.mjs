// The floor under an idle worker's memory (scripts/bench-memory.ts): a bare Temporal SDK worker in
// plain Node (no tsx, none of Vigil's modules) polling a task queue of its own with a prebuilt
// workflow bundle and no activities, its options the SDK's defaults. What `vigil worker` holds above
// this process is Vigil's; what this process holds is the SDK's.
// Usage: node scripts/bare-sdk-worker.mjs <address> <namespace> <taskQueue> <workflow-bundle.js>
import process from 'node:process';
import { NativeConnection, Worker } from '@temporalio/worker';

const [address, namespace, taskQueue, codePath] = process.argv.slice(2);
if (!codePath) throw new Error('usage: bare-sdk-worker.mjs <address> <namespace> <taskQueue> <workflow-bundle.js>');

const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({ connection, namespace, taskQueue, workflowBundle: { codePath } });
// The SDK's runtime shuts the worker down on SIGTERM (its default shutdown signals).
await worker.run();
await connection.close();
