// GCP resources beyond machines, judged public or private from the Cloud Asset API's own data: a
// resource's configuration (contentType RESOURCE) and its IAM policy (contentType IAM_POLICY),
// joined by asset name. Pure, so that the inventory and a re-scan judge the same data the same way.
// What makes each kind public is the provider's documented rule: an IAM binding to `allUsers` or
// `allAuthenticatedUsers` (buckets unless public access prevention is enforced, images, snapshots,
// Cloud Run and Cloud Functions invokers unless ingress is internal), an authorised network open to
// the internet on a Cloud SQL public IP, an external load-balancing scheme on a forwarding rule.
import ipaddr from 'ipaddr.js';
import type { PublicResource, ResourceClass, ResourceProof } from '../../../lib/context';
import { isInternetWide } from '../../../lib/internet';

/** One IAM role binding as the Cloud Asset API answers it (`asset.iamPolicy.bindings`). */
export interface IamBinding {
  role: string;
  members: string[];
}

/** A Cloud Asset resource and, for kinds judged by IAM, its policy's bindings. */
export interface GcpResourceAsset {
  name: string;
  assetType: string;
  /** `resource.data`, as plain JSON. */
  data: unknown;
  /** The IAM policy's bindings; an asset without a policy has none (an empty list). */
  bindings: IamBinding[];
}

/** The members that stand for anyone on the internet. */
const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);

type Data = Record<string, unknown>;
const record = (value: unknown): Data => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Data) : {});
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const texts = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
const labels = (value: unknown): Record<string, string> => Object.fromEntries(Object.entries(record(value)).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));

