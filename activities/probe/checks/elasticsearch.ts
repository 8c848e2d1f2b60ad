// Elasticsearch and OpenSearch: `GET /` names the cluster and version to anyone when security is
// off; with security on it answers 401.
import { webGet } from '../http-client';
import type { ServiceCheck } from '../types';
import { accessStatus, probeFinding } from './finding';
import { jsonObject, stringAt } from './json-body';

const ELASTICSEARCH_PORTS = new Set([9200, 9201]);

export const elasticsearchCheck: ServiceCheck = {
  name: 'elasticsearch',
  matches: ({ port, banner }) => banner === undefined && ELASTICSEARCH_PORTS.has(port),
  async run(open, context) {
    const { final } = await webGet(open, '/', context, false);
    const scheme = new URL(final.url).protocol.replace(':', '');
    if (final.statusCode === 401 || final.statusCode === 403) {
      const challenge = String(final.headers['www-authenticate'] ?? '');
      const product = String(final.headers['x-elastic-product'] ?? '');
      // Only a 401 that looks like the Elastic/OpenSearch security plugin is this service.
      if (!/security|opensearch|elastic/i.test(`${challenge} ${product} ${final.body.toString('utf8', 0, 2000)}`)) return [];
      return [probeFinding('elasticsearch', open, accessStatus(false), { unauthenticated: false, scheme, distribution: null, version: null, clusterName: null })];
    }
    const body = jsonObject(final);
    if (final.statusCode !== 200 || !body || typeof body.cluster_name !== 'string') return [];
    const distribution = stringAt(body, 'version', 'distribution') ?? 'elasticsearch';
    return [
      probeFinding('elasticsearch', open, accessStatus(true), {
        unauthenticated: true,
        scheme,
        distribution,
        version: stringAt(body, 'version', 'number'),
        clusterName: stringAt(body, 'cluster_name'),
      }),
    ];
  },
};
