// Load balancers that can be reached from the internet: application and network load balancers
// (ELBv2) and classic ones. A load balancer is public when it is internet-facing and at least one
// listener is reachable: its security groups open the listener's port to the internet, or it has no
// security group to stop anyone (a network load balancer without groups). The proof is the listeners
// on its DNS name; the probe's HTTP check finds the web pages among them and screenshots them.
import type { PublicResource } from '../../../../lib/context';
import { mapConcurrent } from '../../../../lib/concurrency';
import { collectPages } from '../pages';
import { readGroupJudge, type GroupJudge } from './db-security-groups';
import { heldHere, nameOf, partitionOf, unique, withClient } from './reading';
import type { AwsRegionSession, AwsResourceReader } from './types';

interface LoadBalancer {
  type: string;
  id: string;
  aliases: string[];
  name: string;
  /** `application`, `network`, `gateway`, `classic`. */
  kind: string;
  internetFacing: boolean;
  dnsName?: string;
  listeners: { protocol: string; port: number }[];
  /** Undefined when it has none (then nothing filters what reaches its listeners). */
  groups?: string[];
}

/** Listener reads at once (one call per load balancer). */
const LISTENER_CONCURRENCY = 4;
/** A load balancer name as ELB takes it: asking for another fails the call as invalid, not as "not found". */
const validName = (name: string) => /^[A-Za-z0-9-]{1,32}$/.test(name);
const pageSizeOf = (session: AwsRegionSession) => (session.pageSize ? { pageSize: session.pageSize } : {});
/** UDP listeners are not reached over TCP, so neither the groups' TCP rules nor a TCP proof say anything of them. */
const overTcp = (protocol: string) => protocol.toUpperCase() !== 'UDP';

function judge(session: AwsRegionSession, lb: LoadBalancer, groups: GroupJudge): PublicResource {
  const tcpPorts = unique(lb.listeners.filter((listener) => overTcp(listener.protocol)).map((listener) => listener.port));
  const openings = lb.internetFacing && lb.groups ? tcpPorts.map((port) => ({ port, by: groups.opening(lb.groups!, port) })) : [];
  const open = !lb.internetFacing || !lb.dnsName ? [] : lb.groups ? openings.filter((o) => o.by.length > 0).map((o) => o.port) : tcpPorts;
  const portList = tcpPorts.join(', ') || 'none';
  const reasons = !lb.internetFacing
    ? ['internal: it has no public address']
    : tcpPorts.length === 0
      ? ['internet-facing, but it has no TCP listener']
      : !lb.groups
        ? [`internet-facing, with no security group: every listener (${portList}) is reachable`]
        : open.length > 0
          ? openings.flatMap((o) => o.by.map((opening) => `internet-facing, and ${opening}`))
          : [`internet-facing, but none of its security groups (${lb.groups.join(', ') || 'none'}) opens a listener port (${portList}) to the internet`];
  return {
    provider: 'aws',
    class: 'load-balancer',
    type: lb.type,
    id: lb.id,
    aliases: lb.aliases,
    name: lb.name,
    account: session.account,
    region: session.region,
    public: open.length > 0,
    reasons,
    facts: {
      scheme: lb.internetFacing ? 'internet-facing' : 'internal',
      type: lb.kind,
      listeners: lb.listeners.map((listener) => `${listener.protocol}:${listener.port}`).join(', ') || 'none',
      ...(lb.dnsName ? { endpoint: lb.dnsName } : {}),
      'security groups': lb.groups?.join(', ') || 'none',
    },
    proofs: open.length > 0 ? [{ kind: 'endpoint', host: lb.dnsName!, ports: open }] : [],
    tags: {},
  };
}

async function judgeAll(session: AwsRegionSession, lbs: LoadBalancer[]): Promise<PublicResource[]> {
  // Only internet-facing load balancers' groups matter; read once for them all.
  const groups = await readGroupJudge(session, lbs.filter((lb) => lb.internetFacing).flatMap((lb) => lb.groups ?? []));
  return lbs.map((lb) => judge(session, lb, groups));
}

const elbv2: AwsResourceReader = {
  types: ['aws:elbv2:load-balancer'],
  collect: (session, refs) => readElbv2(session, unique(refs.map((ref) => ref.id).filter((id) => heldHere(id, session)))),
  scan: (session) => readElbv2(session),
};

