// `vigil doctor`'s look at each configured queue: one GetQueueAttributes with intake's own credentials
// (the SDK's default chain) says whether the queue is reachable, exists and may be read, and its
// access policy whether anything (S3, SNS, EventBridge) may send to it. No message is received and
// no object read.
import type { QueueSettings } from '../../lib/config';
import { queueProblem } from './problems';

export type QueueCheck =
  | { queueUrl: string; ok: true; /** Something worth a look that does not stop intake reading the queue. */ note?: string }
  | { queueUrl: string; ok: false; problem: string; fix: string };

/** Who delivers bucket notifications to a queue: its policy must let one of them send. */
const SENDERS = ['s3.amazonaws.com', 'sns.amazonaws.com', 'events.amazonaws.com'];

export async function checkQueue({ queueUrl, region, endpoint }: QueueSettings): Promise<QueueCheck> {
  const { SQSClient, GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
  // One attempt, bounded: doctor reports, it does not wait out retries.
  const sqs = new SQSClient({ region, endpoint, maxAttempts: 1, requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 } });
  try {
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['Policy', 'RedrivePolicy'] }));
    const notes = [
      ...(Attributes.Policy && SENDERS.some((sender) => Attributes.Policy!.includes(sender))
        ? []
        : [`its access policy lets none of ${SENDERS.join(', ')} send to it, so the bucket's notifications cannot arrive`]),
      ...(Attributes.RedrivePolicy ? [] : ['it has no dead-letter queue (RedrivePolicy): a message that cannot be done comes back forever']),
    ];
    return { queueUrl, ok: true, ...(notes.length > 0 ? { note: notes.join('; ') } : {}) };
  } catch (err) {
    const problem = queueProblem(err);
    return { queueUrl, ok: false, problem: `${problem.code}: ${problem.message}`, fix: problem.fix };
  } finally {
    sqs.destroy();
  }
}
