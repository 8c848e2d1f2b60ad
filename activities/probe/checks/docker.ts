// The Docker Engine API: `GET /version` answered to a stranger means full control of the host.
// On 2376 the daemon normally demands a client certificate: a refused TLS handshake is that.
import { webGet } from '../http-client';
import type { ServiceCheck } from '../types';
import { accessStatus, probeFinding } from './finding';
import { jsonObject, stringAt } from './json-body';

const DOCKER_PORTS = new Set([2375, 2376]);

export const dockerCheck: ServiceCheck = {
  name: 'docker',
  matches: ({ port, banner }) => banner === undefined && DOCKER_PORTS.has(port),
  async run(open, context) {
    let answer;
    try {
      answer = await webGet(open, '/version', context, false);
    } catch (err) {
      const message = (err as Error).message;
      if (open.port !== 2376 || !/certificate|handshake/i.test(message)) throw err;
      return [probeFinding('docker', open, accessStatus(false), { unauthenticated: false, version: null, apiVersion: null, os: null }, { refusal: message })];
    }
    const body = jsonObject(answer.final);
    if (answer.final.statusCode !== 200 || !body || typeof body.ApiVersion !== 'string') return [];
    return [
      probeFinding('docker', open, accessStatus(true), {
        unauthenticated: true,
        version: stringAt(body, 'Version'),
        apiVersion: stringAt(body, 'ApiVersion'),
        os: [stringAt(body, 'Os'), stringAt(body, 'Arch')].filter(Boolean).join('/') || null,
      }),
    ];
  },
};
