// Buckets, databases, load balancers, snapshots and serverless entry points on an issue: which are
// public and why, in words, with every field folded below. Names, reasons and facts come from the
// cloud (whoever can edit the account sets them): untrusted text, in code spans.
import type { PublicResource } from '../context';
import { cell, code, details } from '../markdown';

/** What a person calls the resource: `bucket`, `database`, `load balancer`, `snapshot`, `image`, `function`, `API`. */
export function resourceNoun({ class: kind, type }: Pick<PublicResource, 'class' | 'type'>): string {
  if (kind === 'storage') return 'bucket';
  if (kind === 'load-balancer') return 'load balancer';
  if (kind === 'snapshot') return /image$/.test(type) ? 'image' : 'snapshot';
  if (kind === 'serverless') return /apigateway|api$/.test(type) ? 'API' : 'function';
  return kind;
}

/** Its name, and its id beside it when they differ. */
export const resourceLabel = ({ id, name }: Pick<PublicResource, 'id' | 'name'>): string => (name && name !== id ? `${name} (${id})` : id);

const reasonsOf = (resource: PublicResource) => (resource.reasons.length > 0 ? resource.reasons.map((reason) => code(reason, 200)).join('; ') : 'no reason given');
const optional = (value: string | undefined) => (value ? cell(value) : '—');
const facts = (values: Record<string, string>) => {
  const entries = Object.entries(values);
  return entries.length > 0 ? entries.map(([key, value]) => cell(`${key}: ${value}`, 100)).join(' ') : '—';
};

/** The resources section of the Affected resources comment; empty when the context read none. */
export function resourcesSection(resources: readonly PublicResource[], consulted: string): string[] {
  if (resources.length === 0) return [];
  const open = resources.filter((resource) => resource.public);
  const said =
    open.length > 0
      ? [
          `${open.length} public resource(s) of ${resources.length} read (${consulted}):`,
          '',
          ...open.map((resource) => `- ${resourceNoun(resource)} ${code(resourceLabel(resource))}, public: ${reasonsOf(resource)}`),
        ]
      : [`${resources.length} resource(s) read (${consulted}), none of them public.`];
  const table = [
    '| class | resource | account | region | public | why | facts |',
    '|---|---|---|---|---|---|---|',
    ...resources.map(
      (resource) =>
        `| ${cell(resource.class)} | ${cell(resourceLabel(resource))} | ${optional(resource.account)} | ${optional(resource.region)} | ${resource.public ? '**yes**' : 'no'} | ${resource.reasons.length > 0 ? resource.reasons.map((reason) => cell(reason, 200)).join(' ') : '—'} | ${facts(resource.facts)} |`,
    ),
  ].join('\n');
  return ['#### Buckets, databases and other resources', '', ...said, '', details('Every resource read, with why it is or is not public', table)];
}
