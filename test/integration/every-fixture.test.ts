// Every real and written sample of every source, sent to `auto` through real HTTP: detection picks
// the source that parses it, and every alert is reported on an issue (all of them render).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePayload } from '../../intake/normalize';
import { createSourceAdapters, sourceNames } from '../../intake/sources';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

const fixturesDir = path.resolve(import.meta.dirname, '../fixtures');

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startTestVigil({ intake: { maxBodyBytes: 5 * 1024 * 1024 } });
});
afterAll(() => vigil.stop());

async function fixtureFiles(): Promise<{ source: string; file: string }[]> {
  const sources = (await readdir(fixturesDir)).filter((name) => sourceNames.includes(name));
  const files = await Promise.all(
    sources.map(async (source) =>
      (await readdir(path.join(fixturesDir, source))).filter((name) => name.endsWith('.json')).map((file) => ({ source, file })),
    ),
  );
  return files.flat();
}

describe('every fixture through intake', () => {
  it('is detected as its own source, or made an unparsed alert exactly when its source refuses it', async () => {
    const adapters = createSourceAdapters();
    const files = await fixtureFiles();
    expect(new Set(files.map(({ source }) => source)).size).toBeGreaterThanOrEqual(6);
    const pending: { workflowId: string; occurrence: string }[] = [];

    for (const { source, file } of files) {
      const body = await readFile(path.join(fixturesDir, source, file), 'utf8');
      const expected = parsePayload(adapters, source, JSON.parse(body));
      const response = await vigil.post('auto', body);
      expect(response.status, `${source}/${file}`).toBe(202);
      const alerts = response.body.alerts as { id: string; fingerprint: string; kind: string; workflowId: string; dispatched: boolean; unwatched?: true; merged?: true }[];
      if ('problem' in expected) {
        expect(alerts.map((alert) => alert.kind), `${source}/${file}`).toEqual(['unparsed']);
      } else {
        // The copies of one finding within a body collapse into one alert; resolutions come after the sightings.
        const collapsed = (resolutions: boolean) => [...new Set(expected.alerts.filter((alert) => (alert.resolution !== undefined) === resolutions).map((alert) => alert.fingerprint))];
        expect(alerts.map((alert) => alert.fingerprint), `${source}/${file}`).toEqual([...collapsed(false), ...collapsed(true)]);
        // An exposure of a machine another fixture's open exposure is about joins that investigation.
        for (const alert of alerts) expect(alert.merged === true || alert.workflowId.startsWith(`alert/${source}/`), `${source}/${file}`).toBe(true);
      }
      expect(alerts.every((alert) => alert.dispatched)).toBe(true);
      const delivery = (response.body.archiveId as string).split('/').at(-1)!;
      // A resolution for a finding no investigation runs for is told to no one.
      const investigated = alerts.filter((alert) => !alert.unwatched);
      pending.push(...investigated.map(({ id, workflowId }) => ({ workflowId, occurrence: `${delivery}#${id.split('#').at(-1)}` })));
    }

    for (const { workflowId, occurrence } of pending) {
      await eventually(async () => {
        const progress = await queryProgress(vigil.client, workflowId);
        return progress?.reportedDeliveries.includes(occurrence) ? true : undefined;
      }, 60_000);
    }
    const issues = await vigil.tracker.listIssues();
    expect(issues.every((issue) => issue.comments.length > 0)).toBe(true);
    // A hundred-odd samples, each a real investigation: more than the default bound on a busy machine.
  }, 300_000);
});
