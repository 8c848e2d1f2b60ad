// `vigil rules check`, `vigil rules test` and `vigil alert parse --rules`, run as a user runs them,
// on SigmaHQ's own rules/cloud folder and real CloudTrail and GCP audit records.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runVigil } from '../helpers/processes';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');
const sigmahq = path.join(fixtures, 'sigma', 'sigmahq-cloud');
const cloudTrailStop = path.join(fixtures, 'cloudtrail', 'aws.defense-evasion.cloudtrail-stop.json');
const gcpSsh = path.join(fixtures, 'gcp-audit', 'vigil-insert-ssh.json');

let dir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-rules-'));
  env = { VIGIL_CONFIG: path.join(dir, 'vigil.yaml'), VIGIL_DATA_DIR: dir };
  await writeFile(env.VIGIL_CONFIG!, `detections:\n  sigma: [${JSON.stringify(path.join(fixtures, 'sigma', 'aws_cloudtrail_disable_logging.yml'))}]\n`);
});

async function run(args: string[]) {
  const command = runVigil(args, env);
  return { code: await command.exited, output: command.output() };
}

describe('vigil rules check', () => {
  it("loads SigmaHQ's CloudTrail and GCP audit rules and says why every other rule is skipped", async () => {
    const { code, output } = await run(['rules', 'check', '--json', sigmahq]);
    expect(code).toBe(0);
    const report = JSON.parse(output) as { loaded: number; rules: { logsource: string }[]; skipped: { file: string; reason: string }[] };
    const onDisk = (folder: string) => report.rules.filter((rule) => rule.logsource === folder).length;
    expect({ loaded: report.loaded, cloudtrail: onDisk('aws-cloudtrail'), gcp: onDisk('gcp-audit') }).toEqual({ loaded: 73, cloudtrail: 57, gcp: 16 });
    expect(report.skipped).toHaveLength(152);
    for (const { file, reason } of report.skipped) {
      expect(file).not.toMatch(/\/(aws\/cloudtrail|gcp\/audit)\//);
      expect(reason).toMatch(/^logsource .* is not one Vigil reads/);
    }
  });

  it('uses detections.sigma when given no path, and fails with --strict only when a rule is skipped', async () => {
    const configured = await run(['rules', 'check', '--strict']);
    expect(configured.code).toBe(0);
    expect(configured.output).toContain('aws_cloudtrail_disable_logging.yml: 4db60cc0-36fb-42b7-9b58-a5b53019fb74 "AWS CloudTrail Important Change" (aws-cloudtrail, medium)');
    expect(configured.output).toContain('1 rules loaded, 0 skipped');
    expect((await run(['rules', 'check', '--strict', sigmahq])).code).toBe(1);
  });

  it('names a path that does not exist', async () => {
    const { code, output } = await run(['rules', 'check', path.join(dir, 'nowhere')]);
    expect(code).toBe(1);
    expect(output).toContain(path.join(dir, 'nowhere'));
  });
});

describe('vigil rules test', () => {
  it('prints which rules match which records, by position in each file', async () => {
    const { code, output } = await run(['rules', 'test', sigmahq, '--json', '--', cloudTrailStop, gcpSsh]);
    expect(code).toBe(0);
    const report = JSON.parse(output) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(['loaded', 'skipped', 'matches']);
    expect(report.loaded).toBe(73);
    expect((report.skipped as unknown[])[0]).toEqual({ file: expect.stringContaining('sigmahq-cloud/'), reason: expect.any(String) });
    expect(report.matches).toEqual([
      { ruleId: '4db60cc0-36fb-42b7-9b58-a5b53019fb74', ruleTitle: 'AWS CloudTrail Important Change', level: 'medium', file: cloudTrailStop, index: 0 },
      { ruleId: 'fe513c69-734c-4d4a-8548-ac5f609be82b', ruleTitle: 'Google Cloud Firewall Modified or Deleted', level: 'medium', file: gcpSsh, index: 0 },
    ]);
  });

  it('counts records within a log file', async () => {
    const logFile = path.join(dir, 'trail.json');
    const stop = (await import(cloudTrailStop, { with: { type: 'json' } })).default[0];
    await writeFile(logFile, JSON.stringify({ Records: [{ ...stop, eventName: 'DescribeTrails' }, stop] }));
    const { output } = await run(['rules', 'test', '--json', path.join(fixtures, 'sigma'), '--', logFile]);
    expect((JSON.parse(output) as { matches: { index: number }[] }).matches.map(({ index }) => index)).toEqual([1]);
  });

  it('exits 2 for a file that is no log Sigma rules read, and asks for the files after --', async () => {
    const other = await run(['rules', 'test', sigmahq, '--', path.join(fixtures, 'scc', 'bad_ip_scc.json'), path.join(dir, 'missing.json'), cloudTrailStop]);
    expect(other.code).toBe(2);
    expect(other.output).toContain('neither CloudTrail records nor GCP audit log entries');
    expect(other.output).toContain(`${path.join(dir, 'missing.json')}: ENOENT`);
    // The readable log is still tested.
    expect(other.output).toContain(`${cloudTrailStop} record 0: medium 4db60cc0-36fb-42b7-9b58-a5b53019fb74`);
    const noFiles = await run(['rules', 'test', sigmahq]);
    expect(noFiles.code).toBe(1);
    expect(noFiles.output).toContain('give the log files after --');
  });
});

describe('vigil alert parse --rules', () => {
  it('shows on each alert the rules that found it', async () => {
    // The option before the file: it takes one path each time, and leaves the file to be the file.
    const { code, output } = await run(['alert', 'parse', '--rules', sigmahq, cloudTrailStop]);
    expect(code).toBe(0);
    // stderr's notes come before the JSON array in the output read here.
    const [alert] = JSON.parse(output.slice(output.search(/^\[/m))) as { detections: { engine: string; id: string; tags?: string[] }[] }[];
    expect(alert!.detections.map(({ engine, id }) => `${engine} ${id}`)).toEqual(['built-in cloudtrail-logging-stopped', 'sigma 4db60cc0-36fb-42b7-9b58-a5b53019fb74']);
    expect(alert!.detections[1]!.tags).toEqual(['attack.defense-impairment', 'attack.t1685.002']);
    expect(output).toContain('152 of the Sigma rules were skipped; `vigil rules check` says why');
  });
});
