// `vigil replay --from-archive <production archive> --to <staging intake>`: posts production's
// archived alerts to another intake (staging), each to its source's route with the headers the
// archive kept, as the sender sent it. The production archive is only read: it is opened through a
// store that refuses every write, so no mark, index or marker is ever written to it.
import { stat } from 'node:fs/promises';
import { SingleBar, Presets } from 'cli-progress';
import { createObjectStore, ObjectGoneError } from '../activities/archive/objects';
import { localBlobStore } from '../activities/archive/local';
import { createRecordArchive, type RecordStore } from '../activities/archive/records';
import { s3BlobStore } from '../activities/archive/s3';
import type { Archive, ArchiveRecordMeta } from '../activities/archive/types';
import { alertRouteUrl, forwardedHeaders } from '../intake/mirror';
import { resolveIntakeToken } from '../intake/token';
import { mapConcurrent } from '../lib/concurrency';
import type { Config } from '../lib/config';
import { parseWhen } from './replay';

export interface S3Location {
  region: string;
  /** For S3-compatible stores (path-style addressing then). */
  endpoint?: string;
}

export interface StagingReplayOptions {
  /** The production archive: its folder (`<dataDir>/archive`), or `s3://bucket/prefix`. */
  from: string;
  /** The staging intake's base URL. */
  to: string;
  /** The staging intake's bearer token. */
  token: string;
  since: Date;
  until: Date;
  source?: string;
  /** Records posted at once. */
  concurrency: number;
  /** How long one post may take. */
  timeoutMs: number;
  s3: S3Location;
  /** Where the progress bar is drawn (only on a terminal). */
  progressStream?: NodeJS.WriteStream;
}

export interface StagingReplaySummary {
  /** Records of the range in the archive. */
  records: number;
  /** Posted to the staging intake (its answer, or none). */
  sent: number;
  /** Answered 202. */
  accepted: number;
  /** Not accepted, by the staging intake's status (or `no answer`). */
  refused: Record<string, number>;
  /** Not sent, by why (the archived object can no longer be read). */
  skipped: Record<string, number>;
}

/** A store that reads and refuses to write: what keeps replay from marking the production archive. */
export function readOnlyStore(store: RecordStore): RecordStore {
  const refuse = async (key: string): Promise<never> => {
    throw new Error(`the archive ${store.location} is opened read-only: refused to change ${key}`);
  };
  return { location: store.location, get: (key) => store.get(key), keys: (prefix) => store.keys(prefix), put: refuse, delete: refuse };
}

/** The production archive, read-only, from a folder or an `s3://bucket/prefix` URL. */
export async function openArchiveReadOnly(from: string, s3: S3Location): Promise<Archive> {
  const url = /^s3:\/\/([^/]+)\/?(.*)$/.exec(from);
  let store: RecordStore;
  if (url) {
    const [, bucket = '', rawPrefix = ''] = url;
    const prefix = rawPrefix && !rawPrefix.endsWith('/') ? `${rawPrefix}/` : rawPrefix;
    store = s3BlobStore({ bucket, prefix, region: s3.region, endpoint: s3.endpoint, forcePathStyle: s3.endpoint !== undefined });
  } else {
    // A folder that is not there would list as an empty archive: a typo would replay nothing, silently.
    const found = await stat(from).catch(() => undefined);
    if (!found?.isDirectory()) throw new Error(`no archive folder at ${from} (give <dataDir>/archive, or s3://bucket/prefix)`);
    store = localBlobStore(from);
  }
  return createRecordArchive(readOnlyStore(store), { readObject: createObjectStore().read });
}

/** Answers worth waiting for: a busy staging intake asks for a retry. */
const RETRIED = new Set([429, 503]);
const MAX_ATTEMPTS = 5;
const MAX_RETRY_WAIT_SECONDS = 30;

async function post(meta: ArchiveRecordMeta, body: Buffer, options: StagingReplayOptions): Promise<number | 'no answer'> {
  const headers = forwardedHeaders({ 'content-type': meta.contentType || 'application/octet-stream', ...meta.headers }, options.token, { 'x-vigil-replayed-from': meta.id });
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(alertRouteUrl(options.to, meta.source), { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs) }).catch(() => undefined);
    if (!response) return 'no answer';
    await response.arrayBuffer().catch(() => undefined);
    if (!RETRIED.has(response.status) || attempt === MAX_ATTEMPTS) return response.status;
    const wait = Math.min(Number(response.headers.get('retry-after')) || attempt, MAX_RETRY_WAIT_SECONDS);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  }
}

