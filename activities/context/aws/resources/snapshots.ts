// Snapshots and images the account owns, and whom they are shared with: EBS snapshots
// (createVolumePermission), AMIs (launchPermission and the Public flag), RDS and Aurora manual
// snapshots (the `restore` attribute). Shared with everyone or with an account outside the
// organisation is public; only the sharing attributes are read, never the data.
import type { PublicResource } from '../../../../lib/context';
import { mapConcurrent } from '../../../../lib/concurrency';
import { collectPages } from '../pages';
import { chunks, heldHere, nameOf, pageWithin, partitionOf, RDS_FILTER_VALUES, recordsPerPage, refersTo, tagRecord, withClient } from './reading';
import { EC2_FILTER_VALUES } from '../security-groups';
import { judgeSharing, ownAccountsWith, type Sharing } from './snapshot-sharing';
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

/**
 * Lists the snapshots or images of `types` (only those with these ids when `ids` is given: an alert's
 * are looked up, not the account's every snapshot) and hands them to `judge` while its client is open.
 */
type Lister = (session: AwsRegionSession, want: { types: ReadonlySet<string>; ids?: string[] }, judge: (listed: Listed[]) => Promise<PublicResource[]>) => Promise<PublicResource[]>;

/** A snapshot or image deleted between its listing and the read of its sharing. */
const gone = (err: unknown) => err instanceof Error && /NotFound/.test(err.name);

async function judged(session: AwsRegionSession, listed: Listed[]): Promise<PublicResource[]> {
  if (listed.length === 0) return [];
  const own = ownAccountsWith(await session.ownAccounts(), session.account);
  const read = await mapConcurrent(listed, ATTRIBUTE_CONCURRENCY, async (item): Promise<PublicResource[]> => {
    let sharing: Sharing;
    try {
      sharing = await item.sharing();
    } catch (err) {
      // Deleted meanwhile: no longer there to share (one gone does not fail the whole read).
      if (gone(err)) return [];
      throw err;
    }
    const verdict = judgeSharing(sharing, item.attribute, own);
    return [
      {
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
      },
    ];
  });
  return read.flat();
}

/** A reader of the given types, listing what is wanted and reading the sharing of each. */
function sharingReader(types: readonly string[], list: Lister): AwsResourceReader {
  return {
    types,
    async collect(session, refs) {
      const mine = refs.filter((ref) => types.includes(ref.type) && heldHere(ref.id, session));
      if (mine.length === 0) return [];
      const want = { types: new Set(mine.map((ref) => ref.type)), ids: [...new Set(mine.map((ref) => nameOf(ref.id)))] };
      return list(session, want, (listed) => judged(session, listed.filter((item) => refersTo(item, mine.filter((ref) => ref.type === item.type)))));
    },
    scan: (session) => list(session, { types: new Set(types) }, (listed) => judged(session, listed)),
  };
}

/** What `read` lists with a filter naming these ids (one per chunk the API takes: an id gone matches nothing), or unfiltered. */
async function listing<Item>(name: string, ids: string[] | undefined, perCall: number, read: (filters: { Name: string; Values: string[] }[]) => Promise<Item[]>): Promise<Item[]> {
  if (!ids) return read([]);
  return (await Promise.all(chunks(ids, perCall).map((Values) => read([{ Name: name, Values }])))).flat();
}

const yesNo = (value: boolean | undefined) => (value ? 'yes' : 'no');

const listEc2: Lister = async (session, { types, ids }, judge) => {
  const ec2 = await import('@aws-sdk/client-ec2');
  return withClient(new ec2.EC2Client(session.clientConfig), async (client) => {
    const paging = (min: number) => {
      const size = pageWithin(session.pageSize, min, 1000);
      return { client, ...(size ? { pageSize: size } : {}) };
    };
    // AWS's ARN for snapshots and images has no account; some tools write one in.
    const partition = partitionOf(session.region);
    const arns = (kind: string, id: string) => [`arn:${partition}:ec2:${session.region}::${kind}/${id}`, `arn:${partition}:ec2:${session.region}:${session.account}:${kind}/${id}`];
    const [snapshots, images] = await Promise.all([
      // The owner filter says what OwnerIds does, and keeps a listing that ignores OwnerIds (moto) from
      // returning every public snapshot there is.
      types.has('aws:ec2:snapshot')
        ? listing('snapshot-id', ids, EC2_FILTER_VALUES, (filters) =>
            collectPages(ec2.paginateDescribeSnapshots(paging(5), { OwnerIds: ['self'], Filters: [{ Name: 'owner-id', Values: [session.account] }, ...filters] }), (page) => page.Snapshots),
          )
        : [],
      types.has('aws:ec2:image')
        ? listing('image-id', ids, EC2_FILTER_VALUES, (filters) => collectPages(ec2.paginateDescribeImages(paging(6), { Owners: ['self'], ...(filters.length > 0 ? { Filters: filters } : {}) }), (page) => page.Images))
        : [],
    ]);
    return judge([
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
    ]);
  });
};

const listRds: Lister = async (session, { types, ids }, judge) => {
  const rds = await import('@aws-sdk/client-rds');
  return withClient(new rds.RDSClient(session.clientConfig), async (client) => {
    const paging = { client, ...recordsPerPage(session) };
    /** The `restore` attribute: `all`, or account ids. */
    const restore = (attributes: readonly { AttributeName?: string; AttributeValues?: string[] }[] | undefined): Sharing => {
      const values = attributes?.find((attribute) => attribute.AttributeName === 'restore')?.AttributeValues ?? [];
      return { everyone: values.includes('all'), accounts: values.filter((value) => value !== 'all') };
    };
    // Manual snapshots only: automated ones cannot be shared.
    const [instances, clusters] = await Promise.all([
      types.has('aws:rds:db-snapshot')
        ? listing('db-snapshot-id', ids, RDS_FILTER_VALUES, (filters) =>
            collectPages(rds.paginateDescribeDBSnapshots(paging, { SnapshotType: 'manual', ...(filters.length > 0 ? { Filters: filters } : {}) }), (page) => page.DBSnapshots),
          )
        : [],
      types.has('aws:rds:db-cluster-snapshot')
        ? listing('db-cluster-snapshot-id', ids, RDS_FILTER_VALUES, (filters) =>
            collectPages(rds.paginateDescribeDBClusterSnapshots(paging, { SnapshotType: 'manual', ...(filters.length > 0 ? { Filters: filters } : {}) }), (page) => page.DBClusterSnapshots),
          )
        : [],
    ]);
    return judge([
      ...instances.map((snapshot): Listed => ({
        type: 'aws:rds:db-snapshot',
        id: snapshot.DBSnapshotIdentifier!,
        aliases: [snapshot.DBSnapshotArn ?? `arn:${partitionOf(session.region)}:rds:${session.region}:${session.account}:snapshot:${snapshot.DBSnapshotIdentifier}`],
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
        aliases: [snapshot.DBClusterSnapshotArn ?? `arn:${partitionOf(session.region)}:rds:${session.region}:${session.account}:cluster-snapshot:${snapshot.DBClusterSnapshotIdentifier}`],
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
    ]);
  });
};

/** EBS snapshots and AMIs (EC2 permissions). */
export const ec2SnapshotReader = sharingReader(['aws:ec2:snapshot', 'aws:ec2:image'], listEc2);

/** RDS and Aurora manual snapshots (RDS permissions). */
export const rdsSnapshotReader = sharingReader(['aws:rds:db-snapshot', 'aws:rds:db-cluster-snapshot'], listRds);
