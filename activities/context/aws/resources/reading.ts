// Small helpers every AWS resource reader uses: one SDK client per read (destroyed after it, so no
// sockets outlive the read), lists cut to what one call takes, ARNs, tags and page sizes.
import type { ResourceRef } from '../../../../lib/alert';
import type { PublicResource } from '../../../../lib/context';

/** `read` with a client made for it, destroyed once the read is over (its sockets closed). */
export async function withClient<Client extends { destroy(): void }, T>(client: Client, read: (client: Client) => Promise<T>): Promise<T> {
  try {
    return await read(client);
  } finally {
    client.destroy();
  }
}

export const unique = <T>(items: readonly (T | undefined)[]) => [...new Set(items.filter((item): item is T => item !== undefined))];

export const chunks = <T>(items: readonly T[], size: number) => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** The ARN partition of a region, for the ARNs AWS does not answer. */
export const partitionOf = (region: string) => (region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws');

/** AWS's tag lists as a record. */
export const tagRecord = (tags: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).flatMap((tag) => (tag.Key ? [[tag.Key, tag.Value ?? '']] : [])));

/** A page size within an API's bounds, when the session asks for one. */
export const pageWithin = (pageSize: number | undefined, min: number, max: number) => (pageSize ? Math.min(max, Math.max(min, pageSize)) : undefined);

/** Whether an alert's reference names this resource: its id, an alias (ARN) or its name. */
export const refersTo = (resource: Pick<PublicResource, 'id' | 'aliases' | 'name'>, refs: readonly ResourceRef[]) =>
  refs.some((ref) => ref.id === resource.id || resource.aliases?.includes(ref.id) || (resource.name !== undefined && ref.id === resource.name));

/** RDS and Redshift page 20 to 100 records at a time, and take 100 values in one filter. */
export const recordsPerPage = (session: { pageSize?: number }): { pageSize?: number } => {
  const size = pageWithin(session.pageSize, 20, 100);
  return size ? { pageSize: size } : {};
};
export const RDS_FILTER_VALUES = 100;

export const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/** The name or id at the end of an ARN (`arn:aws:rds:…:db:orders`, `arn:aws:ec2:…::snapshot/snap-1`), or the id as given. */
export const nameOf = (id: string) => (id.startsWith('arn:') ? (id.split(/[:/]/).pop() ?? id) : id);

/** An ARN's region and account (empty for those it leaves out), or undefined for a plain id or name. */
function arnPlace(id: string): { region: string; account: string } | undefined {
  const parts = id.split(':');
  return id.startsWith('arn:') && parts.length >= 6 ? { region: parts[3]!, account: parts[4]! } : undefined;
}

/** A reference this account and region may hold: a name, or an ARN naming them (asking AWS of another's fails or wastes a call). */
export const heldHere = (id: string, session: { account: string; region: string }) => {
  const place = arnPlace(id);
  return !place || ((place.region === '' || place.region === session.region) && (place.account === '' || place.account === session.account));
};
