// The `vigil` command: the single entry point for everything a user does. Each command loads
// its modules when it runs, so `vigil --help` or `vigil alert parse` does not load Temporal's
// worker, the HTTP server and the cloud SDKs.
import path from 'node:path';
import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { ConfigError, configFilePath, loadConfig, type Config } from '../lib/config';
import { projectRoot } from './prerequisites';
import type { StagingReplayArguments } from './replay-staging';

const program = new Command('vigil')
  .description('Durable investigation of cloud security alerts on Temporal')
  .option('-c, --config <file>', 'configuration file (default: $VIGIL_CONFIG, else ./vigil.yaml when present)')
  .option('-p, --profile <name>', "the file's profiles.<name> merged over its top level, with a data folder and namespace of its own (default: $VIGIL_PROFILE)")
  .showHelpAfterError()
  // Through the environment, so that every configuration read (doctor, config check) takes it.
  .hook('preAction', () => {
    const { profile } = program.opts<{ profile?: string }>();
    if (profile) process.env.VIGIL_PROFILE = profile;
  });

const configOption = () => loadConfig({ file: program.opts<{ config?: string }>().config });

program
  .command('setup')
  .description('install what is missing outside node_modules: Temporal CLI, Chromium, test tools; then build (idempotent)')
  .option('-q, --quiet', 'print only what is installed')
  .option('-v, --verbose', "show the package managers' own output (apt, pip); otherwise only its end, if one fails")
  .option('--bench', 'also what only `vigil bench` uses: nmap, to time the TCP sweep against')
  .action(async (options: { quiet?: boolean; verbose?: boolean; bench?: boolean }) => {
    await (await import('./prerequisites')).installMissing(options);
    await (await import('./build')).buildAll(options);
  });

program
  .command('build')
  .description('bundle the workflow code for the worker and compile Vigil to JavaScript (setup runs it; each only when its sources changed)')
  .action(async () => (await import('./build')).buildAll());

program
  .command('doctor')
  .description('report each prerequisite as ok / missing, with the command that fixes it')
  .action(async () => {
    const { runDoctor } = await import('./doctor');
    process.exitCode = (await runDoctor(program.opts<{ config?: string }>().config)) ? 0 : 1;
  });

program
  .command('dev')
  .description('run Vigil here: Temporal dev server (unless one is running), worker and intake; Ctrl-C stops all')
  .action(async () => (await import('./dev')).runDev(configOption()));

program
  .command('demo')
  .description('start a throwaway Vigil on free ports and send it the demo alerts')
  .option('--once', 'exit once every demo alert has its first report, after stopping everything')
  .option('--json', 'print {"issues": [...]} at the end, as GET /v1/issues gives it')
  .option('--alerts <dir>', 'send the JSON files in this folder instead of the bundled demo alerts', path.join(projectRoot, 'demo', 'alerts'))
  .option('--save-histories <dir>', "write each investigation's event history there as JSON (the replay tests' recordings)")
  .action(async ({ once = false, json = false, alerts, saveHistories }: { once?: boolean; json?: boolean; alerts: string; saveHistories?: string }) =>
    (await import('./demo')).runDemo({ once, json, alerts: path.resolve(alerts), ...(saveHistories ? { saveHistories: path.resolve(saveHistories) } : {}) }),
  );

program
  .command('config')
  .description('configuration commands')
  .command('check')
  .argument('[file]', 'the file to check (default: the one vigil would use)')
  .description('validate a configuration file without starting anything')
  .action(async (file?: string) => {
    const chosen = file ?? configFilePath({ file: program.opts<{ config?: string }>().config });
    (await import('./check-config')).checkConfig(chosen);
    const profile = process.env.VIGIL_PROFILE ? ` with its profile ${process.env.VIGIL_PROFILE}` : '';
    console.log(`ok: ${chosen ?? 'defaults and environment'}${profile} is a valid configuration`);
  });