/** Application, network and gateway load balancers, named by ARN or by name. */
async function readElbv2(session: AwsRegionSession, ids?: string[]): Promise<PublicResource[]> {
  const sdk = await import('@aws-sdk/client-elastic-load-balancing-v2');
  const read = await withClient(new sdk.ElasticLoadBalancingV2Client(session.clientConfig), async (client) => {
    const paging = { client, ...pageSizeOf(session) };
    const list = (input: { LoadBalancerArns?: string[]; Names?: string[] }) => collectPages(sdk.paginateDescribeLoadBalancers(paging, input), (page) => page.LoadBalancers);
    // One call per id: a list naming one that is gone fails whole (LoadBalancerNotFound).
    const found = ids
      ? (
          await Promise.all(
            ids.filter((id) => id.startsWith('arn:') || validName(id)).map((id) =>
              list(id.startsWith('arn:') ? { LoadBalancerArns: [id] } : { Names: [id] }).catch((err: unknown) => {
                if (err instanceof sdk.LoadBalancerNotFoundException) return [];
                throw err;
              }),
            ),
          )
        ).flat()
      : await list({});
    const lbs = [...new Map(found.flatMap((lb) => (lb.LoadBalancerArn ? [[lb.LoadBalancerArn, lb] as const] : []))).values()];
    return mapConcurrent(lbs, LISTENER_CONCURRENCY, async (lb): Promise<LoadBalancer> => {
      const listeners = await collectPages(sdk.paginateDescribeListeners(paging, { LoadBalancerArn: lb.LoadBalancerArn }), (page) => page.Listeners);
      return {
        type: 'aws:elbv2:load-balancer',
        id: lb.LoadBalancerArn!,
        aliases: lb.LoadBalancerName ? [lb.LoadBalancerName] : [],
        name: lb.LoadBalancerName ?? lb.LoadBalancerArn!,
        kind: lb.Type ?? 'application',
        internetFacing: lb.Scheme === 'internet-facing',
        dnsName: lb.DNSName,
        listeners: listeners.flatMap((listener) => (listener.Port !== undefined ? [{ protocol: listener.Protocol ?? 'TCP', port: listener.Port }] : [])),
        // Application load balancers always have groups; network ones only when made with them.
        ...(lb.SecurityGroups?.length ? { groups: lb.SecurityGroups } : lb.Type === 'application' ? { groups: [] } : {}),
      };
    });
  });
  return judgeAll(session, read);
}

const classic: AwsResourceReader = {
  types: ['aws:elb:load-balancer'],
  collect: (session, refs) => readClassic(session, unique(refs.flatMap((ref) => (heldHere(ref.id, session) ? [nameOf(ref.id)] : []))).filter(validName)),
  scan: (session) => readClassic(session),
};

async function readClassic(session: AwsRegionSession, names?: string[]): Promise<PublicResource[]> {
  const sdk = await import('@aws-sdk/client-elastic-load-balancing');
  const found = await withClient(new sdk.ElasticLoadBalancingClient(session.clientConfig), async (client) => {
    const list = (LoadBalancerNames?: string[]) =>
      collectPages(sdk.paginateDescribeLoadBalancers({ client, ...pageSizeOf(session) }, { LoadBalancerNames }), (page) => page.LoadBalancerDescriptions);
    // One call per name: a list naming one that is gone fails whole (LoadBalancerNotFound).
    if (!names) return list();
    const each = await Promise.all(
      names.map((name) =>
        list([name]).catch((err: unknown) => {
          if (err instanceof sdk.AccessPointNotFoundException) return [];
          throw err;
        }),
      ),
    );
    return each.flat();
  });
  return judgeAll(
    session,
    found.flatMap((lb): LoadBalancer[] =>
      lb.LoadBalancerName
        ? [
            {
              type: 'aws:elb:load-balancer',
              id: lb.LoadBalancerName,
              aliases: [`arn:${partitionOf(session.region)}:elasticloadbalancing:${session.region}:${session.account}:loadbalancer/${lb.LoadBalancerName}`],
              name: lb.LoadBalancerName,
              kind: 'classic',
              internetFacing: lb.Scheme === 'internet-facing',
              dnsName: lb.DNSName,
              listeners: (lb.ListenerDescriptions ?? []).flatMap(({ Listener }) =>
                Listener?.LoadBalancerPort !== undefined ? [{ protocol: Listener.Protocol ?? 'TCP', port: Listener.LoadBalancerPort }] : [],
              ),
              // Classic load balancers live in a VPC (EC2-Classic is retired), where they always have groups.
              groups: lb.SecurityGroups ?? [],
            },
          ]
        : [],
    ),
  );
}

export const loadBalancerReaders: readonly AwsResourceReader[] = [elbv2, classic];
