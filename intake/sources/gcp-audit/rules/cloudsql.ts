// Cloud SQL rules: an instance created or changed to accept connections from the whole internet, its
// authorized networks holding 0.0.0.0/0 (or ::/0). The Cloud SQL Admin API logs the request whole:
// `request.body` is the instance (`settings.ipConfiguration.authorizedNetworks[].value`) for
// `cloudsql.instances.patch`, `.update` and `.create` (some writers put the settings at the top).
import type { RuleMatch } from '../../rules';
import { publicGcpResource } from '../../public-resources';
import { asArray, internetRange, str, uniq } from '../../util';
import { methodOf, projectOf, record, requestOf, resourceNameOf, succeeded, thingFingerprint, type AuditEntry } from '../entry';
import { short, type GcpAuditRule } from './common';

const INSTANCE_CHANGE = /^cloudsql\.instances\.(create|insert|patch|update)$/;

/** The instance the entry is about, by its full resource name: `projects/<p>/instances/<i>`, wherever the entry says it. */
function instanceName(entry: AuditEntry): string | undefined {
  const named = resourceNameOf(entry);
  if (named && /(?:^|\/)projects\/[^/]+\/instances\/[^/]+$/.test(named)) return named.replace(/^\/\/[^/]+\//, '');
  const request = requestOf(entry);
  const instance = str(request.instance) ?? str(record(request.body).name) ?? named?.split('/').pop();
  const project = str(request.project) ?? projectOf(entry);
  return instance && project ? `projects/${project}/instances/${instance}` : undefined;
}

/** The internet-wide ranges the request authorizes. */
function internetNetworks(entry: AuditEntry): string[] {
  const request = requestOf(entry);
  const settings = record(record(request.body).settings ?? request.settings);
  const networks = asArray(record(settings.ipConfiguration).authorizedNetworks).map((network) => record(network).value);
  return uniq(networks.map(internetRange));
}

const authorizedToInternet: GcpAuditRule = {
  id: 'cloudsql-open-to-internet',
  description: 'A Cloud SQL instance created or changed to authorize 0.0.0.0/0 (or ::/0): any address may connect to its public IP',
  kind: 'exposure',
  severity: 'high',
  match(entry): RuleMatch | undefined {
    if (!INSTANCE_CHANGE.test(methodOf(entry) ?? '') || !succeeded(entry)) return undefined;
    const cidrs = internetNetworks(entry);
    const name = cidrs.length > 0 ? instanceName(entry) : undefined;
    const instance = name ? publicGcpResource(`//sqladmin.googleapis.com/${name}`) : undefined;
    if (!instance) return undefined;
    return {
      title: `GCP Cloud SQL instance ${short(instance.name ?? instance.id)} opened to ${cidrs.join(', ')}`,
      resources: [instance],
      network: { cidrs, ports: [] },
      fingerprint: thingFingerprint(entry, `public/${instance.type}/${instance.id}`),
      details: [`Authorized networks now include: ${cidrs.join(', ')}`],
    };
  },
};

export const cloudSqlRules: readonly GcpAuditRule[] = [authorizedToInternet];
