// The AWS inventory: the EC2 instances, network interfaces and security groups an alert concerns
// (or, for a re-scan, all of them in one account and region), read through a read-only role in
// that account, and what those groups open to the internet. Which accounts it reads, hand-listed and
// discovered through AWS Organizations, is ./covered-accounts.
import {
  DescribeAddressesCommand,
  EC2Client,
  paginateDescribeInstances,
  paginateDescribeNetworkInterfaces,
  type EC2ClientConfig,
  type Filter,
  type Instance,
  type Tag,
} from '@aws-sdk/client-ec2';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import ipaddr from 'ipaddr.js';
import { EVERY_RESOURCE, type ResourceRef } from '../../../lib/alert';
import { resolveSecret } from '../../../lib/config';
import { mergeContexts, type ContextInstance, type ProviderContext } from '../../../lib/context';
import { createCoveredAccounts, type CoveredEntry } from './covered-accounts';
import { isRefusal, RoleAssumptionFailed, refusalReason } from './errors';
import { calculateExposures, interfaceAddresses, interfaceOwner, type NetworkInterface, type SecurityGroup } from './exposure';
import { collectPages } from './pages';
import { chunks, unique } from './resources/reading';
import { EC2_FILTER_VALUES, prefixListIdsOf, readPrefixLists, readSecurityGroups } from './security-groups';
import { awsResourceReaders, type AwsRegionSession, type AwsResourceReader } from './resources';
import type { ContextQuery, InventoryProvider } from '../types';
import type { AwsInventorySettings } from '.';
import { renewingRoleSession } from './role-session';

export type AwsAccount = AwsInventorySettings['accounts'][number];
export type Credentials = NonNullable<EC2ClientConfig['credentials']>;

export interface AwsInventoryOptions {
  /** Items per page of the paginated calls (5–100 suits them all); each API's own default when unset. */
  pageSize?: number;
  /** The worker's own credentials, used directly or to assume the roles; the SDK's default chain when unset. */
  credentials?: Credentials;
  /**
   * How long a listing of the organisation's accounts stands before an alert about an account it
   * does not hold may list them again (5 minutes): an alert storm lists them once, not per alert.
   */
  membershipTtlMs?: number;
}

/** What the alert names, by id: the starting points of the lookup. */
interface Wanted {
  groupIds: string[];
  instanceIds: string[];
  interfaceIds: string[];
  addresses: string[];
}

/** `sg-1`, or the id at the end of an ARN (`arn:aws:ec2:…:security-group/sg-1`). */
const idOf = (id: string) => (id.startsWith('arn:') ? id.slice(id.lastIndexOf('/') + 1) : id);
const tagsOf = (tags: Tag[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).flatMap(({ Key, Value }) => (Key ? [[Key, Value ?? '']] : [])));

function wantedBy(query: ContextQuery): Wanted {
  const ids = (type: string) => unique(query.resources.filter((ref) => ref.type === type).map((ref) => idOf(ref.id)));
  return {
    groupIds: ids('aws:ec2:security-group'),
    instanceIds: ids('aws:ec2:instance'),
    interfaceIds: ids('aws:ec2:network-interface'),
    // EC2 matches addresses as text: dotted quads, and IPv6 in its compressed form.
    addresses: unique(
      query.addresses.map((address) => {
        if (ipaddr.IPv4.isValidFourPartDecimal(address)) return address;
        return ipaddr.IPv6.isValid(address) ? ipaddr.IPv6.parse(address).toString() : undefined;
      }),
    ),
  };
}