const alert = program.command('alert').description('try alert files: see how Vigil understands them, or send them');

alert
  .command('parse')
  .argument('<file>', 'a JSON (or gzip) alert payload')
  .option('-s, --source <source>', 'the source it comes from (default: detected)')
  // Repeated rather than variadic, so that `--rules DIR FILE` leaves FILE to be the file.
  .option('-r, --rules <path>', 'a Sigma rule file or folder to use instead of detections.sigma (repeat for more)', (value: string, all: string[] = []) => [...all, value])
  .description('print the normalized alerts as a JSON array, each with the rules that found it; nothing is archived or started (exit 2: not understood)')
  .action(async (file: string, { source, rules }: { source?: string; rules?: string[] }) => {
    const { parseAlertFile } = await import('./alert');
    const config = configOption();
    if (rules) config.detections.sigma = rules.map((entry) => path.resolve(entry));
    process.exitCode = await parseAlertFile(config, file, source);
  });

alert
  .command('send')
  .argument('<file>', 'a JSON (or gzip) alert payload')
  .option('-s, --source <source>', 'the source it comes from (default: detected)')
  .option('-u, --url <url>', 'intake base URL (default: from the configuration)')
  .description('post a file to intake with the configured token')
  .action(async (file: string, { source, url }: { source?: string; url?: string }) => {
    const { sendAlertFile } = await import('./alert');
    process.exitCode = await sendAlertFile(configOption(), file, source, url);
  });

const rules = program.command('rules').description('Sigma rules (detections.sigma): how they load, and what they match');

rules
  .command('check')
  .argument('[paths...]', 'rule files or folders (default: detections.sigma)')
  .option('--json', 'print {"loaded": n, "rules": [...], "skipped": [{"file", "reason"}]}')
  .option('--strict', 'exit 1 when any rule is skipped')
  .description('load each rule, or say why it is skipped (an unsupported log source, modifier or feature)')
  .action(async (paths: string[], options: { json?: boolean; strict?: boolean }) => {
    process.exitCode = (await import('./rules')).checkRules(configOption(), paths, options);
  });

rules
  .command('test')
  .argument('<paths-and-files...>', 'rule files or folders, then -- and the log files (CloudTrail, GCP audit; JSON or gzip)')
  .option('--json', 'print {"loaded": n, "skipped": [{"file", "reason"}], "matches": [{"ruleId", "ruleTitle", "level", "file", "index"}]}')
  .usage('[options] PATH... -- FILE...')
  .description('which rules match which records (index: the record\'s position in its file); exit 2 when a file is not such a log')
  .action(async (items: string[], options: { json?: boolean }) => {
    // Commander drops the `--` itself: what follows it in argv are the log files.
    const separator = process.argv.indexOf('--');
    const fileCount = separator === -1 ? 0 : process.argv.length - separator - 1;
    const paths = items.slice(0, items.length - fileCount);
    const files = items.slice(items.length - fileCount);
    process.exitCode = await (await import('./rules')).testRules(configOption(), paths, files, options);
  });

