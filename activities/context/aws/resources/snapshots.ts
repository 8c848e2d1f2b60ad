// Snapshots and images the account owns, and whom they are shared with: EBS snapshots
// (createVolumePermission), AMIs (launchPermission and the Public flag), RDS and Aurora manual
// snapshots (the `restore` attribute). Shared with everyone or with an account outside the
// organisation is public; only the sharing attributes are read, never the data.
import type { PublicResource } from '../../../../lib/context';
import { mapConcurrent } from '../../../../lib/concurrency';
import { collectPages } from '../pages';
import { judgeSharing, ownAccountsWith, pageWithin, refersTo, tagRecord, type Sharing } from './snapshot-sharing';
import type { AwsRegionSession, AwsResourceReader } from './types';

/** Attribute reads at once per account and region: one call per snapshot or image. */
const ATTRIBUTE_CONCURRENCY = 4;

/** One snapshot or image as listed, before its sharing is read. */
interface Listed {
  type: string;
  id: string;
  /** Its ARNs. */
  aliases: string[];
  name?: string;
  facts: Record<string, string>;
  tags: Record<string, string>;
  /** Its sharing (an extra call per item, made only for the items wanted). */
  sharing(): Promise<Sharing>;
  /** Where everyone is granted, in the provider's words. */
  attribute: string;
}

type Lister = (session: AwsRegionSession, types: ReadonlySet<string>) => Promise<Listed[]>;

async function judged(session: AwsRegionSession, listed: Listed[]): Promise<PublicResource[]> {
  if (listed.length === 0) return [];
  const own = ownAccountsWith(await session.ownAccounts(), session.account);
  return mapConcurrent(listed, ATTRIBUTE_CONCURRENCY, async (item): Promise<PublicResource> => {
    const verdict = judgeSharing(await item.sharing(), item.attribute, own);
    return {
      provider: 'aws',
      class: 'snapshot',
      type: item.type,
      id: item.id,
      aliases: item.aliases,
      ...(item.name ? { name: item.name } : {}),
      account: session.account,
      region: session.region,
      public: verdict.public,
      reasons: verdict.reasons,
      facts: { ...item.facts, ...(verdict.sharedWith.length > 0 ? { 'shared with': verdict.sharedWith.join(', ') } : {}) },
      // The sharing attribute, read again at every look, is the proof: there is nothing to connect to.
      proofs: [],
      tags: item.tags,
    };
  });
}

/** A reader of the given types, listing everything and reading the sharing of what is wanted only. */
function sharingReader(types: readonly string[], list: Lister): AwsResourceReader {
  return {
    types,
    async collect(session, refs) {
      const listed = await list(session, new Set(refs.map((ref) => ref.type)));
      return judged(session, listed.filter((item) => refersTo(item, refs.filter((ref) => ref.type === item.type))));
    },
    scan: async (session) => judged(session, await list(session, new Set(types))),
  };
}

const yesNo = (value: boolean | undefined) => (value ? 'yes' : 'no');

const listEc2: Lister = async (session, types) => {
  const ec2 = await import('@aws-sdk/client-ec2');
  const client = new ec2.EC2Client(session.clientConfig);
  const paging = (min: number) => {
    const size = pageWithin(session.pageSize, min, 1000);
    return { client, ...(size ? { pageSize: size } : {}) };
  };
  // AWS's ARN for snapshots and images has no account; some tools write one in.
  const arns = (kind: string, id: string) => [`arn:aws:ec2:${session.region}::${kind}/${id}`, `arn:aws:ec2:${session.region}:${session.account}:${kind}/${id}`];
  const [snapshots, images] = await Promise.all([
    // The owner filter says what OwnerIds does, and keeps a listing that ignores OwnerIds (moto) from
    // returning every public snapshot there is.
    types.has('aws:ec2:snapshot')
      ? collectPages(ec2.paginateDescribeSnapshots(paging(5), { OwnerIds: ['self'], Filters: [{ Name: 'owner-id', Values: [session.account] }] }), (page) => page.Snapshots)
      : [],
    types.has('aws:ec2:image') ? collectPages(ec2.paginateDescribeImages(paging(6), { Owners: ['self'] }), (page) => page.Images) : [],
  ]);
  return [
    ...snapshots.map((snapshot): Listed => {
      const tags = tagRecord(snapshot.Tags);
      return {
        type: 'aws:ec2:snapshot',
        id: snapshot.SnapshotId!,
        aliases: arns('snapshot', snapshot.SnapshotId!),
        ...(tags.Name ? { name: tags.Name } : {}),
        facts: {
          size: `${snapshot.VolumeSize ?? '?'} GiB`,
          encrypted: yesNo(snapshot.Encrypted),
          ...(snapshot.VolumeId ? { volume: snapshot.VolumeId } : {}),
        },
        tags,
        attribute: 'createVolumePermission group all',
        async sharing() {
          const answer = await client.send(new ec2.DescribeSnapshotAttributeCommand({ SnapshotId: snapshot.SnapshotId, Attribute: 'createVolumePermission' }));
          const permissions = answer.CreateVolumePermissions ?? [];
          return { everyone: permissions.some((p) => p.Group === 'all'), accounts: permissions.flatMap((p) => (p.UserId ? [p.UserId] : [])) };
        },
      };
    }),
    ...images.map((image): Listed => ({
      type: 'aws:ec2:image',
      id: image.ImageId!,
      aliases: arns('image', image.ImageId!),
      ...(image.Name ? { name: image.Name } : {}),
      facts: {
        ...(image.Architecture ? { architecture: image.Architecture } : {}),
        ...(image.PlatformDetails ? { platform: image.PlatformDetails } : {}),
        encrypted: yesNo(image.BlockDeviceMappings?.some((mapping) => mapping.Ebs?.Encrypted)),
      },
      tags: tagRecord(image.Tags),
      attribute: 'launchPermission group all',
      async sharing() {
        const answer = await client.send(new ec2.DescribeImageAttributeCommand({ ImageId: image.ImageId, Attribute: 'launchPermission' }));
        const permissions = answer.LaunchPermissions ?? [];
        return {
          // The Public flag says the same as the group; either is enough.
          everyone: image.Public === true || permissions.some((p) => p.Group === 'all'),
          accounts: permissions.flatMap((p) => (p.UserId ? [p.UserId] : [])),
          organizations: permissions.flatMap((p) => [p.OrganizationArn, p.OrganizationalUnitArn].filter((value): value is string => Boolean(value))),
        };
      },
    })),
  ];
};

