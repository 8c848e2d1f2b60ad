// Databases and load balancers on moto, read by the AWS inventory's readers through the real SDKs,
// then proved on loopback: the names moto gives their endpoints are made to resolve (through a test
// DNS server, as probe.resolvers) to loopback addresses where this test listens. Nothing connects
// to the public-looking names or addresses moto hands out.
import http from 'node:http';
import net from 'node:net';
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateLoadBalancerCommand as CreateClassicCommand, ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { CreateListenerCommand, CreateLoadBalancerCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateDomainCommand, OpenSearchClient } from '@aws-sdk/client-opensearch';
import { CreateDBClusterCommand, CreateDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateClusterCommand, RedshiftClient } from '@aws-sdk/client-redshift';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsInventory } from '../../activities/context/aws';
import { createAwsInventory } from '../../activities/context/aws/inventory';
import { awsResourceReaders, type AwsRegionSession } from '../../activities/context/aws/resources';
import { createExposureActivities } from '../../activities/probe/exposures';
import type { ProbeScope } from '../../activities/probe/scope';
import type { NormalizedAlert, ResourceRef } from '../../lib/alert';
import type { PublicResource, ResourceContext } from '../../lib/context';
import { startTestDns, type TestDns } from '../helpers/dns-server';
import { probeSettings } from '../helpers/loopback';
import { startMoto, type Moto } from '../helpers/moto';

// moto's own account: what its default credentials create lands there.
const account = '123456789012';
const region = 'us-east-1';

let moto: Moto;
let dns: TestDns;
const groups = { dbOpen: '', dbClosed: '', web: '' };
const seeded = { albArn: '', albDns: '', internalAlbArn: '', ordersHost: '', classicDns: '' };

const inventory = () =>
  createAwsInventory(awsInventory.settings.parse({ accounts: [{ id: account, useOwnCredentials: true }], endpoint: moto.endpoint, maxAttempts: 2 }), {
    credentials: moto.credentials,
    pageSize: 5,
  });
const collect = async (resources: ResourceRef[]) => {
  const context = await inventory().collect({ provider: 'aws', account, region, resources, addresses: [] });
  expect(context.problems).toEqual([]);
  return context.resources ?? [];
};
const byId = (resources: PublicResource[], id: string) => {
  const found = resources.find((resource) => resource.id === id || resource.name === id);
  if (!found) throw new Error(`${id} was not read: ${resources.map((resource) => resource.id).join(', ')}`);
  return found;
};

async function group(ec2: EC2Client, name: string, port: number, cidr: string): Promise<string> {
  const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name }));
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: cidr }] }] }));
  return GroupId!;
}

