// Decodes a test can catch in the act: a decoding thread's task (held-decode-task.ts) that announces
// each decode on a broadcast channel, then waits on its thread until the test releases it. While it
// waits, the decode is in flight for every bound and nothing of it runs on the test's event loop.
import { BroadcastChannel } from 'node:worker_threads';

export const HELD_DECODES_CHANNEL = 'vigil-held-decodes';

/** For `createDecoder({ taskModule })`. */
export const heldDecodeTask = new URL('./held-decode-task.ts', import.meta.url);

export type HeldDecodeMessage = { started: string } | { release: string };

export interface HeldDecodes {
  /** Resolves once `count` decodes are held on their threads. */
  started(count: number): Promise<void>;
  /** Lets every held decode go on, and every later one straight through. */
  releaseAll(): void;
  close(): void;
}

export function holdDecodes(): HeldDecodes {
  const channel = new BroadcastChannel(HELD_DECODES_CHANNEL);
  const held: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let releasing = false;
  const release = (id: string) => channel.postMessage({ release: id } satisfies HeldDecodeMessage);

  channel.onmessage = (event) => {
    const message = (event as { data: HeldDecodeMessage }).data;
    if (!('started' in message)) return;
    if (releasing) return release(message.started);
    held.push(message.started);
    for (const waiter of waiters.filter(({ count }) => held.length >= count)) waiter.resolve();
  };

  return {
    started: (count) => new Promise((resolve) => (held.length >= count ? resolve() : waiters.push({ count, resolve }))),
    releaseAll() {
      releasing = true;
      held.splice(0).forEach(release);
    },
    close: () => channel.close(),
  };
}
