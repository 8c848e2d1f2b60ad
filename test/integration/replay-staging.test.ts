// `vigil replay --from-archive <production archive> --to <staging intake>`: production's archived
// alerts posted to a real staging intake as their senders sent them, the production archive left
// exactly as it was (a hash of its whole tree, before and after), from a folder and from S3.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalArchive } from '../../activities/archive/local';
import { createS3Archive } from '../../activities/archive/s3';
import { describeSummary, openArchiveReadOnly, replayIntoStaging, runStagingReplay } from '../../scripts/replay-staging';
import { close, listen } from '../helpers/loopback';
import { startMoto, type Moto } from '../helpers/moto';
import { runVigil } from '../helpers/processes';
import { eventually, startTestVigil, type TestVigil } from '../helpers/vigil';

let production: TestVigil;
let productionArchive: string;
const answers: { status: number; body: any }[] = [];

beforeAll(async () => {
  production = await startTestVigil();
  productionArchive = path.join(production.config.dataDir, 'archive');
  for (const id of ['one', 'two', 'three']) {
    answers.push(await production.post('generic', { id: `replayed-${id}`, title: `replayed ${id}`, severity: 'high' }, { 'x-sender-id': id }));
  }
  // Archived, then refused as malformed: staging refuses it too.
  answers.push(await production.post('generic', '{"not json'));
});
afterAll(() => production.stop());

/** Every file and folder under `root`: names, sizes, modification times and contents. */
async function treeHash(root: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of (await readdir(root, { recursive: true })).sort()) {
    const file = path.join(root, name);
    const info = await stat(file);
    hash.update(`${name}\0${info.isDirectory() ? 'dir' : info.size}\0${info.mtimeMs}\0`);
    if (info.isFile()) hash.update(await readFile(file));
  }
  return hash.digest('hex');
}

const range = () => ({ since: new Date(Date.now() - 86_400_000), until: new Date(Date.now() + 60_000) });
const replayOptions = { concurrency: 2, timeoutMs: 60_000, s3: { region: 'us-east-1' } };

describe('replay into staging from a production archive folder', () => {
  it('posts each archived alert to the staging intake, and changes nothing in the archive', async () => {
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 400]);
    const staging = await startTestVigil();
    try {
      const before = await treeHash(productionArchive);
      const summary = await replayIntoStaging({ from: productionArchive, to: staging.url, token: staging.token, ...range(), ...replayOptions });
      expect(summary).toEqual({ records: 4, sent: 4, accepted: 3, refused: { '400': 1 }, skipped: {} });
      expect(await treeHash(productionArchive)).toBe(before);

      // Staging archived the same bodies, with the senders' headers and where they came from.
      const stagingArchive = createLocalArchive(path.join(staging.config.dataDir, 'archive'));
      const records = [];
      for await (const meta of stagingArchive.list(range())) records.push(meta);
      expect(records.map((meta) => meta.sha256).sort()).toEqual(answers.map((answer) => answer.body.archiveId.split('/').at(-1)).sort());
      const one = records.find((meta) => meta.headers['x-sender-id'] === 'one')!;
      expect(one.headers['x-vigil-replayed-from']).toBe(answers[0]!.body.archiveId);
      expect(JSON.stringify(records)).not.toContain(production.token);
      await eventually(async () => ((await staging.tracker.listIssues()).length === 3 ? true : undefined));
    } finally {
      await staging.stop();
    }
  });

  it('stops sending once the staging intake refuses the token, and says to check it', async () => {
    const staging = await startTestVigil();
    try {
      const summary = await replayIntoStaging({ from: productionArchive, to: staging.url, token: 'not-the-staging-token-0123', ...range(), ...replayOptions, concurrency: 1 });
      expect(summary).toEqual({ records: 4, sent: 1, accepted: 0, refused: { '401': 1 }, skipped: { 'not sent after the staging intake refused the token': 3 } });
      expect(describeSummary(summary)).toContain('the staging intake refused the token');
    } finally {
      await staging.stop();
    }
  });

  it('opens the archive through a store that refuses every write', async () => {
    const before = await treeHash(productionArchive);
    const archive = await openArchiveReadOnly(productionArchive, { region: 'us-east-1' });
    await expect(archive.markDispatched(answers[0]!.body.archiveId, ['alert/generic/x'])).rejects.toThrow(/read-only/);
    await expect(archive.put({ source: 'generic', body: Buffer.from('{}'), contentType: 'application/json', headers: {} })).rejects.toThrow(/read-only/);
    // The sweeper's listing would write its index: refused too.
    await expect(async () => {
      for await (const meta of archive.listUndispatched(range())) void meta;
    }).rejects.toThrow(/read-only/);
    expect(await treeHash(productionArchive)).toBe(before);
    await expect(openArchiveReadOnly(path.join(productionArchive, 'nope'), { region: 'us-east-1' })).rejects.toThrow(/no archive folder/);
  });

  it('runs as `vigil --profile staging replay --from-archive`, taking the staging intake from the profile, and exits 1 when a record is refused', async () => {
    const staging = await startTestVigil();
    try {
      const before = await treeHash(productionArchive);
      const configFile = path.join(staging.config.dataDir, 'vigil.yaml');
      const port = new URL(staging.url).port;
      await writeFile(configFile, `intake:\n  port: 8787\nprofiles:\n  staging:\n    intake:\n      port: ${port}\n      token: ${staging.token}\n`);
      const command = runVigil(['--profile', 'staging', 'replay', '--from-archive', productionArchive, '--since', '1d', '--json'], { VIGIL_CONFIG: configFile, VIGIL_INTAKE_TOKEN: '' });
      const code = await command.exited;
      expect(JSON.parse(command.output())).toEqual({ records: 4, sent: 4, accepted: 3, refused: { '400': 1 }, skipped: {} });
      expect(code).toBe(1);
      expect(await treeHash(productionArchive)).toBe(before);

      // Only what was accepted, by source: nothing refused, exit 0; a token from the environment.
      const generic = runVigil(['replay', '--from-archive', productionArchive, '--to', staging.url, '--token-env', 'STAGING_TOKEN', '--since', '1d', '--source', 'cloudtrail'], { STAGING_TOKEN: staging.token, VIGIL_PROFILE: '' });
      expect(await generic.exited).toBe(0);
      expect(generic.output()).toContain('0 records in the range: 0 sent, 0 accepted');
    } finally {
      await staging.stop();
    }
  });
});

