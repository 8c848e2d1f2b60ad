// Vigil's configuration: one YAML (or JSON) file plus environment overrides, validated at start.
// Every object is strict, so a misspelt key is an error that names it rather than a silent no-op.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const port = z.int().min(1).max(65535);

const temporalSchema = z.strictObject({
  address: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'expected host:port, for example 127.0.0.1:7233')
    .default('127.0.0.1:7233'),
  namespace: z.string().min(1).default('default'),
  taskQueue: z.string().min(1).default('vigil'),
  /** Port of the web UI when `vigil dev` starts the dev server itself. */
  uiPort: port.default(8233),
});

const intakeSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port. */
  port: z.int().min(0).max(65535).default(8787),
  /** Bearer token senders must present; generated and kept in the data folder when unset. */
  token: z.string().min(16, 'use at least 16 characters').optional(),
  maxBodyBytes: z.int().min(1024).default(5 * 1024 * 1024),
});

const trackerSchema = z.strictObject({
  kind: z.enum(['local']).default('local'),
});

export const configSchema = z.strictObject({
  /** Folder for the archive, the local tracker, the dev server's state and the intake token. */
  dataDir: z.string().min(1).default('.data'),
  temporal: temporalSchema.prefault({}),
  intake: intakeSchema.prefault({}),
  tracker: trackerSchema.prefault({}),
});

export type Config = z.infer<typeof configSchema>;

/** Environment variables that override one configuration key each. */
const envOverrides: Record<string, { key: string[]; number?: boolean }> = {
  VIGIL_DATA_DIR: { key: ['dataDir'] },
  VIGIL_HOST: { key: ['intake', 'host'] },
  VIGIL_PORT: { key: ['intake', 'port'], number: true },
  VIGIL_INTAKE_TOKEN: { key: ['intake', 'token'] },
  TEMPORAL_ADDRESS: { key: ['temporal', 'address'] },
  TEMPORAL_NAMESPACE: { key: ['temporal', 'namespace'] },
};

export class ConfigError extends Error {
  constructor(
    readonly origin: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration (${origin}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** An explicit file; otherwise VIGIL_CONFIG, otherwise ./vigil.yaml when it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function configFilePath({ file, env = process.env, cwd = process.cwd() }: LoadConfigOptions): string | undefined {
  const chosen = file ?? env.VIGIL_CONFIG;
  if (chosen) return path.resolve(cwd, chosen);
  const conventional = path.join(cwd, 'vigil.yaml');
  return existsSync(conventional) ? conventional : undefined;
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(file, [`not valid YAML or JSON: ${(err as Error).message}`]);
  }
}

function setPath(target: Record<string, unknown>, key: string[], value: unknown): void {
  let node = target;
  for (const part of key.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[key.at(-1)!] = value;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const { env = process.env, cwd = process.cwd() } = options;
  const file = configFilePath(options);
  const raw = file ? readConfigFile(file) : {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(file ?? 'defaults', ['the top level must be a mapping of keys to values']);
  }
  const merged = structuredClone(raw) as Record<string, unknown>;
  const fromEnv = new Map<string, string>();
  for (const [name, { key, number }] of Object.entries(envOverrides)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(merged, key, number && /^\d+$/.test(value) ? Number(value) : value);
    fromEnv.set(key.join('.'), name);
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
      return keys
        .map((extra) => {
          const at = [...issue.path, ...(extra ? [extra] : [])].join('.') || '(top level)';
          const source = fromEnv.get(at);
          const message = extra ? 'unknown key (misspelt, or not a Vigil setting)' : issue.message;
          return `${at}: ${message}${source ? ` (from ${source})` : ''}`;
        })
        .join('\n  - ');
    });
    throw new ConfigError(file ?? 'environment', problems);
  }
  const config = result.data;
  config.dataDir = path.resolve(cwd, config.dataDir);
  return config;
}
