// Why a queue (or the bucket its notifications name) cannot be read, and what fixes it: shared by the
// consumer (its log lines and intake's /healthz) and `vigil doctor`, so both say the same thing.

export interface QueueProblem {
  /** The AWS error code or the socket error's code (`QueueDoesNotExist`, `ECONNREFUSED`): the same reason twice is one state. */
  code: string;
  /** The error's own message, for logs and `vigil doctor`. */
  message: string;
  /** No retry fixes it, only a change of configuration, permission or credentials. */
  lasting: boolean;
  /** What an operator does about it. */
  fix: string;
}

const CREDENTIALS = 'check the AWS credentials intake runs with (environment, shared files, the instance or task role)';
const QUEUE_PERMISSIONS =
  'grant sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and sqs:GetQueueAttributes on the queue (and kms:Decrypt on its key, if encrypted) to the credentials intake runs with';

/** Codes no retry changes, with their fix; SQS's JSON protocol and its older query protocol name some differently. */
const LASTING: Record<string, string> = {
  QueueDoesNotExist: 'check intake.queues[].queueUrl, region and endpoint: no such queue there',
  'AWS.SimpleQueueService.NonExistentQueue': 'check intake.queues[].queueUrl, region and endpoint: no such queue there',
  AccessDenied: QUEUE_PERMISSIONS,
  AccessDeniedException: QUEUE_PERMISSIONS,
  'KMS.AccessDeniedException': 'grant kms:Decrypt on the queue\'s KMS key to the credentials intake runs with',
  InvalidClientTokenId: CREDENTIALS,
  UnrecognizedClientException: CREDENTIALS,
  SignatureDoesNotMatch: CREDENTIALS,
  ExpiredToken: CREDENTIALS,
  InvalidAddress: 'check intake.queues[].queueUrl and endpoint',
  NoSuchBucket:
    'the bucket the notifications name does not exist where intake reads it: check intake.queues[].region and endpoint (they are S3\'s too), and that the queue receives the trail bucket\'s notifications',
};

const UNREACHABLE = 'check intake.queues[].queueUrl, region and endpoint, and that this host reaches SQS (proxy, VPC endpoint, firewall)';

const BUCKET_PERMISSIONS =
  "grant s3:GetObject (s3:GetObjectVersion for a versioned bucket, kms:Decrypt for SSE-KMS files) on the trail bucket's objects to the credentials intake runs with, and allow them in the bucket policy when intake runs in another account";

/** What an error of the SQS client (or, for `bucket`, the S3 client reading a log file) says. */
export function queueProblem(err: unknown, side: 'queue' | 'bucket' = 'queue'): QueueProblem {
  const { name, code, message } = err as { name?: string; code?: string; message?: string };
  // Socket errors carry their code (ECONNREFUSED, ENOTFOUND); AWS errors their name.
  const reason = (code && /^E[A-Z]+$/.test(code) ? code : name) || 'Error';
  const fix = side === 'bucket' && reason === 'AccessDenied' ? BUCKET_PERMISSIONS : LASTING[reason];
  return { code: reason, message: message || reason, lasting: fix !== undefined, fix: fix ?? UNREACHABLE };
}