describe('replay into staging without a profile', () => {
  it("refuses, rather than send production's token to --to or replay into production itself", async () => {
    // Where the replay would go: it must never be asked anything.
    let requests = 0;
    const target = createServer((request, response) => {
      requests += 1;
      response.writeHead(202).end('{}');
    });
    const port = await listen(target);
    try {
      const args = { fromArchive: productionArchive, since: '1d', concurrency: '2', s3Region: 'us-east-1' };
      // The unprofiled configuration is production's: it is not even read.
      const configuration = () => {
        throw new Error('the configuration was read');
      };
      await expect(runStagingReplay({ ...args, to: `http://127.0.0.1:${port}` }, configuration, { VIGIL_INTAKE_TOKEN: production.token })).rejects.toThrow(
        /select the staging profile \(vigil --profile <name> replay …, or VIGIL_PROFILE\), or add --token-env <variable holding its token>: .*intake token would be sent to --to/,
      );
      await expect(runStagingReplay({ ...args, tokenEnv: 'STAGING_TOKEN' }, configuration, { STAGING_TOKEN: 'staging-token-0123456789abcdef' })).rejects.toThrow(
        /or add --to <staging intake URL>: .*own intake would get the replay/,
      );
      await expect(runStagingReplay(args, configuration, {})).rejects.toThrow(/or add --to <staging intake URL> and --token-env <variable holding its token>/);

      // As typed: exit 1 with the message, production's token sent nowhere.
      const command = runVigil(['replay', '--from-archive', productionArchive, '--to', `http://127.0.0.1:${port}`, '--since', '1d'], { VIGIL_PROFILE: '', VIGIL_INTAKE_TOKEN: production.token });
      expect(await command.exited).toBe(1);
      expect(command.output()).toContain('vigil: --from-archive: select the staging profile');
      expect(requests).toBe(0);
    } finally {
      await close(target);
    }
  });
});

describe('replay into staging from a production archive in S3', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
    process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
  });
  afterAll(() => moto.stop());

  it('reads s3://bucket/prefix and writes nothing to the bucket', async () => {
    const client = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: moto.credentials });
    await client.send(new CreateBucketCommand({ Bucket: 'production-archive' }));
    const s3Archive = createS3Archive({ bucket: 'production-archive', prefix: 'vigil/', region: 'us-east-1', forcePathStyle: true }, client);
    await s3Archive.put({ source: 'generic', body: Buffer.from(JSON.stringify({ id: 'from-s3', title: 'from S3', severity: 'low' })), contentType: 'application/json', headers: { 'x-sender-id': 's3' } });
    const objects = async () => (await client.send(new ListObjectsV2Command({ Bucket: 'production-archive' }))).Contents?.map(({ Key, ETag, LastModified }) => `${Key} ${ETag} ${LastModified?.toISOString()}`).sort();
    const before = await objects();

    const staging = await startTestVigil();
    try {
      const summary = await replayIntoStaging({ from: 's3://production-archive/vigil', to: staging.url, token: staging.token, ...range(), ...replayOptions, s3: { region: 'us-east-1', endpoint: moto.endpoint } });
      expect(summary).toEqual({ records: 1, sent: 1, accepted: 1, refused: {}, skipped: {} });
      expect(await objects()).toEqual(before);
      await eventually(async () => ((await staging.tracker.listIssues()).length === 1 ? true : undefined));
    } finally {
      await staging.stop();
    }
  });
});
