// A loopback stand-in for the threat-intelligence APIs, and runners pointed at it, shared by the
// provider cases and the runner tests. Each provider lives under `/<name>` of the one server.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { createProviderRunner, defaultProviderSettings, type ProviderRunnerOptions, type ProviderSettings } from '../../activities/intel/provider-runner';
import { providerDefinition } from '../../activities/intel/providers';
import type { ActorTarget, SourceResult } from '../../activities/intel/types';
import { close, listen } from './loopback';

export interface Reply {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Never answer (for timeouts). */
  hang?: boolean;
}

interface Asked {
  url: string;
  headers: IncomingHttpHeaders;
}

type SettingsOverrides = Partial<Omit<ProviderSettings, 'definition'>>;

/** A key per provider, distinct so that a test can tell which key went where. */
export const testKey = (provider: string) => `${provider}-KEY-1f2e3d4c5b6a7980`;

/**
 * The loopback APIs for the calling test file: one server for the file, and fresh routes, requests
 * and runner folder (cache, quotas) for each test.
 */
export function useProviderApis() {
  /** Replies by request URL (`/<provider>/<path>?<query>`); a list is answered in order, the last one repeating. */
  const routes = new Map<string, Reply[]>();
  const requests: Asked[] = [];
  let base = '';
  let cacheDir = '';
  const server = createServer((request, response) => {
    const url = request.url ?? '';
    requests.push({ url, headers: request.headers });
    const replies = routes.get(url);
    const reply = replies && (replies.length > 1 ? replies.shift()! : replies[0]!);
    if (!reply) {
      response.writeHead(599, { 'content-type': 'text/plain' }).end(`no route for ${url}`);
      return;
    }
    if (reply.hang) return;
    response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers }).end(reply.body ?? '');
  });

  beforeAll(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => close(server));
  beforeEach(async () => {
    routes.clear();
    requests.length = 0;
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-intel-providers-'));
  });
  afterEach(() => rm(cacheDir, { recursive: true, force: true }));

  /** A provider's settings pointed here, with its test key and no rate limit worth the name. */
  const settings = (provider: string, overrides: SettingsOverrides = {}): ProviderSettings =>
    defaultProviderSettings(providerDefinition(provider)!, { baseUrl: `${base}/${provider}`, key: testKey(provider), ratePerMinute: 60_000, ...overrides });

  return {
    requests,
    get cacheDir() {
      return cacheDir;
    },
    route(provider: string, pathAndQuery: string, ...replies: Reply[]) {
      routes.set(`/${provider}${pathAndQuery}`, replies);
    },
    settings,
    /** One provider's result for `target`, from a new runner over `dir` (by default this test's). */
    async checkOne(provider: string, target: ActorTarget, overrides: SettingsOverrides = {}, dir = cacheDir): Promise<SourceResult> {
      const results = await checkedRunner({ dir, providers: [settings(provider, overrides)] }).check(target);
      expect(results).toHaveLength(1);
      return results[0]!;
    },
  };
}

/** A runner whose every result is checked for the keys it was given: they must never show. */
export function checkedRunner(options: ProviderRunnerOptions) {
  const runner = createProviderRunner(options);
  const keys = options.providers.flatMap((settings) => (settings.key ? [settings.key] : []));
  return {
    async check(target: ActorTarget): Promise<SourceResult[]> {
      const results = await runner.check(target);
      for (const key of keys) expect(JSON.stringify(results)).not.toContain(key);
      return results;
    },
  };
}