program
  .command('replay')
  .description('deliver archived alerts again, idempotently (a replayed delivery comments nothing twice)')
  .option('--since <when>', 'ISO date, or a duration ago like 24h or 7d', '24h')
  .option('--until <when>', 'ISO date, or a duration ago (default: now)')
  .option('-s, --source <source>', 'only this source')
  .option('--dry-run', 'parse and count, dispatch nothing')
  .option('--from-archive <archive>', "instead: post another Vigil's archived alerts (production's <dataDir>/archive, or s3://bucket/prefix), read only, to the intake --to")
  .option('--to <url>', 'with --from-archive: the intake (staging) to post to (default: the selected profile\'s; without a profile, give --token-env too)')
  .option('--token-env <name>', "with --from-archive: the environment variable holding that intake's token (default: the configured token)")
  .option('--concurrency <n>', 'with --from-archive: records posted at once', '2')
  .option('--s3-region <region>', 'with --from-archive s3://…: the bucket\'s region', process.env.AWS_REGION ?? 'us-east-1')
  .option('--s3-endpoint <url>', 'with --from-archive s3://…: an S3-compatible endpoint')
  .option('--json', 'with --from-archive: print the summary as JSON')
  .action(async (options: { since: string; until?: string; source?: string; dryRun?: boolean; fromArchive?: string } & Omit<StagingReplayArguments, 'fromArchive'>) => {
    if (options.fromArchive) {
      if (options.dryRun) throw new Error('--dry-run does not go with --from-archive: nothing is dispatched here, the staging intake does it');
      process.exitCode = await (await import('./replay-staging')).runStagingReplay({ ...options, fromArchive: options.fromArchive }, configOption);
      return;
    }
    const { replay } = await import('./replay');
    const summary = await replay(configOption(), { ...options, dryRun: options.dryRun ?? false });
    console.log(JSON.stringify(summary, null, 2));
    process.exitCode = summary.undispatched > 0 ? 1 : 0;
  });

program
  .command('inventory')
  .description('the accounts and projects the inventories cover')
  .command('accounts')
  .option('--json', 'print {"accounts": [{"provider", "id", "name", "state", "reason", "lastRead"}]}')
  .description('list every account and project (hand-listed and discovered) with its state: ok, or why Vigil cannot read it (read now, with the configured credentials)')
  .action(async ({ json }: { json?: boolean }) => {
    process.exitCode = await (await import('./inventory')).listAccounts(configOption(), { json });
  });

const schedules = program.command('schedules').description("Vigil's Temporal Schedules: the archive sweeper, the feed refresh and the re-scans");

/** A client for one command's work, closed afterwards. */
async function withClient<T>(work: (client: Client, config: Config) => Promise<T>): Promise<T> {
  const [{ Client }, { connectTemporal }] = await Promise.all([import('@temporalio/client'), import('../lib/temporal-connection')]);
  const config = configOption();
  const connection = await connectTemporal(config.temporal);
  try {
    return await work(new Client({ connection, namespace: config.temporal.namespace }), config);
  } finally {
    await connection.close();
  }
}

schedules
  .command('apply')
  .description('create the schedules, or bring them up to date with the configuration (workers do it at start too)')
  .action(() =>
    withClient(async (client, config) => {
      const { applied, deleted } = await (await import('../workers/schedules')).applySchedules(client, config);
      for (const { id, every } of applied) console.log(`applied ${id} (every ${every})`);
      for (const id of deleted) console.log(`deleted ${id} (its scope is no longer configured)`);
    }),
  );

schedules
  .command('list')
  .option('--json', 'print them as a JSON array')
  .description('show the schedules with their next and last run')
  .action(({ json }: { json?: boolean }) =>
    withClient(async (client) => {
      const list = await (await import('../workers/schedules')).listSchedules(client);
      if (json) return console.log(JSON.stringify(list, null, 2));
      if (list.length === 0) return console.log('no schedules yet: run `vigil schedules apply`, or start a worker');
      for (const { id, workflowType, every, paused, nextRun, lastRun } of list) {
        console.log(`${id}  ${workflowType} every ${every}${paused ? ' (paused)' : ''}  next ${nextRun ?? '—'}  last ${lastRun ?? 'never'}`);
      }
    }),
  );

schedules
  .command('run')
  .argument('<schedule-id>', 'as `vigil schedules list` shows it, for example vigil-rescan/aws/111122223333/eu-west-1')
  .description('run a schedule now, once, as if its time had come (a re-scan without waiting for it; the Temporal UI can trigger it too)')
  .action((id: string) =>
    withClient(async (client) => {
      const { ScheduleNotFoundError } = await import('@temporalio/client');
      try {
        await client.schedule.getHandle(id).trigger();
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
        console.error(`no schedule ${id}: \`vigil schedules list\` shows the ones there are`);
        process.exitCode = 1;
        return;
      }
      console.log(`ran ${id} now; its result is its workflow's, in the Temporal UI (and on the issues it opens)`);
    }),
  );

