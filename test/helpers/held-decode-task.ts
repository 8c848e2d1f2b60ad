// The task of a decoding thread whose decodes a test holds (see held-decodes.ts): the real one,
// intake/read-alerts.ts, once the test lets it go.
import { BroadcastChannel, threadId } from 'node:worker_threads';
import type { ReadOutcome, ReadTask } from '../../intake/decode-alerts';
import readAlerts from '../../intake/read-alerts';
import { HELD_DECODES_CHANNEL, type HeldDecodeMessage } from './held-decodes';

const channel = new BroadcastChannel(HELD_DECODES_CHANNEL);
const holds = new Map<string, () => void>();
channel.onmessage = (event) => {
  const message = (event as { data: HeldDecodeMessage }).data;
  if ('release' in message) holds.get(message.release)?.();
};
let decodes = 0;

export default async function heldReadAlerts(task: ReadTask): Promise<ReadOutcome> {
  decodes += 1;
  const id = `${threadId}/${decodes}`;
  await new Promise<void>((resolve) => {
    holds.set(id, resolve);
    channel.postMessage({ started: id } satisfies HeldDecodeMessage);
  });
  holds.delete(id);
  return readAlerts(task);
}
