// Databases that can be reached from the internet: RDS instances and Aurora (or Multi-AZ) clusters,
// Redshift clusters, OpenSearch domains. One reader per service, so a service the role may not read
// is a problem of that service alone. A database is public when AWS gives it a public address
// (PubliclyAccessible) and one of its security groups opens its port to the internet; an
// OpenSearch domain outside a VPC, when its access policy lets anyone in.
import type { DBCluster, DBInstance } from '@aws-sdk/client-rds';
import type { ResourceRef } from '../../../../lib/alert';
import type { PublicResource } from '../../../../lib/context';
import { collectPages } from '../pages';
import { openPolicyReason } from './db-opensearch-policy';
import { readGroupJudge, type GroupJudge } from './db-security-groups';
import { chunks, heldHere, nameOf, partitionOf, RDS_FILTER_VALUES, recordsPerPage, tagRecord, unique, withClient } from './reading';
import type { AwsRegionSession, AwsResourceReader } from './types';

/** What the readers of RDS and Redshift take from AWS's answer, to judge it the same way. */
interface NetworkedDatabase {
  type: string;
  id: string;
  arn?: string;
  engine?: string;
  host?: string;
  port?: number;
  publiclyAccessible: boolean;
  groups: string[];
  tags: Record<string, string>;
}


/** The judgement shared by RDS and Redshift: a public address, and a group opening the port to the internet. */
function judgeNetworked(session: AwsRegionSession, db: NetworkedDatabase, judge: GroupJudge): PublicResource {
  const endpoint = db.host && db.port !== undefined ? `${db.host}:${db.port}` : undefined;
  const groups = db.groups.join(', ');
  const openings = db.publiclyAccessible && db.host && db.port !== undefined ? judge.opening(db.groups, db.port) : [];
  const reasons = !db.publiclyAccessible
    ? ['not publicly accessible: AWS gives it no public address']
    : !endpoint
      ? ['publicly accessible, but it has no endpoint yet']
      : openings.length > 0
        ? openings.map((opening) => `publicly accessible, and ${opening}`)
        : [`publicly accessible, but none of its security groups (${groups || 'none'}) opens ${db.port}/tcp to the internet`];
  const isPublic = openings.length > 0;
  return {
    provider: 'aws',
    class: 'database',
    type: db.type,
    id: db.id,
    ...(db.arn ? { aliases: [db.arn] } : {}),
    name: db.id,
    account: session.account,
    region: session.region,
    public: isPublic,
    reasons,
    facts: {
      ...(db.engine ? { engine: db.engine } : {}),
      ...(endpoint ? { endpoint } : {}),
      'publicly accessible': db.publiclyAccessible ? 'yes' : 'no',
      'security groups': groups || 'none',
    },
    proofs: isPublic ? [{ kind: 'endpoint', host: db.host!, ports: [db.port!] }] : [],
    tags: db.tags,
  };
}

async function judgeAll(session: AwsRegionSession, databases: NetworkedDatabase[]): Promise<PublicResource[]> {
  // Only the groups of databases with a public address matter; read once for them all.
  const judge = await readGroupJudge(session, databases.filter((db) => db.publiclyAccessible).flatMap((db) => db.groups));
  return databases.map((db) => judgeNetworked(session, db, judge));
}

interface RdsApi {
  /** Instances matching the filter values (identifiers or ARNs, cluster ids for `db-cluster-id`), or all of them. */
  instances(filter?: { name: 'db-instance-id' | 'db-cluster-id'; values: string[] }): Promise<DBInstance[]>;
  clusters(values?: string[]): Promise<DBCluster[]>;
}

/** `read` with RDS's listings, its client closed afterwards. */
async function withRds<T>(session: AwsRegionSession, read: (api: RdsApi) => Promise<T>): Promise<T> {
  const sdk = await import('@aws-sdk/client-rds');
  return withClient(new sdk.RDSClient(session.clientConfig), (client) => {
    const paging = { client, ...recordsPerPage(session) };
    const filtered = async <Item>(values: string[], list: (Values: string[]) => Promise<Item[]>) => (await Promise.all(chunks(values, RDS_FILTER_VALUES).map(list))).flat();
    return read({
      instances: (filter) =>
        filter
          ? filtered(filter.values, (Values) => collectPages(sdk.paginateDescribeDBInstances(paging, { Filters: [{ Name: filter.name, Values }] }), (page) => page.DBInstances))
          : collectPages(sdk.paginateDescribeDBInstances(paging, {}), (page) => page.DBInstances),
      clusters: (values) =>
        values
          ? filtered(values, (Values) => collectPages(sdk.paginateDescribeDBClusters(paging, { Filters: [{ Name: 'db-cluster-id', Values }] }), (page) => page.DBClusters))
          : collectPages(sdk.paginateDescribeDBClusters(paging, {}), (page) => page.DBClusters),
    });
  });
}

