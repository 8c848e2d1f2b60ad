// The bare burst's workflow (scripts/bare-sdk-burst.mjs): started by signalWithStart like an
// investigation, it writes one comment as soon as its first signal is in, and ends.
import { condition, proxyActivities, setHandler, defineSignal } from '@temporalio/workflow';

const { comment } = proxyActivities({ startToCloseTimeout: '1 minute' });
export const alertReceived = defineSignal('alertReceived');

export async function bareBurst() {
  const inbox = [];
  setHandler(alertReceived, (alert) => void inbox.push(alert));
  await condition(() => inbox.length > 0);
  await comment(inbox[0]);
}