program
  .command('recheck')
  .argument('<workflow-id>', 'the investigation, for example alert/cloudtrail/aws:111122223333:eu-west-1:sg-0a1b2c3d4e5f60718')
  .description('ask an investigation to re-check its exposure now (the signal recheckNow; the Temporal UI can send it too)')
  .action((workflowId: string) =>
    withClient(async (client) => {
      const { recheckNow } = await import('../lib/investigation');
      await client.workflow.getHandle(workflowId).signal(recheckNow);
      console.log(`asked ${workflowId} to re-check; the issue gets a comment only if something changed`);
    }),
  );

program
  .command('bench')
  .description('measure intake, first-comment latency, a burst\'s first comments, the TCP sweep, screenshots, re-scan evaluation, Sigma matching and idle memory, each against a baseline')
  .option('--deliveries <n>', 'intake throughput: deliveries to intake and to each baseline', '1200')
  .option('--concurrency <n>', 'requests in flight', '16')
  .option('--latency-samples <n>', 'alerts timed one at a time', '30')
  .option('--burst-alerts <n>', 'distinct alerts in the burst', '1000')
  .option('--burst-concurrency <n>', 'burst requests in flight', '50')
  .option('--only <parts>', 'only these parts, comma-separated (tcp, evaluation, sigma, intake, latency, burst, screenshots, memory)')
  .option('--json', 'print only the figures, as JSON, on stdout')
  .action(async (options: { deliveries: string; concurrency: string; latencySamples: string; burstAlerts: string; burstConcurrency: string; only?: string; json?: boolean }) => {
    const { failedParts, runBench } = await import('./bench');
    const figures = await runBench({
      deliveries: Number(options.deliveries),
      concurrency: Number(options.concurrency),
      latencySamples: Number(options.latencySamples),
      burstAlerts: Number(options.burstAlerts),
      burstConcurrency: Number(options.burstConcurrency),
      ...(options.only ? { only: options.only.split(',').map((name) => name.trim()) } : {}),
    });
    if (options.json) console.log(JSON.stringify(figures, null, 2));
    else for (const [name, value] of Object.entries(figures)) console.log(`${name.padEnd(40)} ${value}`);
    if (failedParts(figures).length > 0) process.exitCode = 1;
  });

program
  .command('worker')
  .description('run the main worker (production: one process per role)')
  .action(async () => {
    const [{ connectTemporal }, { prepareTemporal }, { createLogger }, { runMainWorker }] = await Promise.all([
      import('../lib/temporal-connection'),
      import('../lib/temporal-setup'),
      import('../lib/logger'),
      import('../workers/main-worker'),
    ]);
    const config = configOption();
    const connection = await connectTemporal(config.temporal);
    try {
      await prepareTemporal(connection, config.temporal.namespace);
    } catch (err) {
      createLogger('worker').warn(
        { err },
        'could not register the namespace or search attributes; ask your Temporal admin to create them (see docs/operations.md)',
      );
    } finally {
      await connection.close();
    }
    await runMainWorker(config);
  });

program
  .command('browser-worker')
  .description('run the browser worker that takes screenshots (production: where Chromium is installed)')
  .action(async () => (await import('../workers/browser-worker')).runBrowserWorker(configOption()));

program
  .command('intake')
  .description('run the intake HTTP server (production: one process per role)')
  .action(async () => {
    const [{ resolveIntakeToken }, { runIntake }] = await Promise.all([import('../intake/token'), import('../workers/intake')]);
    const config = configOption();
    const { token, generated, file } = await resolveIntakeToken(config);
    if (generated) console.error(`Generated an intake token, kept in ${file}: ${token}`);
    await runIntake(config, token);
  });

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`vigil: ${err.message}`);
    process.exit(2);
  }
  console.error(`vigil: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
