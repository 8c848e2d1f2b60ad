// `vigil doctor`: each prerequisite as ok / missing, with the command that fixes it.
import { ConfigError } from '../lib/config';
import { checkConfig } from './check-config';
import { prerequisites } from './prerequisites';

export function runDoctor(configFile?: string): boolean {
  let healthy = true;
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const nodeOk = major > 20 || (major === 20 && minor >= 11);
  healthy &&= nodeOk;
  console.log(`${nodeOk ? 'ok     ' : 'missing'}  node ${process.versions.node}${nodeOk ? '' : '  — fix: install Node.js 20.11 or later'}`);
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
  try {
    checkConfig(configFile);
    console.log('ok       configuration');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    healthy = false;
    console.log(`missing  configuration: ${err.message}`);
  }
  return healthy;
}
