// A decoding thread's task (see intake/decoder.ts `taskModule`) that runs away when a body asks it
// to, as a decode of a hostile body would: `{"runaway": "memory"}` takes 256 MiB of the thread's heap
// (then decodes the body, should its heap hold that much), `{"runaway": "time"}` loops for ever. Any
// other body goes to the real task, intake/read-alerts.ts. What a test sees depends on the thread's
// limits only, never on how long anything takes.
import type { ReadOutcome, ReadTask } from '../../intake/decode-alerts';
import readAlerts from '../../intake/read-alerts';

export default function runawayReadAlerts(task: ReadTask): ReadOutcome {
  const text = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength).toString('utf8');
  if (text === '{"runaway":"memory"}') {
    const kept: number[][] = [];
    // 256 arrays of 128 Ki doubles: 1 MiB each.
    for (let n = 0; n < 256; n++) kept.push(new Array<number>(128 * 1024).fill(n + 0.5));
    if (kept.length < 256) throw new Error('unreachable: keeps the arrays alive');
  }
  if (text === '{"runaway":"time"}') {
    for (;;) {
      // Spins: only ending the thread stops it.
    }
  }
  return readAlerts(task);
}
