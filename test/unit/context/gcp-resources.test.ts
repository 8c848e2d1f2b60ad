// What makes a GCP resource public, in the cases the Cloud Asset server test does not seed (fine-grained
// bucket ACLs, Cloud SQL without IPv4, a forwarding rule's port forms, the v2 forms of Cloud Run
// and Cloud Functions), and which resources each way of writing a reference keeps.
import { describe, expect, it } from 'vitest';
import { narrowToQuery, refersToResource } from '../../../activities/context/gcp/references';
import { evaluateGcpResources, type IamBinding } from '../../../activities/context/gcp/resources';
import type { PublicResource } from '../../../lib/context';

const PROJECT = 'shop-prod';
const one = (name: string, assetType: string, data: Record<string, unknown>, bindings: IamBinding[] = []): PublicResource => evaluateGcpResources([{ name, assetType, data, bindings }])[0]!;
const everyone: IamBinding[] = [{ role: 'roles/run.invoker', members: ['allUsers', 'user:ana@example.com'] }];

describe('GCP resource verdicts', () => {
  it('reads a bucket ACL for everyone as public only while uniform bucket-level access is off', () => {
    const data = (uniform: boolean) => ({ name: 'legacy', acl: [{ entity: 'allUsers', role: 'READER' }], iamConfiguration: { uniformBucketLevelAccess: { enabled: uniform } } });
    expect(one('//storage.googleapis.com/legacy', 'storage.googleapis.com/Bucket', data(false))).toMatchObject({ public: true, reasons: ['the bucket ACL grants READER to allUsers'] });
    expect(one('//storage.googleapis.com/legacy', 'storage.googleapis.com/Bucket', data(true))).toMatchObject({ public: false, proofs: [] });
  });

  it('reads a Cloud SQL instance with IPv4 off as private whatever its authorised networks', () => {
    const sql = one(`//cloudsql.googleapis.com/projects/${PROJECT}/instances/db`, 'sqladmin.googleapis.com/Instance', {
      databaseVersion: 'MYSQL_8_0',
      ipAddresses: [{ type: 'PRIMARY', ipAddress: '34.1.2.3' }],
      settings: { ipConfiguration: { ipv4Enabled: false, authorizedNetworks: [{ value: '0.0.0.0/0' }] } },
    });
    expect(sql).toMatchObject({ public: false, reasons: ['no public IP address'], aliases: [`${PROJECT}:db`] });
  });

  it('probes a forwarding rule on each listed port and a narrow range whole; a wide range, like all ports, is unknown', () => {
    const rule = (data: Record<string, unknown>) => one(`//compute.googleapis.com/projects/${PROJECT}/regions/europe-west1/forwardingRules/r`, 'compute.googleapis.com/ForwardingRule', { IPAddress: '34.2.3.4', ...data });
    expect(rule({ ports: ['80', '443'], loadBalancingScheme: 'EXTERNAL_MANAGED' }).proofs).toEqual([{ kind: 'endpoint', host: '34.2.3.4', ports: [80, 443] }]);
    expect(rule({ portRange: '8080-8082' }).proofs).toEqual([{ kind: 'endpoint', host: '34.2.3.4', ports: [8080, 8081, 8082] }]);
    // A passthrough rule over 1-65535 hands port 22 to its backends too: its first port proves nothing.
    expect(rule({ portRange: '1-65535' })).toMatchObject({ public: true, proofs: [], facts: { ports: '1-65535' } });
    expect(rule({ portRange: '443-443', loadBalancingScheme: 'INTERNAL_MANAGED' })).toMatchObject({ public: false, region: 'europe-west1', proofs: [] });
    // No scheme: external by the API's default on a public address; a Private Service Connect endpoint on an internal one.
    expect(rule({ portRange: '443-443' })).toMatchObject({ public: true, reasons: ['load-balancing scheme EXTERNAL on 34.2.3.4'] });
    expect(rule({ IPAddress: '10.8.0.5', target: 'all-apis' })).toMatchObject({ public: false, proofs: [] });
  });

  it('reads Cloud Run and Cloud Functions in their v2 forms, ingress included', () => {
    const service = (ingress: string) => one(`//run.googleapis.com/projects/${PROJECT}/locations/us-central1/services/api`, 'run.googleapis.com/Service', { name: 'api', ingress, uri: 'https://api-abc-uc.a.run.app' }, everyone);
    expect(service('INGRESS_TRAFFIC_ALL').proofs).toEqual([{ kind: 'url', url: 'https://api-abc-uc.a.run.app' }]);
    expect(service('INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER')).toMatchObject({ public: false, facts: { ingress: 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER' } });
    // With the invoker IAM check off, anyone invokes it without any binding (v2 field, v1 annotation).
    const unchecked = (data: Record<string, unknown>) => one(`//run.googleapis.com/projects/${PROJECT}/locations/us-central1/services/open`, 'run.googleapis.com/Service', data);
    expect(unchecked({ name: 'open', uri: 'https://open-abc-uc.a.run.app', invokerIamDisabled: true })).toMatchObject({ public: true, reasons: ['the invoker IAM check is disabled: anyone may invoke it'] });
    expect(unchecked({ metadata: { name: 'open', annotations: { 'run.googleapis.com/invoker-iam-disabled': 'true' } }, status: { url: 'https://open-abc-uc.a.run.app' } })).toMatchObject({ public: true });
    expect(unchecked({ name: 'open', uri: 'https://open-abc-uc.a.run.app' })).toMatchObject({ public: false });

    const name = `projects/${PROJECT}/locations/us-central1/functions/hook`;
    const fn = (bindings: IamBinding[]) => one(`//cloudfunctions.googleapis.com/${name}`, 'cloudfunctions.googleapis.com/Function', { name, serviceConfig: { uri: 'https://hook-abc-uc.a.run.app', ingressSettings: 'ALLOW_ALL' } }, bindings);
    expect(fn(everyone)).toMatchObject({ type: 'gcp:cloudfunctions:function', name: 'hook', public: true, proofs: [{ kind: 'url', url: 'https://hook-abc-uc.a.run.app' }] });
    // Another role for everyone (a viewer) does not let them invoke it.
    expect(fn([{ role: 'roles/cloudfunctions.viewer', members: ['allUsers'] }])).toMatchObject({ public: false, proofs: [] });
  });
});

describe('GCP resource references', () => {
  const image = one(`//compute.googleapis.com/projects/${PROJECT}/global/images/base`, 'compute.googleapis.com/Image', { id: '123456789', name: 'base' });
  const bucket = one('//storage.googleapis.com/assets', 'storage.googleapis.com/Bucket', { name: 'assets' });

  it('matches names, numeric ids, paths with `-`, self links and gs:// URLs, and nothing of another project or collection', () => {
    for (const id of ['base', '123456789', `projects/-/global/images/base`, `https://compute.googleapis.com/compute/v1/projects/${PROJECT}/global/images/123456789`]) {
      expect({ id, found: refersToResource(id, image, PROJECT) }).toEqual({ id, found: true });
    }
    for (const id of ['base-2', `projects/other/global/images/base`, `projects/${PROJECT}/global/snapshots/base`]) {
      expect({ id, found: refersToResource(id, image, PROJECT) }).toEqual({ id, found: false });
    }
    expect(refersToResource('base', image, 'other')).toBe(false);
    expect(refersToResource('gs://assets/', bucket, 'any-project')).toBe(true);
    // A name that starts or ends like another's, or a project whose id starts like this one's, is another resource.
    for (const id of ['asset', 'assets2', '//storage.googleapis.com/assets-old', 'projects/_/buckets/my-assets', 'gs://assets/report.csv']) expect({ id, found: refersToResource(id, bucket) }).toEqual({ id, found: false });
    expect(refersToResource(`//compute.googleapis.com/projects/${PROJECT}-2/global/images/base`, image, PROJECT)).toBe(false);
    expect(refersToResource(`projects/shop/global/images/base`, image)).toBe(false);
  });

  it('keeps the named resource beside the named firewall, and no resource for a firewall alone', () => {
    const context = { instances: [], rules: [], exposures: [], resources: [image, bucket], problems: [] };
    const both = narrowToQuery(context, { provider: 'gcp', account: PROJECT, resources: [{ type: 'gcp:compute:firewall', id: 'x' }, { type: 'gcp:storage:bucket', id: 'assets' }], addresses: [] });
    expect(both.resources).toEqual([bucket]);
    expect(narrowToQuery(context, { provider: 'gcp', account: PROJECT, resources: [{ type: 'gcp:compute:firewall', id: 'x' }], addresses: [] }).resources).toEqual([]);
  });
});