/** The ids the alert names that this account and region may hold. */
const idsOf = (refs: readonly ResourceRef[], session: AwsRegionSession) => unique(refs.map((ref) => ref.id).filter((id) => heldHere(id, session)));

const rdsInstances: AwsResourceReader = {
  types: ['aws:rds:db-instance'],
  collect: (session, refs) => readInstances(session, idsOf(refs, session)),
  scan: (session) => readInstances(session),
};

async function readInstances(session: AwsRegionSession, ids?: string[]): Promise<PublicResource[]> {
  if (ids?.length === 0) return [];
  // Aurora members too: each has an instance endpoint of its own beside its cluster's.
  const instances = await withRds(session, (api) => api.instances(ids && { name: 'db-instance-id', values: ids }));
  return judgeAll(
    session,
    instances.flatMap((db) =>
      db.DBInstanceIdentifier
        ? [
            {
              type: 'aws:rds:db-instance',
              id: db.DBInstanceIdentifier,
              arn: db.DBInstanceArn,
              engine: db.Engine,
              host: db.Endpoint?.Address,
              port: db.Endpoint?.Port,
              publiclyAccessible: db.PubliclyAccessible === true,
              groups: unique((db.VpcSecurityGroups ?? []).map((group) => group.VpcSecurityGroupId)),
              tags: tagRecord(db.TagList),
            },
          ]
        : [],
    ),
  );
}

const rdsClusters: AwsResourceReader = {
  types: ['aws:rds:db-cluster'],
  collect: (session, refs) => readClusters(session, idsOf(refs, session)),
  scan: (session) => readClusters(session),
};

/**
 * Aurora clusters (and Multi-AZ DB clusters): reached through the cluster endpoint, which leads to
 * the writer; the cluster is publicly accessible when it says so (Multi-AZ) or a member instance is.
 */
async function readClusters(session: AwsRegionSession, ids?: string[]): Promise<PublicResource[]> {
  if (ids?.length === 0) return [];
  const { clusters, members } = await withRds(session, async (api) => {
    const clusters = await api.clusters(ids);
    const memberIds = unique(clusters.flatMap((cluster) => (cluster.DBClusterMembers ?? []).map((member) => member.DBInstanceIdentifier)));
    return { clusters, members: memberIds.length > 0 ? await api.instances({ name: 'db-instance-id', values: memberIds }) : [] };
  });
  const publicMembers = new Set(members.filter((db) => db.PubliclyAccessible).map((db) => db.DBInstanceIdentifier));
  return judgeAll(
    session,
    clusters.flatMap((cluster) =>
      cluster.DBClusterIdentifier
        ? [
            {
              type: 'aws:rds:db-cluster',
              id: cluster.DBClusterIdentifier,
              arn: cluster.DBClusterArn,
              engine: cluster.Engine,
              host: cluster.Endpoint,
              port: cluster.Port,
              publiclyAccessible: cluster.PubliclyAccessible === true || (cluster.DBClusterMembers ?? []).some((member) => publicMembers.has(member.DBInstanceIdentifier)),
              groups: unique((cluster.VpcSecurityGroups ?? []).map((group) => group.VpcSecurityGroupId)),
              tags: tagRecord(cluster.TagList),
            },
          ]
        : [],
    ),
  );
}

const redshiftClusters: AwsResourceReader = {
  types: ['aws:redshift:cluster'],
  collect: (session, refs) => readRedshift(session, idsOf(refs, session).map(nameOf)),
  scan: (session) => readRedshift(session),
};

