// `vigil alert parse`, `vigil alert send` and `vigil replay`, run as a user runs them.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVigil } from '../helpers/processes';
import { eventually, startTestVigil, type TestVigil } from '../helpers/vigil';

const demoAlerts = path.resolve(import.meta.dirname, '../../demo/alerts');

let vigil: TestVigil;
let env: Record<string, string>;
beforeAll(async () => {
  vigil = await startTestVigil();
  const configFile = path.join(vigil.config.dataDir, 'vigil.yaml');
  // Replay's `undispatched: 0` must not hinge on how fast a busy Temporal answers.
  await writeFile(configFile, `temporal:\n  taskQueue: ${vigil.config.temporal.taskQueue}\nintake:\n  dispatchTimeoutMs: 60000\n`);
  env = {
    VIGIL_CONFIG: configFile,
    VIGIL_DATA_DIR: vigil.config.dataDir,
    TEMPORAL_ADDRESS: vigil.config.temporal.address,
    VIGIL_INTAKE_TOKEN: vigil.token,
  };
});
afterAll(() => vigil.stop());

async function run(args: string[]) {
  const command = runVigil(args, env);
  const code = await command.exited;
  return { code, output: command.output() };
}

describe('vigil alert parse', () => {
  it('prints the normalized alerts and archives nothing', async () => {
    const { code, output } = await run(['alert', 'parse', path.join(demoAlerts, '01-ssh-open-to-internet.json')]);
    expect(code).toBe(0);
    const alerts = JSON.parse(output) as { source: string; kind: string; fingerprint: string }[];
    expect(alerts).toMatchObject([{ source: 'generic', kind: 'exposure', fingerprint: 'demo/security-group/sg-0demo22/ssh' }]);
  });

  it('exits 2 and says what was expected for a payload it does not understand', async () => {
    const unknown = await run(['alert', 'parse', path.join(demoAlerts, '99-unknown-tool.json')]);
    expect(unknown.code).toBe(2);
    expect(unknown.output).toMatch(/no known source recognises this payload; expected one of: .*generic \(/);
    const named = await run(['alert', 'parse', '--source', 'generic', path.join(demoAlerts, '99-unknown-tool.json')]);
    expect(named.code).toBe(2);
    expect(named.output).toMatch(/not a generic alert/);
  });
});

describe('vigil alert send and vigil replay', () => {
  it('sends files to intake, then replays the archive without doubling anything', async () => {
    for (const name of ['01-ssh-open-to-internet.json', '02-console-login-from-tor.json']) {
      const sent = await run(['alert', 'send', '--url', vigil.url, path.join(demoAlerts, name)]);
      expect(sent.code).toBe(0);
      expect(sent.output).toMatch(/^202 \{"archiveId"/);
    }
    const commented = async () => {
      const issues = await vigil.tracker.listIssues();
      // The summary, and then the actors for the actor alert, the exposure checks for the exposure alert.
      return issues.length === 2 && issues.every((issue) => issue.comments.length === 2) ? issues : undefined;
    };
    const before = await eventually(commented);

    const dryRun = await run(['replay', '--since', '1h', '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(JSON.parse(dryRun.output.slice(dryRun.output.indexOf('{')))).toEqual({
      records: 2, alerts: 2, started: 0, alreadyRunning: 0, unparsed: 0, rejected: 0, undispatched: 0,
    });

    const replayed = await run(['replay', '--since', '1h', '--source', 'auto']);
    expect(replayed.code).toBe(0);
    const summary = JSON.parse(replayed.output.slice(replayed.output.indexOf('{'))) as Record<string, number>;
    expect(summary).toMatchObject({ records: 2, alerts: 2, unparsed: 0, rejected: 0, undispatched: 0 });
    expect(summary.started! + summary.alreadyRunning!).toBe(2);

    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = await eventually(commented);
    expect(after.map((issue) => issue.comments.map((comment) => comment.key))).toEqual(
      before.map((issue) => issue.comments.map((comment) => comment.key)),
    );
  });
});
