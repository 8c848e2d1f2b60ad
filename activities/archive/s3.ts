// The archive in S3 (or any S3-compatible store): records as objects under a prefix. The S3 client
// (about 20 MiB) is loaded on first use, so a Vigil whose archive is a local folder never loads it.
import type * as sdkModule from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { S3_TIMEOUTS } from './objects';
import { createRecordArchive, type RecordStore } from './records';
import type { Archive, ObjectReader } from './types';

export interface S3ArchiveOptions {
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
}

export function createS3Archive(options: S3ArchiveOptions, client?: S3Client, readObject?: ObjectReader): Archive {
  return createRecordArchive(s3BlobStore(options, client), { readObject });
}

type S3Sdk = typeof sdkModule;

/** Named blobs as objects under a prefix of a bucket. */
export function s3BlobStore({ bucket, prefix, region, endpoint, forcePathStyle }: S3ArchiveOptions, client?: S3Client): RecordStore {
  let loaded: Promise<{ sdk: S3Sdk; s3: S3Client }> | undefined;
  const load = () =>
    (loaded ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      s3: client ?? new sdk.S3Client({ region, endpoint, forcePathStyle, requestHandler: S3_TIMEOUTS }),
    })));
  return {
    location: `s3://${bucket}/${prefix}`,
    async get(key) {
      const { sdk, s3 } = await load();
      try {
        const { Body } = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: `${prefix}${key}` }));
        return Buffer.from(await Body!.transformToByteArray());
      } catch (err) {
        if (err instanceof sdk.NoSuchKey) return undefined;
        throw err;
      }
    },
    async put(key, data, contentType) {
      const { sdk, s3 } = await load();
      await s3.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: `${prefix}${key}`, Body: data, ContentType: contentType }));
    },
    async delete(key) {
      const { sdk, s3 } = await load();
      await s3.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}${key}` }));
    },
    async *keys(keyPrefix) {
      const { sdk, s3 } = await load();
      for await (const page of sdk.paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: `${prefix}${keyPrefix}` })) {
        for (const { Key } of page.Contents ?? []) if (Key) yield Key.slice(prefix.length);
      }
    },
  };
}
