// The one delivery path (intake/deliver.ts) over a real local archive: what it marks, what it hands
// to dispatch, and with which workflow ids. Dispatch is Vigil's own port; here it records its calls.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalArchive } from '../../activities/archive/local';
import type { Archive } from '../../activities/archive/types';
import { createDecoder } from '../../intake/decoder';
import { createDelivery } from '../../intake/deliver';
import type { NormalizedAlert } from '../../lib/alert';
import type { Dispatch } from '../../lib/delivery';
import { createLogger } from '../../lib/logger';
import { alertsUnparsed } from '../../lib/metrics';
import { investigationWorkflowId } from '../../lib/workflow-id';

const prowlerScan = path.resolve(import.meta.dirname, '../fixtures/prowler/vigil-exposure.ocsf.json');

let dir: string;
let archive: Archive;
let dispatched: { alert: NormalizedAlert; workflowId: string }[];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-delivery-'));
  archive = createLocalArchive(dir);
  dispatched = [];
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const decoder = createDecoder({ sources: {}, maxInflatedBytes: 1024 * 1024, threads: 1, maxDecodingBytes: 1024 * 1024 });

/** A delivery whose dispatch records each call, and refuses the alerts `refuse` picks. */
function delivery(refuse: (alert: NormalizedAlert) => boolean = () => false) {
  const dispatch: Dispatch = async (alert, workflowId) => {
    if (refuse(alert)) throw new Error('Temporal did not answer in time');
    dispatched.push({ alert, workflowId });
    return 'signalled';
  };
  return createDelivery({ archive, decoder, dispatch, logger: createLogger('delivery-test', 'silent') });
}

async function archived(source: string, body: Buffer) {
  const record = await archive.put({ source, body, contentType: 'application/json', headers: {} });
  return { record: { ...record, source }, body };
}

describe('the delivery path', () => {
  it('dispatches every alert under its investigation id, then marks the record with those ids', async () => {
    const { record, body } = await archived('auto', await readFile(prowlerScan));
    const outcome = await delivery().deliver(record, body);

    // Three FAILs and a PASS, which resolves a finding (dispatched like the others).
    expect('alerts' in outcome && outcome.alerts).toHaveLength(4);
    expect(dispatched.map(({ workflowId }) => workflowId)).toEqual(dispatched.map(({ alert }) => investigationWorkflowId(alert.source, alert.fingerprint)));
    expect(outcome).toEqual({
      alerts: dispatched.map(({ alert, workflowId }) => ({ id: `${record.id}#${alert.index}`, fingerprint: alert.fingerprint, kind: alert.kind, workflowId, dispatched: true })),
    });
    const { meta } = await archive.read(record.id);
    expect(meta.dispatchedTo).toEqual(dispatched.map(({ workflowId }) => workflowId));
    expect(meta.dispatchedAt).toBeDefined();
  });

  it('leaves the record undispatched for the sweeper when any alert was not handed over', async () => {
    const { record, body } = await archived('prowler', await readFile(prowlerScan));
    let calls = 0;
    const outcome = await delivery(() => (calls += 1) === 2).deliver(record, body);

    expect('alerts' in outcome && outcome.alerts.map((alert) => alert.dispatched)).toEqual([true, false, true, true]);
    expect((await archive.read(record.id)).meta.dispatchedAt).toBeUndefined();
  });

  it('rejects a malformed body, marks it so the sweeper leaves it, and dispatches nothing', async () => {
    for (const body of [Buffer.from('{"title": "cut off'), gzipSync(Buffer.alloc(2 * 1024 * 1024, 0x20))]) {
      const { record } = await archived('generic', body);
      const outcome = await delivery().deliver(record, body);
      expect(outcome).toEqual({ rejected: expect.stringMatching(/malformed JSON|could not be inflated/) });
      expect((await archive.read(record.id)).meta.rejected).toBe((outcome as { rejected: string }).rejected);
    }
    expect(dispatched).toEqual([]);
  });

  it('delivers an archived record again from its stored body, carrying only the archive reference', async () => {
    const alert = { id: 'again', title: 'Delivered twice', severity: 'low' };
    const { record } = await archived('generic', Buffer.from(JSON.stringify(alert)));
    const { meta } = await archive.read(record.id);

    const outcome = await delivery().redeliver(meta);
    expect(outcome).toEqual({ alerts: [expect.objectContaining({ fingerprint: 'again', workflowId: 'alert/generic/again', dispatched: true })] });
    expect(dispatched[0]!.alert.archive).toEqual({ id: meta.id, sha256: meta.sha256, receivedAt: meta.receivedAt });
  });

  it('an unparsable but well-formed payload still becomes an alert: unparsed, dispatched', async () => {
    const { record, body } = await archived('generic', Buffer.from('{"hello": "world"}'));
    const outcome = await delivery().deliver(record, body);
    expect(outcome).toEqual({ alerts: [expect.objectContaining({ kind: 'unparsed', dispatched: true })] });
    expect(dispatched[0]!.alert.title).toBe('Unparsed alert from generic');
  });

  it('counts an unparsed alert once: the sweeper delivering its record again is the same delivery', async () => {
    const counted = async () => (await alertsUnparsed.get()).values.find((value) => value.labels.source === 'generic')?.value ?? 0;
    const before = await counted();
    const { record, body } = await archived('generic', Buffer.from('{"unparsed": "once"}'));
    await delivery(() => true).deliver(record, body);
    await delivery().redeliver((await archive.read(record.id)).meta);
    expect(dispatched.map(({ alert }) => alert.kind)).toEqual(['unparsed']);
    expect((await counted()) - before).toBe(1);
  });
});
