// The headers kept with an archived body drop every configured secret by value, whatever the header
// is called: intake's own, and the tracker token, GitHub's token, App private key and webhook secret,
// and the intel providers' keys (review of issue 13: the value check once knew intake's only).
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { archivableHeaders, configuredSecrets } from '../../intake/archived-headers';
import { configSchema } from '../../lib/config';

const token = 'intake-token-0123456789abcdef';
const secrets = {
  trackerToken: 'tracker-token-0123456789abcdef',
  githubToken: 'ghp_githubtoken0123456789abcdef',
  webhookSecret: 'webhook-secret-0123456789abcdef',
  providerKey: 'provider-key-0123456789abcdef',
  fromEnvironment: 'from-environment-0123456789abcdef',
};
const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

const headersWith = (values: string[]) => ({
  'x-request-id': 'kept',
  ...Object.fromEntries(values.map((value, n) => [`x-note-${n}`, `see ${value} here`])),
});

describe('the archived headers', () => {
  it('drop a header holding any secret of the tracker, GitHub or a provider, under any name', () => {
    const withToken = configSchema.parse({
      tracker: {
        local: { token: secrets.trackerToken },
        github: { owner: 'o', repo: 'r', auth: { token: secrets.githubToken }, webhookSecret: secrets.webhookSecret },
      },
      intel: { providers: { abuseipdb: { key: secrets.providerKey }, greynoise: { key: { env: 'VIGIL_TEST_PROVIDER_KEY' } } } },
    });
    const env = { VIGIL_TEST_PROVIDER_KEY: secrets.fromEnvironment };
    const keep = archivableHeaders([{ name: 'generic', methods: [{ kind: 'bearer' }] }], token, configuredSecrets(withToken, env));
    expect(keep('generic', headersWith([token, ...Object.values(secrets)]))).toEqual({ 'x-request-id': 'kept' });

    const withApp = configSchema.parse({ tracker: { github: { owner: 'o', repo: 'r', auth: { appId: 1, privateKey, installationId: 2 } } } });
    const appKeep = archivableHeaders([{ name: 'generic', methods: [{ kind: 'bearer' }] }], token, configuredSecrets(withApp));
    // A header cannot hold the key whole (it has line breaks): any line of it, or its one-line body.
    const lines = privateKey.trim().split('\n');
    const body = lines.slice(1, -1).join('');
    expect(appKeep('generic', headersWith([lines[5]!, body]))).toEqual({ 'x-request-id': 'kept' });
  });

  it("drop a header holding Temporal's API key or client key, or the staging intake's token", () => {
    const temporalKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const apiKey = 'temporal-api-key-0123456789abcdef';
    const stagingToken = 'staging-token-0123456789abcdef';
    const config = configSchema.parse({
      temporal: { apiKey: { env: 'VIGIL_TEST_TEMPORAL_API_KEY' }, tls: { cert: '-----BEGIN CERTIFICATE-----', key: { env: 'VIGIL_TEST_TEMPORAL_KEY' } } },
      intake: { mirror: { url: 'http://127.0.0.1:1', token: stagingToken } },
    });
    const env = { VIGIL_TEST_TEMPORAL_API_KEY: apiKey, VIGIL_TEST_TEMPORAL_KEY: temporalKey };
    const keep = archivableHeaders([{ name: 'generic', methods: [{ kind: 'bearer' }] }], token, configuredSecrets(config, env));
    const keyBody = temporalKey.trim().split('\n').slice(1, -1).join('');
    expect(keep('generic', headersWith([apiKey, stagingToken, keyBody]))).toEqual({ 'x-request-id': 'kept' });
  });

  it('leave the headers alone when a secret named by an unset variable holds nothing', () => {
    const config = configSchema.parse({ tracker: { local: { token: { env: 'VIGIL_TEST_UNSET_VARIABLE' } } } });
    expect(configuredSecrets(config, {})).toEqual([]);
    const keep = archivableHeaders([{ name: 'generic', methods: [{ kind: 'bearer' }] }], token, configuredSecrets(config, {}));
    expect(keep('generic', { 'x-request-id': 'kept', 'user-agent': 'curl/8' })).toEqual({ 'x-request-id': 'kept', 'user-agent': 'curl/8' });
  });
});
