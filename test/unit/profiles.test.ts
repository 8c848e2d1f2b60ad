// Configuration profiles: `profiles.<name>` merged over the top level when selected, a data folder
// and a namespace of its own unless it sets others, and nothing of production's taken by accident,
// however partly the profile overrides it; the environment over both.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config';
import { configFile, problemsOf } from '../helpers/config-files';

const production = `
dataDir: /srv/vigil/data
temporal:
  address: temporal.internal:7233
  namespace: vigil
intake:
  port: 8787
  maxBodyBytes: 2097152
  mirror:
    url: http://staging.internal:8788
    token: { env: STAGING_TOKEN }
profiles:
  staging:
    intake:
      port: 8788
    watch:
      enabled: false
`;

describe('configuration profiles', () => {
  it('leaves the top level as it is when no profile is selected', async () => {
    const config = loadConfig({ file: await configFile(production), env: {} });
    expect(config).toMatchObject({ dataDir: '/srv/vigil/data', temporal: { namespace: 'vigil' }, intake: { port: 8787, mirror: { url: 'http://staging.internal:8788' } }, watch: { enabled: true } });
    expect(config).not.toHaveProperty('profiles');
  });

  it('merges the selected profile over the top level, with a data folder and namespace of its own', async () => {
    const file = await configFile(production);
    for (const config of [loadConfig({ file, env: {}, profile: 'staging' }), loadConfig({ file, env: { VIGIL_PROFILE: 'staging' } })]) {
      expect(config.dataDir).toBe('/srv/vigil/data/profiles/staging');
      expect(config.temporal).toMatchObject({ address: 'temporal.internal:7233', namespace: 'vigil-staging' });
      // Merged key by key: what the profile does not set is the top level's.
      expect(config.intake).toMatchObject({ port: 8788, maxBodyBytes: 2097152 });
      expect(config.watch.enabled).toBe(false);
      // Staging does not mirror to itself.
      expect(config.intake.mirror).toBeUndefined();
    }
  });

  it('takes what the profile sets for the data folder, namespace, archive and mirror', async () => {
    const file = await configFile(`
archive: { kind: s3, bucket: vigil-archive, prefix: prod/ }
profiles:
  staging:
    dataDir: /srv/staging
    temporal: { namespace: staging }
  qa:
    archive: { kind: local }
    intake: { mirror: { url: 'http://127.0.0.1:9999', token: qa-token-0123456789abcdef } }
`);
    const staging = loadConfig({ file, env: {}, profile: 'staging' });
    expect(staging).toMatchObject({ dataDir: '/srv/staging', temporal: { namespace: 'staging' } });
    // An S3 archive not set by the profile gets a prefix of its own.
    expect(staging.archive).toMatchObject({ kind: 's3', bucket: 'vigil-archive', prefix: 'prod/staging/' });
    const qa = loadConfig({ file, env: {}, profile: 'qa' });
    expect(qa).toMatchObject({ archive: { kind: 'local' }, temporal: { namespace: 'default-qa' }, intake: { mirror: { url: 'http://127.0.0.1:9999' } } });
    expect(qa.dataDir).toBe(path.resolve('.data/profiles/qa'));
  });

  it('takes the environment over the profile, as it is: never suffixed', async () => {
    const file = await configFile(production.replace('      port: 8788', '      port: 8788\n      token: staging-token-0123456789abcdef\n    temporal:\n      address: temporal-staging.internal:7233'));
    const env = { VIGIL_DATA_DIR: '/var/vigil-staging', TEMPORAL_NAMESPACE: 'vigil-staging', TEMPORAL_ADDRESS: '127.0.0.1:7233', VIGIL_PORT: '9000', VIGIL_INTAKE_TOKEN: 'from-the-environment-0123456789' };
    expect(loadConfig({ file, env, profile: 'staging' })).toMatchObject({
      dataDir: '/var/vigil-staging',
      temporal: { namespace: 'vigil-staging', address: '127.0.0.1:7233' },
      intake: { port: 9000, token: 'from-the-environment-0123456789', maxBodyBytes: 2097152 },
    });
    // Without the environment, the profile's own.
    expect(loadConfig({ file, env: {}, profile: 'staging' })).toMatchObject({ temporal: { address: 'temporal-staging.internal:7233' }, intake: { port: 8788, token: 'staging-token-0123456789abcdef' } });
    // A bad value names its variable, not the profile.
    expect(problemsOf(() => loadConfig({ file, env: { VIGIL_PORT: '99999' }, profile: 'staging' }))).toEqual([expect.stringMatching(/^intake\.port: .*\(from VIGIL_PORT\)$/)]);
  });

  it('makes a data folder, namespace, S3 archive or mirror its own when the profile leaves it the same as the top level', async () => {
    const file = await configFile(`
dataDir: /srv/vigil/data
temporal: { namespace: vigil }
archive: { kind: s3, bucket: vigil-archive, prefix: prod/, region: us-east-1 }
intake:
  mirror: { url: 'http://staging.internal:8788', token: mirror-token-0123456789abcdef }
profiles:
  partly:
    archive: { region: eu-west-1 }
    intake: { mirror: { timeoutMs: 1000 } }
  same:
    dataDir: /srv/vigil/data/
    temporal: { namespace: vigil }
    archive: { kind: s3, bucket: vigil-archive, prefix: prod/ }
  elsewhere:
    archive: { prefix: staging/ }
  other-store:
    archive: { endpoint: 'http://127.0.0.1:9000' }
`);
    const partly = loadConfig({ file, env: {}, profile: 'partly' });
    expect(partly.archive).toMatchObject({ bucket: 'vigil-archive', prefix: 'prod/partly/', region: 'eu-west-1' });
    expect(partly.intake.mirror).toBeUndefined();
    const same = loadConfig({ file, env: {}, profile: 'same' });
    expect(same).toMatchObject({ dataDir: '/srv/vigil/data/profiles/same', temporal: { namespace: 'vigil-same' }, archive: { prefix: 'prod/same/' } });
    expect(loadConfig({ file, env: {}, profile: 'elsewhere' }).archive).toMatchObject({ prefix: 'staging/' });
    expect(loadConfig({ file, env: {}, profile: 'other-store' }).archive).toMatchObject({ prefix: 'prod/', endpoint: 'http://127.0.0.1:9000' });
  });

  it("keeps a profile's remediation dry unless the profile says otherwise", async () => {
    const file = await configFile('response: { dryRun: false }\nprofiles:\n  staging: { response: { planTtl: 1h } }\n  live: { response: { dryRun: false } }\n');
    expect(loadConfig({ file, env: {} }).response.dryRun).toBe(false);
    expect(loadConfig({ file, env: {}, profile: 'staging' }).response).toMatchObject({ dryRun: true, planTtl: '1h' });
    expect(loadConfig({ file, env: {}, profile: 'live' }).response.dryRun).toBe(false);
  });

  it('names a key the profile got wrong as profiles.<name>.<key>, and one of the top level as itself', async () => {
    const file = await configFile(`
intake: { hots: x }
profiles:
  staging:
    intake: { port: eighty, prot: 1 }
    temporal: { adress: x }
`);
    expect(problemsOf(() => loadConfig({ file, env: {}, profile: 'staging' })).sort()).toEqual([
      'intake.hots: unknown key (misspelt, or not a Vigil setting)',
      'profiles.staging.intake.port: Invalid input: expected number, received string',
      'profiles.staging.intake.prot: unknown key (misspelt, or not a Vigil setting)',
      'profiles.staging.temporal.adress: unknown key (misspelt, or not a Vigil setting)',
    ]);
  });

  it('says which profiles there are when the one asked for is not defined', async () => {
    const file = await configFile(production.replace('profiles:', 'profiles:\n  qa: {}'));
    expect(problemsOf(() => loadConfig({ file, env: {}, profile: 'stagign' }))).toEqual(['profile "stagign" is not defined: the file defines qa, staging']);
    expect(problemsOf(() => loadConfig({ env: { VIGIL_PROFILE: 'staging' } }))).toEqual([
      'profile "staging" is not defined: the file defines no profiles (add `profiles: {<name>: {…}}`)',
    ]);
  });

  it('refuses names that cannot be a namespace suffix or a folder, and profiles that are not mappings', async () => {
    const file = await configFile('profiles:\n  Staging/1: {}\n  qa: 3\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([
      'profiles.Staging/1: a profile name is lower-case letters, digits and inner hyphens (it goes into a namespace and a folder name)',
    ]);
    const notMapping = await configFile('profiles:\n  qa: 3\n');
    expect(problemsOf(() => loadConfig({ file: notMapping, env: {}, profile: 'qa' }))).toEqual(['profiles.qa: expected a mapping of settings']);
    const list = await configFile('profiles: [qa]\n');
    expect(problemsOf(() => loadConfig({ file: list, env: {} }))).toEqual([
      'profiles: expected a mapping of profile names to settings, for example {staging: {…}}',
    ]);
  });

  it("does not let a profile use production's GitHub repository or queues, even partly overridden", async () => {
    const file = await configFile(`
tracker:
  kind: github
  github: { owner: acme, repo: security, auth: { token: { env: GITHUB_TOKEN } } }
intake:
  queues: [{ kind: s3-sqs, queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/trail', region: eu-west-1 }]
profiles:
  staging: {}
  rehearsal:
    tracker: { kind: local }
    intake: { queues: [] }
  auth:
    tracker: { github: { auth: { token: { env: STAGING_GITHUB_TOKEN } } } }
    intake: { queues: [{ kind: s3-sqs, queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/trail', region: eu-west-1, concurrency: 1 }] }
  labels:
    tracker: { labels: { base: staging }, github: { owner: ACME } }
    intake: { queues: [] }
  own-repository:
    tracker: { github: { repo: security-staging } }
    intake: { queues: [{ kind: s3-sqs, queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/trail-staging', region: eu-west-1 }] }
`);
    const tracker = (name: string) =>
      `profiles.${name}.tracker: set the profile's own tracker (another repository, or {kind: local}): it would use the top level's GitHub repository acme/security and write this profile's issues there`;
    const queues = (name: string) =>
      `profiles.${name}.intake.queues: set the profile's own queues ([] for none): it would read the top level's https://sqs.eu-west-1.amazonaws.com/111122223333/trail and take production's messages off them`;
    expect(problemsOf(() => loadConfig({ file, env: {}, profile: 'staging' }))).toEqual([tracker('staging'), queues('staging')]);
    expect(problemsOf(() => loadConfig({ file, env: {}, profile: 'auth' }))).toEqual([tracker('auth'), queues('auth')]);
    expect(problemsOf(() => loadConfig({ file, env: {}, profile: 'labels' }))).toEqual([tracker('labels')]);
    expect(loadConfig({ file, env: {}, profile: 'rehearsal' })).toMatchObject({ tracker: { kind: 'local' }, intake: { queues: [] } });
    expect(loadConfig({ file, env: {}, profile: 'own-repository' }).tracker.github).toMatchObject({ owner: 'acme', repo: 'security-staging' });
    expect(loadConfig({ file, env: {} }).tracker.kind).toBe('github');
  });

  it('checks the mirror settings', async () => {
    const file = await configFile('intake:\n  mirror: { url: ftp://x, token: short, queueSize: 0, extra: 1 }\n');
    expect(problemsOf(() => loadConfig({ file, env: {} })).sort()).toEqual([
      'intake.mirror.extra: unknown key (misspelt, or not a Vigil setting)',
      'intake.mirror.queueSize: Too small: expected number to be >=1',
      expect.stringMatching(/^intake\.mirror\.token: /),
      expect.stringMatching(/^intake\.mirror\.url: /),
    ]);
  });
});
