// `vigil inventory accounts` as a person runs it: an organisation of accounts in moto (IAM
// authorization on), the worker's credentials in the environment, the CLI in a process of its own.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ASSET_TYPE, startCloudAssetServer, type ApiAsset } from '../helpers/cloud-asset-server';
import { createMotoOrganization, setMotoAuth, startMoto, type Moto, type MotoOrganization } from '../helpers/moto';
import { vigilBin } from '../helpers/processes';

let moto: Moto;
let org: MotoOrganization;
let dir: string;
const ids = { unit: '', ok: '', missing: '', closed: '', outside: '', empty: '' };

/** Runs the CLI with stdout and stderr apart (the AWS SDK warns on stderr about old Node versions). */
function vigil(args: string[], config: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [vigilBin, ...args], {
    env: { ...process.env, VIGIL_CONFIG: config, VIGIL_DATA_DIR: dir, VIGIL_LOG_LEVEL: 'warn', AWS_ACCESS_KEY_ID: org.worker.accessKeyId, AWS_SECRET_ACCESS_KEY: org.worker.secretAccessKey, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

async function configFile(name: string, organization: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `inventory:\n  aws:\n    endpoint: ${moto.endpoint}\n    maxAttempts: 2\n    organization:\n${organization}`);
  return file;
}

/** A project asset of organizations/100, as the Cloud Asset API lists it. */
  const project = (id: string, number: string): ApiAsset => ({
    name: `//cloudresourcemanager.googleapis.com/projects/${number}`,
    assetType: PROJECT_ASSET_TYPE,
    ancestors: [`projects/${number}`, 'organizations/100'],
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://cloudresourcemanager.googleapis.com/$discovery/rest',
      discoveryName: 'Project',
      parent: '//cloudresourcemanager.googleapis.com/organizations/100',
      data: { projectNumber: number, projectId: id, lifecycleState: 'ACTIVE', name: `${id} (display)` },
    },
  });

/** A loopback port nothing listens on: an endpoint that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * No credentials anywhere the SDKs look: no keys, an empty home (no ~/.aws, no gcloud), and the
 * cloud metadata services off (they would be reached outside 127.0.0.0/8).
 */
const noCredentials = (home: string) => ({
  HOME: home,
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  AWS_WEB_IDENTITY_TOKEN_FILE: '',
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
  AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
  AWS_EC2_METADATA_DISABLED: 'true',
  GOOGLE_APPLICATION_CREDENTIALS: '',
  METADATA_SERVER_DETECTION: 'none',
  GCE_METADATA_HOST: '127.0.0.1:9',
  GCE_METADATA_IP: '127.0.0.1:9',
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-inventory-cli-'));
  moto = await startMoto();
  org = await createMotoOrganization(moto);
  ids.unit = await org.ou('workloads');
  ids.ok = await org.account('payments', ids.unit);
  ids.missing = await org.account('no-role', ids.unit);
  ids.closed = await org.account('closed', ids.unit);
  ids.outside = await org.account('elsewhere', await org.ou('sandbox'));
  ids.empty = await org.ou('empty');
  await org.role(ids.ok, 'VigilReadOnly', ['ec2:Describe*']);
  await org.close(ids.closed);
  await setMotoAuth(moto, true);
});
afterAll(() => moto?.stop());

describe('vigil inventory accounts', () => {
  it('lists each account of the organisation with its state, as JSON and as a table; a gap is said, not an error', async () => {
    const config = await configFile('vigil.yaml', `      ous: [${ids.unit}]\n      regions: [us-east-1]\n`);
    const json = await vigil(['inventory', 'accounts', '--json'], config);
    expect(json.code, json.stderr).toBe(0);
    const reason = `cannot assume role arn:aws:iam::${ids.missing}:role/VigilReadOnly (AccessDenied)`;
    const listed = { provider: 'aws', name: null, state: 'ok', lastRead: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) };
    expect(JSON.parse(json.stdout)).toEqual({
      accounts: [
        { ...listed, id: 'organization' },
        { ...listed, id: ids.unit },
        { provider: 'aws', id: ids.ok, name: 'payments', state: 'ok', lastRead: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
        { provider: 'aws', id: ids.missing, name: 'no-role', state: reason, reason, lastRead: null },
      ],
    });
    expect(json.stderr).toContain(`1 coverage gap: Vigil cannot read\n  aws ${ids.missing}: ${reason}`);

    const table = await vigil(['inventory', 'accounts'], config);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PROVIDER\s+ID\s+NAME\s+STATE\s+LAST READ$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^aws\s+organization\s+-\s+ok\s+\d{4}-/),
      expect.stringMatching(new RegExp(`^aws\\s+${ids.unit}\\s+-\\s+ok\\s+\\d{4}-`)),
      expect.stringMatching(new RegExp(`^aws\\s+${ids.ok}\\s+payments\\s+ok\\s+\\d{4}-`)),
      expect.stringMatching(new RegExp(`^aws\\s+${ids.missing}\\s+no-role\\s+cannot assume role .+ never$`)),
    ]);
  }, 120_000);

  it('says on its own row when the organisation cannot be listed', async () => {
    const gone = 'ou-zzzz-zzzzzzzz';
    const config = await configFile('gone.yaml', `      ous: [${gone}]\n      regions: [us-east-1]\n`);
    const json = await vigil(['inventory', 'accounts', '--json'], config);
    expect(json.code, json.stderr).toBe(0);
    const reason = `cannot list the accounts of organisational unit ${gone} (ParentNotFoundException)`;
    expect(JSON.parse(json.stdout)).toEqual({
      accounts: [
        { provider: 'aws', id: 'organization', name: null, state: 'ok', lastRead: expect.any(String) },
        { provider: 'aws', id: gone, name: null, state: reason, reason, lastRead: null },
      ],
    });
  }, 60_000);

  it('lists the GCP projects under an organization beside the AWS accounts', async () => {
    const token = 'ya29.preset-cli-token';
    const assets = await startCloudAssetServer({ assets: [project('shop-prod', '1002'), project('locked-proj', '1004')], tokens: [token], refuse: ['projects/locked-proj'] });
    try {
      const file = path.join(dir, 'gcp.yaml');
      await writeFile(file, `inventory:\n  gcp:\n    scopes: [organizations/100]\n    endpoint: ${assets.url}\n    accessToken: { env: VIGIL_TEST_GCP_TOKEN }\n`);
      const json = await vigil(['inventory', 'accounts', '--json'], file, { VIGIL_TEST_GCP_TOKEN: token });
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({
        accounts: [
          { provider: 'gcp', id: 'locked-proj', name: 'locked-proj (display)', state: 'cannot list its assets (PERMISSION_DENIED)', reason: expect.any(String), lastRead: null },
          { provider: 'gcp', id: 'organizations/100', name: null, state: 'ok', lastRead: expect.any(String) },
          { provider: 'gcp', id: 'shop-prod', name: 'shop-prod (display)', state: 'ok', lastRead: expect.any(String) },
        ],
      });
      expect(json.stderr).toContain('1 coverage gap: Vigil cannot read\n  gcp locked-proj: cannot list its assets (PERMISSION_DENIED)');
      expect(assets.problems).toEqual([]);
    } finally {
      await assets.close();
    }
  }, 60_000);

  it('says when the organisation lists no account to cover: a gap on the organisation row, on stderr too', async () => {
    const config = await configFile('empty.yaml', `      ous: [${ids.empty}]\n      regions: [us-east-1]\n`);
    const json = await vigil(['inventory', 'accounts', '--json'], config);
    expect(json.code, json.stderr).toBe(0);
    const reason = `the organisation lists no active account under ${ids.empty}`;
    expect(JSON.parse(json.stdout)).toEqual({
      accounts: [
        { provider: 'aws', id: 'organization', name: null, state: reason, reason, lastRead: null },
        { provider: 'aws', id: ids.empty, name: null, state: 'ok', lastRead: expect.any(String) },
      ],
    });
    expect(json.stderr).toContain(`1 coverage gap: Vigil cannot read\n  aws organization: ${reason}`);
  }, 60_000);

  it('prints what it could read when one provider cannot be reached, names the endpoint setting, and exits 1', async () => {
    const token = 'ya29.preset-cli-token';
    const assets = await startCloudAssetServer({ assets: [project('shop-prod', '1002')], tokens: [token] });
    try {
      const down = `http://127.0.0.1:${await closedPort()}`;
      const file = path.join(dir, 'down.yaml');
      await writeFile(
        file,
        `inventory:\n  aws:\n    endpoint: ${moto.endpoint}\n    maxAttempts: 1\n    organization:\n      endpoint: ${down}\n` +
          `  gcp:\n    scopes: [organizations/100]\n    endpoint: ${assets.url}\n    accessToken: { env: VIGIL_TEST_GCP_TOKEN }\n`,
      );
      const json = await vigil(['inventory', 'accounts', '--json'], file, { VIGIL_TEST_GCP_TOKEN: token });
      expect(json.code, json.stderr).toBe(1);
      const { accounts } = JSON.parse(json.stdout) as { accounts: { provider: string; id: string; state: string }[] };
      expect(accounts.map(({ provider, id, state }) => [provider, id, state])).toEqual([
        ['aws', 'organization', 'not read this time (ECONNREFUSED)'],
        ['gcp', 'organizations/100', 'ok'],
        ['gcp', 'shop-prod', 'ok'],
      ]);
      expect(json.stderr).toContain(
        `  aws organization: cannot list the organisation's accounts: cannot reach the Organizations endpoint inventory.aws.organization.endpoint (${down}): connect ECONNREFUSED`,
      );
    } finally {
      await assets.close();
    }
  }, 60_000);

  it('says where each SDK looks for credentials when it finds none, without a stack trace, and exits 1', async () => {
    const assets = await startCloudAssetServer({ assets: [project('shop-prod', '1002')], tokens: ['ya29.unused'] });
    try {
      const home = path.join(dir, 'empty-home');
      await mkdir(home, { recursive: true });
      const file = path.join(dir, 'no-credentials.yaml');
      await writeFile(file, `inventory:\n  aws:\n    endpoint: ${moto.endpoint}\n    maxAttempts: 1\n    organization: {}\n  gcp:\n    scopes: [organizations/100]\n    endpoint: ${assets.url}\n`);
      const result = await vigil(['inventory', 'accounts'], file, noCredentials(home));
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toMatch(/^aws\s+organization\s+-\s+not read this time \(CredentialsProviderError\)\s+never$/m);
      expect(result.stderr).toContain("  aws organization: cannot list the organisation's accounts: no credentials: set AWS_PROFILE");
      expect(result.stderr).toContain('  gcp: no credentials: set inventory.gcp.accessToken');
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(assets.requests).toEqual([]);
    } finally {
      await assets.close();
    }
  }, 60_000);

  it('exits with status 2 and names the key on a configuration error', async () => {
    const config = await configFile('bad.yaml', `      exclude: [not-an-account]\n`);
    const result = await vigil(['inventory', 'accounts', '--json'], config);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('inventory.aws.organization.exclude.0: expected a 12-digit AWS account id');
  }, 60_000);
});
