// Objects the archive refers to instead of copying them (CloudTrail log files in their trail bucket),
// read from S3 with the SDK's default credential chain, as the S3 archive does. The S3 client is
// loaded on first use: a Vigil that reads no such object never loads it for this.
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectReference } from './types';

/** The object's bytes, or why it can never be read (gone, or replaced by another under its key), or its size past the bound. */
export type ObjectRead = { body: Buffer; contentType?: string } | { gone: string } | { tooLarge: number };

export interface ObjectFetchOptions {
  maxBytes: number;
  signal?: AbortSignal;
}

export interface ObjectStore {
  fetch(object: ObjectReference, options: ObjectFetchOptions): Promise<ObjectRead>;
  /** The bytes, or an error naming the object: what `archive.read` needs. */
  read(object: ObjectReference): Promise<Buffer>;
}

/**
 * Every S3 client of the archive's (records, referenced objects): an S3 that accepts and never
 * answers fails the request (after the SDK's retries) rather than holding it, so intake answers 503
 * and the sender retries. The socket timeout is one of inactivity: a large body still moving is not cut.
 */
export const S3_TIMEOUTS = { connectionTimeout: 5_000, socketTimeout: 10_000 };

/**
 * Answers that no retry will change: the key, the version, or the object with that ETag is not
 * there (404, 412), or it was moved to a storage class (Glacier, Deep Archive) that must be restored
 * before anyone reads it. A 403 is not among them: a permission can be granted (and without
 * `s3:ListBucket`, S3 answers 403 for a missing key too).
 */
const GONE = new Set(['NoSuchKey', 'NoSuchVersion', 'NotFound', 'PreconditionFailed', 'InvalidObjectState']);

/** A referenced object that no retry will read (see `GONE`): the record it belongs to can never be delivered. */
export class ObjectGoneError extends Error {
  override name = 'ObjectGoneError';
}

export function createObjectStore(): ObjectStore {
  const clients = new Map<string, Promise<S3Client>>();
  const clientFor = ({ region, endpoint, forcePathStyle = false }: ObjectReference) => {
    const key = JSON.stringify([region, endpoint, forcePathStyle]);
    let client = clients.get(key);
    if (!client) {
      client = import('@aws-sdk/client-s3').then(({ S3Client }) => new S3Client({ region, endpoint, forcePathStyle, requestHandler: S3_TIMEOUTS }));
      clients.set(key, client);
    }
    return client;
  };

  async function fetch(object: ObjectReference, { maxBytes, signal }: ObjectFetchOptions): Promise<ObjectRead> {
    const [{ GetObjectCommand }, s3] = await Promise.all([import('@aws-sdk/client-s3'), clientFor(object)]);
    try {
      const answer = await s3.send(
        // The ETag pins the object the notification was about: a newer one under the key is another record.
        new GetObjectCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId, IfMatch: `"${object.etag.replaceAll('"', '')}"` }),
        { abortSignal: signal },
      );
      if (answer.ContentLength !== undefined && answer.ContentLength > maxBytes) {
        (answer.Body as Readable | undefined)?.destroy();
        return { tooLarge: answer.ContentLength };
      }
      const body = Buffer.from(await answer.Body!.transformToByteArray());
      return body.length > maxBytes ? { tooLarge: body.length } : { body, contentType: answer.ContentType };
    } catch (err) {
      const { name, message, $metadata } = err as Error & { $metadata?: { httpStatusCode?: number } };
      // A 404 for the bucket, not the object: a wrong region or endpoint, which configuration fixes.
      if (name === 'NoSuchBucket') throw err;
      if (GONE.has(name) || $metadata?.httpStatusCode === 404 || $metadata?.httpStatusCode === 412) {
        return { gone: name === 'InvalidObjectState' ? `${name}: in a storage class that must be restored before it is read (${message})` : `${name}: ${message}` };
      }
      throw err;
    }
  }

  return {
    fetch,
    async read(object) {
      const read = await fetch(object, { maxBytes: Infinity });
      if ('body' in read) return read.body;
      // Read without a bound, nothing is too large: what is not read is gone.
      throw new ObjectGoneError(`the archived object s3://${object.bucket}/${object.key} (ETag ${object.etag}) can no longer be read: ${'gone' in read ? read.gone : 'too large'}`);
    },
  };
}
