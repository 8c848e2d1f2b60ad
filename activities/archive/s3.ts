// The archive in S3 (or any S3-compatible store): the same layout as the local one, as object keys.
import {
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import type { ArchiveRef } from '../../lib/alert';
import { assertRecordId, daysIn, newRecordMeta, withinRange } from './layout';
import type { Archive, ArchiveRecordMeta } from './types';

export interface S3ArchiveOptions {
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
}

const metaSuffix = '.meta.json';

export function createS3Archive({ bucket, prefix, region, endpoint, forcePathStyle }: S3ArchiveOptions, client?: S3Client): Archive {
  const s3 = client ?? new S3Client({ region, endpoint, forcePathStyle });
  const keyOf = (id: string, suffix: '.raw' | typeof metaSuffix) => {
    assertRecordId(id);
    return `${prefix}${id}${suffix}`;
  };
  const getText = async (key: string) => {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Body!.transformToString('utf8');
  };
  const readMeta = async (id: string) => JSON.parse(await getText(keyOf(id, metaSuffix))) as ArchiveRecordMeta;
  const writeMeta = (meta: ArchiveRecordMeta) =>
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: keyOf(meta.id, metaSuffix),
        Body: JSON.stringify(meta, null, 2),
        ContentType: 'application/json',
      }),
    );
  const exists = async (key: string) => {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (err) {
      if (err instanceof NotFound || err instanceof NoSuchKey) return false;
      throw err;
    }
  };

  return {
    location: `s3://${bucket}/${prefix}`,

    async put(input): Promise<ArchiveRef> {
      const meta = newRecordMeta(input);
      if (await exists(keyOf(meta.id, metaSuffix))) {
        const { id, sha256, receivedAt } = await readMeta(meta.id);
        return { id, sha256, receivedAt };
      }
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: keyOf(meta.id, '.raw'), Body: input.body, ContentType: input.contentType }),
      );
      // The metadata goes last: a record is listed only once its body is there.
      await writeMeta(meta);
      return { id: meta.id, sha256: meta.sha256, receivedAt: meta.receivedAt };
    },

    async markDispatched(id, workflowIds) {
      const meta = await readMeta(id);
      meta.dispatchedTo = [...new Set([...meta.dispatchedTo, ...workflowIds])];
      meta.dispatchedAt ??= new Date().toISOString();
      await writeMeta(meta);
    },

    async markRejected(id, reason) {
      await writeMeta({ ...(await readMeta(id)), rejected: reason });
    },

    async read(id) {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(id, '.raw') }));
      return { body: Buffer.from(await Body!.transformToByteArray()), meta: await readMeta(id) };
    },

    async *list(options) {
      for (const day of daysIn(options)) {
        const pages = paginateListObjectsV2(
          { client: s3 },
          { Bucket: bucket, Prefix: `${prefix}${day}/${options.source ? `${options.source}/` : ''}` },
        );
        for await (const page of pages) {
          for (const { Key } of page.Contents ?? []) {
            if (!Key?.endsWith(metaSuffix)) continue;
            const meta = await readMeta(Key.slice(prefix.length, -metaSuffix.length));
            if (withinRange(meta, options)) yield meta;
          }
        }
      }
    },
  };
}
