// `vigil dev`: Vigil on this machine with the configured defaults, until Ctrl-C.
import type { Config } from '../lib/config';
import { startStack } from './stack';

export async function runDev(config: Config): Promise<void> {
  const stack = await startStack({ config, reuseTemporal: true });
  const temporal = stack.startedTemporal
    ? `${stack.temporalAddress} (dev server, state in ${config.dataDir})`
    : `${stack.temporalAddress} (already running: reused)`;
  const token = stack.tokenGenerated
    ? `${stack.token}  (generated, kept in ${stack.tokenFile})`
    : stack.tokenFile
      ? `kept in ${stack.tokenFile}`
      : 'from the configuration';
  console.log(
    [
      // A profile's run says so: staging's output otherwise reads like production's.
      process.env.VIGIL_PROFILE ? `Vigil is running, with the profile ${process.env.VIGIL_PROFILE}.` : 'Vigil is running.',
      `  Data folder:  ${config.dataDir}`,
      `  Intake:       POST ${stack.intakeUrl}/v1/alerts/<source>`,
      `  Intake token: ${token}`,
      `  Issues:       ${stack.issuesUrl}  (log in at ${stack.intakeUrl}/login with ${config.tracker.local.token ? 'the tracker token, tracker.local.token' : 'the intake token'})`,
      `  Temporal:     ${temporal}, namespace ${config.temporal.namespace}`,
      ...(stack.metricsUrl ? [`  Metrics:      ${stack.metricsUrl}  (Prometheus: intake, worker and Temporal SDK)`] : []),
      ...(stack.temporalUiUrl ? [`  Temporal UI:  ${stack.temporalUiUrl}`] : []),
      'Press Ctrl-C to stop.',
    ].join('\n'),
  );
  // SIGHUP too (the terminal closed): the dev server, in a process group of its own, would outlive it.
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(name, () => resolve(name));
  });
  // Intake first (files read from a queue finish, up to 20 s), the workers, then the dev server.
  console.log(`\n${signal}: stopping (files in flight finish first) …`);
  // A second Ctrl-C does not wait: exiting still ends the dev server (see temporal-dev-server.ts), and
  // the messages of unfinished files come back from their queue.
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(name, () => process.exit(130));
  await stack.stop();
  console.log('Stopped.');
}
