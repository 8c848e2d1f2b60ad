// The re-scan's evaluation at full size: 10,000 GCP firewalls and 5,000 instances (a hundred
// projects of two networks each) judged as a re-scan judges them, the firewall evaluation and then
// the sensitive ports and allowances, against a JSON round trip of the same assets, the least any
// evaluation of them costs (every field read and written once).
import { evaluateGcpFirewalls, FIREWALL_ASSET_TYPE, INSTANCE_ASSET_TYPE, type GcpAsset } from '../activities/context/gcp/firewall';
import { evaluateRescan } from '../activities/rescan/evaluate';
import { configSchema } from '../lib/config';
import { median, round, seconds } from './bench-common';

const PROJECTS = 100;
const FIREWALLS_PER_PROJECT = 100;
const INSTANCES_PER_PROJECT = 50;
const ROUNDS = 5;

const networkOf = (project: string, n: number) => `https://www.googleapis.com/compute/v1/projects/${project}/global/networks/${n % 2 === 0 ? 'default' : 'prod'}`;
const serviceAccount = (project: string, n: number) => `sa-${n % 3}@${project}.iam.gserviceaccount.com`;

/** A mix like a real estate's: internal and internet-wide sources, denies, tags, service accounts, IPv6. */
function firewall(project: string, n: number): GcpAsset {
  const sources = [['0.0.0.0/0'], ['10.0.0.0/8', '35.191.0.0/16'], ['0.0.0.0/0', '::/0'], ['0.0.0.0/1', '128.0.0.0/1']][n % 4]!;
  const permissions = [
    [{ IPProtocol: 'tcp', ports: ['22'] }],
    [{ IPProtocol: 'tcp', ports: ['80', '443'] }],
    [{ IPProtocol: 'tcp', ports: ['8000-9000'] }, { IPProtocol: 'udp', ports: ['53'] }],
    [{ IPProtocol: 'all' }],
    [{ IPProtocol: '6', ports: ['3306', '5432'] }],
  ][n % 5]!;
  const deny = n % 6 === 5;
  return {
    name: `//compute.googleapis.com/projects/${project}/global/firewalls/fw-${n}`,
    assetType: FIREWALL_ASSET_TYPE,
    data: {
      network: networkOf(project, n),
      direction: n % 10 === 9 ? 'EGRESS' : 'INGRESS',
      disabled: n % 25 === 0,
      priority: 100 + ((n * 37) % 1900),
      sourceRanges: sources,
      ...(n % 13 === 0 ? { destinationRanges: ['198.18.0.0/17'] } : {}),
      ...(n % 11 === 0 ? { targetServiceAccounts: [serviceAccount(project, n)] } : n % 4 === 0 ? {} : { targetTags: [`tag-${n % 7}`] }),
      ...(deny ? { denied: permissions } : { allowed: permissions }),
    },
  };
}

function instance(project: string, projectIndex: number, n: number): GcpAsset {
  return {
    name: `//compute.googleapis.com/projects/${project}/zones/us-central1-a/instances/vm-${n}`,
    assetType: INSTANCE_ASSET_TYPE,
    data: {
      status: n % 10 === 0 ? 'TERMINATED' : 'RUNNING',
      networkInterfaces: [
        {
          network: networkOf(project, n),
          networkIP: `10.${projectIndex}.0.${n}`,
          // 198.18.0.0/15 is reserved for benchmarks: addresses that are nobody's.
          accessConfigs: [{ natIP: `198.18.${projectIndex}.${n}` }],
          ...(n % 5 === 0 ? { ipv6AccessConfigs: [{ externalIpv6: `2001:db8:${projectIndex}::${n}` }] } : {}),
        },
      ],
      tags: { items: [`tag-${n % 7}`, `tag-${(n * 3) % 7}`] },
      labels: { env: n % 2 === 0 ? 'dev' : 'prod' },
      serviceAccounts: [{ email: serviceAccount(project, n) }],
    },
  };
}

function estate(): GcpAsset[] {
  return Array.from({ length: PROJECTS }, (_, p) => {
    const project = `bench-project-${p}`;
    return [
      ...Array.from({ length: FIREWALLS_PER_PROJECT }, (_, n) => firewall(project, n)),
      ...Array.from({ length: INSTANCES_PER_PROJECT }, (_, n) => instance(project, p, n)),
    ];
  }).flat();
}

export function benchEvaluation(): Record<string, number | string> {
  const assets = estate();
  const today = new Date().toISOString().slice(0, 10);
  const allow = [
    { tag: 'env=dev', reason: 'development machines are reachable by design', expires: '2999-12-31' },
    { resource: 'projects/bench-project-1/zones/us-central1-a/instances/vm-1', reason: 'a bastion', expires: '2999-12-31' },
    { tag: 'tag:tag-3=', reason: 'an allowance that has run out', expires: '2000-01-01' },
  ];
  const settings = { ...configSchema.parse({}).rescan, allow };
  const firewalls = () => evaluateGcpFirewalls(assets);
  const baseline = () => JSON.parse(JSON.stringify(assets)) as unknown;

  const context = firewalls();
  const { instances, exposures, problems } = context;
  const rescan = () => evaluateRescan(context, settings, today);
  const { violations, allowed } = rescan();
  if (instances.length !== PROJECTS * INSTANCES_PER_PROJECT || problems.length > 0 || violations.length === 0 || allowed.length === 0) {
    throw new Error(`the evaluation read ${instances.length} instances, ${problems.length} problems, and found ${violations.length} violations and ${allowed.length} allowed`);
  }
  baseline();

  const firewallSeconds: number[] = [];
  const rescanSeconds: number[] = [];
  const roundTrips: number[] = [];
  for (let n = 0; n < ROUNDS; n += 1) {
    roundTrips.push(seconds(baseline));
    firewallSeconds.push(seconds(firewalls));
    rescanSeconds.push(seconds(rescan));
  }
  const total = median(firewallSeconds) + median(rescanSeconds);
  return {
    evaluationMeasured: `evaluateGcpFirewalls then evaluateRescan: ${PROJECTS * FIREWALLS_PER_PROJECT} firewalls, ${instances.length} instances, ${exposures.length} exposures, ${violations.length} violations`,
    firewallEvaluationSeconds: round(median(firewallSeconds), 3),
    rescanEvaluationSeconds: round(median(rescanSeconds), 3),
    evaluationSeconds: round(total, 3),
    evaluationBaselineSeconds: round(median(roundTrips), 3),
    evaluationOverBaseline: round(total / median(roundTrips)),
  };
}