beforeAll(async () => {
  [moto, dns] = await Promise.all([startMoto(), startTestDns()]);
  const base = { region, endpoint: moto.endpoint, credentials: moto.credentials };
  const ec2 = new EC2Client(base);
  groups.dbOpen = await group(ec2, 'db-open', 5432, '0.0.0.0/0');
  groups.dbClosed = await group(ec2, 'db-closed', 5432, '10.20.0.0/16');
  groups.web = await group(ec2, 'web', 80, '0.0.0.0/0');
  const redshiftGroup = await group(ec2, 'warehouse', 5439, '0.0.0.0/0');

  const rds = new RDSClient(base);
  const instance = (id: string, publiclyAccessible: boolean, groupId: string) =>
    rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: id,
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        AllocatedStorage: 20,
        MasterUsername: 'admin',
        MasterUserPassword: 'not-a-secret-1',
        Port: 5432,
        PubliclyAccessible: publiclyAccessible,
        VpcSecurityGroupIds: [groupId],
        Tags: [{ Key: 'team', Value: 'data' }],
      }),
    );
  seeded.ordersHost = (await instance('orders', true, groups.dbOpen)).DBInstance!.Endpoint!.Address!;
  await instance('ledger', true, groups.dbClosed);
  await instance('internal-db', false, groups.dbOpen);
  await rds.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: 'analytics',
      Engine: 'aurora-postgresql',
      MasterUsername: 'admin',
      MasterUserPassword: 'not-a-secret-1',
      Port: 5432,
      VpcSecurityGroupIds: [groups.dbOpen],
    }),
  );
  await rds.send(
    new CreateDBInstanceCommand({ DBInstanceIdentifier: 'analytics-1', DBClusterIdentifier: 'analytics', Engine: 'aurora-postgresql', DBInstanceClass: 'db.r5.large', PubliclyAccessible: true }),
  );

  await new RedshiftClient(base).send(
    new CreateClusterCommand({
      ClusterIdentifier: 'warehouse',
      NodeType: 'dc2.large',
      MasterUsername: 'admin',
      MasterUserPassword: 'Not-a-secret-1',
      PubliclyAccessible: true,
      VpcSecurityGroupIds: [redshiftGroup],
    }),
  );

  const opensearch = new OpenSearchClient(base);
  const policy = (principal: unknown) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'es:*', Resource: '*' }] });
  await opensearch.send(new CreateDomainCommand({ DomainName: 'search-open', EngineVersion: 'OpenSearch_2.11', AccessPolicies: policy({ AWS: '*' }) }));
  await opensearch.send(new CreateDomainCommand({ DomainName: 'search-locked', AccessPolicies: policy({ AWS: `arn:aws:iam::${account}:root` }) }));

  const { Vpcs } = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
  const { Subnets } = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [Vpcs![0]!.VpcId!] }] }));
  const subnets = Subnets!.slice(0, 2).map((subnet) => subnet.SubnetId!);
  const elbv2 = new ElasticLoadBalancingV2Client(base);
  const alb = async (name: string, scheme: 'internet-facing' | 'internal') => {
    const { LoadBalancers } = await elbv2.send(new CreateLoadBalancerCommand({ Name: name, Subnets: subnets, SecurityGroups: [groups.web], Scheme: scheme, Type: 'application' }));
    const lb = LoadBalancers![0]!;
    await elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancerArn,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200', ContentType: 'text/plain', MessageBody: 'ok' } }],
      }),
    );
    return lb;
  };
  const web = await alb('web-public', 'internet-facing');
  [seeded.albArn, seeded.albDns] = [web.LoadBalancerArn!, web.DNSName!];
  seeded.internalAlbArn = (await alb('web-internal', 'internal')).LoadBalancerArn!;
  seeded.classicDns = (
    await new ElasticLoadBalancingClient(base).send(
      new CreateClassicCommand({
        LoadBalancerName: 'legacy',
        Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 8080 }],
        Subnets: subnets,
        SecurityGroups: [groups.web],
        Scheme: 'internet-facing',
      }),
    )
  ).DNSName!;
}, 60_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), dns?.close()]);
});

describe('AWS databases on moto', () => {
  it('judges RDS instances: a public address and a group open to the internet, or why not', async () => {
    const resources = await collect([
      { type: 'aws:rds:db-instance', id: 'orders' },
      { type: 'aws:rds:db-instance', id: `arn:aws:rds:${region}:${account}:db:ledger` },
      { type: 'aws:rds:db-instance', id: 'internal-db' },
      { type: 'aws:rds:db-instance', id: 'gone' },
    ]);
    expect(resources.map((resource) => resource.id).sort()).toEqual(['internal-db', 'ledger', 'orders']);
    const orders = byId(resources, 'orders');
    expect(orders).toMatchObject({
      class: 'database',
      type: 'aws:rds:db-instance',
      aliases: [`arn:aws:rds:${region}:${account}:db:orders`],
      account,
      region,
      public: true,
      reasons: [`publicly accessible, and db-open (${groups.dbOpen}) opens 5432/tcp to 0.0.0.0/0`],
      facts: { engine: 'postgres', endpoint: `${seeded.ordersHost}:5432`, 'publicly accessible': 'yes', 'security groups': groups.dbOpen },
      proofs: [{ kind: 'endpoint', host: seeded.ordersHost, ports: [5432] }],
      tags: { team: 'data' },
    });
    expect(byId(resources, 'ledger')).toMatchObject({
      public: false,
      reasons: [`publicly accessible, but none of its security groups (${groups.dbClosed}) opens 5432/tcp to the internet`],
      proofs: [],
    });
    expect(byId(resources, 'internal-db')).toMatchObject({
      public: false,
      reasons: ['not publicly accessible: AWS gives it no public address'],
      facts: { 'publicly accessible': 'no' },
      proofs: [],
    });
  });

  it('judges an Aurora cluster by its public members and its groups, a Redshift cluster and OpenSearch domains', async () => {
    const resources = await collect([
      { type: 'aws:rds:db-cluster', id: `arn:aws:rds:${region}:${account}:cluster:analytics` },
      { type: 'aws:redshift:cluster', id: 'warehouse' },
      { type: 'aws:opensearch:domain', id: 'search-open' },
      { type: 'aws:opensearch:domain', id: `arn:aws:es:${region}:${account}:domain/search-locked` },
    ]);
    const analytics = byId(resources, 'analytics');
    expect(analytics).toMatchObject({
      type: 'aws:rds:db-cluster',
      public: true,
      reasons: [`publicly accessible, and db-open (${groups.dbOpen}) opens 5432/tcp to 0.0.0.0/0`],
      facts: { engine: 'aurora-postgresql', 'publicly accessible': 'yes' },
    });
    expect(analytics.proofs).toEqual([{ kind: 'endpoint', host: expect.stringContaining('analytics') as string, ports: [5432] }]);
    const warehouse = byId(resources, 'warehouse');
    expect(warehouse).toMatchObject({
      type: 'aws:redshift:cluster',
      aliases: [`arn:aws:redshift:${region}:${account}:cluster:warehouse`],
      public: true,
      reasons: [expect.stringMatching(/^publicly accessible, and warehouse \(sg-\w+\) opens 5439\/tcp to 0\.0\.0\.0\/0$/)],
    });
    expect(warehouse.proofs).toEqual([{ kind: 'endpoint', host: expect.stringContaining('warehouse') as string, ports: [5439] }]);
    expect(byId(resources, 'search-open')).toMatchObject({
      type: 'aws:opensearch:domain',
      public: true,
      reasons: ['a public endpoint, and the access policy allows everyone'],
      facts: { engine: 'OpenSearch_2.11', network: 'public' },
      proofs: [{ kind: 'endpoint', host: `search-open.${region}.es.amazonaws.com`, ports: [443] }],
    });
    expect(byId(resources, 'search-locked')).toMatchObject({ public: false, reasons: ['a public endpoint, but the access policy lets no one in anonymously'], proofs: [] });
  });
});

