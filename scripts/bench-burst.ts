// A burst of distinct alerts POSTed to intake at a fixed concurrency: for each, the time from its
// POST until its first (summary) comment is on its issue in the local tracker.
//
// The tracker is watched, not polled: every write of an issue renames its file into place
// (writeFileAtomic), which inotify reports; only the issue written is read, and only until it
// carries a comment. A thousand issues cost a few thousand small reads over the whole burst, so the
// measurement does not load the machine it measures.
//
// Its floor, measured first on the same server: the same burst shape with the bare Temporal SDK
// (scripts/bare-sdk-burst.mjs), each workflow's one activity writing a comment file. What Vigil's
// first comments take beyond it is Vigil's; what it takes is the server's and the machine's.
import { watch } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LocalTracker } from '../activities/tracker/local';
import { cpuMs, inParallel, percentile, spawnNode } from './bench-common';

export interface BurstOptions {
  /** POSTs one alert to intake; resolves once intake answered 202. */
  post(body: object): Promise<void>;
  tracker: Pick<LocalTracker, 'readIssue'>;
  /** The local tracker's folder (its issues are `<root>/issues/<n>.json`). */
  trackerRoot: string;
  alerts: number;
  concurrency: number;
  /** Given up (with how many were reported) after this long. */
  timeoutMs?: number;
  /** The Temporal server's process, whose CPU time the burst is charged with too. */
  serverPid?: number;
}

export type BurstFigures = {
  burstAlerts: number;
  burstConcurrency: number;
  burstFirstCommentP50Ms: number;
  burstFirstCommentP95Ms: number;
  /** CPU per alert from the first POST until the last first comment: this process (intake, worker), and the Temporal server. */
  burstVigilCpuMsPerAlert: number;
  burstServerCpuMsPerAlert?: number;
};

const issueFile = /^(\d+)\.json$/;
const BURST = 'bench/burst/';
const fingerprintOf = (n: number) => `${BURST}${n}`;

export async function benchBurst({ post, tracker, trackerRoot, alerts, concurrency, timeoutMs = 10 * 60_000, serverPid }: BurstOptions): Promise<BurstFigures> {
  const postedAt = new Map<string, number>();
  const latencies = new Map<string, number>();
  /** Issues already seen with a comment (the burst's) or of another fingerprint: never read again. */
  const settled = new Set<number>();
  /** Issues being read, and whether another write came meanwhile (read again once done). */
  const reading = new Map<number, { again: boolean }>();
  let allReported: () => void = () => undefined;
  const reported = new Promise<void>((resolve) => (allReported = resolve));

  const look = async (number: number) => {
    const issue = await tracker.readIssue(number).catch(() => undefined);
    if (!issue) return;
    const posted = postedAt.get(issue.fingerprint);
    if (posted === undefined) {
      if (!issue.fingerprint.startsWith(BURST)) settled.add(number);
      return; // Not the burst's, or written before its POST was timed (it is read again on its next write).
    }
    if (issue.comments.length === 0) return;
    settled.add(number);
    latencies.set(issue.fingerprint, performance.now() - posted);
    if (latencies.size === alerts) allReported();
  };
  const written = (number: number) => {
    if (settled.has(number)) return;
    const current = reading.get(number);
    if (current) {
      current.again = true;
      return;
    }
    const state = { again: false };
    reading.set(number, state);
    void (async () => {
      do {
        state.again = false;
        await look(number);
      } while (state.again && !settled.has(number));
      reading.delete(number);
    })();
  };

  const issuesDir = path.join(trackerRoot, 'issues');
  await mkdir(issuesDir, { recursive: true });
  const watcher = watch(issuesDir, (_event, name) => {
    const number = name && issueFile.exec(name.toString())?.[1];
    if (number) written(Number(number));
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the burst's first comments: ${latencies.size} of ${alerts} after ${timeoutMs} ms`)), timeoutMs);
  });
  timeout.catch(() => undefined); // Heard by the race below; not an unhandled rejection meanwhile.
  const serverBefore = serverPid === undefined ? 0 : cpuMs(serverPid);
  const before = process.cpuUsage();
  try {
    await inParallel(alerts, concurrency, async (n) => {
      const fingerprint = fingerprintOf(n);
      postedAt.set(fingerprint, performance.now());
      await post({ id: fingerprint, title: `bench burst ${n}`, severity: 'low' });
    });
    await Promise.race([reported, timeout]);
  } finally {
    clearTimeout(timer);
    watcher.close();
  }
  const used = process.cpuUsage(before);
  const serverUsed = serverPid === undefined ? undefined : cpuMs(serverPid) - serverBefore;
  const values = [...latencies.values()];
  return {
    burstAlerts: alerts,
    burstConcurrency: concurrency,
    burstFirstCommentP50Ms: Math.round(percentile(values, 0.5)),
    burstFirstCommentP95Ms: Math.round(percentile(values, 0.95)),
    burstVigilCpuMsPerAlert: Math.round((used.user + used.system) / 1000 / alerts),
    ...(serverUsed === undefined ? {} : { burstServerCpuMsPerAlert: Math.round(serverUsed / alerts) }),
  };
}

export interface BareBurstOptions {
  /** The Temporal server's address and namespace. */
  address: string;
  namespace: string;
  /** A task queue of the bare burst's own, which no Vigil worker polls. */
  taskQueue: string;
  /** A folder for its comment files and figures. */
  dir: string;
  alerts: number;
  concurrency: number;
  serverPid?: number;
  timeoutMs?: number;
}

export type BareBurstFigures = {
  burstBaselineFirstCommentP50Ms: number;
  burstBaselineFirstCommentP95Ms: number;
  /** CPU per alert of the bare SDK process (client and worker), and of the Temporal server. */
  burstBaselineSdkCpuMsPerAlert: number;
  burstBaselineServerCpuMsPerAlert?: number;
};

/** The bare SDK burst as a process of its own (plain Node, none of Vigil's modules); its figures. */
export async function benchBareBurst({ address, namespace, taskQueue, dir, alerts, concurrency, serverPid, timeoutMs = 10 * 60_000 }: BareBurstOptions): Promise<BareBurstFigures> {
  const resultFile = path.join(dir, 'figures.json');
  const args = [address, namespace, taskQueue, String(alerts), String(concurrency), serverPid === undefined ? '-' : String(serverPid), path.join(dir, 'comments'), resultFile];
  const burst = spawnNode([path.join(import.meta.dirname, 'bare-sdk-burst.mjs'), ...args]);
  const timer = setTimeout(() => void burst.stop(1000), timeoutMs);
  const code = await new Promise<number | null>((resolve) => burst.child.once('exit', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`the bare SDK burst ended with ${code ?? burst.child.signalCode}:\n${burst.output().slice(-4000)}`);
  return JSON.parse(await readFile(resultFile, 'utf8')) as BareBurstFigures;
}