export async function replayIntoStaging(options: StagingReplayOptions): Promise<StagingReplaySummary> {
  const archive = await openArchiveReadOnly(options.from, options.s3);
  const records: ArchiveRecordMeta[] = [];
  for await (const meta of archive.list({ since: options.since, until: options.until, source: options.source })) records.push(meta);

  const summary: StagingReplaySummary = { records: records.length, sent: 0, accepted: 0, refused: {}, skipped: {} };
  const count = (tally: Record<string, number>, key: string) => (tally[key] = (tally[key] ?? 0) + 1);
  // cli-progress draws nothing when the stream is not a terminal.
  const bar = new SingleBar({ stream: options.progressStream ?? process.stderr, format: 'replay to staging [{bar}] {value}/{total} records', hideCursor: true }, Presets.shades_classic);
  bar.start(records.length, 0);
  // A refused token is refused for every record: the rest are not sent (and not counted as refused).
  let tokenRefused = false;
  try {
    await mapConcurrent(records, options.concurrency, async (meta) => {
      if (tokenRefused) {
        count(summary.skipped, 'not sent after the staging intake refused the token');
        bar.increment();
        return;
      }
      const body = await archive.read(meta.id).then(
        (read) => read.body,
        (err: unknown) => {
          count(summary.skipped, err instanceof ObjectGoneError ? 'its object is gone from the trail bucket' : `unreadable (${(err as Error).name})`);
          return undefined;
        },
      );
      if (body) {
        const status = await post(meta, body, options);
        summary.sent += 1;
        if (status === 202) summary.accepted += 1;
        else count(summary.refused, String(status));
        if (status === 401) tokenRefused = true;
      }
      bar.increment();
    });
  } finally {
    bar.stop();
  }
  return summary;
}

/** The summary as a person reads it. */
export function describeSummary({ records, sent, accepted, refused, skipped }: StagingReplaySummary): string {
  const lines = [`${records} records in the range: ${sent} sent, ${accepted} accepted`];
  for (const [status, n] of Object.entries(refused)) lines.push(`  refused (${status}): ${n}`);
  if (refused['401']) lines.push("  the staging intake refused the token: check --token-env's variable, or the profile's intake.token");
  for (const [reason, n] of Object.entries(skipped)) lines.push(`  skipped, ${reason}: ${n}`);
  return lines.join('\n');
}

/** `vigil replay --from-archive …` as typed. */
export interface StagingReplayArguments {
  fromArchive: string;
  to?: string;
  tokenEnv?: string;
  since: string;
  until?: string;
  source?: string;
  concurrency: string;
  s3Region: string;
  s3Endpoint?: string;
  json?: boolean;
}

/**
 * Runs the command; the staging intake's address and token come from the selected profile unless
 * given. Without a profile both must be given: the unprofiled configuration is production's, whose
 * token would go to `--to`, or whose own intake would get the replay. Exit 1 when any record was refused.
 */
export async function runStagingReplay(args: StagingReplayArguments, configuration: () => Config, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (!env.VIGIL_PROFILE && !(args.to && args.tokenEnv)) {
    const missing = [args.to ? undefined : '--to <staging intake URL>', args.tokenEnv ? undefined : '--token-env <variable holding its token>'].filter(Boolean).join(' and ');
    throw new Error(
      `--from-archive: select the staging profile (vigil --profile <name> replay …, or VIGIL_PROFILE), or add ${missing}: without a profile the configuration is production's, and its ${args.to ? 'intake token would be sent to --to' : 'own intake would get the replay'}`,
    );
  }
  const config = args.to && args.tokenEnv ? undefined : configuration();
  const token = args.tokenEnv ? env[args.tokenEnv] : (await resolveIntakeToken(config!, { generate: false })).token;
  if (!token) throw new Error(`--token-env ${args.tokenEnv}: the environment variable is not set`);
  if (args.to && !/^https?:\/\/[^/\s]+/.test(args.to)) throw new Error(`--to: expected the intake's base URL, like http://vigil-staging.internal:8787, not ${JSON.stringify(args.to)}`);
  const concurrency = Number(args.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency: expected a whole number of at least 1, not ${JSON.stringify(args.concurrency)}`);
  const summary = await replayIntoStaging({
    from: args.fromArchive,
    to: args.to ?? intakeUrl(config!),
    token,
    since: parseWhen(args.since),
    until: args.until ? parseWhen(args.until) : new Date(),
    source: args.source,
    concurrency,
    timeoutMs: 60_000,
    s3: { region: args.s3Region, endpoint: args.s3Endpoint },
  });
  console.log(args.json ? JSON.stringify(summary, null, 2) : describeSummary(summary));
  return Object.keys(summary.refused).length > 0 ? 1 : 0;
}

/** Where the configured intake listens, as a sender on this machine reaches it. */
function intakeUrl(config: Config): string {
  const host = config.intake.host === '0.0.0.0' ? '127.0.0.1' : config.intake.host.includes(':') ? `[${config.intake.host}]` : config.intake.host;
  return `http://${host}:${config.intake.port}`;
}
