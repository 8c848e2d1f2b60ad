// `vigil replay`: delivers archived alerts again, idempotently (a replayed record is the same
// delivery, so it comments nothing twice), with a progress bar and a summary.
import { Client, Connection } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';
import { SingleBar, Presets } from 'cli-progress';
import { createArchive } from '../activities/archive';
import type { ArchiveRecordMeta } from '../activities/archive/types';
import { decodeBody, MalformedBodyError } from '../intake/body';
import { createDelivery } from '../intake/deliver';
import { createDispatcher } from '../intake/dispatch';
import { normalizePayload } from '../intake/normalize';
import { createSourceAdapters } from '../intake/sources';
import { investigationWorkflowId } from '../lib/workflow-id';
import type { Config } from '../lib/config';
import { createLogger } from '../lib/logger';

export interface ReplayOptions {
  /** An ISO date, or a duration ago such as `24h` or `7d`. */
  since: string;
  until?: string;
  source?: string;
  dryRun: boolean;
}

export interface ReplaySummary {
  records: number;
  alerts: number;
  started: number;
  alreadyRunning: number;
  unparsed: number;
  rejected: number;
  undispatched: number;
}

export function parseWhen(text: string, now = Date.now()): Date {
  if (/^\d+\s*[a-z]+$/i.test(text.trim())) return new Date(now - msToNumber(text.trim() as `${number}d`));
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new Error(`not a date or a duration ago (like 24h, 7d): ${JSON.stringify(text)}`);
  return date;
}

export async function replay(config: Config, options: ReplayOptions): Promise<ReplaySummary> {
  const archive = createArchive(config);
  const adapters = createSourceAdapters(config.intake.sources);
  const since = parseWhen(options.since);
  const until = options.until ? parseWhen(options.until) : new Date();
  const records: ArchiveRecordMeta[] = [];
  for await (const meta of archive.list({ since, until, source: options.source })) records.push(meta);

  const summary: ReplaySummary = { records: records.length, alerts: 0, started: 0, alreadyRunning: 0, unparsed: 0, rejected: 0, undispatched: 0 };
  const bar = new SingleBar({ stream: process.stderr, format: 'replay [{bar}] {value}/{total} records', hideCursor: true }, Presets.shades_classic);
  bar.start(records.length, 0);

  const connection = options.dryRun ? undefined : await Connection.connect({ address: config.temporal.address });
  try {
    const client = connection && new Client({ connection, namespace: config.temporal.namespace });
    const dispatch = client && createDispatcher(client, config.temporal.taskQueue, config.intake.dispatchTimeoutMs);
    const delivery =
      client &&
      dispatch &&
      createDelivery({
        archive,
        adapters,
        logger: createLogger('replay', 'warn'),
        maxInflatedBytes: config.intake.maxInflatedBytes,
        // Told apart before dispatching: a new investigation, or a signal to a running one.
        dispatch: async (alert) => {
          const workflowId = investigationWorkflowId(alert.source, alert.fingerprint);
          const running = await client.workflow
            .getHandle(workflowId)
            .describe()
            .then(({ status }) => status.name === 'RUNNING', () => false);
          await dispatch(alert);
          summary[running ? 'alreadyRunning' : 'started'] += 1;
          return workflowId;
        },
      });

    for (const meta of records) {
      const { body } = await archive.read(meta.id);
      let payload: unknown;
      try {
        payload = decodeBody(body, config.intake.maxInflatedBytes);
      } catch (err) {
        if (!(err instanceof MalformedBodyError)) throw err;
        summary.rejected += 1;
        bar.increment();
        continue;
      }
      const alerts = delivery
        ? await delivery.deliver(meta, meta.source, payload)
        : normalizePayload(adapters, meta.source, payload, meta).map((alert) => ({ kind: alert.kind, dispatched: false }));
      summary.alerts += alerts.length;
      summary.unparsed += alerts.filter((alert) => alert.kind === 'unparsed').length;
      if (delivery) summary.undispatched += alerts.filter((alert) => !alert.dispatched).length;
      bar.increment();
    }
  } finally {
    bar.stop();
    await connection?.close();
  }
  return summary;
}