describe('AWS load balancers on moto', () => {
  it('judges application load balancers by scheme and groups, named by ARN or name, and a classic one', async () => {
    const resources = await collect([
      { type: 'aws:elbv2:load-balancer', id: seeded.albArn },
      { type: 'aws:elbv2:load-balancer', id: 'web-internal' },
      { type: 'aws:elbv2:load-balancer', id: 'no-such-lb' },
      { type: 'aws:elb:load-balancer', id: `arn:aws:elasticloadbalancing:${region}:${account}:loadbalancer/legacy` },
    ]);
    expect(resources.map((resource) => resource.name).sort()).toEqual(['legacy', 'web-internal', 'web-public']);
    expect(byId(resources, seeded.albArn)).toMatchObject({
      class: 'load-balancer',
      type: 'aws:elbv2:load-balancer',
      aliases: ['web-public'],
      public: true,
      reasons: [`internet-facing, and web (${groups.web}) opens 80/tcp to 0.0.0.0/0`],
      facts: { scheme: 'internet-facing', type: 'application', listeners: 'HTTP:80', endpoint: seeded.albDns },
      proofs: [{ kind: 'endpoint', host: seeded.albDns, ports: [80] }],
    });
    expect(byId(resources, seeded.internalAlbArn)).toMatchObject({ public: false, reasons: ['internal: it has no public address'], facts: { scheme: 'internal' }, proofs: [] });
    expect(byId(resources, 'legacy')).toMatchObject({
      type: 'aws:elb:load-balancer',
      aliases: [`arn:aws:elasticloadbalancing:${region}:${account}:loadbalancer/legacy`],
      public: true,
      facts: { type: 'classic', listeners: 'HTTP:80' },
      proofs: [{ kind: 'endpoint', host: seeded.classicDns, ports: [80] }],
    });
  });

  it('a scan of the account and region finds every database and load balancer', async () => {
    // The registered readers of these types, scanning as the inventory's re-scan does (the other readers' moto listings are slow, and not this file's).
    const session: AwsRegionSession = {
      account,
      region,
      clientConfig: { region, endpoint: moto.endpoint, credentials: moto.credentials, maxAttempts: 2, retryMode: 'adaptive' },
      pageSize: 5,
      ownAccounts: () => Promise.resolve(new Set([account])),
    };
    const types = ['aws:elb:load-balancer', 'aws:elbv2:load-balancer', 'aws:opensearch:domain', 'aws:rds:db-cluster', 'aws:rds:db-instance', 'aws:redshift:cluster'];
    const readers = awsResourceReaders.filter((reader) => reader.types.some((type) => types.includes(type)));
    expect(readers.flatMap((reader) => reader.types).sort()).toEqual(types);
    const found = (await Promise.all(readers.map((reader) => reader.scan(session)))).flat();
    expect(found.map((resource) => `${resource.type} ${resource.name} ${resource.public}`).sort()).toEqual([
      'aws:elb:load-balancer legacy true',
      'aws:elbv2:load-balancer web-internal false',
      'aws:elbv2:load-balancer web-public true',
      'aws:opensearch:domain search-locked false',
      'aws:opensearch:domain search-open true',
      'aws:rds:db-cluster analytics true',
      'aws:rds:db-instance analytics-1 true',
      'aws:rds:db-instance internal-db false',
      'aws:rds:db-instance ledger false',
      'aws:rds:db-instance orders true',
      'aws:redshift:cluster warehouse true',
    ]);
  });
});

