// The resource context on an issue: the machines an alert concerns, their addresses, and which
// rule opens which port to the internet; the buckets, databases and other resources it names, and
// why each is public or not. Every provider-supplied value is untrusted text too
// (tags and names are set by whoever can edit the cloud account).
import type { PortRange } from '../alert';
import type { ExposingRule, ResourceContext } from '../context';
import { cell, code, details } from '../markdown';
import { resourcesSection } from './resources';

const ports = ({ from, to }: PortRange) => (from === 0 && to === 65535 ? 'all' : from === to ? `${from}` : `${from}-${to}`);
const list = (values: readonly string[]) => (values.length > 0 ? values.map((value) => cell(value, 60)).join(' ') : '—');
/** Named by name and id whatever the alert used: SCC shows a GCP firewall's id, the console and audit logs its name. */
export const ruleName = ({ name, aliases = [] }: ExposingRule) => (aliases.length > 0 ? `${name} (${aliases.join(', ')})` : name);

export function contextComment(context: ResourceContext): string {
  const lines = ['### Affected resources', ''];
  const consulted = context.consulted.map((name) => code(name)).join(', ');
  const resources = resourcesSection(context.resources ?? [], consulted);
  if (context.instances.length === 0 && context.rules.length > 0) {
    // The rule is known (an SCC finding names a firewall by its numeric id): saying no inventory
    // knows it would send the reader looking for the wrong problem.
    lines.push(
      `The inventory (${consulted}) knows the rules this alert names, but no machine they apply to:`,
      '',
      '| rule | protocol | ports | sources |',
      '|---|---|---|---|',
      ...context.rules.map((rule) => `| ${cell(ruleName(rule))} | ${cell(rule.protocol)} | ${cell(rule.ports.map(ports).join(', '))} | ${list(rule.sources)} |`),
    );
  } else if (context.instances.length === 0) {
    // A bucket or database the inventory read is known: said below, with no claim that nothing is.
    if (resources.length === 0) lines.push(`No inventory (${consulted}) knows the resources or addresses this alert names.`);
  } else {
    const exposed = new Set(context.exposures.map((exposure) => exposure.instance));
    const table = [
      '| resource | name | account | region | public addresses | private addresses | exposed |',
      '|---|---|---|---|---|---|---|',
      ...context.instances.map(
        (instance) =>
          `| ${cell(instance.id)} | ${instance.name ? cell(instance.name) : '—'} | ${instance.account ? cell(instance.account) : '—'} | ${instance.region ? cell(instance.region) : '—'} | ${list(instance.publicAddresses)} | ${list(instance.privateAddresses)} | ${exposed.has(instance.id) ? '**yes**' : 'no'} |`,
      ),
    ].join('\n');
    // In words first; the raw fields fold below.
    lines.push(`${context.instances.length} machine(s) in the inventory (${consulted}), ${exposed.size} of them open to the internet.`, '', details('The machines', table));
  }
  if (resources.length > 0) lines.push(...(lines.length > 2 ? [''] : []), ...resources);
  if (context.exposures.length > 0) {
    const rules = new Map(context.rules.map((rule) => [rule.id, rule]));
    const table = [
      '| address | protocol | ports | rule | sources |',
      '|---|---|---|---|---|',
      ...context.exposures.map((exposure) => {
        const rule = rules.get(exposure.rule);
        return `| ${cell(exposure.address)} | ${cell(exposure.protocol)} | ${cell(ports(exposure.ports))} | ${cell(rule ? ruleName(rule) : exposure.rule)} | ${list(rule?.sources ?? [])} |`;
      }),
    ].join('\n');
    lines.push('', '#### Open to the internet', '', details(`${context.exposures.length} address and port range(s), with the rule that opens each`, table));
  }
  if (context.problems.length > 0) {
    lines.push(
      '',
      '#### Context that could not be read',
      '',
      ...context.problems.map((problem) => `- ${code(problem.provider)} ${code(problem.scope)}: ${code(problem.reason)}`),
    );
  }
  return lines.join('\n');
}
