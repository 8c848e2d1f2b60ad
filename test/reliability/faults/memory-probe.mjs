// Loaded into the soak's Vigil processes (NODE_OPTIONS=--import): on SIGWINCH (a signal nothing else
// uses; Temporal's runtime takes SIGUSR2 as a request to shut down) the process collects
// its garbage (twice, so that finalizers' leftovers go too) and writes its memory use on stderr as
// `vigil-memory {"rss":…,"heapUsed":…}`. Nothing else changes in the process.
import process from 'node:process';
import v8 from 'node:v8';
import vm from 'node:vm';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  process.on('SIGWINCH', () => {
    gc();
    gc();
    process.stderr.write(`vigil-memory ${JSON.stringify(process.memoryUsage())}\n`);
  });
}
