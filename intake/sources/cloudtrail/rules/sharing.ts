// Sharing rules: EBS snapshots, AMIs and RDS snapshots made public or shared with another account.
// Both are exposures of the snapshot or image: the inventory reads who it is shared with now, and
// whether those accounts are the organisation's (sharing with an own account is not public).
import type { ResourceRef } from '../../../../lib/alert';
import { asArray, str, uniq } from '../../util';
import { accountOf, at, eventName, short, type CloudTrailRecord } from '../record';
import { ec2List, succeeded, thingFingerprint, type CloudTrailRule } from './common';

interface Sharing {
  resource: ResourceRef;
  /** The thing's part of the fingerprint. */
  key: string;
  label: string;
  /** Groups (`all` = public) and account ids permission was added for. */
  groups: string[];
  accounts: string[];
}

/** Items added to an EC2 permission attribute (`createVolumePermission`, `launchPermission`). */
function ec2AddedPermissions(permission: unknown): { groups: string[]; accounts: string[] } {
  const items = ec2List(at(permission, 'add'));
  return {
    groups: uniq(items.map((item) => str(at(item, 'group'))?.toLowerCase())),
    accounts: uniq(items.map((item) => str(at(item, 'userId')))),
  };
}

function sharing(record: CloudTrailRecord): Sharing | undefined {
  const params = record.requestParameters;
  const name = eventName(record);
  if (name === 'ModifySnapshotAttribute' || name === 'ModifyImageAttribute') {
    const snapshot = name === 'ModifySnapshotAttribute';
    const id = str(at(params, snapshot ? 'snapshotId' : 'imageId'));
    if (!id) return undefined;
    const added = ec2AddedPermissions(at(params, snapshot ? 'createVolumePermission' : 'launchPermission'));
    const type = snapshot ? 'aws:ec2:snapshot' : 'aws:ec2:image';
    return { resource: { type, id }, key: id, label: `${snapshot ? 'EBS snapshot' : 'AMI'} ${short(id)}`, ...added };
  }
  if (name === 'ModifyDBSnapshotAttribute' || name === 'ModifyDBClusterSnapshotAttribute') {
    const cluster = name === 'ModifyDBClusterSnapshotAttribute';
    const id = str(at(params, cluster ? 'dBClusterSnapshotIdentifier' : 'dBSnapshotIdentifier'));
    if (!id || str(at(params, 'attributeName'))?.toLowerCase() !== 'restore') return undefined;
    const values = asArray(at(params, 'valuesToAdd')).map((value) => str(value));
    const kind = cluster ? 'cluster-snapshot' : 'snapshot';
    return {
      resource: { type: cluster ? 'aws:rds:db-cluster-snapshot' : 'aws:rds:db-snapshot', id },
      key: `rds-${kind}/${id}`,
      label: `RDS ${cluster ? 'cluster snapshot' : 'snapshot'} ${short(id)}`,
      groups: uniq(values.filter((value) => value?.toLowerCase() === 'all').map(() => 'all')),
      accounts: uniq(values.filter((value) => value?.toLowerCase() !== 'all')),
    };
  }
  return undefined;
}

const madePublic: CloudTrailRule = {
  id: 'snapshot-or-image-made-public',
  description: 'EBS snapshot, AMI or RDS snapshot shared with everyone (`all`)',
  kind: 'exposure',
  severity: 'high',
  match(record) {
    const shared = succeeded(record) ? sharing(record) : undefined;
    if (!shared?.groups.includes('all')) return undefined;
    return {
      title: `${shared.label} made public`,
      resources: [shared.resource],
      fingerprint: thingFingerprint(record, shared.key),
      details: [`Permission added for: all${shared.accounts.length > 0 ? `, ${shared.accounts.join(', ')}` : ''}`],
    };
  },
};

const sharedWithAccount: CloudTrailRule = {
  id: 'snapshot-or-image-shared',
  description: 'EBS snapshot, AMI or RDS snapshot shared with another AWS account',
  kind: 'exposure',
  severity: 'medium',
  match(record) {
    const shared = succeeded(record) ? sharing(record) : undefined;
    const owner = accountOf(record);
    const others = shared?.accounts.filter((account) => account !== owner) ?? [];
    if (!shared || others.length === 0) return undefined;
    return {
      title: `${shared.label} shared with account ${short(others.join(', '))}`,
      resources: [shared.resource, ...others.map((account) => ({ type: 'aws:account', id: account }))],
      fingerprint: thingFingerprint(record, shared.key),
      details: [`Permission added for: ${others.join(', ')}`],
    };
  },
};

export const sharingRules: readonly CloudTrailRule[] = [madePublic, sharedWithAccount];