/** Reads one account in one region, through one client. */
function regionReader(ec2: EC2Client, pageSize: number | undefined) {
  const paging = { client: ec2, ...(pageSize ? { pageSize } : {}) };
  // Filters rather than id lists: an id that no longer exists matches nothing instead of failing the call.
  const filtered = <Item>(values: string[], read: (chunk: string[]) => Promise<Item[]>) =>
    Promise.all(chunks(values, EC2_FILTER_VALUES).map(read)).then((found) => found.flat());

  // Without filters, every item of the account and region.
  const listInterfaces = (Filters?: Filter[]) =>
    collectPages(paginateDescribeNetworkInterfaces(paging, { Filters }), (page) => page.NetworkInterfaces);
  const listInstances = (Filters?: Filter[]) =>
    collectPages(paginateDescribeInstances(paging, { Filters }), (page) => page.Reservations?.flatMap((reservation) => reservation.Instances ?? []));
  const interfaces = (filter: string, values: string[]) => filtered(values, (chunk) => listInterfaces([{ Name: filter, Values: chunk }]));

  return {
    interfaces,
    instances: (ids: string[]) => filtered(ids, (chunk) => listInstances([{ Name: 'instance-id', Values: chunk }])),
    groups: (ids: string[]) => readSecurityGroups(paging, ids),
    everything: async () => {
      const [interfaces, instances, groups] = await Promise.all([listInterfaces(), listInstances(), readSecurityGroups(paging)]);
      return { interfaces, instances, groups };
    },

    /** Interfaces holding the addresses: Elastic IPs, then other public IPv4, private IPv4 and IPv6 addresses. */
    async interfacesByAddress(addresses: string[]) {
      const v4 = addresses.filter((address) => ipaddr.IPv4.isValid(address));
      const elastic = await filtered(v4, async (chunk) => (await ec2.send(new DescribeAddressesCommand({ Filters: [{ Name: 'public-ip', Values: chunk }] }))).Addresses ?? []);
      const rest = v4.filter((address) => !elastic.some((eip) => eip.PublicIp === address));
      const found = await Promise.all([
        interfaces('network-interface-id', unique(elastic.map((eip) => eip.NetworkInterfaceId))),
        interfaces('association.public-ip', rest.filter((address) => ipaddr.IPv4.parse(address).range() === 'unicast')),
        interfaces('addresses.private-ip-address', rest),
        interfaces('ipv6-addresses.ipv6-address', addresses.filter((address) => ipaddr.IPv6.isValid(address))),
      ]);
      return found.flat();
    },

    prefixLists: (ids: readonly string[]) => readPrefixLists(paging, ids),
  };
}

function instanceContext(instance: Instance, account: string, region: string): ContextInstance {
  const addresses = (instance.NetworkInterfaces ?? []).map(interfaceAddresses);
  const name = instance.Tags?.find((tag) => tag.Key === 'Name')?.Value;
  return {
    provider: 'aws',
    type: 'aws:ec2:instance',
    id: instance.InstanceId ?? 'unknown',
    ...(name ? { name } : {}),
    account,
    region,
    publicAddresses: unique([instance.PublicIpAddress, ...addresses.flatMap((a) => a.publicAddresses)]),
    privateAddresses: unique([instance.PrivateIpAddress, ...addresses.flatMap((a) => a.privateAddresses)]),
    dnsNames: unique([instance.PublicDnsName, instance.PrivateDnsName, ...addresses.flatMap((a) => a.dnsNames)].map((dns) => dns || undefined)),
    tags: tagsOf(instance.Tags),
  };
}

/** An interface no instance holds (load balancer, NAT gateway, endpoint...) stands for itself. */
function interfaceContext(eni: NetworkInterface & { TagSet?: Tag[] }, account: string, region: string): ContextInstance {
  const name = eni.TagSet?.find((tag) => tag.Key === 'Name')?.Value;
  return { provider: 'aws', type: 'aws:ec2:network-interface', id: interfaceOwner(eni), ...(name ? { name } : {}), account, region, ...interfaceAddresses(eni), tags: tagsOf(eni.TagSet) };
}

type RegionReader = ReturnType<typeof regionReader>;

/** What was read in one account and region. */
interface RegionItems {
  interfaces: (NetworkInterface & { TagSet?: Tag[] })[];
  instances: Instance[];
  groups: SecurityGroup[];
}

/** The interfaces, instances and groups the alert names, and those that these lead to. */
async function readWanted(reader: RegionReader, wanted: Wanted): Promise<RegionItems> {
  const found = await Promise.all([
    reader.interfaces('group-id', wanted.groupIds),
    reader.interfaces('attachment.instance-id', wanted.instanceIds),
    reader.interfaces('network-interface-id', wanted.interfaceIds),
    reader.interfacesByAddress(wanted.addresses),
  ]);
  const interfaces = [...new Map(found.flat().map((eni) => [eni.NetworkInterfaceId, eni])).values()];
  const [instances, groups] = await Promise.all([
    reader.instances(unique([...wanted.instanceIds, ...interfaces.map((eni) => eni.Attachment?.InstanceId)])),
    reader.groups(unique([...wanted.groupIds, ...interfaces.flatMap((eni) => (eni.Groups ?? []).map((group) => group.GroupId))])),
  ]);
  return { interfaces, instances, groups };
}

