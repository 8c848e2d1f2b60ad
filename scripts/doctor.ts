// `vigil doctor`: each prerequisite as ok / missing, with the command that fixes it; then the
// configured queues and the Temporal connection, each ok / failed with the reason and the fix.
import { ConfigError, configFilePath, type Config } from '../lib/config';
import { checkConfig } from './check-config';
import { prerequisites } from './prerequisites';

export async function runDoctor(configFile?: string): Promise<boolean> {
  let healthy = true;
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const nodeOk = major > 20 || (major === 20 && minor >= 11);
  healthy &&= nodeOk;
  // Node 20 still runs Vigil, but is past its end of life (April 2026): said, not failed.
  const endOfLife = nodeOk && major < 22 ? '  — note: past its end of life; move to Node 24 LTS' : '';
  console.log(`${nodeOk ? 'ok     ' : 'missing'}  node ${process.versions.node}${nodeOk ? endOfLife : '  — fix: install Node.js 24 LTS (20.11 or later runs, past its end of life)'}`);
  for (const prerequisite of prerequisites) {
    const found = prerequisite.locate();
    const ok = 'path' in found;
    healthy &&= ok;
    console.log(
      ok
        ? `ok       ${prerequisite.name.padEnd(21)} ${found.path}`
        : `missing  ${prerequisite.name.padEnd(21)} ${found.problem} (needed for ${prerequisite.neededFor})\n         fix: ${prerequisite.fix}`,
    );
  }
  let config: Config | undefined;
  try {
    config = checkConfig(configFile);
    console.log('ok       configuration');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    healthy = false;
    console.log(`missing  configuration: ${err.message}`);
  }
  if (config) healthy = (await checkQueues(config)) && healthy;
  if (config) healthy = (await checkTemporal(config, configFilePath({ file: configFile }))) && healthy;
  return healthy;
}

/** The Temporal connection as the workers make it, with the reason and the setting to fix when it fails. */
async function checkTemporal(config: Config, configFile: string | undefined): Promise<boolean> {
  const { awaitsDevServer, checkTemporalConnection } = await import('../lib/temporal-connection-check');
  const check = await checkTemporalConnection(config.temporal, { awaitsDevServer: awaitsDevServer(config.temporal, configFile) });
  console.log(
    check.ok
      ? `ok       temporal ${check.summary}${check.note ? `\n         note: ${check.note}` : ''}`
      : `failed   temporal ${check.summary}: ${check.problem}\n         fix: ${check.fix}`,
  );
  return check.ok;
}

/** intake.queues, each reached as intake would reach it: a wrong one otherwise only shows in intake's log. */
async function checkQueues(config: Config): Promise<boolean> {
  if (config.intake.queues.length === 0) return true;
  const { checkQueue } = await import('../intake/queues/check');
  let healthy = true;
  for (const queue of config.intake.queues) {
    const check = await checkQueue(queue);
    healthy &&= check.ok;
    console.log(
      check.ok
        ? `ok       queue ${check.queueUrl}${check.note ? `\n         note: ${check.note}` : ''}`
        : `failed   queue ${check.queueUrl}: ${check.problem}\n         fix: ${check.fix}`,
    );
  }
  return healthy;
}