describe('proving public databases and load balancers on loopback', () => {
  it('connects to the endpoints their names resolve to inside the scope, and never to one resolving outside it', async () => {
    const resources = await collect([
      { type: 'aws:rds:db-instance', id: 'orders' },
      { type: 'aws:elbv2:load-balancer', id: 'web-public' },
      { type: 'aws:opensearch:domain', id: 'search-open' },
    ]);
    const searchHost = `search-open.${region}.es.amazonaws.com`;
    dns.set(seeded.ordersHost, ['127.0.0.41']);
    dns.set(seeded.albDns, ['127.0.0.42']);
    // The domain's name leads outside the scope: it must be skipped, not connected to.
    dns.set(searchHost, ['169.254.169.254']);
    const connections = { database: 0, web: 0 };
    const database = net.createServer((socket) => socket.end());
    const hosts: (string | undefined)[] = [];
    const web = http.createServer((request, response) => {
      hosts.push(request.headers.host);
      response.writeHead(200, { 'content-type': 'text/html' }).end('<title>storefront</title>');
    });
    database.on('connection', () => connections.database++);
    web.on('connection', () => connections.web++);
    const stops = [await serve(database, '127.0.0.41', 5432), await serve(web, '127.0.0.42', 80)];
    try {
      const scope: ProbeScope = { allowRanges: ['127.0.0.0/8'], onlyRanges: ['127.0.0.0/8'], resolvers: [dns.server] };
      const context: ResourceContext = { consulted: ['aws'], instances: [], rules: [], exposures: [], problems: [], resources };
      const report = await createExposureActivities(probeSettings(), scope, { screenshots: true }).checkExposures({ alert: alert(), context });

      // Findings name the address connected to, and the resource whose endpoint it is.
      const finding = (target: string, check: string) => report.findings.find((f) => f.target === target && f.check === check);
      expect(finding('127.0.0.41:5432', 'tcp')).toMatchObject({ status: 'open', detail: { instance: 'orders' } });
      expect(finding('127.0.0.42:80', 'tcp')).toMatchObject({ status: 'open', detail: { instance: seeded.albArn } });
      expect(finding('127.0.0.42:80', 'http')).toMatchObject({ status: 'answered', fields: { statusCode: 200, title: 'storefront' } });
      // Asked for by its name (virtual hosts and SNI answer as they do to the internet), over the checked address.
      expect(new Set(hosts)).toEqual(new Set([seeded.albDns]));
      expect(report.webPages).toEqual([`http://${seeded.albDns}/`]);
      expect(connections.database).toBeGreaterThan(0);
      expect(connections.web).toBeGreaterThan(0);
      expect(dns.asked).toEqual(expect.arrayContaining([seeded.ordersHost.toLowerCase(), seeded.albDns.toLowerCase()]));

      expect(report.findings.filter((f) => f.target.includes('169.254.169.254') || f.detail?.instance === 'search-open')).toEqual([]);
      expect(report.skipped).toEqual([
        { target: `${searchHost}:443`, reason: expect.stringContaining('resolves only outside the probe scope: 169.254.169.254 is a link-local address') as string },
      ]);
      expect(dns.asked).toContain(searchHost);
    } finally {
      for (const stop of stops) await stop();
    }
  });
});

/** Listens on a fixed port of `host` (an endpoint's port); the stop drops the connections a client left open. */
async function serve(server: net.Server, host: string, port: number): Promise<() => Promise<void>> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
}

function alert(): NormalizedAlert {
  return {
    kind: 'exposure',
    fingerprint: 'aws-databases-proof',
    title: 'public database and load balancer',
    severity: 'high',
    resources: [],
    network: { ips: [], cidrs: [], ports: [] },
    actors: { ips: [], domains: [], principals: [], userAgents: [] },
    source: 'generic',
    archive: { id: 'x', sha256: '0'.repeat(64), receivedAt: new Date().toISOString() },
  };
}