/** `//service.googleapis.com/projects/p/…` → `projects/p/…`. */
export const relativeName = (name: string): string => name.replace(/^\/\/[^/]+\//, '');
const projectOf = (name: string) => /(?:^|\/)projects\/([^/]+)\//.exec(name)?.[1];
const locationOf = (name: string) => /\/(?:locations|regions|zones)\/([^/]+)\//.exec(name)?.[1];
/** The last two segments of a URL or path (`targetHttpProxies/web`), what a person recognises it by. */
const shortLink = (link: string) => link.split('/').slice(-2).join('/');

/** The bindings that grant anything (or, given `roles`, one of them) to everyone, one reason each. */
function publicGrants(bindings: readonly IamBinding[], roles?: readonly string[]): string[] {
  return bindings
    .filter((binding) => roles === undefined || roles.includes(binding.role))
    .flatMap((binding) => binding.members.filter((member) => PUBLIC_MEMBERS.has(member)).map((member) => `IAM grants ${binding.role} to ${member}`));
}

type Judged = Pick<PublicResource, 'public' | 'reasons' | 'facts' | 'proofs'> & Partial<Pick<PublicResource, 'id' | 'aliases' | 'name' | 'region' | 'tags'>>;

/** One kind of resource: its asset types, the type alerts name it by, and how it is judged. */
export interface GcpResourceKind {
  type: string;
  class: ResourceClass;
  assetTypes: string[];
  /** Other `ResourceRef.type`s sources give it (SCC reads one from an asset type or a full resource name). */
  alertTypes: string[];
  /** Whether its verdict needs the IAM policy (read with contentType IAM_POLICY). */
  iam: boolean;
  judge(asset: GcpResourceAsset, data: Data): Judged;
}

function bucket(asset: GcpResourceAsset, data: Data): Judged {
  const name = text(data.name) ?? relativeName(asset.name);
  const config = record(data.iamConfiguration);
  const prevention = text(config.publicAccessPrevention) ?? 'inherited';
  const uniform = record(config.uniformBucketLevelAccess).enabled === true || record(config.bucketPolicyOnly).enabled === true;
  // Fine-grained (ACL) access: a bucket ACL entry for everyone counts too, unless uniform access ignores ACLs.
  const acl = uniform
    ? []
    : (Array.isArray(data.acl) ? data.acl : [])
        .map(record)
        .filter((entry) => PUBLIC_MEMBERS.has(String(entry.entity)))
        .map((entry) => `the bucket ACL grants ${String(entry.role)} to ${String(entry.entity)}`);
  const grants = [...publicGrants(asset.bindings), ...acl];
  const enforced = prevention === 'enforced';
  const isPublic = grants.length > 0 && !enforced;
  const reasons =
    grants.length === 0 ? ['no IAM binding or ACL grants allUsers or allAuthenticatedUsers'] : enforced ? [...grants, 'public access prevention is enforced: these grants do not apply'] : grants;
  return {
    id: name,
    aliases: [`//storage.googleapis.com/${name}`, `projects/_/buckets/${name}`],
    name,
    ...(text(data.location) ? { region: text(data.location)!.toLowerCase() } : {}),
    public: isPublic,
    reasons,
    facts: { 'public access prevention': prevention, 'uniform bucket-level access': uniform ? 'enabled' : 'disabled' },
    proofs: isPublic ? [{ kind: 'bucket', provider: 'gcp', bucket: name, baseUrl: 'https://storage.googleapis.com' }] : [],
    tags: labels(data.labels),
  };
}

/** The port each Cloud SQL engine listens on (`MYSQL_8_0`, `POSTGRES_15`, `SQLSERVER_2019_STANDARD`). */
const SQL_PORTS: [RegExp, number][] = [
  [/^MYSQL/, 3306],
  [/^POSTGRES/, 5432],
  [/^SQLSERVER/, 1433],
];

function sqlInstance(asset: GcpResourceAsset, data: Data): Judged {
  const project = projectOf(asset.name);
  const name = relativeName(asset.name).split('/').at(-1)!;
  const ipConfiguration = record(record(data.settings).ipConfiguration);
  const primary = (Array.isArray(data.ipAddresses) ? data.ipAddresses : []).map(record).find((address) => address.type === 'PRIMARY');
  const address = ipConfiguration.ipv4Enabled === false ? undefined : text(primary?.ipAddress);
  const networks = (Array.isArray(ipConfiguration.authorizedNetworks) ? ipConfiguration.authorizedNetworks : []).map((network) => text(record(network).value)).filter((value) => value !== undefined);
  const open = networks.filter(isInternetWide);
  const version = text(data.databaseVersion);
  const port = version ? SQL_PORTS.find(([pattern]) => pattern.test(version))?.[1] : undefined;
  const isPublic = address !== undefined && open.length > 0;
  const reasons = !address
    ? ['no public IP address']
    : open.length > 0
      ? [`public IP ${address} with authorised network ${open.join(', ')}`]
      : [`public IP ${address}, but no authorised network is internet-wide${networks.length > 0 ? ` (${networks.join(', ')})` : ''}`];
  const proofs: ResourceProof[] = isPublic && port ? [{ kind: 'endpoint', host: address, ports: [port] }] : [];
  // `project:instance`, and the connection name (`project:region:instance`) clients and logs use.
  const connection = text(data.connectionName);
  const aliases = [...(project ? [`${project}:${name}`] : []), ...(connection && connection !== `${project}:${name}` ? [connection] : [])];
  return {
    aliases,
    ...(text(data.region) ? { region: text(data.region) } : {}),
    public: isPublic,
    reasons,
    facts: { ...(version ? { engine: version } : {}), ...(address ? { 'public IP': address } : {}), ...(networks.length > 0 ? { 'authorised networks': networks.join(', ') } : {}) },
    proofs,
    tags: labels(record(data.settings).userLabels),
  };
}

/** A forwarding rule's ports: `portRange` (`80-80`, `8080-8090`) or `ports` (`['80', '443']`). */
function forwardingPorts(data: Data): number[] {
  const listed = texts(data.ports).map(Number).filter(Number.isInteger);
  if (listed.length > 0) return listed;
  const range = /^(\d+)(?:-(\d+))?$/.exec(text(data.portRange) ?? '');
  if (!range) return [];
  const [from, to] = [Number(range[1]), Number(range[2] ?? range[1])];
  // A wide range is left unknown, as `allPorts` is: a passthrough rule hands every port in it to
  // its backends, which may answer on any (22 within 1-65535), so its first port proves nothing
  // and the re-scan must not read it as holding no sensitive port.
  return to - from < 10 ? Array.from({ length: to - from + 1 }, (_, index) => from + index) : [];
}

/** An address the internet routes to (not private, shared, link-local or reserved). */
const isPublicAddress = (address: string) => ipaddr.isValid(address) && ipaddr.process(address).range() === 'unicast';

function forwardingRule(asset: GcpResourceAsset, data: Data): Judged {
  // The current API writes IPAddress, older exports ipAddress.
  const address = text(data.IPAddress) ?? text(data.ipAddress);
  const protocol = text(data.IPProtocol) ?? text(data.ipProtocol);
  const ports = forwardingPorts(data);
  // Unset, the scheme is EXTERNAL by the API's default, but a Private Service Connect endpoint
  // leaves it unset too, on an internal address: then only a public address makes it external.
  const scheme = text(data.loadBalancingScheme) ?? (address !== undefined && isPublicAddress(address) ? 'EXTERNAL' : 'unset');
  const isPublic = scheme.startsWith('EXTERNAL') && address !== undefined;
  const backends = [text(data.target), text(data.backendService)].filter((link) => link !== undefined).map(shortLink);
  return {
    region: locationOf(asset.name) ?? 'global',
    public: isPublic,
    reasons: [isPublic ? `load-balancing scheme ${scheme} on ${address}` : `load-balancing scheme ${scheme}: reachable from inside the network only`],
    facts: {
      ...(address ? { address } : {}),
      ports: data.allPorts === true ? 'all' : (text(data.portRange) ?? texts(data.ports).join(', ')),
      ...(protocol ? { protocol } : {}),
      ...(backends.length > 0 ? { backends: backends.join(', ') } : {}),
    },
    proofs: isPublic && ports.length > 0 ? [{ kind: 'endpoint', host: address, ports }] : [],
    tags: labels(data.labels),
  };
}

/** An image or snapshot: public when its IAM policy lets everyone use it. Its proof is this reading. */
function shared(asset: GcpResourceAsset, data: Data): Judged {
  const grants = publicGrants(asset.bindings);
  return {
    public: grants.length > 0,
    reasons: grants.length > 0 ? grants : ['no IAM binding grants allUsers or allAuthenticatedUsers'],
    facts: { ...(text(data.family) ? { family: text(data.family)! } : {}), ...(data.diskSizeGb !== undefined ? { 'disk size (GB)': String(data.diskSizeGb) } : {}) },
    proofs: [],
    tags: labels(data.labels),
  };
}

/** An entry point anyone may invoke: a public invoker grant, ingress from everywhere, and its URL. */
function invokable(grants: string[], ingress: { value: string; all: boolean }, url: string | undefined): Judged {
  const isPublic = grants.length > 0 && ingress.all && url !== undefined;
  const reasons =
    grants.length === 0
      ? ['no invoker role is granted to allUsers or allAuthenticatedUsers']
      : !ingress.all
        ? [...grants, `ingress ${ingress.value}: not reachable from the internet directly`]
        : url
          ? grants
          : [...grants, 'it has no HTTP URL'];
  return {
    public: isPublic,
    reasons,
    facts: { ingress: ingress.value, ...(url ? { url } : {}) },
    proofs: isPublic ? [{ kind: 'url', url }] : [],
  };
}

// Cloud Run's Knative form (`metadata.annotations`, `status.url`) and its v2 form (`ingress`, `uri`).
const RUN_INGRESS_ALL = new Set(['all', 'INGRESS_TRAFFIC_ALL']);
function runService(asset: GcpResourceAsset, data: Data): Judged {
  const metadata = record(data.metadata);
  const ingress = text(record(metadata.annotations)['run.googleapis.com/ingress']) ?? text(data.ingress) ?? 'all';
  const url = text(record(data.status).url) ?? text(data.uri);
  // With the invoker IAM check disabled (v2 `invokerIamDisabled`, v1 its annotation), anyone may invoke it whatever the policy says.
  const unchecked = data.invokerIamDisabled === true || text(record(metadata.annotations)['run.googleapis.com/invoker-iam-disabled']) === 'true';
  const grants = [...publicGrants(asset.bindings, ['roles/run.invoker']), ...(unchecked ? ['the invoker IAM check is disabled: anyone may invoke it'] : [])];
  // Audit logs of the v1 (Knative) admin API name it `namespaces/<project>/services/<name>`.
  const project = projectOf(asset.name);
  const aliases = project ? [`namespaces/${project}/services/${relativeName(asset.name).split('/').at(-1)!}`] : [];
  return { aliases, ...invokable(grants, { value: ingress, all: RUN_INGRESS_ALL.has(ingress) }, url), tags: labels(metadata.labels ?? data.labels) };
}

// Cloud Functions v1 (`httpsTrigger.url`, `ingressSettings`) and v2 (`serviceConfig.uri`, `url`).
function cloudFunction(asset: GcpResourceAsset, data: Data): Judged {
  const service = record(data.serviceConfig);
  const ingress = text(data.ingressSettings) ?? text(service.ingressSettings) ?? 'ALLOW_ALL';
  const url = text(record(data.httpsTrigger).url) ?? text(service.uri) ?? text(data.url);
  const grants = publicGrants(asset.bindings, ['roles/cloudfunctions.invoker', 'roles/run.invoker']);
  return { ...invokable(grants, { value: ingress, all: ingress === 'ALLOW_ALL' }, url), tags: labels(data.labels) };
}

export const GCP_RESOURCE_KINDS: GcpResourceKind[] = [
  { type: 'gcp:storage:bucket', class: 'storage', assetTypes: ['storage.googleapis.com/Bucket'], alertTypes: [], iam: true, judge: bucket },
  { type: 'gcp:sql:instance', class: 'database', assetTypes: ['sqladmin.googleapis.com/Instance'], alertTypes: ['gcp:sqladmin:instance', 'gcp:cloudsql:instance'], iam: false, judge: sqlInstance },
  {
    type: 'gcp:compute:forwarding-rule',
    class: 'load-balancer',
    assetTypes: ['compute.googleapis.com/ForwardingRule', 'compute.googleapis.com/GlobalForwardingRule'],
    alertTypes: ['gcp:compute:global-forwarding-rule'],
    iam: false,
    judge: forwardingRule,
  },
  { type: 'gcp:compute:image', class: 'snapshot', assetTypes: ['compute.googleapis.com/Image'], alertTypes: [], iam: true, judge: shared },
  { type: 'gcp:compute:snapshot', class: 'snapshot', assetTypes: ['compute.googleapis.com/Snapshot'], alertTypes: [], iam: true, judge: shared },
  { type: 'gcp:run:service', class: 'serverless', assetTypes: ['run.googleapis.com/Service'], alertTypes: [], iam: true, judge: runService },
  {
    type: 'gcp:cloudfunctions:function',
    class: 'serverless',
    assetTypes: ['cloudfunctions.googleapis.com/CloudFunction', 'cloudfunctions.googleapis.com/Function'],
    alertTypes: ['gcp:cloudfunctions:cloud-function', 'gcp:functions:cloud-function'],
    iam: true,
    judge: cloudFunction,
  },
];

/** The kind an alert's `ResourceRef.type` names, if any. */
export const kindOfAlertType = (type: string): GcpResourceKind | undefined => GCP_RESOURCE_KINDS.find((kind) => kind.type === type || kind.alertTypes.includes(type));
const kindOfAssetType = (assetType: string) => GCP_RESOURCE_KINDS.find((kind) => kind.assetTypes.includes(assetType));

/** Each asset of a known kind as a PublicResource; others are left out. */
export function evaluateGcpResources(assets: readonly GcpResourceAsset[]): PublicResource[] {
  return assets.flatMap((asset): PublicResource[] => {
    const kind = kindOfAssetType(asset.assetType);
    if (!kind) return [];
    const data = record(asset.data);
    const judged = kind.judge(asset, data);
    const path = relativeName(asset.name);
    const project = projectOf(asset.name);
    const region = judged.region ?? locationOf(asset.name);
    // A Compute resource's numeric id is how SCC names it.
    const numeric = typeof data.id === 'string' && /^\d+$/.test(data.id) && kind.type.startsWith('gcp:compute:') ? [data.id] : [];
    const aliases = judged.aliases ?? numeric;
    return [
      {
        provider: 'gcp',
        class: kind.class,
        type: kind.type,
        id: judged.id ?? asset.name,
        ...(aliases.length > 0 ? { aliases } : {}),
        name: judged.name ?? text(data.name)?.split('/').at(-1) ?? path.split('/').at(-1),
        ...(project ? { account: project } : {}),
        ...(region ? { region } : {}),
        public: judged.public,
        reasons: judged.reasons,
        facts: judged.facts,
        proofs: judged.proofs,
        tags: judged.tags ?? {},
      },
    ];
  });
}
