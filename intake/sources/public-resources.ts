// The resources that can be made public (buckets, databases, load balancers, snapshots and images,
// serverless entry points), named the way the inventory readers match them: a canonical type and the
// provider's own id (docs/sources.md lists them). Sources meet these resources as ARNs (Security Hub,
// Prowler) or GCP names in several spellings (SCC, Prowler, audit logs); this is the one place that
// turns those into references, so that every source names one resource the same way.
import type { ResourceRef } from '../../lib/alert';

/**
 * The canonical reference an AWS ARN stands for, or undefined when it is no resource of these
 * classes. Ids are what the readers list first: a bucket's, database's or function's name, an EBS
 * snapshot or AMI id, an API id; an ALB/NLB keeps its ARN (names repeat across types) with the name
 * beside it. An RDS snapshot's name may hold colons (`rds:db-2024-01-01-00-00`, automated ones), and
 * a function ARN may end in a version or alias, which is not part of the function's name.
 */
export function publicResourceFromArn(arn: string): ResourceRef | undefined {
  const parts = /^arn:aws[\w-]*:([\w-]+):([\w-]*):(\d*):(.+)$/.exec(arn.trim());
  if (!parts) return undefined;
  const [, service, region, account, resource] = parts as unknown as [string, string, string, string, string];
  switch (service) {
    case 's3': {
      // Bucket ARNs name no region or account; `arn:aws:s3:<region>:<account>:account` is the account's settings.
      const bucket = region === '' && account === '' ? /^([^/:]+)$/.exec(resource)?.[1] : undefined;
      return bucket ? { type: 'aws:s3:bucket', id: bucket } : undefined;
    }
    case 'rds': {
      const rds = /^(db|cluster|snapshot|cluster-snapshot):(.+)$/.exec(resource);
      if (!rds) return undefined;
      const types: Record<string, string> = {
        db: 'aws:rds:db-instance',
        cluster: 'aws:rds:db-cluster',
        snapshot: 'aws:rds:db-snapshot',
        'cluster-snapshot': 'aws:rds:db-cluster-snapshot',
      };
      return { type: types[rds[1]!]!, id: rds[2]! };
    }
    case 'redshift': {
      const cluster = /^cluster:(.+)$/.exec(resource)?.[1];
      return cluster ? { type: 'aws:redshift:cluster', id: cluster } : undefined;
    }
    case 'es': {
      const domain = /^domain\/([^/]+)$/.exec(resource)?.[1];
      return domain ? { type: 'aws:opensearch:domain', id: domain } : undefined;
    }
    case 'elasticloadbalancing': {
      const v2 = /^loadbalancer\/(?:app|net|gwy)\/([^/]+)\/[^/]+$/.exec(resource);
      if (v2) return { type: 'aws:elbv2:load-balancer', id: arn.trim(), name: v2[1]! };
      const classic = /^loadbalancer\/([^/]+)$/.exec(resource)?.[1];
      return classic ? { type: 'aws:elb:load-balancer', id: classic } : undefined;
    }
    case 'ec2': {
      const ec2 = /^(snapshot|image)\/((?:snap|ami)-[\w-]+)$/.exec(resource);
      if (!ec2) return undefined;
      return { type: ec2[1] === 'snapshot' ? 'aws:ec2:snapshot' : 'aws:ec2:image', id: ec2[2]! };
    }
    case 'lambda': {
      const name = /^function:([^:]+)(?::[^:]+)?$/.exec(resource)?.[1];
      return name ? { type: 'aws:lambda:function', id: name } : undefined;
    }
    case 'apigateway': {
      // Prowler writes HTTP API ARNs without the leading slash (`::apis/<id>`).
      const api = /^\/?(restapis|apis)\/([^/]+)(?:\/.*)?$/.exec(resource);
      if (!api) return undefined;
      return { type: api[1] === 'restapis' ? 'aws:apigateway:rest-api' : 'aws:apigateway:http-api', id: api[2]! };
    }
    default:
      return undefined;
  }
}

/**
 * A GCP resource of these classes as its canonical reference, from its full resource name
 * (`//storage.googleapis.com/projects/_/buckets/b`, `//sqladmin.googleapis.com/projects/p/instances/i`,
 * `//compute.googleapis.com/projects/p/global/images/i`, `//run.googleapis.com/projects/p/locations/l/services/s`,
 * `//cloudfunctions.googleapis.com/projects/p/locations/l/functions/f`) or the shorter forms audit
 * logs and SCC write (`projects/_/buckets/b`, `//storage.googleapis.com/b`). Buckets are named by
 * bucket name (their names are global); the others keep the full resource name. Undefined for
 * anything else.
 */
export function publicGcpResource(name: string, service?: string): ResourceRef | undefined {
  const trimmed = name.trim();
  const host = /^\/\/([^/]+)\//.exec(trimmed)?.[1] ?? service ?? '';
  const relative = trimmed.replace(/^\/\/[^/]+\//, '');
  const api = host.replace(/\.googleapis\.com$/, '');
  const full = (path: string) => `//${host || `${api}.googleapis.com`}/${path}`;
  if (api === 'storage') {
    const bucket = /^(?:projects\/[^/]+\/buckets\/)?([^/]+)$/.exec(relative)?.[1];
    return bucket ? { type: 'gcp:storage:bucket', id: bucket } : undefined;
  }
  if (api === 'sqladmin' || api === 'cloudsql') {
    const sql = /^projects\/([^/]+)\/instances\/([^/]+)$/.exec(relative);
    return sql ? { type: 'gcp:sql:instance', id: `//sqladmin.googleapis.com/${relative}`, name: sql[2]! } : undefined;
  }
  const kinds: [api: string, pattern: RegExp, type: string][] = [
    ['compute', /^projects\/[^/]+\/global\/images\/([^/]+)$/, 'gcp:compute:image'],
    ['compute', /^projects\/[^/]+\/global\/snapshots\/([^/]+)$/, 'gcp:compute:snapshot'],
    ['compute', /^projects\/[^/]+\/(?:global|regions\/[^/]+)\/forwardingRules\/([^/]+)$/, 'gcp:compute:forwarding-rule'],
    ['compute', /^projects\/[^/]+\/(?:global|regions\/[^/]+)\/backendServices\/([^/]+)$/, 'gcp:compute:backend-service'],
    ['run', /^(?:projects|namespaces)\/[^/]+\/(?:locations\/[^/]+\/)?services\/([^/]+)$/, 'gcp:run:service'],
    ['cloudfunctions', /^projects\/[^/]+\/locations\/[^/]+\/functions\/([^/]+)$/, 'gcp:cloudfunctions:function'],
  ];
  for (const [kindApi, pattern, type] of kinds) {
    const match = kindApi === api ? pattern.exec(relative) : undefined;
    if (match) return { type, id: full(relative), name: match[1]! };
  }
  return undefined;
}