async function readRedshift(session: AwsRegionSession, names?: string[]): Promise<PublicResource[]> {
  const sdk = await import('@aws-sdk/client-redshift');
  const clusters = await withClient(new sdk.RedshiftClient(session.clientConfig), async (client) => {
    const paging = { client, ...recordsPerPage(session) };
    // Redshift filters by one identifier at a time, and answers ClusterNotFound for one that is gone.
    return names
      ? (
          await Promise.all(
            unique(names).map(async (ClusterIdentifier) => {
              try {
                return (await client.send(new sdk.DescribeClustersCommand({ ClusterIdentifier }))).Clusters ?? [];
              } catch (err) {
                if (err instanceof sdk.ClusterNotFoundFault) return [];
                throw err;
              }
            }),
          )
        ).flat()
      : collectPages(sdk.paginateDescribeClusters(paging, {}), (page) => page.Clusters);
  });
  return judgeAll(
    session,
    clusters.flatMap((cluster) =>
      cluster.ClusterIdentifier
        ? [
            {
              type: 'aws:redshift:cluster',
              id: cluster.ClusterIdentifier,
              arn: `arn:${partitionOf(session.region)}:redshift:${session.region}:${session.account}:cluster:${cluster.ClusterIdentifier}`,
              engine: 'redshift',
              host: cluster.Endpoint?.Address,
              port: cluster.Endpoint?.Port,
              publiclyAccessible: cluster.PubliclyAccessible === true,
              groups: unique((cluster.VpcSecurityGroups ?? []).map((group) => group.VpcSecurityGroupId)),
              tags: tagRecord(cluster.Tags),
            },
          ]
        : [],
    ),
  );
}

const openSearchDomains: AwsResourceReader = {
  types: ['aws:opensearch:domain'],
  // A name OpenSearch would refuse as invalid (failing the whole call) cannot be a domain: left out.
  collect: (session, refs) => readDomains(session, unique(idsOf(refs, session).map(nameOf)).filter((name) => /^[a-z][a-z0-9-]{2,27}$/.test(name))),
  scan: (session) => readDomains(session),
};

// DescribeDomains takes at most 5 names; it leaves out a name that is not there.
const domainsPerCall = 5;

/** Domains outside a VPC have a public endpoint; their access policy decides who may use it. */
async function readDomains(session: AwsRegionSession, names?: string[]): Promise<PublicResource[]> {
  const sdk = await import('@aws-sdk/client-opensearch');
  const domains = await withClient(new sdk.OpenSearchClient(session.clientConfig), async (client) => {
    // ListDomainNames has no pages: it answers every domain at once.
    const wanted = names ?? unique(((await client.send(new sdk.ListDomainNamesCommand({}))).DomainNames ?? []).map((domain) => domain.DomainName));
    const described = await Promise.all(chunks(wanted, domainsPerCall).map(async (DomainNames) => (await client.send(new sdk.DescribeDomainsCommand({ DomainNames }))).DomainStatusList ?? []));
    return described.flat();
  });
  return domains.flatMap((domain): PublicResource[] => {
    if (!domain.DomainName) return [];
    const inVpc = Boolean(domain.VPCOptions?.VPCId || domain.VPCOptions?.SubnetIds?.length);
    const host = domain.Endpoint ?? domain.Endpoints?.vpc;
    const opened = inVpc ? undefined : openPolicyReason(domain.AccessPolicies);
    const isPublic = Boolean(opened && host);
    return [
      {
        provider: 'aws',
        class: 'database',
        type: 'aws:opensearch:domain',
        id: domain.DomainName,
        ...(domain.ARN ? { aliases: [domain.ARN] } : {}),
        name: domain.DomainName,
        account: session.account,
        region: session.region,
        public: isPublic,
        reasons: [
          inVpc
            ? 'in a VPC: it has no public endpoint'
            : opened
              ? `a public endpoint, and ${opened}`
              : 'a public endpoint, but the access policy lets no one in anonymously',
        ],
        facts: {
          ...(domain.EngineVersion ? { engine: domain.EngineVersion } : {}),
          ...(host ? { endpoint: `${host}:443` } : {}),
          network: inVpc ? 'VPC' : 'public',
          'fine-grained access control': domain.AdvancedSecurityOptions?.Enabled ? 'on' : 'off',
        },
        proofs: isPublic ? [{ kind: 'endpoint', host: host!, ports: [443] }] : [],
        tags: {},
      },
    ];
  });
}

export const databaseReaders: readonly AwsResourceReader[] = [rdsInstances, rdsClusters, redshiftClusters, openSearchDomains];
