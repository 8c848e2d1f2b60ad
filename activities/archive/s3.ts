// The archive in S3 (or any S3-compatible store): records as objects under a prefix.
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { createRecordArchive, type BlobStore } from './records';
import type { Archive } from './types';

export interface S3ArchiveOptions {
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
}

export function createS3Archive(options: S3ArchiveOptions, client?: S3Client): Archive {
  return createRecordArchive(s3BlobStore(options, client));
}

/**
 * An S3 that accepts and never answers must not hold intake's answer forever: bounded, a put fails
 * (after the SDK's retries) and intake answers 503, so the sender retries. The socket timeout is one
 * of inactivity: a large body still uploading is not cut.
 */
const S3_TIMEOUTS = { connectionTimeout: 5_000, socketTimeout: 10_000 };

/** Named blobs as objects under a prefix of a bucket. */
export function s3BlobStore({ bucket, prefix, region, endpoint, forcePathStyle }: S3ArchiveOptions, client?: S3Client): BlobStore {
  const s3 = client ?? new S3Client({ region, endpoint, forcePathStyle, requestHandler: S3_TIMEOUTS });
  return {
    location: `s3://${bucket}/${prefix}`,
    async get(key) {
      try {
        const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}${key}` }));
        return Buffer.from(await Body!.transformToByteArray());
      } catch (err) {
        if (err instanceof NoSuchKey) return undefined;
        throw err;
      }
    },
    async put(key, data, contentType) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${key}`, Body: data, ContentType: contentType }));
    },
    async *keys(keyPrefix) {
      for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: `${prefix}${keyPrefix}` })) {
        for (const { Key } of page.Contents ?? []) if (Key) yield Key.slice(prefix.length);
      }
    },
  };
}
