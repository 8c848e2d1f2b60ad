// `vigil replay`: delivers archived alerts again, idempotently (a replayed record is the same
// delivery, so it comments nothing twice), with a progress bar and a summary.
import { Client } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { SingleBar, Presets } from 'cli-progress';
import { createArchive } from '../activities/archive';
import type { ArchiveRecordMeta } from '../activities/archive/types';
import type { Config } from '../lib/config';
import { createLogger } from '../lib/logger';
import { connectTemporal } from '../lib/temporal-connection';
import { configuredDecoder, createConfiguredDelivery } from '../workers/delivery';

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
  const since = parseWhen(options.since);
  const until = options.until ? parseWhen(options.until) : new Date();
  const records: ArchiveRecordMeta[] = [];
  for await (const meta of archive.list({ since, until, source: options.source })) records.push(meta);

  const summary: ReplaySummary = { records: records.length, alerts: 0, started: 0, alreadyRunning: 0, unparsed: 0, rejected: 0, undispatched: 0 };
  const bar = new SingleBar({ stream: process.stderr, format: 'replay [{bar}] {value}/{total} records', hideCursor: true }, Presets.shades_classic);
  bar.start(records.length, 0);

  const connection = options.dryRun ? undefined : await connectTemporal(config.temporal);
  try {
    const client = connection && new Client({ connection, namespace: config.temporal.namespace });
    const delivery =
      client &&
      createConfiguredDelivery(config, client, createLogger('replay', 'warn'), {
        archive,
        // Told apart before dispatching: a new investigation, or a signal to a running one.
        observe: (dispatch) => async (alert, workflowId) => {
          const running = await client.workflow
            .getHandle(workflowId)
            .describe()
            .then(({ status }) => status.name === 'RUNNING', () => false);
          const outcome = await dispatch(alert, workflowId);
          summary[running ? 'alreadyRunning' : 'started'] += 1;
          return outcome;
        },
      });
    // A dry run reads what each record holds, and dispatches and marks nothing.
    const readOnly = async (meta: ArchiveRecordMeta) => configuredDecoder(config).readAlerts(meta, (await archive.read(meta.id)).body);

    for (const meta of records) {
      const outcome = delivery ? await delivery.redeliver(meta) : await readOnly(meta);
      if ('rejected' in outcome) summary.rejected += 1;
      else {
        const alerts: { kind: string; dispatched?: boolean }[] = outcome.alerts;
        summary.alerts += alerts.length;
        summary.unparsed += alerts.filter((alert) => alert.kind === 'unparsed').length;
        summary.undispatched += alerts.filter((alert) => alert.dispatched === false).length;
      }
      bar.increment();
    }
  } finally {
    bar.stop();
    await connection?.close();
  }
  return summary;
}
