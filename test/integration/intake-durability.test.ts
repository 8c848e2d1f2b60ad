// Never lose an authenticated alert: archive first, 503 when the archive fails, 202 undispatched
// when Temporal is away, and the sweeper delivering it later — once.
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import getPort from 'get-port';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalArchive } from '../../activities/archive/local';
import { logIn, pressAsPage } from '../helpers/tracker-page';
import { eventually, startTestVigil, type TestVigil } from '../helpers/vigil';

let vigil: TestVigil | undefined;
afterEach(async () => {
  await vigil?.stop();
  vigil = undefined;
});

const alert = (id: string) => ({ id, title: `alert ${id}`, severity: 'medium' });

const sweep = (v: TestVigil) =>
  v.client.workflow.execute('sweepArchive', {
    taskQueue: v.config.temporal.taskQueue,
    workflowId: `sweep-${Math.random()}`,
    args: [{ lookbackDays: 1 }],
  }) as Promise<{ examined: number; dispatched: number; stillUndispatched: number; rejected: number }>;

describe('durability', () => {
  it('answers 503 and starts nothing when the archive cannot be written', async () => {
    vigil = await startTestVigil();
    // The archive folder is a file: every write fails.
    await mkdir(vigil.config.dataDir, { recursive: true });
    await writeFile(path.join(vigil.config.dataDir, 'archive'), 'not a folder');
    const response = await vigil.post('generic', alert('lost?'));
    expect(response).toMatchObject({ status: 503, body: { error: 'the archive is unavailable; retry later' } });
    await expect(vigil.client.workflow.getHandle('alert/generic/lost?').describe()).rejects.toThrow(/not found/i);
  });

  it('answers 202 undispatched while Temporal is away, and the sweeper delivers it once', async () => {
    vigil = await startTestVigil({ intakeTemporalAddress: `127.0.0.1:${await getPort()}` });
    const response = await vigil.post('generic', alert('while-away'));
    expect(response.status).toBe(202);
    expect(response.body.alerts).toEqual([
      { id: `${response.body.archiveId}#0`, fingerprint: 'while-away', kind: 'resource', workflowId: 'alert/generic/while-away', dispatched: false },
    ]);
    const archive = createLocalArchive(path.join(vigil.config.dataDir, 'archive'));
    expect((await archive.read(response.body.archiveId)).meta.dispatchedAt).toBeUndefined();

    // The sweeper only takes records older than its settling time: age this one.
    const metaFile = path.join(vigil.config.dataDir, 'archive', `${response.body.archiveId}.meta.json`);
    const { meta } = await archive.read(response.body.archiveId);
    await writeFile(metaFile, JSON.stringify({ ...meta, receivedAt: new Date(Date.now() - 60_000).toISOString() }));

    expect(await sweep(vigil)).toEqual({ examined: 1, dispatched: 1, stillUndispatched: 0, rejected: 0 });
    const issue = await eventually(async () => (await vigil!.tracker.listIssues()).find((i) => i.comments.length > 0));
    expect(issue.fingerprint).toBe('while-away');
    expect((await archive.read(response.body.archiveId)).meta.dispatchedAt).toBeDefined();

    // Swept again: nothing more to do (the record has left the index of pending ones), nothing doubled.
    expect(await sweep(vigil)).toEqual({ examined: 0, dispatched: 0, stillUndispatched: 0, rejected: 0 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await vigil.tracker.listIssues()).toHaveLength(1);
    expect((await vigil.tracker.readIssue(issue.number))!.comments).toHaveLength(1);
  });

  it('refuses a person\'s action while Temporal is away, visibly, and changes nothing', async () => {
    vigil = await startTestVigil({ intakeTemporalAddress: `127.0.0.1:${await getPort()}` });
    const { issue } = await vigil.tracker.findOrCreateIssue({ fingerprint: 'quiet', workflowId: 'alert/generic/quiet', title: 'quiet', body: 'quiet', labels: ['vigil'] });
    const session = await logIn(vigil.url, vigil.token);
    const pressed = await pressAsPage(vigil.url, session, issue.number, 'suppress');
    expect(pressed.status).toBe(503);
    expect(await pressed.text()).toContain('Not done: the investigation could not be told');
    const closed = await fetch(`${vigil.url}/v1/issues/${issue.number}/close`, { method: 'POST', headers: { authorization: `Bearer ${vigil.token}` } });
    expect(closed.status).toBe(503);
    expect(await vigil.tracker.readIssue(issue.number)).toMatchObject({ state: 'open', labels: ['vigil'] });
  });

  it('takes gzip bodies, and refuses one that inflates past the bound', async () => {
    vigil = await startTestVigil({ intake: { maxInflatedBytes: 100_000 } });
    const zipped = await vigil.post('generic', gzipSync(JSON.stringify(alert('zipped'))), { 'content-type': 'application/gzip' });
    expect(zipped.status).toBe(202);
    expect(zipped.body.alerts[0].workflowId).toBe('alert/generic/zipped');
    const bomb = await vigil.post('generic', gzipSync(Buffer.alloc(1_000_000, 32)), { 'content-type': 'application/gzip' });
    expect(bomb).toMatchObject({ status: 400, body: { error: expect.stringMatching(/could not be inflated within 100000 bytes/) } });
  });

  it('applies each source its own size limit', async () => {
    vigil = await startTestVigil({ intake: { maxBodyBytes: 64 * 1024, sources: { generic: { maxBodyBytes: 2048 } } } });
    const big = { ...alert('big'), description: 'x'.repeat(4000) };
    expect((await vigil.post('generic', big)).status).toBe(413);
    expect((await vigil.post('auto', big)).status).toBe(202);
  });
});
