// The Kubernetes API server: `/version` identifies it (often public by design); `/api` is what an
// anonymous client should not be able to list. Other services on these ports give no finding.
import type { HttpAnswer } from '../http-client';
import { webGet } from '../http-client';
import type { ServiceCheck } from '../types';
import { accessStatus, probeFinding } from './finding';
import { jsonObject, stringAt } from './json-body';

const KUBERNETES_PORTS = new Set([443, 6443, 8443]);

/** A `Status` object, as the API server answers refusals. */
const isStatus = (answer: HttpAnswer) => jsonObject(answer)?.kind === 'Status';

export const kubernetesCheck: ServiceCheck = {
  name: 'kubernetes',
  matches: ({ port, banner }) => banner === undefined && KUBERNETES_PORTS.has(port),
  async run(open, context) {
    const version = (await webGet(open, '/version', context, false)).final;
    const versionBody = jsonObject(version);
    const looksLikeKubernetes = (version.statusCode === 200 && typeof versionBody?.gitVersion === 'string' && typeof versionBody.major === 'string') || isStatus(version);
    if (!looksLikeKubernetes) return [];
    const api = (await webGet(open, '/api', context, false)).final;
    const unauthenticated = api.statusCode === 200 && jsonObject(api)?.kind === 'APIVersions';
    return [
      probeFinding(
        'kubernetes',
        open,
        accessStatus(unauthenticated),
        { unauthenticated, version: stringAt(versionBody, 'gitVersion'), versionStatus: version.statusCode, apiStatus: api.statusCode },
        { scheme: new URL(version.url).protocol.replace(':', '') },
      ),
    ];
  },
};
