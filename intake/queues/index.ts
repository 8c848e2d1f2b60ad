// The queues intake reads besides its HTTP routes (`intake.queues`), one consumer each: the one place
// a new kind of queue is added.
import type { QueueSettings } from '../../lib/config';
import { startS3QueueConsumer, type QueueConsumer, type S3QueueDeps } from './s3-sqs';

export type { QueueConsumer, QueueHealth } from './s3-sqs';

export async function startQueueConsumers(queues: QueueSettings[], deps: S3QueueDeps): Promise<QueueConsumer> {
  const consumers: QueueConsumer[] = [];
  for (const queue of queues) {
    switch (queue.kind) {
      case 's3-sqs':
        consumers.push(await startS3QueueConsumer(queue, deps));
        break;
    }
  }
  return {
    stop: async () => void (await Promise.all(consumers.map((consumer) => consumer.stop()))),
    health: () => consumers.flatMap((consumer) => consumer.health()),
  };
}