/** The instances read (and interfaces no instance holds), every rule of the groups, and what those open to the internet. */
async function regionContext(reader: RegionReader, { interfaces, instances, groups }: RegionItems, account: string, region: string): Promise<ProviderContext> {
  const prefixLists = await reader.prefixLists(prefixListIdsOf(groups));
  const { rules, exposures } = calculateExposures({ groups, interfaces, prefixLists });
  return {
    instances: [
      ...instances.map((instance) => instanceContext(instance, account, region)),
      ...interfaces.filter((eni) => !eni.Attachment?.InstanceId).map((eni) => interfaceContext(eni, account, region)),
    ],
    rules,
    exposures,
    problems: [],
  };
}

const nothing = (): ProviderContext => ({ instances: [], rules: [], exposures: [], problems: [] });
const problemContext = (scope: string, reason: string): ProviderContext => ({ ...nothing(), problems: [{ provider: 'aws', scope, reason }] });

export function createAwsInventory(settings: AwsInventorySettings, options: AwsInventoryOptions = {}): InventoryProvider {
  const externalId = settings.externalId ? resolveSecret(settings.externalId, 'inventory.aws.externalId') : undefined;
  const retries = { maxAttempts: settings.maxAttempts, retryMode: 'adaptive' } as const;
  const endpoint = settings.endpoint ? { endpoint: settings.endpoint } : {};
  const clients = new Map<string, EC2Client>();
  // One credentials provider per role, shared by its clients of every region: the role is assumed
  // once, and again when its session is about to end, not once per region.
  const roleCredentialsByArn = new Map<string, Credentials>();
  const roleOf = (account: AwsAccount) => account.roleArn ?? `arn:aws:iam::${account.id}:role/${settings.roleName}`;

  function roleCredentials(roleArn: string, region: string): Credentials {
    const cached = roleCredentialsByArn.get(roleArn);
    if (cached) return cached;
    const credentials = renewingRoleSession(
      roleArn,
      fromTemporaryCredentials({
        params: { RoleArn: roleArn, RoleSessionName: 'vigil-inventory', ...(externalId ? { ExternalId: externalId } : {}) },
        ...(options.credentials ? { masterCredentials: options.credentials } : {}),
        clientConfig: { region, ...endpoint, ...retries },
      }),
    );
    roleCredentialsByArn.set(roleArn, credentials);
    return credentials;
  }

  /** Every SDK client of an account and region shares this: its role's credentials, the endpoint, the retries. */
  function clientConfigFor(account: AwsAccount, region: string): AwsRegionSession['clientConfig'] {
    const credentials = account.useOwnCredentials ? options.credentials : roleCredentials(roleOf(account), region);
    return { region, ...endpoint, ...retries, ...(credentials ? { credentials } : {}) };
  }

  function clientFor(account: AwsAccount, region: string): EC2Client {
    const key = `${account.id}/${region}`;
    let client = clients.get(key);
    if (!client) {
      client = new EC2Client(clientConfigFor(account, region));
      clients.set(key, client);
    }
    return client;
  }

  const sessionOf = (account: AwsAccount, region: string): AwsRegionSession => ({
    account: account.id,
    region,
    clientConfig: clientConfigFor(account, region),
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    ownAccounts: () => covered.ownAccounts(),
  });

  /** One reader's resources in one account and region; a lasting refusal is a problem of that reader alone. */
  async function readResources(account: AwsAccount, region: string, reader: AwsResourceReader, read: (session: AwsRegionSession) => Promise<ProviderContext['resources']>): Promise<ProviderContext> {
    try {
      return { ...nothing(), resources: await read(sessionOf(account, region)) };
    } catch (err) {
      if (!isRefusal(err) && !(err instanceof RoleAssumptionFailed)) throw err;
      return problemContext(`account ${account.id} in ${region} (${reader.types.join(', ')})`, refusalReason(err));
    }
  }

  /**
   * What the references name; `*` (an account-level control such as Security Hub's EC2.1) names every
   * resource of the type there, answered with the public ones: the rest is not what the alert is about.
   */
  const collectNamed = async (reader: AwsResourceReader, session: AwsRegionSession, refs: readonly ResourceRef[]) =>
    refs.some((ref) => ref.id === EVERY_RESOURCE)
      ? (await reader.scan(session)).filter((resource) => resource.public && refs.some((ref) => ref.type === resource.type))
      : reader.collect(session, refs);

  /** The readers for the resources the alert names, each with its references. */
  const namedResources = (query: ContextQuery) =>
    awsResourceReaders.flatMap((reader) => {
      const refs = query.resources.filter((ref) => reader.types.includes(ref.type));
      return refs.length > 0 ? [{ reader, refs }] : [];
    });

  async function readIn(account: AwsAccount, region: string, items: (reader: RegionReader) => Promise<RegionItems>): Promise<ProviderContext> {
    const scope = `account ${account.id} in ${region}`;
    try {
      const reader = regionReader(clientFor(account, region), options.pageSize);
      return await regionContext(reader, await items(reader), account.id, region);
    } catch (err) {
      return problemContext(scope, refusalReason(err));
    }
  }

  const covered = createCoveredAccounts(settings, options, clientFor);

  /**
   * The region whose re-scan also reads the account's global resources (S3), so each is judged
   * once: the first of its regions in sorted order, the same in every process whatever order the
   * regions were found in. Unknown regions are retried (thrown) or, refused, a problem.
   */
  async function globalHome(entry: CoveredEntry): Promise<string | ProviderContext> {
    try {
      return [...(await covered.regionsOf(entry))].sort()[0] ?? '';
    } catch (err) {
      if (!isRefusal(err) && !(err instanceof RoleAssumptionFailed)) throw err;
      return problemContext(`account ${entry.account.id} (account-wide resources not scanned)`, refusalReason(err));
    }
  }

  async function scanRegion(account: AwsAccount, region: string, withGlobal: boolean): Promise<ProviderContext> {
    const readers = awsResourceReaders.filter((reader) => !reader.global || withGlobal);
    const machines = await readIn(account, region, (reader) => reader.everything());
    // A region EC2 cannot read (denied by a service control policy, say) is one problem, not one per class.
    if (machines.problems.length > 0) return machines;
    return mergeContexts([machines, ...(await Promise.all(readers.map((reader) => readResources(account, region, reader, (session) => reader.scan(session)))))]);
  }

  return {
    name: 'aws',
    async collect(query) {
      if (query.provider !== 'aws') return nothing();
      const wanted = wantedBy(query);
      const machines = Object.values(wanted).some((ids: string[]) => ids.length > 0);
      const named = namedResources(query);
      if (!machines && named.length === 0) return nothing();
      if (!query.account) return problemContext('aws', 'the alert names no AWS account');
      const entry = await covered.find(query.account);
      if (!entry) return problemContext(`account ${query.account}`, covered.notCovered(query.account));
      let regions: readonly string[];
      try {
        regions = query.region ? [query.region] : await covered.regionsOf(entry);
      } catch (err) {
        return problemContext(`account ${query.account}`, refusalReason(err));
      }
      const reads = [
        ...(machines ? regions.map((region) => readIn(entry.account, region, (reader) => readWanted(reader, wanted))) : []),
        // A global reader (S3) reads once, from the first region; a regional one in each region.
        ...named.flatMap(({ reader, refs }) =>
          (reader.global ? regions.slice(0, 1) : regions).map((region) => readResources(entry.account, region, reader, (session) => collectNamed(reader, session, refs))),
        ),
      ];
      return mergeContexts(await Promise.all(reads));
    },
    scopes: () => covered.scopes(),
    async scan(scope) {
      const [id = '', region = ''] = scope.split('/');
      const entry = region ? await covered.find(id) : undefined;
      if (!entry) return problemContext(scope, `${scope} is not an <account>/<region> of ${covered.source}`);
      const home = await globalHome(entry);
      if (typeof home !== 'string') return mergeContexts([await scanRegion(entry.account, region, false), home]);
      return scanRegion(entry.account, region, home === region);
    },
    discover: (known) => covered.discover(known?.scopes),
  };
}
