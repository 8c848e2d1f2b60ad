import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config';
import { configFile, problemsOf } from '../helpers/config-files';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({ env: {}, cwd: '/srv/vigil' });
    expect(config.dataDir).toBe('/srv/vigil/.data');
    expect(config.intake.port).toBe(8787);
    expect(config.intake.token).toBeUndefined();
    expect(config.temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', uiPort: 8233 });
    expect(config.tracker.kind).toBe('local');
  });

  it('lets the environment override the file', async () => {
    const file = await configFile('intake:\n  port: 9000\ndataDir: /var/lib/vigil\n');
    const config = loadConfig({
      file,
      env: { VIGIL_PORT: '9100', TEMPORAL_ADDRESS: 'temporal:7233', VIGIL_INTAKE_TOKEN: 'a-long-enough-token' },
    });
    expect(config.intake.port).toBe(9100);
    expect(config.dataDir).toBe('/var/lib/vigil');
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.intake.token).toBe('a-long-enough-token');
  });

  it('names an unknown key, however deep', async () => {
    const file = await configFile('intake:\n  prot: 9000\ntracker:\n  kind: local\ndatadir: x\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([
      'intake.prot: unknown key (misspelt, or not a Vigil setting)',
      'datadir: unknown key (misspelt, or not a Vigil setting)',
    ]);
  });

  it('names the key and the environment variable of a bad value', () => {
    const [problem] = problemsOf(() => loadConfig({ env: { VIGIL_PORT: 'eighty' } }));
    expect(problem).toMatch(/^intake\.port: .*number.*\(from VIGIL_PORT\)$/);
  });

  it('rejects a wrong type in the file with the key', async () => {
    const file = await configFile('temporal:\n  address: no-port-here\ntracker:\n  kind: jira\n');
    const problems = problemsOf(() => loadConfig({ file, env: {} }));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^temporal\.address: expected host:port/);
    expect(problems[1]).toMatch(/^tracker\.kind: .*"local"/);
  });

  it('says when the file is not YAML or cannot be read', async () => {
    const file = await configFile('intake: [unclosed\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))[0]).toMatch(/^not valid YAML or JSON/);
    expect(problemsOf(() => loadConfig({ file: '/nonexistent/vigil.yaml', env: {} }))[0]).toMatch(/^cannot read the file/);
  });

  it('requires the service account of a Pub/Sub OIDC source, saying why', async () => {
    const file = await configFile('intake:\n  sources:\n    scc:\n      auth:\n        - kind: pubsub-oidc\n          audience: https://vigil.example/v1/alerts/scc\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([
      "intake.sources.scc.auth.0.serviceAccountEmail: required: the push subscription's service account, so that only its tokens are accepted",
    ]);
  });
});

describe('names checked against the registries', () => {
  it('names an unknown source, CloudTrail rule, feed or provider', async () => {
    const { createSourceAdapters } = await import('../../intake/sources');
    const { intelSettingsProblems } = await import('../../activities/intel/activities');
    const file = await configFile(
      'intake:\n  sources:\n    cloudtrail:\n      disabledRules: [console-login, no-such-rule]\nintel:\n  feeds:\n    tor: {}\n  providers:\n    shodan: {}\n',
    );
    const config = loadConfig({ file, env: {} });
    expect(() => createSourceAdapters(config.intake.sources)).toThrow(/intake\.sources\.cloudtrail: unknown CloudTrail rule id\(s\): no-such-rule/);
    expect(() => createSourceAdapters({ guarduty: {} })).toThrow(/intake\.sources\.guarduty: unknown source/);
    expect(intelSettingsProblems(config)).toEqual([
      expect.stringMatching(/^intel\.feeds\.tor: unknown feed \(known: tor-exits, /),
      expect.stringMatching(/^intel\.providers\.shodan: unknown provider \(known: .*shodan-internetdb/),
    ]);
  });

  it('names a bad inventory setting and an unknown inventory provider, as `vigil config check` and doctor do', async () => {
    const { checkConfig } = await import('../../scripts/check-config');
    const file = await configFile(
      'inventory:\n  aws:\n    accounts: [{ id: "1234" }]\n    region: [eu-west-1]\n  gcp:\n    scopes: [my-project]\n  azure: {}\n',
    );
    expect(problemsOf(() => checkConfig(file))).toEqual([
      expect.stringMatching(/^inventory\.azure: unknown inventory provider \(known: aws, gcp, static\b/),
      'inventory.aws.accounts.0.id: expected a 12-digit AWS account id',
      'inventory.aws.region: unknown key (misspelt, or not a Vigil setting)',
      'inventory.gcp.scopes.0: expected organizations/<id>, folders/<id> or projects/<id>',
    ]);
  });
});

describe('durations', () => {
  it('refuses a zero duration, naming the key, where Temporal would refuse the schedule only at `schedules apply`', async () => {
    const file = await configFile('sweeper:\n  every: 0s\ndiscovery:\n  every: 0m\nrescan:\n  every: 0h\nwatch:\n  every:\n    critical: 0s\n  maxAge: 0d\n');
    const atLeast = 'expected a duration of at least 1s (Temporal refuses a shorter schedule interval)';
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([
      `sweeper.every: ${atLeast}`,
      `watch.every.critical: ${atLeast}`,
      `watch.maxAge: ${atLeast}`,
      `rescan.every: ${atLeast}`,
      `discovery.every: ${atLeast}`,
    ]);
    const shortest = await configFile('sweeper:\n  every: 1s\ndiscovery:\n  every: 1 second\nwatch:\n  every:\n    critical: 1s\n');
    expect(loadConfig({ file: shortest, env: {} }).sweeper.every).toBe('1s');
  });
});