const listRds: Lister = async (session, types) => {
  const rds = await import('@aws-sdk/client-rds');
  const client = new rds.RDSClient(session.clientConfig);
  const size = pageWithin(session.pageSize, 20, 100);
  const paging = { client, ...(size ? { pageSize: size } : {}) };
  /** The `restore` attribute: `all`, or account ids. */
  const restore = (attributes: readonly { AttributeName?: string; AttributeValues?: string[] }[] | undefined): Sharing => {
    const values = attributes?.find((attribute) => attribute.AttributeName === 'restore')?.AttributeValues ?? [];
    return { everyone: values.includes('all'), accounts: values.filter((value) => value !== 'all') };
  };
  // Manual snapshots only: automated ones cannot be shared.
  const [instances, clusters] = await Promise.all([
    types.has('aws:rds:db-snapshot') ? collectPages(rds.paginateDescribeDBSnapshots(paging, { SnapshotType: 'manual' }), (page) => page.DBSnapshots) : [],
    types.has('aws:rds:db-cluster-snapshot') ? collectPages(rds.paginateDescribeDBClusterSnapshots(paging, { SnapshotType: 'manual' }), (page) => page.DBClusterSnapshots) : [],
  ]);
  return [
    ...instances.map((snapshot): Listed => ({
      type: 'aws:rds:db-snapshot',
      id: snapshot.DBSnapshotIdentifier!,
      aliases: [snapshot.DBSnapshotArn ?? `arn:aws:rds:${session.region}:${session.account}:snapshot:${snapshot.DBSnapshotIdentifier}`],
      facts: {
        ...(snapshot.Engine ? { engine: snapshot.Engine } : {}),
        size: `${snapshot.AllocatedStorage ?? '?'} GiB`,
        encrypted: yesNo(snapshot.Encrypted),
        ...(snapshot.DBInstanceIdentifier ? { database: snapshot.DBInstanceIdentifier } : {}),
      },
      tags: tagRecord(snapshot.TagList),
      attribute: 'restore attribute all',
      async sharing() {
        const answer = await client.send(new rds.DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: snapshot.DBSnapshotIdentifier }));
        return restore(answer.DBSnapshotAttributesResult?.DBSnapshotAttributes);
      },
    })),
    ...clusters.map((snapshot): Listed => ({
      type: 'aws:rds:db-cluster-snapshot',
      id: snapshot.DBClusterSnapshotIdentifier!,
      aliases: [snapshot.DBClusterSnapshotArn ?? `arn:aws:rds:${session.region}:${session.account}:cluster-snapshot:${snapshot.DBClusterSnapshotIdentifier}`],
      facts: {
        ...(snapshot.Engine ? { engine: snapshot.Engine } : {}),
        size: `${snapshot.AllocatedStorage ?? '?'} GiB`,
        encrypted: yesNo(snapshot.StorageEncrypted),
        ...(snapshot.DBClusterIdentifier ? { cluster: snapshot.DBClusterIdentifier } : {}),
      },
      tags: tagRecord(snapshot.TagList),
      attribute: 'restore attribute all',
      async sharing() {
        const answer = await client.send(new rds.DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: snapshot.DBClusterSnapshotIdentifier }));
        return restore(answer.DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes);
      },
    })),
  ];
};

/** EBS snapshots and AMIs (EC2 permissions). */
export const ec2SnapshotReader = sharingReader(['aws:ec2:snapshot', 'aws:ec2:image'], listEc2);

/** RDS and Aurora manual snapshots (RDS permissions). */
export const rdsSnapshotReader = sharingReader(['aws:rds:db-snapshot', 'aws:rds:db-cluster-snapshot'], listRds);
