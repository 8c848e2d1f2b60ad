// Runs adapter cases on a thread (adapter-thread.mjs) and gives each a generous bound: a case that
// does not come back within it is a hang (a runaway pattern, an endless loop), the thread is
// terminated and a fresh one takes the next case. Outcomes are asserted, never durations.
import { Worker } from 'node:worker_threads';
import type { AdapterCase, AdapterOutcome } from './adapter-task';

export type RunOutcome = AdapterOutcome | { outcome: 'hang'; boundMs: number };

export interface AdapterRunner {
  run(task: AdapterCase): Promise<RunOutcome>;
  close(): Promise<void>;
}

export function createAdapterRunner(boundMs: number): AdapterRunner {
  let worker: Worker | undefined;
  let ready: Promise<Worker> | undefined;
  let next = 0;
  const waiting = new Map<number, (outcome: AdapterOutcome) => void>();

  const start = () =>
    (ready ??= new Promise<Worker>((resolve, reject) => {
      // The stack of a main thread (V8's default, about 1 MiB), not a worker's 4 MiB: intake decodes
      // small plain JSON bodies on its main thread, where deep recursion overflows sooner.
      const thread = new Worker(new URL('./adapter-thread.mjs', import.meta.url), { resourceLimits: { stackSizeMb: 1 } });
      thread.on('message', (message: { ready?: true; id?: number; result?: AdapterOutcome }) => {
        if (message.ready) return resolve(thread);
        waiting.get(message.id!)?.(message.result!);
        waiting.delete(message.id!);
      });
      thread.once('error', (err) => {
        reject(err);
        // A thread that died (out of memory, an uncaught error) fails the cases it held.
        for (const answer of waiting.values()) answer({ outcome: 'broken', where: 'thread', problem: `${err.name}: ${err.message}` });
        waiting.clear();
      });
      thread.once('exit', () => {
        if (worker === thread) {
          worker = undefined;
          ready = undefined;
        }
      });
      worker = thread;
    }));

  return {
    async run(task) {
      const thread = await start();
      const id = next++;
      let timer: NodeJS.Timeout | undefined;
      const answered = new Promise<AdapterOutcome>((resolve) => waiting.set(id, resolve));
      const bound = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), boundMs)));
      thread.postMessage({ id, task });
      const result = await Promise.race([answered, bound]);
      clearTimeout(timer);
      if (result !== 'hang') return result;
      waiting.delete(id);
      // terminate() stops even a synchronous loop; the next case starts a fresh thread.
      worker = undefined;
      ready = undefined;
      await thread.terminate();
      return { outcome: 'hang', boundMs };
    },
    async close() {
      const thread = worker;
      worker = undefined;
      ready = undefined;
      await thread?.terminate();
    },
  };
}
