// `vigil dev` as a user runs it: starts everything, takes an alert, and Ctrl-C leaves nothing behind.
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import getPort from 'get-port';
import { describe, expect, inject, it } from 'vitest';
import { commandOf, descendants, runVigil, survivors } from '../helpers/processes';
import { claimNamespace, eventually } from '../helpers/vigil';

async function devEnvironment(temporalAddress?: string) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-dev-'));
  const configFile = path.join(dataDir, 'vigil.yaml');
  // No feed refresh: it would download the public blocklists, and tests touch loopback only.
  await writeFile(configFile, `temporal:\n  uiPort: ${await getPort()}\nintel:\n  feedRefresh:\n    enabled: false\n`);
  const port = await getPort();
  return {
    dataDir,
    url: `http://127.0.0.1:${port}`,
    env: {
      VIGIL_CONFIG: configFile,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_PORT: String(port),
      TEMPORAL_ADDRESS: temporalAddress ?? `127.0.0.1:${await getPort()}`,
      VIGIL_INTAKE_TOKEN: '',
    },
  };
}

async function sendAndAwaitIssue(url: string, token: string, id: string) {
  const response = await fetch(`${url}/v1/alerts/generic`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id, title: `dev alert ${id}`, severity: 'low' }),
  });
  expect(response.status).toBe(202);
  return eventually(async () => {
    // The tracker token is the intake token here: none is configured apart.
    const listed = await fetch(`${url}/v1/issues`, { headers: { authorization: `Bearer ${token}` } });
    const { issues } = (await listed.json()) as { issues: { title: string; comments: unknown[] }[] };
    return issues.find((issue) => issue.title.endsWith(id) && issue.comments.length > 0);
  }, 30_000);
}

async function interruptAndCheckNothingLeft(dev: ReturnType<typeof runVigil>) {
  const children = descendants(dev.child.pid!);
  dev.child.kill('SIGINT');
  expect(await dev.exited).toBe(0);
  expect(dev.output()).toContain('Stopped.');
  expect(await survivors(children)).toEqual([]);
  return children;
}

describe('vigil dev', () => {
  it('starts its own Temporal, generates and keeps a token, and stops everything on Ctrl-C', async () => {
    const { dataDir, url, env } = await devEnvironment();
    const dev = runVigil(['dev'], env);
    const [, token] = await dev.waitFor(/Intake token: (\S+) {2}\(generated, kept in /);
    expect(dev.output()).toMatch(/Temporal UI: {2}http:\/\/127\.0\.0\.1:\d+/);
    expect(dev.output()).toContain(`Issues:       ${url}/issues  (log in at ${url}/login with the intake token)`);
    expect(dev.output()).toContain(`(dev server, state in ${dataDir})`);
    await sendAndAwaitIssue(url, token!, 'first');
    const children = await interruptAndCheckNothingLeft(dev);
    expect(children.length).toBeGreaterThan(0);
    expect(existsSync(path.join(dataDir, 'temporal.db'))).toBe(true);

    // Started again on the same data folder: the same token, kept.
    const again = runVigil(['dev'], env);
    await again.waitFor(/Intake token: kept in /);
    await sendAndAwaitIssue(url, token!, 'second');
    await interruptAndCheckNothingLeft(again);
  });

  it('uses a Temporal server that is already running instead of starting one', async () => {
    const { url, env } = await devEnvironment(inject('temporalAddress'));
    const dev = runVigil(['dev'], { ...env, VIGIL_INTAKE_TOKEN: 'a-token-of-sixteen-chars', TEMPORAL_NAMESPACE: await claimNamespace() });
    await dev.waitFor(/already running: reused/);
    // No server of its own (a short-lived helper such as esbuild's may come and go meanwhile).
    expect(descendants(dev.child.pid!).map(commandOf).filter((command) => /temporal/.test(command))).toEqual([]);
    await sendAndAwaitIssue(url, 'a-token-of-sixteen-chars', 'reused');
    await interruptAndCheckNothingLeft(dev);
  });

  it('refuses a bad configuration, naming the key', async () => {
    const result = runVigil(['dev'], { VIGIL_PORT: 'eighty' });
    expect(await result.exited).toBe(2);
    expect(result.output()).toMatch(/intake\.port: .*\(from VIGIL_PORT\)/);
  });
});
