// The floor under the burst's first comments (scripts/bench-burst.ts): the same burst shape with the
// bare Temporal SDK in plain Node (no tsx, no intake, none of Vigil's modules) on the same server.
// A client signalWithStarts `alerts` minimal workflows, `concurrency` at a time; each workflow's one
// activity writes a small comment file (written aside, renamed into place, as the local tracker
// does); the time from each call until its file is there, watched with inotify. The worker runs in
// this process with the SDK's default options, as Vigil's does in the bench's. Figures go to
// <resultFile> as JSON: p50, p95, this process's CPU and the server's per alert.
// Usage: node scripts/bare-sdk-burst.mjs <address> <namespace> <taskQueue> <alerts> <concurrency> <serverPid|-> <dir> <resultFile>
import { watch } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';

const [address, namespace, taskQueue, alertsArg, concurrencyArg, serverPidArg, dir, resultFile] = process.argv.slice(2);
if (!resultFile) throw new Error('usage: bare-sdk-burst.mjs <address> <namespace> <taskQueue> <alerts> <concurrency> <serverPid|-> <dir> <resultFile>');
const alerts = Number(alertsArg);
const concurrency = Number(concurrencyArg);

/** CPU time (user and system) of a process in ms, from /proc (Linux counts it in 1/100 s). */
const cpuMs = async (pid) => {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))];

await mkdir(dir, { recursive: true });
const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection,
  namespace,
  taskQueue,
  workflowsPath: path.join(import.meta.dirname, 'bare-sdk-burst-workflow.mjs'),
  activities: {
    async comment({ n }) {
      const file = path.join(dir, `${n}.json`);
      await writeFile(`${file}.tmp`, JSON.stringify({ comment: `alert ${n}` }));
      await rename(`${file}.tmp`, file);
    },
  },
});
const client = new Client({ connection: await Connection.connect({ address }), namespace });

const postedAt = new Map();
const latencies = new Map();
let allWritten;
const written = new Promise((resolve) => (allWritten = resolve));
const watcher = watch(dir, (_event, name) => {
  const n = /^(\d+)\.json$/.exec(name?.toString() ?? '')?.[1];
  const posted = n === undefined ? undefined : postedAt.get(Number(n));
  if (posted === undefined || latencies.has(Number(n))) return;
  latencies.set(Number(n), performance.now() - posted);
  if (latencies.size === alerts) allWritten();
});

const serverPid = serverPidArg === '-' ? undefined : Number(serverPidArg);
const serverBefore = serverPid === undefined ? 0 : await cpuMs(serverPid);
const before = process.cpuUsage();
/** CPU from the first call until the last file, of this process (client and worker) and of the server. */
const measured = written.then(async () => {
  watcher.close();
  const used = process.cpuUsage(before);
  return { sdkMs: (used.user + used.system) / 1000, serverMs: serverPid === undefined ? undefined : (await cpuMs(serverPid)) - serverBefore };
});
let next = 0;
const caller = async () => {
  for (let n = next++; n < alerts; n = next++) {
    postedAt.set(n, performance.now());
    await client.workflow.signalWithStart('bareBurst', {
      workflowId: `bare-burst/${process.pid}/${n}`,
      taskQueue,
      signal: 'alertReceived',
      signalArgs: [{ n }],
    });
  }
};
const [, { sdkMs, serverMs }] = await worker.runUntil(Promise.all([Promise.all(Array.from({ length: concurrency }, caller)), measured]));
const values = [...latencies.values()];
await writeFile(
  resultFile,
  JSON.stringify({
    burstBaselineFirstCommentP50Ms: Math.round(percentile(values, 0.5)),
    burstBaselineFirstCommentP95Ms: Math.round(percentile(values, 0.95)),
    burstBaselineSdkCpuMsPerAlert: Math.round(sdkMs / alerts),
    ...(serverMs === undefined ? {} : { burstBaselineServerCpuMsPerAlert: Math.round(serverMs / alerts) }),
  }),
);
await client.connection.close();
await connection.close();
